//! The lesion-table model, before and after binding to a ruleset's declared inputs.

use std::sync::Arc;

use rust_decimal::Decimal;
use time::Date;

use crate::check::ir::{Role, Status};

/// A located problem with one subject's data (or with the file when `subject` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DataError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

impl DataError {
    /// `tr.csv:17`, or in a transport file, where lines are records, `tr.xpt, record 17 (byte
    /// 3280)`.
    pub fn place(&self) -> String {
        match self.line {
            None => self.file.clone(),
            Some(l) if self.file.to_lowercase().ends_with(".xpt") => {
                format!("{}, {}", self.file, super::xpt::locate(&self.file, l))
            }
            Some(l) => format!("{}:{l}", self.file),
        }
    }

    /// A problem at a line of a file, in a column, with a help.
    pub fn at(file: &str, line: usize, column: Option<&str>, message: String, help: &str) -> Self {
        DataError {
            file: file.into(),
            line: Some(line),
            column: column.map(str::to_string),
            message,
            help: Some(help.into()),
        }
    }
}

impl std::fmt::Display for DataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.place())?;
        if let Some(c) = &self.column {
            write!(f, " (column {c})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// A column beyond the core ones: its header name and the unit the header carries, if any.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub unit: Option<String>,
}

/// A header name given more than once: the first column is read, the others are not.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub name: String,
    /// 1-based positions of the columns with this name.
    pub positions: Vec<usize>,
}

/// One lesion row as read, before it is checked against a ruleset. Its texts (visit, lesion,
/// organ and the cells of the other columns) are kept by its subject: `RawSubject::visit` etc.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub line: usize,
    pub date: Date,
    pub date_imputed: bool,
    pub role: Role,
    pub nodal: Option<bool>,
    pub status: Option<Status>,
    pub start_date: Option<Date>,
    /// Index of the row's first text in `RawSubject::ends`.
    texts: u32,
}

/// A row's fields, to add it to a subject with `RawSubject::push_row`.
pub struct RowFields<'a> {
    pub line: usize,
    pub visit: &'a str,
    pub date: Date,
    pub date_imputed: bool,
    pub lesion: &'a str,
    pub role: Role,
    pub organ: Option<&'a str>,
    pub nodal: Option<bool>,
    pub status: Option<Status>,
    pub start_date: Option<Date>,
}

/// The rows of one subject (and reader) as read. Their texts are kept in one string, so reading
/// a row allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct RawSubject {
    pub subject: String,
    pub reader: Option<String>,
    pub rows: Vec<RawRow>,
    /// Problems found while reading; the subject is reported with the first.
    pub errors: Vec<DataError>,
    text: String,
    /// End of each text in `text`: per row its visit, lesion, organ, then the other columns.
    ends: Vec<u32>,
}

impl RawSubject {
    pub fn new(subject: String, reader: Option<String>) -> Self {
        RawSubject {
            subject,
            reader,
            ..Default::default()
        }
    }

    /// Adds a row with the cells of the other columns (`RawCohort::columns`, in order).
    pub fn push_row<S: AsRef<str>>(
        &mut self,
        row: RowFields<'_>,
        extra: impl IntoIterator<Item = S>,
    ) -> Result<(), TooLarge> {
        let texts = u32::try_from(self.ends.len()).map_err(|_| TooLarge)?;
        let mark = (self.text.len(), self.ends.len());
        let push = |s: &str, me: &mut Self| -> Result<(), TooLarge> {
            me.text.push_str(s);
            me.ends
                .push(u32::try_from(me.text.len()).map_err(|_| TooLarge)?);
            Ok(())
        };
        let pushed = (|| {
            push(row.visit, self)?;
            push(row.lesion, self)?;
            push(row.organ.unwrap_or(""), self)?;
            for c in extra {
                push(c.as_ref(), self)?;
            }
            Ok(())
        })();
        if pushed.is_err() {
            self.text.truncate(mark.0);
            self.ends.truncate(mark.1);
            return pushed;
        }
        self.rows.push(RawRow {
            line: row.line,
            date: row.date,
            date_imputed: row.date_imputed,
            role: row.role,
            nodal: row.nodal,
            status: row.status,
            start_date: row.start_date,
            texts,
        });
        Ok(())
    }

    fn text(&self, row: &RawRow, i: usize) -> &str {
        let k = row.texts as usize + i;
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        self.ends
            .get(k)
            .and_then(|&end| self.text.get(start..end as usize))
            .unwrap_or("")
    }

    pub fn visit(&self, row: &RawRow) -> &str {
        self.text(row, 0)
    }

    pub fn lesion(&self, row: &RawRow) -> &str {
        self.text(row, 1)
    }

    pub fn organ(&self, row: &RawRow) -> Option<&str> {
        Some(self.text(row, 2)).filter(|o| !o.is_empty())
    }

    /// The row's cell in the other column `column` (an index into `RawCohort::columns`).
    pub fn cell(&self, row: &RawRow, column: usize) -> &str {
        self.text(row, 3 + column)
    }
}

/// A subject's rows hold more text than one subject may (4 GiB).
#[derive(Debug, Clone, Copy)]
pub struct TooLarge;

#[derive(Debug, Clone, Default)]
pub struct RawCohort {
    pub file: String,
    pub columns: Vec<Column>,
    pub subjects: Vec<RawSubject>,
    /// Problems that belong to no subject (e.g. a row without a subject id).
    pub errors: Vec<DataError>,
    pub has_reader: bool,
    /// Header names given more than once.
    pub duplicates: Vec<Duplicate>,
}

#[derive(Debug, Clone)]
pub struct Lesion {
    /// Shared, so that evaluation can hand the id and organ on without copying them.
    pub id: Arc<str>,
    pub role: Role,
    pub organ: Option<Arc<str>>,
    /// Index into `Subject::organs`.
    pub organ_index: Option<usize>,
    pub nodal: bool,
}

/// A lesion at one assessment.
#[derive(Debug, Clone)]
pub struct Slot {
    pub lesion: usize,
    pub status: Status,
    /// True when the lesion had no row here (a baseline lesion not evaluated).
    pub missing_row: bool,
    pub line: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Assessment {
    pub visit: String,
    pub date: Date,
    pub date_imputed: bool,
    /// Ordered by lesion id.
    pub slots: Vec<Slot>,
    /// Per slot, its lesion-level inputs (`Subject::width` each) in base units; `None` when
    /// not given.
    pub values: Vec<Option<Decimal>>,
    /// Per scan-level input.
    pub scan: Vec<Option<Decimal>>,
}

/// One subject (and reader), bound to a ruleset's inputs: ready to evaluate.
#[derive(Debug, Clone)]
pub struct Subject {
    pub subject: String,
    pub reader: Option<String>,
    pub start: Date,
    pub lesions: Vec<Lesion>,
    /// Distinct organs of the subject's lesions (trimmed, lower case, sorted), for organ-level
    /// definitions.
    pub organs: Vec<Arc<str>>,
    pub assessments: Vec<Assessment>,
    pub subject_inputs: Vec<Option<Decimal>>,
    /// Lesion-level inputs per slot.
    pub width: usize,
    /// The ruleset's optional inputs that the table has no column for (input indices).
    pub absent: Vec<usize>,
}

impl Subject {
    /// Where a lesion's slot is at an assessment, if it is there.
    pub fn slot_index(&self, t: usize, lesion: usize) -> Option<usize> {
        self.assessments[t]
            .slots
            .binary_search_by_key(&lesion, |s| s.lesion)
            .ok()
    }

    /// The slot of a lesion at an assessment, if it is there.
    pub fn slot(&self, t: usize, lesion: usize) -> Option<&Slot> {
        self.slot_index(t, lesion)
            .map(|i| &self.assessments[t].slots[i])
    }
}

/// How organs compare everywhere (organ-level definitions, per-organ limits, `organ = "..."`):
/// case, surrounding spaces and runs of inner spaces are ignored, so `Lung`, `lung ` and
/// `LUNG` are one organ.
pub fn organ_key(organ: &str) -> String {
    organ
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Texts equal as organs compare: [`organ_key`] of both is the same (without allocating).
pub fn same_text(a: &str, b: &str) -> bool {
    let lower = |w: &str| w.chars().flat_map(char::to_lowercase).collect::<Vec<_>>();
    let (mut x, mut y) = (a.split_whitespace(), b.split_whitespace());
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p == q || p.eq_ignore_ascii_case(q) => {}
            (Some(p), Some(q)) if !p.is_ascii() || !q.is_ascii() => {
                if lower(p) != lower(q) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

pub fn format_date(d: Date) -> String {
    IsoDate(d).to_string()
}

/// A date shown as `YYYY-MM-DD`.
pub struct IsoDate(pub Date);

impl std::fmt::Display for IsoDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    read_date(s).ok()
}

/// Why a cell is not a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadDate {
    /// `2014-02` or `2014`: a partial date, which needs imputing.
    Partial,
    /// `2024-13-04`, `2023-02-30`: written as a date, but there is no such day.
    Impossible,
    /// Anything else.
    NotADate,
}

/// Reads `YYYY-MM-DD` (surrounding spaces ignored), telling partial and impossible dates apart.
pub fn read_date(s: &str) -> Result<Date, BadDate> {
    let b = s.trim().as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let year = digits(0..4).ok_or(BadDate::NotADate)?;
    match b.len() {
        4 => return Err(BadDate::Partial),
        7 if b[4] == b'-' && digits(5..7).is_some() => return Err(BadDate::Partial),
        10 if b[4] == b'-' && b[7] == b'-' => {}
        _ => return Err(BadDate::NotADate),
    }
    let (Some(month), Some(day)) = (digits(5..7), digits(8..10)) else {
        return Err(BadDate::NotADate);
    };
    let month = time::Month::try_from(month as u8).map_err(|_| BadDate::Impossible)?;
    Date::from_calendar_date(year as i32, month, day as u8).map_err(|_| BadDate::Impossible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_partial_impossible_and_not_dates() {
        assert_eq!(
            format_date(read_date(" 2024-02-29 ").unwrap()),
            "2024-02-29"
        );
        assert_eq!(read_date("2024-02"), Err(BadDate::Partial));
        assert_eq!(read_date("2024"), Err(BadDate::Partial));
        assert_eq!(read_date("2024-13-04"), Err(BadDate::Impossible));
        assert_eq!(read_date("2023-02-29"), Err(BadDate::Impossible));
        assert_eq!(read_date("2023-00-10"), Err(BadDate::Impossible));
        assert_eq!(read_date("2023-1-10"), Err(BadDate::NotADate));
        assert_eq!(read_date("10/01/2023"), Err(BadDate::NotADate));
        assert_eq!(read_date(""), Err(BadDate::NotADate));
    }
}
