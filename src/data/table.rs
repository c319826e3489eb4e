//! Reading the lesion table (CSV, or JSON of the same model) into raw rows grouped by subject
//! and reader. Problems are located (file, line, column) and attached to their subject.

use std::collections::BTreeMap;

use super::model::*;
use crate::check::ir::{Role, Status};

const CORE: &[&str] = &[
    "subject",
    "reader",
    "visit",
    "date",
    "lesion",
    "role",
    "organ",
    "nodal",
    "status",
    "start_date",
];
const REQUIRED: &[&str] = &["subject", "visit", "date", "lesion", "role"];

/// Splits `name[unit]` into its name (lower case) and unit.
pub fn split_header(h: &str) -> (String, Option<String>) {
    let h = h.trim();
    match (h.find('['), h.ends_with(']')) {
        (Some(i), true) => (
            h[..i].trim().to_lowercase(),
            Some(h[i + 1..h.len() - 1].trim().to_string()),
        ),
        _ => (h.to_lowercase(), None),
    }
}

/// One row: its cells in the order of the headers, and its line.
pub struct Record {
    pub line: usize,
    pub values: Vec<String>,
}

pub fn read_csv(file: &str, text: &str) -> Result<RawCohort, DataError> {
    // Spreadsheet exports often start with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| DataError {
            file: file.into(),
            line: Some(1),
            column: None,
            message: format!("cannot read the header: {e}"),
            help: None,
        })?
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut records = vec![];
    for (i, rec) in rdr.records().enumerate() {
        match rec {
            Ok(r) => {
                let line = r.position().map(|p| p.line() as usize).unwrap_or(i + 2);
                records.push(Record {
                    line,
                    values: r.iter().map(|s| s.to_string()).collect(),
                });
            }
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                return Err(DataError {
                    file: file.into(),
                    line,
                    column: None,
                    message: format!("malformed CSV: {e}"),
                    help: Some("every row needs as many cells as the header; quote cells that contain commas".into()),
                });
            }
        }
    }
    build(file, &headers, records)
}

/// The JSON form: `{"subjects": [{"subject", "reader"?, "start_date"?, "assessments": [{"visit",
/// "date", <scan values>..., "lesions": [{"lesion", "role", ...}]}]}]}`.
pub fn read_json(file: &str, text: &str) -> Result<RawCohort, DataError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| DataError {
        file: file.into(),
        line: Some(e.line()),
        column: None,
        message: format!("invalid JSON: {e}"),
        help: None,
    })?;
    let bad = |m: &str| {
        DataError {
        file: file.into(),
        line: None,
        column: None,
        message: m.to_string(),
        help: Some("expected {\"subjects\": [{\"subject\": ..., \"assessments\": [{\"visit\", \"date\", \"lesions\": [...]}]}]}".into()),
    }
    };
    let subjects = v
        .get("subjects")
        .and_then(|s| s.as_array())
        .ok_or_else(|| bad("no \"subjects\" array"))?;
    let mut headers: Vec<String> = CORE.iter().map(|s| s.to_string()).collect();
    let mut pairs: Vec<Vec<(String, String)>> = vec![];
    let text_of = |x: &serde_json::Value| match x {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    for (si, s) in subjects.iter().enumerate() {
        let mut base = vec![];
        for k in ["subject", "reader", "start_date"] {
            if let Some(x) = s.get(k) {
                base.push((k.to_string(), text_of(x)));
            }
        }
        let assessments = s
            .get("assessments")
            .and_then(|a| a.as_array())
            .ok_or_else(|| bad(&format!("subject #{} has no \"assessments\" array", si + 1)))?;
        for a in assessments {
            let obj = a
                .as_object()
                .ok_or_else(|| bad("an assessment is not an object"))?;
            let mut at = base.clone();
            for (k, x) in obj {
                if k != "lesions" {
                    at.push((k.clone(), text_of(x)));
                }
            }
            for l in obj
                .get("lesions")
                .and_then(|l| l.as_array())
                .map(|v| v.as_slice())
                .unwrap_or(&[])
            {
                let lo = l
                    .as_object()
                    .ok_or_else(|| bad("a lesion is not an object"))?;
                let mut cells = at.clone();
                for (k, x) in lo {
                    cells.push((k.clone(), text_of(x)));
                }
                for (k, _) in &cells {
                    if !headers.contains(k) {
                        headers.push(k.clone());
                    }
                }
                pairs.push(cells);
            }
        }
    }
    // Align every lesion's cells to the union of the keys.
    let records = pairs
        .into_iter()
        .enumerate()
        .map(|(i, cells)| Record {
            line: i + 1,
            values: headers
                .iter()
                .map(|h| {
                    cells
                        .iter()
                        .find(|(k, _)| k == h)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect(),
        })
        .collect();
    build(file, &headers, records)
}

fn build(file: &str, headers: &[String], records: Vec<Record>) -> Result<RawCohort, DataError> {
    let names: Vec<String> = headers.iter().map(|h| split_header(h).0).collect();
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|r| !names.iter().any(|n| n == r))
        .collect();
    if !missing.is_empty() {
        return Err(DataError {
            file: file.into(),
            line: Some(1),
            column: None,
            message: format!("missing required column{} {}", if missing.len() == 1 { "" } else { "s" }, missing.join(", ")),
            help: Some("a lesion table has the columns subject, visit, date, lesion, role (and optionally reader, organ, nodal, status, measurements)".into()),
        });
    }
    let mut columns: Vec<Column> = vec![];
    for h in headers {
        let (name, unit) = split_header(h);
        if !CORE.contains(&name.as_str()) && !columns.iter().any(|c| c.name == name) {
            columns.push(Column { name, unit });
        }
    }
    let mut cohort = RawCohort {
        file: file.into(),
        has_reader: names.iter().any(|n| n == "reader"),
        ..Default::default()
    };
    let mut by_key: BTreeMap<(String, Option<String>), RawSubject> = BTreeMap::new();
    // Column positions, found once: rows are then read by index.
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, n) in names.iter().enumerate() {
        index.entry(n.as_str()).or_insert(i);
    }
    for rec in records {
        let get = |k: &str| -> &str {
            index
                .get(k)
                .and_then(|&i| rec.values.get(i))
                .map(|v| v.as_str())
                .unwrap_or("")
        };
        let subject = get("subject").trim().to_string();
        let err = |col: &str, message: String, help: Option<&str>| DataError {
            file: file.into(),
            line: Some(rec.line),
            column: Some(col.into()),
            message,
            help: help.map(|h| h.to_string()),
        };
        if subject.is_empty() {
            cohort.errors.push(err(
                "subject",
                "row without a subject id".into(),
                Some("every row needs the subject it belongs to"),
            ));
            continue;
        }
        let reader = Some(get("reader").trim().to_string()).filter(|r| !r.is_empty());
        let entry = by_key
            .entry((subject.clone(), reader.clone()))
            .or_insert_with(|| RawSubject {
                subject,
                reader,
                rows: vec![],
                errors: vec![],
            });
        let mut row_errs = vec![];
        let date_text = get("date").trim();
        let date = match parse_date(date_text) {
            Some(d) => Some(d),
            None => {
                row_errs.push(err(
                    "date",
                    format!("date `{date_text}` is not a full date"),
                    Some("write dates as YYYY-MM-DD (partial dates such as 2014-02 need imputation before evaluation)"),
                ));
                None
            }
        };
        let lesion = get("lesion").trim().to_string();
        if lesion.is_empty() {
            row_errs.push(err(
                "lesion",
                "row without a lesion id".into(),
                Some("give every lesion an id that stays the same across visits"),
            ));
        }
        let role_text = get("role").trim().to_lowercase();
        let role = Role::parse(&role_text);
        if role.is_none() {
            row_errs.push(err(
                "role",
                format!("unknown role `{role_text}`"),
                Some("roles are target, non-target and new"),
            ));
        }
        let status_text = get("status").trim().to_lowercase();
        let status = if status_text.is_empty() {
            None
        } else {
            let s = Status::parse(&status_text);
            if s.is_none() {
                row_errs.push(err(
                    "status",
                    format!("unknown status `{status_text}`"),
                    Some("statuses are present, absent, too-small, not-evaluated, unequivocal-progression, increased, equivocal"),
                ));
            }
            s
        };
        let nodal_text = get("nodal").trim().to_lowercase();
        let nodal = match nodal_text.as_str() {
            "" => None,
            "true" | "yes" | "1" | "y" => Some(true),
            "false" | "no" | "0" | "n" => Some(false),
            other => {
                row_errs.push(err(
                    "nodal",
                    format!("`{other}` is not true or false"),
                    Some("write true or false"),
                ));
                None
            }
        };
        let organ = Some(get("organ").trim().to_string()).filter(|o| !o.is_empty());
        let start_text = get("start_date").trim();
        let start_date = if start_text.is_empty() {
            None
        } else {
            let d = parse_date(start_text);
            if d.is_none() {
                row_errs.push(err(
                    "start_date",
                    format!("start date `{start_text}` is not a full date"),
                    Some("write dates as YYYY-MM-DD"),
                ));
            }
            d
        };
        let extra = columns
            .iter()
            .map(|c| get(&c.name).trim().to_string())
            .collect();
        if row_errs.is_empty() {
            entry.rows.push(RawRow {
                line: rec.line,
                visit: get("visit").trim().to_string(),
                date: date.unwrap(),
                date_imputed: false,
                lesion,
                role: role.unwrap(),
                organ,
                nodal,
                status,
                extra,
                start_date,
            });
        } else {
            entry.errors.extend(row_errs);
        }
    }
    cohort.columns = columns;
    cohort.subjects = by_key.into_values().collect();
    Ok(cohort)
}

/// Reads a lesion table from a path; `.json` files as JSON, anything else as CSV.
pub fn read_path(path: &str) -> Result<RawCohort, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError {
        file: path.into(),
        line: None,
        column: None,
        message: format!("cannot read the file: {e}"),
        help: None,
    })?;
    if path.to_lowercase().ends_with(".json") {
        read_json(path, &text)
    } else {
        read_csv(path, &text)
    }
}
