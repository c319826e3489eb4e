//! Binding raw rows to a ruleset: the declared inputs are found among the columns, converted to
//! base units and checked (numbers, signs, agreement of scan values); assessments are formed
//! and lesions missing at an assessment (baseline lesions, and new ones after they were first
//! seen) become `not-evaluated` there.

use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::model::*;
use super::schema::CORE;
use crate::check::ir::{Input, InputLevel, Role, Ruleset, Status};
use crate::diag;
use crate::units::{self, Dim};

/// Standard columns whose unit is known without a `[unit]` in the header.
fn standard_unit(name: &str) -> Option<&'static str> {
    match name {
        "long_axis" | "short_axis" => Some("mm"),
        "sul_peak" => Some("SUL"),
        "suv_max" => Some("SUV"),
        "mtv" => Some("mL"),
        "tlg" => Some("SUL·mL"),
        _ => None,
    }
}

/// Where each declared input is read from, and the factor to base units. File-level problems
/// (a required column missing, a unit that does not fit) stop the whole run.
pub struct Binding {
    /// Per input: (column index, factor) or None when the column is absent (optional input).
    cols: Vec<Option<(usize, Decimal)>>,
    /// Optional inputs without a column, by input index.
    absent: Vec<usize>,
    /// Said once about the table's columns (unknown or repeated ones).
    pub warnings: Vec<DataError>,
}

/// Columns every table may carry, whatever the ruleset reads (DATA.md).
const STANDARD: &[&str] = &[
    "long_axis",
    "short_axis",
    "sul_peak",
    "suv_max",
    "mtv",
    "tlg",
];

/// Works out `shipped_inputs` ahead of binding (it checks every shipped ruleset).
pub fn warm_up() {
    shipped_inputs();
}

/// Inputs some shipped ruleset reads: columns a table may carry for other criteria.
fn shipped_inputs() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = crate::registry::shipped()
            .into_iter()
            .filter_map(|(id, _)| crate::check::load(id).ok())
            .flat_map(|c| {
                c.ruleset
                    .inputs
                    .iter()
                    .map(|i| i.name.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        names.sort();
        names.dedup();
        names
    })
}

impl Binding {
    /// Whether binding a subject for `rs` with this binding gives the same subject as for
    /// `other_rs` with `other`: the same inputs (names, levels, units, values) read from the
    /// same columns. Criteria that extend one another usually do, and bind each subject once.
    pub fn same_as(&self, rs: &Ruleset, other: &Binding, other_rs: &Ruleset) -> bool {
        let input = |a: &Input, b: &Input| {
            a.name == b.name && a.level == b.level && a.dim == b.dim && a.choices == b.choices
        };
        self.cols == other.cols
            && self.absent == other.absent
            && rs.inputs.len() == other_rs.inputs.len()
            && rs
                .inputs
                .iter()
                .zip(&other_rs.inputs)
                .all(|(a, b)| input(a, b))
    }
}

pub fn plan(rs: &Ruleset, cohort: &RawCohort) -> Result<Binding, Vec<DataError>> {
    plan_columns(rs, &cohort.file, &cohort.columns, &cohort.duplicates)
}

/// Finds the ruleset's inputs among a table's columns.
pub fn plan_columns(
    rs: &Ruleset,
    file: &str,
    columns: &[Column],
    duplicates: &[Duplicate],
) -> Result<Binding, Vec<DataError>> {
    let mut cols = vec![];
    let mut absent = vec![];
    let mut errors = vec![];
    let mut warnings = vec![];
    let header_error = |column: &str, message: String, help: String| DataError {
        file: file.into(),
        line: Some(1),
        column: Some(column.into()),
        message,
        help: Some(help),
    };
    let reads = |name: &str| rs.inputs.iter().any(|i| i.name == name);
    for d in duplicates {
        let at = d
            .positions
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(" and ");
        if CORE.contains(&d.name.as_str()) || reads(&d.name) {
            errors.push(header_error(
                &d.name,
                format!("column `{}` is given more than once (columns {at})", d.name),
                "keep one of them: which one is meant cannot be told".into(),
            ));
        } else {
            warnings.push(header_error(
                &d.name,
                format!("column `{}` is given more than once (columns {at})", d.name),
                "rename or remove the repeated columns".into(),
            ));
        }
    }
    for (i, input) in rs.inputs.iter().enumerate() {
        let found = columns.iter().position(|c| c.name == input.name);
        match found {
            None => {
                if !input.optional {
                    errors.push(header_error(
                        &input.name,
                        format!(
                            "ruleset `{}` reads `{}` ({}), but the table has no such column",
                            rs.id, input.name, input.unit
                        ),
                        format!(
                            "add a column `{}` (or `{}[{}]`)",
                            input.name, input.name, input.unit
                        ),
                    ));
                }
                absent.push(i);
                cols.push(None);
            }
            Some(ci) if !input.choices.is_empty() => {
                // A categorical column is text: a unit in its header is a mistake.
                match &columns[ci].unit {
                    None => cols.push(Some((ci, Decimal::ONE))),
                    Some(u) => {
                        errors.push(header_error(
                            &input.name,
                            format!(
                                "column `{}[{u}]` has a unit, but `{}` is categorical ({})",
                                input.name,
                                input.name,
                                input.choices.join(", ")
                            ),
                            format!("name the column `{}`", input.name),
                        ));
                        cols.push(None);
                    }
                }
            }
            Some(ci) => {
                let col = &columns[ci];
                let unit = col
                    .unit
                    .as_deref()
                    .or(standard_unit(&col.name))
                    .unwrap_or(input.unit.as_str());
                match units::lookup(unit) {
                    Some(u) if u.dim == input.dim => cols.push(Some((ci, u.factor))),
                    Some(_) => {
                        errors.push(header_error(
                            &input.name,
                            format!(
                                "column `{}` is in {} but the ruleset needs {}",
                                input.name, unit, input.unit
                            ),
                            format!(
                                "give the column in a unit of the same kind as {}",
                                input.unit
                            ),
                        ));
                        cols.push(None);
                    }
                    None => {
                        errors.push(header_error(
                            &input.name,
                            format!("unknown unit `{unit}` in the header of `{}`", input.name),
                            format!(
                                "the units are: {}",
                                units::unit_names().collect::<Vec<_>>().join(", ")
                            ),
                        ));
                        cols.push(None);
                    }
                }
            }
        }
    }
    // A column nobody reads is most often a misspelt one: say so, with the likely name.
    for c in columns {
        let name = c.name.as_str();
        if reads(name) || STANDARD.contains(&name) || name.is_empty() {
            continue;
        }
        let inputs = rs.inputs.iter().map(|i| i.name.as_str());
        let near = diag::did_you_mean(
            name,
            inputs
                .clone()
                .chain(STANDARD.iter().copied())
                .chain(CORE.iter().copied()),
        );
        if near.is_none() && shipped_inputs().iter().any(|n| n == name) {
            continue;
        }
        let help = match near {
            Some(n) => format!("did you mean `{n}`?"),
            None => format!("{} reads: {}", rs.id, inputs.collect::<Vec<_>>().join(", ")),
        };
        warnings.push(header_error(
            name,
            format!(
                "column `{name}` is not read by {} and is not a known column",
                rs.id
            ),
            help,
        ));
    }
    if errors.is_empty() {
        Ok(Binding {
            cols,
            absent,
            warnings,
        })
    } else {
        Err(errors)
    }
}

/// Reads a number exactly as written: digits with an optional sign, decimal point and
/// exponent (`12.5`, `-3`, `1.2e1`); nothing else (`5_0`, `1,5`, `12 mm`) and nothing that
/// would be rounded.
pub fn parse_number(text: &str) -> Result<Decimal, &'static str> {
    match short_number(text) {
        Some(d) => Ok(d),
        None => any_number(text),
    }
}

/// [`parse_number`] for any text: the digits checked against what rust_decimal kept.
fn any_number(text: &str) -> Result<Decimal, &'static str> {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let mut digits = String::new();
    let mut point: Option<usize> = None;
    while i < b.len() {
        match b[i] {
            d @ b'0'..=b'9' => digits.push(d as char),
            b'.' if point.is_none() => point = Some(digits.len()),
            _ => break,
        }
        i += 1;
    }
    let mut exp: i64 = 0;
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        let e = &text[i + 1..];
        let ok = !e.is_empty()
            && e.trim_start_matches(['+', '-'])
                .bytes()
                .all(|c| c.is_ascii_digit())
            && e.len() - e.trim_start_matches(['+', '-']).len() <= 1
            && e.len() < 6;
        if !ok {
            return Err("not a number");
        }
        exp = e.parse().map_err(|_| "not a number")?;
        i = b.len();
    }
    if i != b.len() || digits.is_empty() {
        return Err("not a number");
    }
    // The value as written is sig × 10^p; the decimal read must be exactly that (rust_decimal
    // rounds digits it cannot hold).
    let frac = point.map(|p| digits.len() - p).unwrap_or(0) as i64;
    let sig = digits.trim_start_matches('0');
    let trail = sig.len() - sig.trim_end_matches('0').len();
    let sig = sig.trim_end_matches('0');
    let p = exp - frac + trail as i64;
    let d = if exp == 0 {
        Decimal::from_str(text.trim_start_matches('+'))
    } else {
        Decimal::from_scientific(text.trim_start_matches('+'))
    }
    .map_err(|_| "too many digits")?;
    let kept = d.mantissa().unsigned_abs().to_string();
    let kept_sig = kept.trim_end_matches('0');
    let kept_p = (kept.len() - kept_sig.len()) as i64 - d.scale() as i64;
    let exact = if sig.is_empty() {
        d.is_zero()
    } else {
        kept_sig == sig && kept_p == p
    };
    if exact {
        Ok(d)
    } else {
        Err("too many digits")
    }
}

/// A number of at most 28 digits without an exponent (most cells), read without allocating:
/// rust_decimal holds every such number exactly. `None` for anything else.
fn short_number(text: &str) -> Option<Decimal> {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    let digits = body.iter().filter(|c| c.is_ascii_digit()).count();
    let points = body.iter().filter(|&&c| c == b'.').count();
    if digits == 0 || digits > 28 || points > 1 || digits + points != body.len() {
        return None;
    }
    Decimal::from_str(text.trim_start_matches('+')).ok()
}

fn parse_value(
    text: &str,
    input: &Input,
    factor: Decimal,
    file: &str,
    line: usize,
) -> Result<Option<Decimal>, DataError> {
    if text.is_empty() || text.eq_ignore_ascii_case("na") {
        return Ok(None);
    }
    let err = |message: String, help: &str| DataError {
        file: file.into(),
        line: Some(line),
        column: Some(input.name.clone()),
        message,
        help: Some(help.into()),
    };
    if !input.choices.is_empty() {
        return choice_value(text, input).map(Some).ok_or_else(|| {
            err(
                format!("`{text}` is not a value of {}", input.name),
                &format!(
                    "the values of {} are: {}",
                    input.name,
                    input.choices.join(", ")
                ),
            )
        });
    }
    let v = parse_number(text).map_err(|why| match why {
        "too many digits" => err(
            format!("`{text}` has more digits than can be kept exactly"),
            "give at most 28 significant digits (and at most 28 after the decimal point); the largest value is 79228162514264337593543950335",
        ),
        _ => err(
            format!("`{text}` is not a number"),
            "write a decimal number such as 12.5, or leave the cell empty when not measured",
        ),
    })?;
    if v.is_sign_negative() && !v.is_zero() && input.dim != (Dim { hu: 1, ..Dim::NONE }) {
        return Err(err(
            format!("negative {} `{text}`", input.name),
            "sizes and uptake values cannot be negative",
        ));
    }
    v.checked_mul(factor).map(Some).ok_or_else(|| {
        err(
            format!("`{text}` is too large"),
            "check the value and its unit",
        )
    })
}

/// The position of a categorical value in its input's list; letter case does not matter.
fn choice_value(text: &str, input: &Input) -> Option<Decimal> {
    let k = input.choices.iter().position(|c| c == text).or_else(|| {
        input
            .choices
            .iter()
            .position(|c| c.eq_ignore_ascii_case(text))
    })?;
    Some(Decimal::from(k))
}

/// Forms one subject's assessments. Any problem makes the whole subject an error record.
pub fn bind(rs: &Ruleset, b: &Binding, file: &str, raw: &RawSubject) -> Result<Subject, DataError> {
    if let Some(e) = raw.errors.first() {
        return Err(e.clone());
    }
    let err = |line: Option<usize>, column: Option<&str>, message: String, help: &str| DataError {
        file: file.into(),
        line,
        column: column.map(|c| c.to_string()),
        message,
        help: Some(help.into()),
    };
    if raw.rows.is_empty() {
        return Err(err(
            None,
            None,
            "no rows".into(),
            "the subject needs at least a baseline assessment",
        ));
    }
    let level = |l: InputLevel| -> Vec<usize> {
        (0..rs.inputs.len())
            .filter(|&i| rs.inputs[i].level == l)
            .collect()
    };
    let (lesion_inputs, scan_inputs, subject_inputs) = (
        level(InputLevel::Lesion),
        level(InputLevel::Scan),
        level(InputLevel::Subject),
    );
    let value_of = |row: &RawRow, i: usize| -> Result<Option<Decimal>, DataError> {
        match b.cols[i] {
            None => Ok(None),
            Some((ci, factor)) => {
                parse_value(raw.cell(row, ci), &rs.inputs[i], factor, file, row.line)
            }
        }
    };

    // Lesions, by id: one role and organ each, from their first row.
    let mut ids: Vec<&str> = raw.rows.iter().map(|r| raw.lesion(r)).collect();
    ids.sort_unstable();
    ids.dedup();
    let lesion_of: Vec<usize> = raw
        .rows
        .iter()
        .map(|r| ids.binary_search(&raw.lesion(r)).unwrap_or(0))
        .collect();
    let mut lesions: Vec<Option<Lesion>> = vec![None; ids.len()];
    let mut first_row: Vec<usize> = vec![0; ids.len()];
    for (r, row) in raw.rows.iter().enumerate() {
        let li = lesion_of[r];
        let organ = raw.organ(row);
        match &mut lesions[li] {
            None => {
                let nodal = row
                    .nodal
                    .unwrap_or_else(|| organ.is_some_and(|o| same_text(o, "lymph node")));
                lesions[li] = Some(Lesion {
                    id: ids[li].into(),
                    role: row.role,
                    organ: organ.map(Arc::from),
                    organ_index: None,
                    nodal,
                });
                first_row[li] = row.line;
            }
            Some(l) => {
                if l.role != row.role {
                    return Err(err(
                        Some(row.line),
                        Some("role"),
                        format!(
                            "lesion {} is {} here but {} on line {}",
                            ids[li],
                            row.role.name(),
                            l.role.name(),
                            first_row[li]
                        ),
                        "a lesion keeps its role at every assessment",
                    ));
                }
                if l.organ.is_none() {
                    l.organ = organ.map(Arc::from);
                }
            }
        }
    }
    let mut lesions: Vec<Lesion> = lesions.into_iter().flatten().collect();
    let mut organs: Vec<String> = lesions
        .iter()
        .filter_map(|l| l.organ.as_deref().map(organ_key))
        .collect();
    organs.sort();
    organs.dedup();
    for l in lesions.iter_mut() {
        l.organ_index = l
            .organ
            .as_deref()
            .and_then(|o| organs.binary_search(&organ_key(o)).ok());
    }
    let organs: Vec<Arc<str>> = organs.into_iter().map(Arc::from).collect();

    let mut start = None;
    for row in &raw.rows {
        if let Some(s) = row.start_date {
            match start {
                None => start = Some((s, row.line)),
                Some((prev, line)) if prev != s => {
                    return Err(err(
                        Some(row.line),
                        Some("start_date"),
                        format!(
                            "start date {} differs from {} on line {line}",
                            format_date(s),
                            format_date(prev)
                        ),
                        "a subject has one treatment start date",
                    ))
                }
                _ => {}
            }
        }
    }

    // Assessments by date; rows of one date in their order in the table.
    let mut order: Vec<usize> = (0..raw.rows.len()).collect();
    order.sort_by_key(|&r| raw.rows[r].date);
    let baseline_date = raw.rows[order[0]].date;
    let mut at_baseline = vec![false; ids.len()];
    for &r in order
        .iter()
        .take_while(|&&r| raw.rows[r].date == baseline_date)
    {
        at_baseline[lesion_of[r]] = true;
    }
    let width = lesion_inputs.len();
    let mut subject_values: Vec<Option<(Decimal, usize)>> = vec![None; subject_inputs.len()];
    let mut assessments = vec![];
    // Where each lesion is in the current assessment (a row number), to find repeats; and
    // whether it was seen at an earlier one.
    let mut seen: Vec<Option<usize>> = vec![None; ids.len()];
    let mut before = vec![false; ids.len()];
    let mut group_start = 0;
    while group_start < order.len() {
        let date = raw.rows[order[group_start]].date;
        let group_end = group_start
            + order[group_start..]
                .iter()
                .take_while(|&&r| raw.rows[r].date == date)
                .count();
        let rows = &order[group_start..group_end];
        let t = assessments.len();
        let mut slots: Vec<(Slot, Vec<Option<Decimal>>)> = Vec::with_capacity(rows.len());
        let mut scan: Vec<Option<(Decimal, usize)>> = vec![None; scan_inputs.len()];
        for &r in rows {
            let row = &raw.rows[r];
            let li = lesion_of[r];
            if let Some(prev) = seen[li] {
                return Err(err(
                    Some(row.line),
                    Some("lesion"),
                    format!(
                        "lesion {} appears twice at {} (lines {} and {})",
                        ids[li],
                        format_date(date),
                        prev,
                        row.line
                    ),
                    "each lesion has one row per assessment",
                ));
            }
            seen[li] = Some(row.line);
            if t == 0 && row.role == Role::New {
                return Err(err(
                    Some(row.line),
                    Some("role"),
                    format!("new lesion {} at baseline", ids[li]),
                    "lesions at the first (baseline) assessment are target or non-target",
                ));
            }
            if t > 0 && row.role != Role::New && !at_baseline[li] {
                return Err(err(
                    Some(row.line),
                    Some("lesion"),
                    format!("{} lesion {} appears after baseline", row.role.name(), ids[li]),
                    "target and non-target lesions are chosen at baseline; a lesion first seen later is `new`",
                ));
            }
            let mut values = Vec::with_capacity(width);
            for &i in &lesion_inputs {
                values.push(value_of(row, i)?);
            }
            let status = row.status.unwrap_or(Status::Present);
            if status == Status::NotEvaluated {
                values.iter_mut().for_each(|v| *v = None);
            }
            for (k, &i) in scan_inputs.iter().enumerate() {
                if let Some(v) = value_of(row, i)? {
                    match scan[k] {
                        None => scan[k] = Some((v, row.line)),
                        Some((prev, line)) if prev != v => return Err(err(
                            Some(row.line),
                            Some(&rs.inputs[i].name),
                            format!(
                                "{} differs between rows of one scan (line {line} and line {})",
                                rs.inputs[i].name, row.line
                            ),
                            "a scan-level value repeated on several rows must be the same on each",
                        )),
                        _ => {}
                    }
                }
            }
            for (k, &i) in subject_inputs.iter().enumerate() {
                if let Some(v) = value_of(row, i)? {
                    match subject_values[k] {
                        None => subject_values[k] = Some((v, row.line)),
                        Some((prev, line)) if prev != v => {
                            return Err(err(
                                Some(row.line),
                                Some(&rs.inputs[i].name),
                                format!("{} differs between rows of one subject (line {line} and line {})", rs.inputs[i].name, row.line),
                                "a subject-level value repeated on several rows must be the same on each",
                            ))
                        }
                        _ => {}
                    }
                }
            }
            slots.push((
                Slot {
                    lesion: li,
                    status,
                    missing_row: false,
                    line: Some(row.line),
                },
                values,
            ));
        }
        if t > 0 {
            // Lesions without a row here were not evaluated: every baseline lesion, and a new
            // lesion once it has been seen (missing data is unknown, not gone).
            for (li, l) in lesions.iter().enumerate() {
                let expected = l.role != Role::New || before[li];
                if expected && seen[li].is_none() {
                    slots.push((
                        Slot {
                            lesion: li,
                            status: Status::NotEvaluated,
                            missing_row: true,
                            line: None,
                        },
                        vec![None; width],
                    ));
                }
            }
        }
        for &r in rows {
            seen[lesion_of[r]] = None;
            before[lesion_of[r]] = true;
        }
        slots.sort_by_key(|(s, _)| s.lesion);
        let visit = rows
            .iter()
            .map(|&r| raw.visit(&raw.rows[r]))
            .find(|v| !v.is_empty())
            .unwrap_or("")
            .to_string();
        let mut values = Vec::with_capacity(slots.len() * width);
        let slots = slots
            .into_iter()
            .map(|(s, v)| {
                values.extend(v);
                s
            })
            .collect();
        assessments.push(Assessment {
            visit,
            date,
            date_imputed: rows.iter().any(|&r| raw.rows[r].date_imputed),
            slots,
            values,
            scan: scan.into_iter().map(|v| v.map(|(d, _)| d)).collect(),
        });
        group_start = group_end;
    }
    Ok(Subject {
        subject: raw.subject.clone(),
        reader: raw.reader.clone(),
        start: start.map(|(s, _)| s).unwrap_or(baseline_date),
        lesions,
        organs,
        assessments,
        subject_inputs: subject_values
            .into_iter()
            .map(|v| v.map(|(d, _)| d))
            .collect(),
        width,
        absent: b.absent.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_exactly_or_not_at_all() {
        let ok = |s: &str| {
            parse_number(s)
                .unwrap_or_else(|e| panic!("{s}: {e}"))
                .to_string()
        };
        assert_eq!(ok("12.5"), "12.5");
        assert_eq!(ok("+3"), "3");
        assert_eq!(ok("-0.5"), "-0.5");
        assert_eq!(ok(".5"), "0.5");
        assert_eq!(ok("1.2e1"), "12");
        assert_eq!(
            ok("1000000000000000000000000000"),
            "1000000000000000000000000000"
        );
        for bad in [
            "5_0", "1,5", "12 mm", "", ".", "e5", "1e", "1e+", "--1", "0x10", "1.2.3",
        ] {
            assert_eq!(parse_number(bad), Err("not a number"), "{bad}");
        }
        assert_eq!(
            ok("1234567890123456789012345678.1"),
            "1234567890123456789012345678.1"
        );
        for big in [
            "0.00000000000000000000000000001",
            "79228162514264337593543950336",
            "7.000000000000000000000000000001",
            "1e40",
        ] {
            assert_eq!(parse_number(big), Err("too many digits"), "{big}");
        }
    }

    proptest::proptest! {
        /// The short way reads what the long way reads, and declines nothing it could read
        /// but numbers of more than 28 digits.
        #[test]
        fn short_numbers_read_as_any_number(s in "[+-]?[0-9]{0,30}([.][0-9]{0,30})?") {
            let digits = s.bytes().filter(|c| c.is_ascii_digit()).count();
            match short_number(&s) {
                Some(d) => proptest::prop_assert_eq!(Ok(d), any_number(&s)),
                None => proptest::prop_assert!(digits == 0 || digits > 28 || any_number(&s).is_err()),
            }
        }
    }
}
