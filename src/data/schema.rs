//! The columns of a lesion table, found once from its header, and the reading of a row's cells
//! into its subject: dates, roles and statuses parsed, texts kept without an allocation per
//! cell. A row with a problem becomes an error of its subject, never of the file.

use super::model::*;
use crate::check::ir::{Role, Status};

/// The columns every lesion table may have, in `Core` order.
pub const CORE: &[&str] = &[
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

#[derive(Clone, Copy)]
enum Core {
    Subject,
    Reader,
    Visit,
    Date,
    Lesion,
    Role,
    Organ,
    Nodal,
    Status,
    StartDate,
}

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

/// One row's cells, however they were read.
pub trait Cells {
    fn line(&self) -> usize;
    /// The row was cut at the end of its line (an unclosed quote).
    fn broken(&self) -> bool {
        false
    }
    /// The line of cell `i` (the row's, unless cells have their own).
    fn cell_line(&self, _i: usize) -> usize {
        self.line()
    }
    /// Cells in the row.
    fn count(&self) -> usize;
    /// A cell, untrimmed; `None` past the row's end.
    fn get(&self, i: usize) -> Option<&[u8]>;
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub file: String,
    /// Cells in the header.
    pub width: usize,
    core: [Option<usize>; 10],
    /// The other columns, and where each is in a row.
    pub columns: Vec<Column>,
    extra: Vec<usize>,
    pub duplicates: Vec<Duplicate>,
}

impl Schema {
    /// The columns of a header; a missing required column is an error of the file.
    pub fn new(file: &str, header: &[String]) -> Result<Schema, DataError> {
        let names: Vec<(String, Option<String>)> = header.iter().map(|h| split_header(h)).collect();
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|r| !names.iter().any(|(n, _)| n == r))
            .collect();
        if !missing.is_empty() {
            return Err(DataError {
                file: file.into(),
                line: Some(1),
                column: None,
                message: format!(
                    "missing required column{} {}",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", ")
                ),
                help: Some("a lesion table has the columns subject, visit, date, lesion, role (and optionally reader, organ, nodal, status, measurements)".into()),
            });
        }
        let mut schema = Schema {
            file: file.into(),
            width: header.len(),
            core: [None; 10],
            columns: vec![],
            extra: vec![],
            duplicates: vec![],
        };
        for (i, (name, unit)) in names.iter().enumerate() {
            let earlier = names[..i].iter().any(|(n, _)| n == name);
            if earlier {
                match schema.duplicates.iter_mut().find(|d| &d.name == name) {
                    Some(d) => d.positions.push(i + 1),
                    None => {
                        let first = names.iter().position(|(n, _)| n == name).unwrap_or(0);
                        schema.duplicates.push(Duplicate {
                            name: name.clone(),
                            positions: vec![first + 1, i + 1],
                        });
                    }
                }
                continue;
            }
            match CORE.iter().position(|c| c == name) {
                Some(k) => schema.core[k] = Some(i),
                None => {
                    schema.columns.push(Column {
                        name: name.clone(),
                        unit: unit.clone(),
                    });
                    schema.extra.push(i);
                }
            }
        }
        Ok(schema)
    }

    /// The schema of rows that were read some other way (SDTM): the core columns, then the others.
    pub fn of_columns(
        file: &str,
        columns: &[Column],
        has_reader: bool,
        duplicates: &[Duplicate],
    ) -> Schema {
        let mut core = [None; 10];
        for (k, c) in core.iter_mut().enumerate() {
            *c = Some(k);
        }
        if !has_reader {
            core[Core::Reader as usize] = None;
        }
        Schema {
            file: file.into(),
            width: CORE.len() + columns.len(),
            core,
            columns: columns.to_vec(),
            extra: (CORE.len()..CORE.len() + columns.len()).collect(),
            duplicates: duplicates.to_vec(),
        }
    }

    fn pos(&self, c: Core) -> Option<usize> {
        self.core[c as usize]
    }

    pub fn has_reader(&self) -> bool {
        self.pos(Core::Reader).is_some()
    }

    /// The subject id of a row (trimmed bytes), if it has one.
    pub fn subject_of<'c>(&self, row: &'c impl Cells) -> Option<&'c [u8]> {
        let s = row.get(self.pos(Core::Subject)?)?.trim_ascii();
        (!s.is_empty()).then_some(s)
    }

    /// The reader of a row: `Ok(None)` without a reader, `Err` when the row is too short to say.
    fn reader_of<'c>(&self, row: &'c impl Cells) -> Result<Option<&'c [u8]>, ()> {
        match self.pos(Core::Reader) {
            None => Ok(None),
            Some(p) => match row.get(p) {
                None => Err(()),
                Some(r) => {
                    let r = r.trim_ascii();
                    Ok((!r.is_empty()).then_some(r))
                }
            },
        }
    }

    fn error(&self, line: usize, column: Option<&str>, message: String, help: &str) -> DataError {
        DataError::at(&self.file, line, column, message, help)
    }

    /// The error for a row that belongs to no subject: it has no subject id.
    pub fn orphan(&self, row: &impl Cells) -> DataError {
        self.error(
            row.line(),
            Some("subject"),
            "row without a subject id".into(),
            "every row needs the subject it belongs to",
        )
    }

    /// The rows of one subject id, split by reader (in reader order, no reader first).
    pub fn subjects<'c, C: Cells + 'c>(
        &self,
        rows: impl IntoIterator<Item = &'c C>,
    ) -> Vec<RawSubject> {
        let mut out: Vec<(Option<Vec<u8>>, RawSubject)> = vec![];
        // Rows too short to have a reader fail every reader of their subject.
        let mut unplaced: Vec<DataError> = vec![];
        let mut name = String::new();
        for row in rows {
            if name.is_empty() {
                name =
                    String::from_utf8_lossy(self.subject_of(row).unwrap_or_default()).into_owned();
            }
            let key = match self.reader_of(row) {
                Ok(r) => r.map(<[u8]>::to_vec),
                Err(()) => {
                    let mut scratch = RawSubject::default();
                    self.read_row(&mut scratch, row);
                    unplaced.extend(scratch.errors);
                    continue;
                }
            };
            let i = match out.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    let reader = key
                        .as_deref()
                        .map(|r| String::from_utf8_lossy(r).into_owned());
                    out.push((key, RawSubject::new(name.clone(), reader)));
                    out.len() - 1
                }
            };
            self.read_row(&mut out[i].1, row);
        }
        if out.is_empty() {
            let mut only = RawSubject::new(name, None);
            only.errors = unplaced;
            return vec![only];
        }
        let mut subjects: Vec<RawSubject> = out.into_iter().map(|(_, s)| s).collect();
        subjects.sort_by(|a, b| a.reader.cmp(&b.reader));
        for s in &mut subjects {
            s.errors.extend(unplaced.iter().cloned());
            s.errors.sort_by_key(|e| e.line);
        }
        subjects
    }

    /// Reads one row into its subject: the row, or its problems as the subject's errors.
    pub fn read_row(&self, raw: &mut RawSubject, row: &impl Cells) {
        let line = row.line();
        if row.broken() {
            raw.errors.push(self.error(
                line,
                None,
                "a quote opened on this line is not closed".into(),
                "close the quote, or remove it: a cell in quotes ends with a quote",
            ));
            return;
        }
        if row.count() != self.width {
            raw.errors.push(self.error(
                line,
                None,
                format!(
                    "this row has {} cell{} but the header has {}",
                    row.count(),
                    if row.count() == 1 { "" } else { "s" },
                    self.width
                ),
                "every row needs as many cells as the header; quote cells that contain commas",
            ));
            return;
        }
        let mut errors = vec![];
        let mut text = |c: Option<usize>, name: &str| -> &str {
            let Some((i, bytes)) = c.and_then(|i| Some((i, row.get(i)?))) else {
                return "";
            };
            match std::str::from_utf8(bytes.trim_ascii()) {
                Ok(s) => s,
                Err(_) => {
                    errors.push(self.error(
                        row.cell_line(i),
                        Some(name),
                        format!(
                            "`{}` is not UTF-8 text",
                            String::from_utf8_lossy(bytes).trim()
                        ),
                        "save the table as UTF-8",
                    ));
                    ""
                }
            }
        };
        let cell = |c: Core| self.pos(c);
        let visit = text(cell(Core::Visit), "visit");
        let date_text = text(cell(Core::Date), "date");
        let lesion = text(cell(Core::Lesion), "lesion");
        let role_text = text(cell(Core::Role), "role");
        let organ = text(cell(Core::Organ), "organ");
        let nodal_text = text(cell(Core::Nodal), "nodal");
        let status_text = text(cell(Core::Status), "status");
        let start_text = text(cell(Core::StartDate), "start_date");
        // The other columns' cells are checked here and handed over below without a copy.
        for (&i, c) in self.extra.iter().zip(&self.columns) {
            text(Some(i), &c.name);
        }
        let err = |col: &str, message: String, help: &str| {
            let at = CORE
                .iter()
                .position(|c| *c == col)
                .and_then(|k| self.core[k])
                .map(|i| row.cell_line(i))
                .unwrap_or(line);
            self.error(at, Some(col), message, help)
        };
        let date = match read_date(date_text) {
            Ok(d) => Some(d),
            Err(bad) => {
                errors.push(date_error(&err, "date", "date", date_text, bad));
                None
            }
        };
        if lesion.is_empty() {
            errors.push(err(
                "lesion",
                "row without a lesion id".into(),
                "give every lesion an id that stays the same across visits",
            ));
        }
        let role = Role::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(role_text));
        if role.is_none() {
            errors.push(err(
                "role",
                format!("unknown role `{role_text}`"),
                "roles are target, non-target and new",
            ));
        }
        let status = if status_text.is_empty() {
            None
        } else {
            let s = Status::ALL
                .into_iter()
                .find(|x| x.name().eq_ignore_ascii_case(status_text));
            if s.is_none() {
                errors.push(err(
                    "status",
                    format!("unknown status `{status_text}`"),
                    "statuses are present, absent, too-small, not-evaluated, unequivocal-progression, increased, equivocal",
                ));
            }
            s
        };
        let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(nodal_text));
        let nodal = match nodal_text {
            "" => None,
            _ if is(&["true", "yes", "1", "y"]) => Some(true),
            _ if is(&["false", "no", "0", "n"]) => Some(false),
            _ => {
                errors.push(err(
                    "nodal",
                    format!("`{nodal_text}` is not true or false"),
                    "write true or false",
                ));
                None
            }
        };
        let start_date = if start_text.is_empty() {
            None
        } else {
            match read_date(start_text) {
                Ok(d) => Some(d),
                Err(bad) => {
                    errors.push(date_error(
                        &err,
                        "start_date",
                        "start date",
                        start_text,
                        bad,
                    ));
                    None
                }
            }
        };
        if !errors.is_empty() {
            raw.errors.extend(errors);
            return;
        }
        let (Some(date), Some(role)) = (date, role) else {
            return;
        };
        let fields = RowFields {
            line,
            visit,
            date,
            date_imputed: false,
            lesion,
            role,
            organ: Some(organ).filter(|o| !o.is_empty()),
            nodal,
            status,
            start_date,
        };
        let extra = self.extra.iter().map(|&i| {
            let bytes = row.get(i).unwrap_or_default().trim_ascii();
            std::str::from_utf8(bytes).unwrap_or_default()
        });
        if raw.push_row(fields, extra).is_err() {
            raw.errors.push(self.error(
                line,
                None,
                "this subject's rows hold more than 4 GiB of text".into(),
                "split the subject's data",
            ));
        }
    }
}

fn date_error(
    err: &impl Fn(&str, String, &str) -> DataError,
    column: &str,
    what: &str,
    text: &str,
    bad: BadDate,
) -> DataError {
    match bad {
        BadDate::Partial => err(
            column,
            format!("{what} `{text}` is not a full date"),
            "write dates as YYYY-MM-DD (partial dates such as 2014-02 need imputation before evaluation)",
        ),
        BadDate::Impossible => err(
            column,
            format!("{what} `{text}` is not a valid date"),
            &impossible(text),
        ),
        BadDate::NotADate => err(
            column,
            format!("{what} `{text}` is not a date"),
            "write dates as YYYY-MM-DD",
        ),
    }
}

/// Why a `YYYY-MM-DD` date does not exist.
fn impossible(text: &str) -> String {
    let num = |r: std::ops::Range<usize>| text.trim().get(r).and_then(|s| s.parse::<u16>().ok());
    match (num(0..4), num(5..7)) {
        (Some(y), Some(m)) => match time::Month::try_from(m as u8) {
            Ok(month) if (1..=12).contains(&m) => format!(
                "{month} {y} has {} days",
                time::util::days_in_month(month, i32::from(y))
            ),
            _ => format!("there is no month {m:02}: months are 01 to 12"),
        },
        _ => "write dates as YYYY-MM-DD".into(),
    }
}
