//! Binding raw rows to a ruleset: the declared inputs are found among the columns, converted to
//! base units and checked (numbers, signs, agreement of scan values); assessments are formed
//! and lesions missing at an assessment (baseline lesions, and new ones after they were first
//! seen) become `not-evaluated` there.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::model::*;
use crate::check::ir::{Input, InputLevel, Role, Ruleset, Status};
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
}

pub fn plan(rs: &Ruleset, cohort: &RawCohort) -> Result<Binding, Vec<DataError>> {
    let mut cols = vec![];
    let mut errors = vec![];
    for input in &rs.inputs {
        let found = cohort.columns.iter().position(|c| c.name == input.name);
        match found {
            None => {
                if !input.optional {
                    errors.push(DataError {
                        file: cohort.file.clone(),
                        line: Some(1),
                        column: Some(input.name.clone()),
                        message: format!(
                            "ruleset `{}` reads `{}` ({}), but the table has no such column",
                            rs.id, input.name, input.unit
                        ),
                        help: Some(format!(
                            "add a column `{}` (or `{}[{}]`)",
                            input.name, input.name, input.unit
                        )),
                    });
                }
                cols.push(None);
            }
            Some(ci) if !input.choices.is_empty() => {
                // A categorical column is text: a unit in its header is a mistake.
                match &cohort.columns[ci].unit {
                    None => cols.push(Some((ci, Decimal::ONE))),
                    Some(u) => {
                        errors.push(DataError {
                            file: cohort.file.clone(),
                            line: Some(1),
                            column: Some(input.name.clone()),
                            message: format!(
                                "column `{}[{u}]` has a unit, but `{}` is categorical ({})",
                                input.name,
                                input.name,
                                input.choices.join(", ")
                            ),
                            help: Some(format!("name the column `{}`", input.name)),
                        });
                        cols.push(None);
                    }
                }
            }
            Some(ci) => {
                let col = &cohort.columns[ci];
                let unit = col
                    .unit
                    .as_deref()
                    .or(standard_unit(&col.name))
                    .unwrap_or(input.unit.as_str());
                match units::lookup(unit) {
                    Some(u) if u.dim == input.dim => cols.push(Some((ci, u.factor))),
                    Some(_) => {
                        errors.push(DataError {
                            file: cohort.file.clone(),
                            line: Some(1),
                            column: Some(input.name.clone()),
                            message: format!(
                                "column `{}` is in {} but the ruleset needs {}",
                                input.name, unit, input.unit
                            ),
                            help: Some(format!(
                                "give the column in a unit of the same kind as {}",
                                input.unit
                            )),
                        });
                        cols.push(None);
                    }
                    None => {
                        errors.push(DataError {
                            file: cohort.file.clone(),
                            line: Some(1),
                            column: Some(input.name.clone()),
                            message: format!(
                                "unknown unit `{unit}` in the header of `{}`",
                                input.name
                            ),
                            help: Some(format!(
                                "the units are: {}",
                                units::unit_names().collect::<Vec<_>>().join(", ")
                            )),
                        });
                        cols.push(None);
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(Binding { cols })
    } else {
        Err(errors)
    }
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
    let v = Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| {
            err(
                format!("`{text}` is not a number"),
                "write a decimal number such as 12.5, or leave the cell empty when not measured",
            )
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
    let lesion_inputs: Vec<usize> = (0..rs.inputs.len())
        .filter(|&i| rs.inputs[i].level == InputLevel::Lesion)
        .collect();
    let scan_inputs: Vec<usize> = (0..rs.inputs.len())
        .filter(|&i| rs.inputs[i].level == InputLevel::Scan)
        .collect();
    let subject_inputs: Vec<usize> = (0..rs.inputs.len())
        .filter(|&i| rs.inputs[i].level == InputLevel::Subject)
        .collect();
    let value_of = |row: &RawRow, i: usize| -> Result<Option<Decimal>, DataError> {
        match b.cols[i] {
            None => Ok(None),
            Some((ci, factor)) => {
                parse_value(&row.extra[ci], &rs.inputs[i], factor, file, row.line)
            }
        }
    };

    // Lesions, by id: one role and organ each.
    let mut lesion_ids: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &raw.rows {
        let n = lesion_ids.len();
        lesion_ids.entry(row.lesion.as_str()).or_insert(n);
    }
    let ids: Vec<&str> = lesion_ids.keys().copied().collect();
    let index_of = |id: &str| ids.binary_search(&id).unwrap();
    let mut lesions: Vec<Option<Lesion>> = vec![None; ids.len()];
    let mut first_row: Vec<usize> = vec![0; ids.len()];
    for row in &raw.rows {
        let li = index_of(&row.lesion);
        let nodal = row.nodal.unwrap_or_else(|| {
            row.organ
                .as_deref()
                .is_some_and(|o| organ_key(o) == "lymph node")
        });
        match &mut lesions[li] {
            None => {
                lesions[li] = Some(Lesion {
                    id: row.lesion.clone(),
                    role: row.role,
                    organ: row.organ.clone(),
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
                            row.lesion,
                            row.role.name(),
                            l.role.name(),
                            first_row[li]
                        ),
                        "a lesion keeps its role at every assessment",
                    ));
                }
                if l.organ.is_none() {
                    l.organ = row.organ.clone();
                }
            }
        }
    }
    let mut lesions: Vec<Lesion> = lesions.into_iter().map(|l| l.unwrap()).collect();
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

    // Assessments by date.
    let mut by_date: BTreeMap<time::Date, Vec<&RawRow>> = BTreeMap::new();
    for row in &raw.rows {
        by_date.entry(row.date).or_default().push(row);
    }
    let baseline_date = *by_date.keys().next().unwrap();
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
    let mut subject_values: Vec<Option<(Decimal, usize)>> = vec![None; subject_inputs.len()];
    let mut assessments = vec![];
    let mut seen = vec![false; lesions.len()];
    for (t, (date, rows)) in by_date.iter().enumerate() {
        let mut slots: Vec<Slot> = vec![];
        let mut scan: Vec<Option<(Decimal, usize)>> = vec![None; scan_inputs.len()];
        for row in rows {
            let li = index_of(&row.lesion);
            if let Some(prev) = slots.iter().find(|s| s.lesion == li) {
                return Err(err(
                    Some(row.line),
                    Some("lesion"),
                    format!(
                        "lesion {} appears twice at {} (lines {} and {})",
                        row.lesion,
                        format_date(*date),
                        prev.line.unwrap_or(0),
                        row.line
                    ),
                    "each lesion has one row per assessment",
                ));
            }
            if t == 0 && row.role == Role::New {
                return Err(err(
                    Some(row.line),
                    Some("role"),
                    format!("new lesion {} at baseline", row.lesion),
                    "lesions at the first (baseline) assessment are target or non-target",
                ));
            }
            if t > 0
                && row.role != Role::New
                && !by_date[&baseline_date]
                    .iter()
                    .any(|r| r.lesion == row.lesion)
            {
                return Err(err(
                    Some(row.line),
                    Some("lesion"),
                    format!("{} lesion {} appears after baseline", row.role.name(), row.lesion),
                    "target and non-target lesions are chosen at baseline; a lesion first seen later is `new`",
                ));
            }
            let mut values = vec![];
            for &i in &lesion_inputs {
                values.push(value_of(row, i)?);
            }
            let status = match row.status {
                Some(s) => s,
                None => Status::Present,
            };
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
            slots.push(Slot {
                lesion: li,
                status,
                values,
                missing_row: false,
                line: Some(row.line),
            });
        }
        if t > 0 {
            // Lesions without a row here were not evaluated: every baseline lesion, and a new
            // lesion once it has been seen (missing data is unknown, not gone).
            for (li, l) in lesions.iter().enumerate() {
                let expected = l.role != Role::New || seen[li];
                if expected && !slots.iter().any(|s| s.lesion == li) {
                    slots.push(Slot {
                        lesion: li,
                        status: Status::NotEvaluated,
                        values: vec![None; lesion_inputs.len()],
                        missing_row: true,
                        line: None,
                    });
                }
            }
        }
        slots.sort_by_key(|s| s.lesion);
        for s in &slots {
            seen[s.lesion] = true;
        }
        let visit = rows
            .iter()
            .map(|r| r.visit.as_str())
            .find(|v| !v.is_empty())
            .unwrap_or("")
            .to_string();
        assessments.push(Assessment {
            visit,
            date: *date,
            date_imputed: rows.iter().any(|r| r.date_imputed),
            slots,
            scan: scan.into_iter().map(|v| v.map(|(d, _)| d)).collect(),
        });
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
    })
}
