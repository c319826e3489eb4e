//! The lesion-table model, before and after binding to a ruleset's declared inputs.

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

/// One lesion row as read, before it is checked against a ruleset.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub line: usize,
    pub visit: String,
    pub date: Date,
    pub date_imputed: bool,
    pub lesion: String,
    pub role: Role,
    pub organ: Option<String>,
    pub nodal: Option<bool>,
    pub status: Option<Status>,
    /// Cells of the other columns (`RawCohort::columns`), as written; parsed when a ruleset
    /// declares them as inputs.
    pub extra: Vec<String>,
    pub start_date: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct RawSubject {
    pub subject: String,
    pub reader: Option<String>,
    pub rows: Vec<RawRow>,
    /// Problems found while reading; the subject is reported with the first.
    pub errors: Vec<DataError>,
}

#[derive(Debug, Clone, Default)]
pub struct RawCohort {
    pub file: String,
    pub columns: Vec<Column>,
    pub subjects: Vec<RawSubject>,
    /// Problems that belong to no subject (e.g. a row without a subject id).
    pub errors: Vec<DataError>,
    pub has_reader: bool,
}

#[derive(Debug, Clone)]
pub struct Lesion {
    pub id: String,
    pub role: Role,
    pub organ: Option<String>,
    /// Index into `Subject::organs`.
    pub organ_index: Option<usize>,
    pub nodal: bool,
}

/// A lesion at one assessment.
#[derive(Debug, Clone)]
pub struct Slot {
    pub lesion: usize,
    pub status: Status,
    /// Per lesion-level input of the ruleset, in base units; `None` when not given.
    pub values: Vec<Option<Decimal>>,
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
    pub organs: Vec<String>,
    pub assessments: Vec<Assessment>,
    pub subject_inputs: Vec<Option<Decimal>>,
}

impl Subject {
    /// The slot of a lesion at an assessment, if it is there.
    pub fn slot(&self, t: usize, lesion: usize) -> Option<&Slot> {
        let slots = &self.assessments[t].slots;
        slots
            .binary_search_by_key(&lesion, |s| s.lesion)
            .ok()
            .map(|i| &slots[i])
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
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).ok()
}
