//! CDISC SDTM tumour data mapped onto the lesion-table model: TU (tumour identification), TR
//! (tumour results) and, when present, DM (treatment start) and RS (recorded responses), each
//! as `.csv` or SAS transport `.xpt` (v5 or v8), file names in any case.
//!
//! Mapping (DATA.md): `TRLNKID`/`TULNKID` → lesion; `TUSTRESC` → role; `TULOC` → organ (a
//! lymph node is nodal); `TRTESTCD` `LDIAM`, `LPERP`, `DIAMETER` (long axis when the lesion has
//! no `LDIAM` there), `SULPEAK`, `SUVMAX` → measurement columns and `TUMSTATE` → status;
//! `TRSTAT = NOT DONE` → not evaluated; reader = `TREVALID`, else `TREVAL`; `TRDTC` → date;
//! `VISIT` → visit. `NA` and empty cells are missing. Identical duplicate results of one lesion
//! at one assessment are merged; differing ones are an error for that subject.
//!
//! Errors are located (file, line and column; in a transport file the "line" is the record
//! number) and belong to their subject, so the other subjects are still evaluated.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use time::{Date, Month};

use super::model::*;
use super::sdtm_result::{self, Outcome};
use super::xpt;
use crate::check::ir::{Role, Status};

/// How partial dates (`2014-02`, `2014`) are completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Impute {
    /// The first day: `2014-02` → 2014-02-01, `2014` → 2014-01-01.
    First,
    /// The middle: `2014-02` → 2014-02-15, `2014` → 2014-07-01.
    Middle,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Dataset suffix: `onco_recist` reads `tu_onco_recist.*`, `tr_onco_recist.*`, ...
    pub dataset: Option<String>,
    /// Only this reader (compared without regard to case).
    pub reader: Option<String>,
    /// Only rows with `TRACPTFL = Y`: one timeline per subject, whichever reader was accepted at
    /// each visit (the subject has no reader then).
    pub accepted: bool,
    /// Complete partial dates; without it they are errors.
    pub impute: Option<Impute>,
}

/// The SDTM evaluator columns behind a reader name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluator {
    pub eval: Option<String>,
    pub evalid: Option<String>,
}

/// One recorded response row of RS.
#[derive(Debug, Clone)]
pub struct RecordedRow {
    pub line: usize,
    pub subject: String,
    pub reader: Option<String>,
    /// `RSTESTCD`, upper case.
    pub test: String,
    /// `RSCAT`.
    pub category: Option<String>,
    /// `RSSTRESC`, else `RSORRES`.
    pub result: Option<String>,
    pub visit: String,
    pub date: Option<String>,
    /// `RSACPTFL = Y`.
    pub accepted: bool,
}

/// The RS domain as read.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub file: String,
    pub has_category: bool,
    pub has_accepted: bool,
    pub rows: Vec<RecordedRow>,
    /// Rows that could not be read (e.g. without `USUBJID`).
    pub errors: Vec<DataError>,
}

/// An SDTM folder read: the lesion cohort, the recorded responses (when RS is there), and what
/// is needed to write RS rows back.
#[derive(Debug, Clone, Default)]
pub struct Sdtm {
    pub cohort: RawCohort,
    pub recorded: Option<Recorded>,
    /// Reader name → its `--EVAL`/`--EVALID` values.
    pub evaluators: BTreeMap<String, Evaluator>,
    /// Things worth telling the user (imputed dates, files used).
    pub notes: Vec<String>,
    /// `STUDYID` of each subject (from TR, else TU), for RS rows written back.
    pub studies: BTreeMap<String, String>,
    /// The date as written (`2014-02`) of assessments whose every row had that partial date,
    /// by (subject, reader, imputed date): RS rows written back keep the date as it was.
    pub partial_dates: BTreeMap<(String, Option<String>, Date), String>,
}

/// A table of one SDTM domain: upper-case column names and rows of text cells.
#[derive(Debug, Clone)]
pub struct Table {
    pub file: String,
    pub columns: Vec<String>,
    pub rows: Vec<TableRow>,
}

#[derive(Debug, Clone)]
pub struct TableRow {
    /// Line in a CSV file (the header is line 1); record number in a transport file.
    pub line: usize,
    /// Trimmed.
    pub cells: Vec<String>,
    /// Why the row could not be read whole (ragged, not UTF-8): it fails its subject when the
    /// subject can be read, else it is reported on its own.
    pub problem: Option<RowProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub message: String,
    pub help: String,
}

fn file_error(
    file: &str,
    line: Option<usize>,
    column: Option<&str>,
    message: String,
    help: Option<String>,
) -> DataError {
    DataError {
        file: file.into(),
        line,
        column: column.map(|c| c.to_string()),
        message,
        help,
    }
}

impl Table {
    /// Reads a CSV table; rows that cannot be read whole are kept with their problem (see
    /// `sdtm_csv`).
    pub fn from_csv(file: &str, bytes: &[u8]) -> Result<Table, DataError> {
        let (columns, rows) = super::sdtm_csv::read(file, bytes)?;
        Ok(Table {
            file: file.into(),
            columns,
            rows,
        })
    }

    pub fn from_xpt(path: &str) -> Result<Table, DataError> {
        let t = xpt::read(path)
            .map_err(|e| file_error(path, e.record, None, e.message, Some(e.help.into())))?;
        let rows = t
            .rows
            .into_iter()
            .enumerate()
            .map(|(i, cells)| TableRow {
                line: i + 1,
                cells,
                problem: None,
            })
            .collect();
        Ok(Table {
            file: path.into(),
            columns: t.columns,
            rows,
        })
    }

    /// Reads `.xpt` as SAS transport, anything else as CSV.
    pub fn read(path: &str) -> Result<Table, DataError> {
        if path.to_lowercase().ends_with(".xpt") {
            return Table::from_xpt(path);
        }
        let bytes = std::fs::read(path).map_err(|e| {
            file_error(path, None, None, format!("cannot read the file: {e}"), None)
        })?;
        Table::from_csv(path, &bytes)
    }

    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The first of `names` that is a column.
    fn col_any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.col(n))
    }

    fn require(&self, domain: &str, names: &[&[&str]]) -> Result<(), DataError> {
        let missing: Vec<String> = names
            .iter()
            .filter(|alts| self.col_any(alts).is_none())
            .map(|alts| alts.join(" or "))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(file_error(
            &self.file,
            Some(1),
            Some(&missing[0]),
            format!("{domain} has no column {}", missing.join(", ")),
            Some(format!("the columns here are: {}", self.columns.join(", "))),
        ))
    }
}

/// A cell's value; `None` when the column is absent or the cell is empty or `NA`. Cells are
/// trimmed when read.
fn val(row: &TableRow, col: Option<usize>) -> Option<&str> {
    col.and_then(|c| row.cells.get(c))
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty() && *s != "NA")
}

/// The reader of a row: `--EVALID`, else `--EVAL`.
fn reader_of(row: &TableRow, evalid: Option<usize>, eval: Option<usize>) -> Option<&str> {
    val(row, evalid).or(val(row, eval))
}

/// `parts` joined in `buf` with a separator no cell holds: a map key built without allocating.
fn compose<'b>(buf: &'b mut String, parts: &[&str]) -> &'b str {
    buf.clear();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            buf.push('\u{1f}');
        }
        buf.push_str(p);
    }
    buf
}

fn same_reader(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Roles as `TUSTRESC` writes them: `TARGET`, `NON-TARGET`, `NEW` and variants (`NEW TARGET`).
fn role_of(text: &str) -> Option<Role> {
    let t = text.trim().to_uppercase().replace(['_', ' '], "-");
    if t.starts_with("NEW") {
        Some(Role::New)
    } else if t == "TARGET" {
        Some(Role::Target)
    } else if t == "NON-TARGET" || t == "NONTARGET" {
        Some(Role::NonTarget)
    } else {
        Role::parse(&text.trim().to_lowercase())
    }
}

/// `TUMSTATE` results (and the lesion-table status names themselves).
const STATES: &[(&str, Status)] = &[
    ("PRESENT", Status::Present),
    ("ABSENT", Status::Absent),
    ("UNEQUIVOCAL", Status::UnequivocalProgression),
    ("UNEQUIVOCAL PROGRESSION", Status::UnequivocalProgression),
    ("EQUIVOCAL", Status::Equivocal),
    ("TOO SMALL TO MEASURE", Status::TooSmall),
    ("TOO SMALL", Status::TooSmall),
    ("NOT EVALUABLE", Status::NotEvaluated),
    ("NOT EVALUATED", Status::NotEvaluated),
    ("INCREASED", Status::Increased),
];

fn status_of(text: &str) -> Option<Status> {
    let t = text.trim().to_uppercase().replace(['-', '_'], " ");
    STATES
        .iter()
        .find(|(s, _)| *s == t)
        .map(|(_, st)| *st)
        .or_else(|| Status::parse(&text.trim().to_lowercase()))
}

/// A `--DTC` value: a full date, or a partial one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtc {
    Full(Date),
    Month(i32, Month),
    Year(i32),
}

impl Dtc {
    /// Parses ISO 8601 `YYYY-MM-DD` (a time after `T` is ignored), `YYYY-MM` or `YYYY`.
    pub fn parse(s: &str) -> Option<Dtc> {
        let d = s.trim().split('T').next().unwrap_or("").trim();
        if let Some(date) = parse_date(d) {
            return Some(Dtc::Full(date));
        }
        let parts: Vec<&str> = d.split('-').collect();
        let year = |y: &str| {
            (y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
                .then(|| y.parse::<i32>().ok())
                .flatten()
        };
        match parts.as_slice() {
            [y] => year(y).map(Dtc::Year),
            [y, m] if m.len() == 2 => {
                let y = year(y)?;
                let m = Month::try_from(m.parse::<u8>().ok()?).ok()?;
                Some(Dtc::Month(y, m))
            }
            _ => None,
        }
    }

    pub fn impute(self, how: Impute) -> Option<Date> {
        match (self, how) {
            (Dtc::Full(d), _) => Some(d),
            (Dtc::Month(y, m), Impute::First) => Date::from_calendar_date(y, m, 1).ok(),
            (Dtc::Month(y, m), Impute::Middle) => Date::from_calendar_date(y, m, 15).ok(),
            (Dtc::Year(y), Impute::First) => Date::from_calendar_date(y, Month::January, 1).ok(),
            (Dtc::Year(y), Impute::Middle) => Date::from_calendar_date(y, Month::July, 1).ok(),
        }
    }

    /// True when a full date lies within this (partial) date.
    fn contains(self, d: Date) -> bool {
        match self {
            Dtc::Full(x) => x == d,
            Dtc::Month(y, m) => d.year() == y && d.month() == m,
            Dtc::Year(y) => d.year() == y,
        }
    }
}

const IMPUTE_HELP: &str = "write the full date (YYYY-MM-DD), or pass --impute-dates first|middle to complete partial dates \
     (first: the 1st of the month, or 1 January; middle: the 15th, or 1 July); the explanation marks imputed dates";

/// The files of one SDTM dataset in a folder.
#[derive(Debug, Clone)]
pub struct Files {
    pub tu: PathBuf,
    pub tr: PathBuf,
    pub dm: Option<PathBuf>,
    pub rs: Option<PathBuf>,
}

impl Files {
    pub fn find(dir: &str, dataset: Option<&str>) -> Result<Files, DataError> {
        let entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| {
                file_error(
                    dir,
                    None,
                    None,
                    format!("cannot read the folder: {e}"),
                    Some("--sdtm names a folder holding tu and tr files (.csv or .xpt)".into()),
                )
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        let suffix = dataset
            .map(|d| format!("_{}", d.trim().trim_start_matches('_').to_lowercase()))
            .unwrap_or_default();
        let find = |stem: &str| -> Result<Option<PathBuf>, DataError> {
            let hits: Vec<&PathBuf> = entries
                .iter()
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().to_lowercase())
                        .unwrap_or_default();
                    name == format!("{stem}.csv") || name == format!("{stem}.xpt")
                })
                .collect();
            match hits.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some((*one).clone())),
                many => Err(file_error(
                    dir,
                    None,
                    None,
                    format!(
                        "{} files for {stem}: {}",
                        many.len(),
                        many.iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Some("keep one of them (CSV or transport) in the folder".into()),
                )),
            }
        };
        let datasets = || -> String {
            let mut names: BTreeSet<String> = BTreeSet::new();
            for p in &entries {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().to_lowercase())
                    .unwrap_or_default();
                if let Some(rest) = name
                    .strip_prefix("tu")
                    .and_then(|r| r.strip_suffix(".csv").or(r.strip_suffix(".xpt")))
                {
                    names.insert(if rest.is_empty() {
                        "(none: tu.csv or tu.xpt)".into()
                    } else {
                        rest.trim_start_matches('_').to_string()
                    });
                }
            }
            if names.is_empty() {
                "this folder has no tu file".into()
            } else {
                format!(
                    "datasets here (use --dataset NAME): {}",
                    names.into_iter().collect::<Vec<_>>().join(", ")
                )
            }
        };
        let need = |domain: &str| -> Result<PathBuf, DataError> {
            let stem = format!("{domain}{suffix}");
            find(&stem)?.ok_or_else(|| {
                file_error(
                    dir,
                    None,
                    None,
                    format!(
                        "no {} file: expected {stem}.csv or {stem}.xpt",
                        domain.to_uppercase()
                    ),
                    Some(datasets()),
                )
            })
        };
        let tu = need("tu")?;
        let tr = need("tr")?;
        let rs = find(&format!("rs{suffix}"))?;
        let dm = match find(&format!("dm{suffix}"))? {
            Some(p) => Some(p),
            None if !suffix.is_empty() => find("dm")?,
            None => None,
        };
        Ok(Files { tu, tr, dm, rs })
    }
}

/// Reads the SDTM dataset of a folder.
pub fn read_dir(dir: &str, opts: &Options) -> Result<Sdtm, DataError> {
    let files = Files::find(dir, opts.dataset.as_deref())?;
    let path = |p: &Path| p.display().to_string();
    let tu = Table::read(&path(&files.tu))?;
    let tr = Table::read(&path(&files.tr))?;
    let dm = files
        .dm
        .as_deref()
        .map(|p| Table::read(&path(p)))
        .transpose()?;
    let mut sdtm = build(&tu, &tr, dm.as_ref(), opts)?;
    if let Some(p) = &files.rs {
        sdtm.recorded = Some(recorded(&Table::read(&path(p))?)?);
    }
    Ok(sdtm)
}

/// Reads the RS domain.
pub fn recorded(t: &Table) -> Result<Recorded, DataError> {
    t.require(
        "RS",
        &[&["USUBJID"], &["RSTESTCD"], &["RSSTRESC", "RSORRES"]],
    )?;
    let c = |n: &str| t.col(n);
    let (subj, test, cat, res, orres) = (
        c("USUBJID"),
        c("RSTESTCD"),
        c("RSCAT"),
        c("RSSTRESC"),
        c("RSORRES"),
    );
    let (eval, evalid, visit, dtc, acpt) = (
        c("RSEVAL"),
        c("RSEVALID"),
        c("VISIT"),
        c("RSDTC"),
        c("RSACPTFL"),
    );
    let mut out = Recorded {
        file: t.file.clone(),
        has_category: cat.is_some(),
        has_accepted: acpt.is_some(),
        ..Default::default()
    };
    for row in &t.rows {
        if let Some(p) = &row.problem {
            out.errors.push(file_error(
                &t.file,
                Some(row.line),
                None,
                p.message.clone(),
                Some(p.help.clone()),
            ));
            continue;
        }
        let Some(subject) = val(row, subj) else {
            out.errors.push(file_error(
                &t.file,
                Some(row.line),
                Some("USUBJID"),
                "row without USUBJID".into(),
                Some("every RS row needs the subject it belongs to".into()),
            ));
            continue;
        };
        out.rows.push(RecordedRow {
            line: row.line,
            subject: subject.to_string(),
            reader: reader_of(row, evalid, eval).map(str::to_string),
            test: val(row, test).unwrap_or("").to_uppercase(),
            category: val(row, cat).map(|s| s.to_string()),
            result: val(row, res).or(val(row, orres)).map(|s| s.to_string()),
            visit: val(row, visit).unwrap_or("").to_string(),
            date: val(row, dtc).map(|s| s.to_string()),
            accepted: val(row, acpt).is_some_and(|s| s.eq_ignore_ascii_case("Y")),
        });
    }
    Ok(out)
}

/// A measurement column, and the `TRTESTCD` values that feed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    LongAxis,
    Diameter,
    ShortAxis,
    SulPeak,
    SuvMax,
    State,
}

impl Test {
    /// The test of a `TRTESTCD`, in any case.
    fn of(code: &str) -> Option<Test> {
        const TESTS: [(&str, Test); 6] = [
            ("LDIAM", Test::LongAxis),
            ("DIAMETER", Test::Diameter),
            ("LPERP", Test::ShortAxis),
            ("SULPEAK", Test::SulPeak),
            ("SUVMAX", Test::SuvMax),
            ("TUMSTATE", Test::State),
        ];
        TESTS
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(code))
            .map(|(_, t)| *t)
    }
    /// The lesion-table column and its unit.
    fn column(self) -> Option<(&'static str, &'static str)> {
        match self {
            Test::LongAxis | Test::Diameter => Some(("long_axis", "mm")),
            Test::ShortAxis => Some(("short_axis", "mm")),
            Test::SulPeak => Some(("sul_peak", "SUL")),
            Test::SuvMax => Some(("suv_max", "SUV")),
            Test::State => None,
        }
    }
    fn slot(self) -> usize {
        match self {
            Test::LongAxis => 0,
            Test::Diameter => 1,
            Test::ShortAxis => 2,
            Test::SulPeak => 3,
            Test::SuvMax => 4,
            Test::State => 5,
        }
    }
}

const MEASURES: [Test; 5] = [
    Test::LongAxis,
    Test::Diameter,
    Test::ShortAxis,
    Test::SulPeak,
    Test::SuvMax,
];

/// One lesion at one assessment of one (subject, reader), from one or more TR rows.
struct Obs {
    line: usize,
    visit: String,
    dtc: String,
    lesion: String,
    role: Role,
    organ: Option<String>,
    /// Per measurement (indexed by `Test::slot`): value in the column's unit, its line and code.
    values: [Option<(Decimal, usize)>; 5],
    state: Option<(Status, usize, String)>,
    rows: usize,
    not_done: usize,
}

/// One (subject, reader) being assembled.
#[derive(Default)]
struct Group {
    obs: Vec<Obs>,
    /// By (lesion, visit, date), composed.
    index: HashMap<String, usize>,
    errors: Vec<DataError>,
}

struct TuInfo {
    role: Role,
    organ: Option<String>,
    line: usize,
}

type Key = (String, Option<String>);

/// The first row of a (subject, reader) in TU or TR.
struct Seen {
    line: usize,
    in_tu: bool,
}

/// The first row of every (subject, reader) key. A subject's rows usually follow each other, so
/// the last key is compared first and most rows cost no allocation.
struct FirstRows {
    map: BTreeMap<Key, Seen>,
    last: Option<Key>,
    /// With `--accepted` the reader is not part of the key.
    accepted: bool,
}

impl FirstRows {
    fn note(&mut self, subject: &str, reader: Option<&str>, line: usize, in_tu: bool) {
        let reader = reader.filter(|_| !self.accepted);
        if self
            .last
            .as_ref()
            .is_some_and(|(s, r)| s == subject && r.as_deref() == reader)
        {
            return;
        }
        let key: Key = (subject.to_string(), reader.map(str::to_string));
        self.map.entry(key.clone()).or_insert(Seen { line, in_tu });
        self.last = Some(key);
    }
}

const RESULT_TESTS: &str = "TRTESTCD LDIAM, LPERP, DIAMETER, SULPEAK, SUVMAX and TUMSTATE";

/// Adds an error to every group of a subject; false when the subject has none.
fn subject_error(groups: &mut BTreeMap<Key, Group>, subject: &str, e: &DataError) -> bool {
    let mut any = false;
    for (_, g) in groups.iter_mut().filter(|(k, _)| k.0 == subject) {
        g.errors.push(e.clone());
        any = true;
    }
    any
}

/// Rows that were not read whole (ragged, not UTF-8). Such a row fails its subject when its
/// USUBJID names a subject of the rows that were read whole (and its reader, when it names a
/// known one, is wanted); otherwise it is reported alone.
struct Problems<'a> {
    subjects: HashSet<&'a str>,
    /// As written; compared without regard to case.
    readers: HashSet<&'a str>,
    /// Errors by subject, added once every group is known.
    pending: Vec<(String, DataError)>,
}

impl<'a> Problems<'a> {
    fn new(tu: &'a Table, tr: &'a Table, dm: Option<&'a Table>) -> Problems<'a> {
        let mut p = Problems {
            subjects: HashSet::new(),
            readers: HashSet::new(),
            pending: vec![],
        };
        for (t, prefix) in [(Some(tu), "TU"), (Some(tr), "TR"), (dm, "DM")] {
            let Some(t) = t else { continue };
            let (s, e, id) = (
                t.col("USUBJID"),
                t.col(&format!("{prefix}EVAL")),
                t.col(&format!("{prefix}EVALID")),
            );
            // Rows of one subject and reader usually follow each other.
            let (mut last_subject, mut last_reader) = (None, None);
            for row in t.rows.iter().filter(|r| r.problem.is_none()) {
                let (subject, reader) = (val(row, s), reader_of(row, id, e));
                if subject != last_subject {
                    p.subjects.extend(subject);
                    last_subject = subject;
                }
                if reader != last_reader {
                    p.readers.extend(reader);
                    last_reader = reader;
                }
            }
        }
        p
    }

    /// True when the row was not read whole; its error is then recorded. `cols` are the
    /// USUBJID, --EVALID and --EVAL columns.
    fn take(
        &mut self,
        t: &Table,
        row: &TableRow,
        [subj, evalid, eval]: [Option<usize>; 3],
        wanted: &impl Fn(Option<&str>) -> bool,
        cohort: &mut Vec<DataError>,
    ) -> bool {
        let Some(p) = &row.problem else {
            return false;
        };
        let reader = reader_of(row, evalid, eval);
        let reader_known = reader.is_some_and(|r| self.readers.iter().any(|k| same_reader(k, r)));
        if reader_known && !wanted(reader) {
            return true;
        }
        let e = |message: String| {
            file_error(&t.file, Some(row.line), None, message, Some(p.help.clone()))
        };
        match val(row, subj).filter(|s| self.subjects.contains(s)) {
            Some(s) => self.pending.push((s.to_string(), e(p.message.clone()))),
            None => cohort.push(e(format!("{}; its subject cannot be told", p.message))),
        }
        true
    }
}

/// "1 subject", "3 subjects".
fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Why a `--DTC` value is no date: shaped like one but impossible (`2023-02-30`), or not ISO 8601.
fn not_a_date(text: &str) -> String {
    let d = text.trim().split('T').next().unwrap_or("");
    let shaped = d.len() == 10
        && d.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if shaped {
        format!("`{text}` is not a valid date")
    } else {
        format!("`{text}` is not an ISO 8601 date")
    }
}

fn show_dtc(d: Dtc) -> String {
    match d {
        Dtc::Full(d) => format_date(d),
        Dtc::Month(y, m) => format!("{y:04}-{:02}", u8::from(m)),
        Dtc::Year(y) => format!("{y:04}"),
    }
}

/// Maps TU, TR and DM onto the lesion-table model.
pub fn build(
    tu: &Table,
    tr: &Table,
    dm: Option<&Table>,
    opts: &Options,
) -> Result<Sdtm, DataError> {
    tu.require(
        "TU",
        &[&["USUBJID"], &["TULNKID"], &["TUSTRESC", "TUORRES"]],
    )?;
    tr.require(
        "TR",
        &[
            &["USUBJID"],
            &["TRLNKID"],
            &["TRTESTCD"],
            &["TRDTC"],
            &["TRSTRESN", "TRSTRESC", "TRORRES"],
        ],
    )?;
    if opts.accepted && tr.col("TRACPTFL").is_none() {
        return Err(file_error(
            &tr.file,
            Some(1),
            Some("TRACPTFL"),
            "--accepted needs a TRACPTFL column in TR".into(),
            None,
        ));
    }
    let mut sdtm = Sdtm {
        cohort: RawCohort {
            file: tr.file.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
    let wanted = |reader: Option<&str>| match (&opts.reader, reader) {
        (None, _) => true,
        (Some(w), Some(r)) => same_reader(w, r),
        (Some(_), None) => false,
    };
    let group_key = |subject: &str, reader: Option<&str>| -> Key {
        (
            subject.to_string(),
            reader.filter(|_| !opts.accepted).map(str::to_string),
        )
    };
    // Map keys are built in these buffers (see `compose`).
    let (mut kbuf, mut obuf) = (String::new(), String::new());

    let mut problems = Problems::new(tu, tr, dm);
    // The first row of every (subject, reader) in TU and TR: each must end up in the cohort.
    let mut seen = FirstRows {
        map: BTreeMap::new(),
        last: None,
        accepted: opts.accepted,
    };
    // Numeric results with more digits than a float holds and no character result.
    let mut artefacts: Vec<(usize, String)> = vec![];

    // TU: the role and organ of each lesion, per subject and reader.
    let c = |n: &str| tu.col(n);
    let (subj, lnk, role_c, orres, loc, eval, evalid) = (
        c("USUBJID"),
        c("TULNKID"),
        c("TUSTRESC"),
        c("TUORRES"),
        c("TULOC"),
        c("TUEVAL"),
        c("TUEVALID"),
    );
    // By (subject, reader or "", lesion), composed.
    let mut lesions: HashMap<String, TuInfo> = HashMap::new();
    let study = tu.col("STUDYID");
    let mut tu_studies: BTreeMap<String, &str> = BTreeMap::new();
    let mut all_readers: BTreeSet<String> = BTreeSet::new();
    for row in &tu.rows {
        let err = |col: &str, message: String, help: &str| {
            file_error(
                &tu.file,
                Some(row.line),
                Some(col),
                message,
                Some(help.into()),
            )
        };
        if problems.take(
            tu,
            row,
            [subj, evalid, eval],
            &wanted,
            &mut sdtm.cohort.errors,
        ) {
            continue;
        }
        let Some(subject) = val(row, subj) else {
            sdtm.cohort.errors.push(err(
                "USUBJID",
                "row without USUBJID".into(),
                "every TU row needs the subject it belongs to",
            ));
            continue;
        };
        let reader = reader_of(row, evalid, eval);
        if !wanted(reader) {
            continue;
        }
        let g = || group_key(subject, reader);
        seen.note(subject, reader, row.line, true);
        if let Some(st) = val(row, study) {
            if !tu_studies.contains_key(subject) {
                tu_studies.insert(subject.to_string(), st);
            }
        }
        let Some(id) = val(row, lnk) else {
            let e = err(
                "TULNKID",
                format!("TU row of subject {subject} without TULNKID"),
                "every identified lesion needs an id (TULNKID) that its TR rows share",
            );
            groups.entry(g()).or_default().errors.push(e);
            continue;
        };
        let role_text = val(row, role_c).or(val(row, orres)).unwrap_or("");
        let Some(role) = role_of(role_text) else {
            let e = err(
                if role_c.is_some() { "TUSTRESC" } else { "TUORRES" },
                format!("unknown lesion role `{role_text}` for lesion {id}"),
                "TUSTRESC is TARGET, NON-TARGET or NEW (NEW TARGET and NEW NON-TARGET count as new)",
            );
            groups.entry(g()).or_default().errors.push(e);
            continue;
        };
        let organ = val(row, loc).map(|s| s.to_lowercase());
        let key = compose(&mut kbuf, &[subject, reader.unwrap_or(""), id]);
        match lesions.get(key) {
            Some(prev) if prev.role != role || prev.organ != organ => {
                let e = err(
                    "TULNKID",
                    format!("lesion {id} is identified twice with different role or location (lines {} and {})", prev.line, row.line),
                    "a lesion has one TU identification per reader",
                );
                groups.entry(g()).or_default().errors.push(e);
            }
            Some(_) => {}
            None => {
                lesions.insert(
                    key.to_string(),
                    TuInfo {
                        role,
                        organ,
                        line: row.line,
                    },
                );
            }
        }
    }

    // TR: measurements and states.
    let c = |n: &str| tr.col(n);
    let (subj, lnk, testcd, stresn, stresc, orres) = (
        c("USUBJID"),
        c("TRLNKID"),
        c("TRTESTCD"),
        c("TRSTRESN"),
        c("TRSTRESC"),
        c("TRORRES"),
    );
    let (orresu, study) = (c("TRORRESU"), c("STUDYID"));
    let (stresu, stat, eval, evalid, acpt, visit, dtc) = (
        c("TRSTRESU"),
        c("TRSTAT"),
        c("TREVAL"),
        c("TREVALID"),
        c("TRACPTFL"),
        c("VISIT"),
        c("TRDTC"),
    );
    let mut used: BTreeSet<&'static str> = BTreeSet::new();
    let mut last_group: Option<Key> = None;
    for row in &tr.rows {
        if let Some(r) = reader_of(row, evalid, eval) {
            if !all_readers.contains(r) {
                all_readers.insert(r.to_string());
            }
        }
        if let Some((col, _)) = Test::of(val(row, testcd).unwrap_or("")).and_then(|t| t.column()) {
            used.insert(col);
        }
    }
    for row in &tr.rows {
        let err = |col: &str, message: String, help: &str| {
            file_error(
                &tr.file,
                Some(row.line),
                Some(col),
                message,
                Some(help.into()),
            )
        };
        if problems.take(
            tr,
            row,
            [subj, evalid, eval],
            &wanted,
            &mut sdtm.cohort.errors,
        ) {
            continue;
        }
        let Some(subject) = val(row, subj) else {
            sdtm.cohort.errors.push(err(
                "USUBJID",
                "row without USUBJID".into(),
                "every TR row needs the subject it belongs to",
            ));
            continue;
        };
        let reader = reader_of(row, evalid, eval);
        if !wanted(reader) {
            continue;
        }
        seen.note(subject, reader, row.line, false);
        if let Some(st) = val(row, study) {
            if !sdtm.studies.contains_key(subject) {
                sdtm.studies.insert(subject.to_string(), st.to_string());
            }
        }
        if opts.accepted && !val(row, acpt).is_some_and(|s| s.eq_ignore_ascii_case("Y")) {
            continue;
        }
        let code = val(row, testcd).unwrap_or("");
        let Some(test) = Test::of(code) else {
            continue; // other tests (SUMDIAM, ...) are derived or not used
        };
        if let Some(r) = reader {
            if !sdtm.evaluators.contains_key(r) {
                let e = Evaluator {
                    eval: val(row, eval).map(|s| s.to_string()),
                    evalid: val(row, evalid).map(|s| s.to_string()),
                };
                sdtm.evaluators.insert(r.to_string(), e);
            }
        }
        // A subject's rows usually follow each other: the last group is checked first.
        let key_reader = reader.filter(|_| !opts.accepted);
        if !last_group
            .as_ref()
            .is_some_and(|(s, r): &Key| s == subject && r.as_deref() == key_reader)
        {
            let key = group_key(subject, reader);
            groups.entry(key.clone()).or_default();
            last_group = Some(key);
        }
        let Some(group) = last_group.as_ref().and_then(|k| groups.get_mut(k)) else {
            continue;
        };
        let Some(id) = val(row, lnk) else {
            group.errors.push(err(
                "TRLNKID",
                format!("{code} row of subject {subject} without TRLNKID"),
                "each lesion result names its lesion (TRLNKID, as TULNKID in TU)",
            ));
            continue;
        };
        let info = match lesions.get(compose(&mut kbuf, &[subject, reader.unwrap_or(""), id])) {
            Some(i) => Some(i),
            None => lesions.get(compose(&mut kbuf, &[subject, "", id])),
        };
        let Some(info) = info else {
            let by = reader.map(|r| format!(" by {r}")).unwrap_or_default();
            group.errors.push(err(
                "TRLNKID",
                format!("lesion {id} of subject {subject} has no TU row (no TULNKID {id}{by} in {})", tu.file),
                "every lesion with results in TR is identified in TU with the same USUBJID, TULNKID and evaluator",
            ));
            continue;
        };
        let visit_text = val(row, visit).unwrap_or("");
        let dtc_text = val(row, dtc).unwrap_or("");
        let okey = compose(&mut obuf, &[id, visit_text, dtc_text]);
        let oi = match group.index.get(okey) {
            Some(&i) => i,
            None => {
                group.obs.push(Obs {
                    line: row.line,
                    visit: visit_text.to_string(),
                    dtc: dtc_text.to_string(),
                    lesion: id.to_string(),
                    role: info.role,
                    organ: info.organ.clone(),
                    values: [None; 5],
                    state: None,
                    rows: 0,
                    not_done: 0,
                });
                group.index.insert(okey.to_string(), group.obs.len() - 1);
                group.obs.len() - 1
            }
        };
        let obs = &mut group.obs[oi];
        obs.rows += 1;
        if val(row, stat).is_some_and(|s| s.eq_ignore_ascii_case("NOT DONE")) {
            obs.not_done += 1;
            continue;
        }
        let conflict = |what: &str, a: &str, la: usize, b: &str| {
            err(
                "TRTESTCD",
                format!("lesion {id} has two different {what} results at {} {}: {a} (line {la}) and {b} (line {})", obs_visit(row, visit), val(row, dtc).unwrap_or(""), row.line),
                "identical duplicate rows are merged, differing ones must be corrected (or pick one reader with --reader)",
            )
        };
        if test == Test::State {
            let text = val(row, stresc).or(val(row, orres));
            let status = match text {
                None => Status::NotEvaluated,
                Some(t) => match status_of(t) {
                    Some(s) => s,
                    None => {
                        group.errors.push(err(
                            if stresc.is_some() { "TRSTRESC" } else { "TRORRES" },
                            format!("unknown tumour state `{t}` for lesion {id}"),
                            "TUMSTATE results are PRESENT, ABSENT, UNEQUIVOCAL (PROGRESSION), EQUIVOCAL, TOO SMALL TO MEASURE or NOT EVALUABLE",
                        ));
                        continue;
                    }
                },
            };
            let shown = text.unwrap_or("(empty)").to_string();
            let obs = &mut group.obs[oi];
            match &obs.state {
                Some((s, l, t)) if *s != status => {
                    let e = conflict("TUMSTATE", t, *l, &shown);
                    group.errors.push(e);
                }
                Some(_) => {}
                None => obs.state = Some((status, row.line, shown)),
            }
            continue;
        }
        // A measurement: the numeric and character results (see sdtm_result), in the column's
        // unit.
        let cells = sdtm_result::Cells {
            stresn: val(row, stresn),
            stresc: val(row, stresc),
            stresu: val(row, stresu),
            orres: val(row, orres),
            orresu: val(row, orresu),
            has_orresu: orresu.is_some(),
        };
        let (_, col_unit) = test.column().unwrap_or(("", "mm"));
        let v = match sdtm_result::measurement(code, id, &cells, col_unit) {
            Outcome::Value { value, artefact } => {
                if artefact {
                    artefacts.push((row.line, cells.stresn.unwrap_or("").to_string()));
                }
                value
            }
            Outcome::NotMeasured => continue,
            Outcome::Error {
                column,
                message,
                help,
            } => {
                group.errors.push(err(column, message, &help));
                continue;
            }
        };
        let obs = &mut group.obs[oi];
        let slot = &mut obs.values[test.slot()];
        match *slot {
            Some((prev, l)) if prev != v => {
                let e = conflict(code, &prev.to_string(), l, &v.to_string());
                group.errors.push(e);
            }
            Some(_) => {}
            None => *slot = Some((v, row.line)),
        }
    }
    if opts.reader.is_some() && groups.is_empty() {
        let w = opts.reader.as_deref().unwrap_or("");
        return Err(file_error(
            &tr.file,
            None,
            None,
            format!("no rows of reader `{w}`"),
            Some(format!(
                "the readers are: {}",
                all_readers.into_iter().collect::<Vec<_>>().join(", ")
            )),
        ));
    }

    for (subject, st) in tu_studies {
        sdtm.studies
            .entry(subject)
            .or_insert_with(|| st.to_string());
    }

    // Every (subject, reader) of TU and TR is in the cohort: with results, or with an error.
    for (key, first) in &seen.map {
        let covered = groups
            .keys()
            .any(|k| k.0 == key.0 && (k.1 == key.1 || (first.in_tu && key.1.is_none())));
        if covered {
            continue;
        }
        let accepted = if opts.accepted {
            " accepted (TRACPTFL = Y)"
        } else {
            ""
        };
        let e = if first.in_tu {
            file_error(
                &tu.file,
                Some(first.line),
                Some("USUBJID"),
                format!("lesions identified in TU, but no{accepted} lesion results in {}", tr.file),
                Some(format!("TR holds each lesion's results ({RESULT_TESTS}) under the USUBJID, TRLNKID and evaluator of its TU row")),
            )
        } else {
            file_error(
                &tr.file,
                Some(first.line),
                Some("TRTESTCD"),
                format!("rows in TR, but no{accepted} lesion results"),
                Some(format!("the lesion results are {RESULT_TESTS}; other tests (SUMDIAM, ...) are not read")),
            )
        };
        groups.entry(key.clone()).or_default().errors.push(e);
    }
    if !artefacts.is_empty() {
        let (line, text) = &artefacts[0];
        let at = file_error(&tr.file, Some(*line), None, String::new(), None).place();
        sdtm.notes.push(format!(
            "{} more digits than a binary float holds (e.g. `{text}` at {at}) and no character result (TRSTRESC, TRORRES) to take the exact value from: used as written",
            if artefacts.len() == 1 {
                "1 numeric result has".to_string()
            } else {
                format!("{} numeric results have", artefacts.len())
            },
        ));
    }

    // DM: treatment start per subject.
    let mut starts: HashMap<String, (Dtc, usize, String)> = HashMap::new();
    if let Some(dm) = dm {
        dm.require("DM", &[&["USUBJID"]])?;
        let (subj, st, xst) = (dm.col("USUBJID"), dm.col("RFSTDTC"), dm.col("RFXSTDTC"));
        if st.is_none() && xst.is_none() {
            sdtm.notes.push(format!(
                "{} has no RFSTDTC or RFXSTDTC: the treatment start is the baseline date",
                dm.file
            ));
        }
        let mut dm_only: BTreeSet<&str> = BTreeSet::new();
        for row in &dm.rows {
            let err = |col: &str, message: String, help: &str| {
                file_error(
                    &dm.file,
                    Some(row.line),
                    Some(col),
                    message,
                    Some(help.into()),
                )
            };
            if problems.take(
                dm,
                row,
                [subj, None, None],
                &|_| true,
                &mut sdtm.cohort.errors,
            ) {
                continue;
            }
            let Some(subject) = val(row, subj) else {
                sdtm.cohort.errors.push(err(
                    "USUBJID",
                    "row without USUBJID".into(),
                    "every DM row needs the subject it belongs to",
                ));
                continue;
            };
            if !groups.keys().any(|k| k.0 == subject) {
                dm_only.insert(subject);
                continue;
            }
            let (text, col) = match (val(row, st), val(row, xst)) {
                (Some(t), _) => (t, "RFSTDTC"),
                (None, Some(t)) => (t, "RFXSTDTC"),
                _ => continue,
            };
            let Some(d) = Dtc::parse(text) else {
                let e = err(
                    col,
                    format!("treatment start {}", not_a_date(text)),
                    "write YYYY-MM-DD",
                );
                subject_error(&mut groups, subject, &e);
                continue;
            };
            match starts.get(subject) {
                Some((prev, line, pcol)) if *prev != d => {
                    let e = err(
                        col,
                        format!("DM has two rows for subject {subject} with different treatment starts: {pcol} {} (line {line}) and {col} {text} (line {})", show_dtc(*prev), row.line),
                        "a subject has one DM row; keep the right one",
                    );
                    subject_error(&mut groups, subject, &e);
                }
                Some(_) => {}
                None => {
                    starts.insert(subject.to_string(), (d, row.line, col.to_string()));
                }
            }
        }
        if !dm_only.is_empty() {
            let shown: Vec<&str> = dm_only.iter().copied().take(5).collect();
            sdtm.notes.push(format!(
                "{} of {} {} no lesion data in TU or TR and {} not evaluated: {}{}",
                plural(dm_only.len(), "subject"),
                dm.file,
                if dm_only.len() == 1 { "has" } else { "have" },
                if dm_only.len() == 1 { "is" } else { "are" },
                shown.join(", "),
                if dm_only.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                }
            ));
        }
    }

    // A row not read whole comes first among its subject's errors: what follows from it (a
    // lesion missing from TU) is only a consequence.
    for (subject, e) in problems.pending.into_iter().rev() {
        let mut any = false;
        for (_, g) in groups.iter_mut().filter(|(k, _)| k.0 == subject) {
            g.errors.insert(0, e.clone());
            any = true;
        }
        if !any {
            sdtm.cohort.errors.push(e);
        }
    }

    // Dates, and the rows of the lesion table.
    let columns: Vec<(&str, &str, Vec<Test>)> = [
        ("long_axis", "mm"),
        ("short_axis", "mm"),
        ("sul_peak", "SUL"),
        ("suv_max", "SUV"),
    ]
    .into_iter()
    .filter(|(c, _)| used.contains(c))
    .map(|(c, u)| {
        (
            c,
            u,
            MEASURES
                .into_iter()
                .filter(|t| t.column().map(|x| x.0) == Some(c))
                .collect(),
        )
    })
    .collect();
    sdtm.cohort.columns = columns
        .iter()
        .map(|(c, u, _)| Column {
            name: c.to_string(),
            unit: Some(u.to_string()),
        })
        .collect();
    let mut imputed = 0usize;
    for ((subject, reader), mut g) in groups {
        let start = match starts.get(&subject) {
            None => None,
            Some((Dtc::Full(d), _, _)) => Some(*d),
            Some((d, line, col)) => match opts.impute.and_then(|m| d.impute(m)) {
                Some(x) => Some(x),
                None => {
                    let file = dm.map(|t| t.file.as_str()).unwrap_or("");
                    g.errors.push(file_error(
                        file,
                        Some(*line),
                        Some(col),
                        format!("treatment start of {subject} is a partial date"),
                        Some(IMPUTE_HELP.into()),
                    ));
                    None
                }
            },
        };
        // Full dates seen at each visit: a partial date is completed from its own visit first.
        let mut visit_dates: HashMap<&str, BTreeSet<Date>> = HashMap::new();
        for o in &g.obs {
            if let Some(Dtc::Full(d)) = Dtc::parse(&o.dtc) {
                visit_dates.entry(o.visit.as_str()).or_default().insert(d);
            }
        }
        let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
        let mut written: BTreeMap<Date, BTreeSet<String>> = BTreeMap::new();
        let mut raw = RawSubject::new(subject.clone(), reader.clone());
        let mut errors = std::mem::take(&mut g.errors);
        for o in &g.obs {
            let date = match Dtc::parse(&o.dtc) {
                Some(Dtc::Full(d)) => Some((d, false)),
                Some(p) => match opts.impute {
                    Some(m) => {
                        let same_visit: Vec<Date> = visit_dates
                            .get(o.visit.as_str())
                            .map(|s| s.iter().copied().filter(|d| p.contains(*d)).collect())
                            .unwrap_or_default();
                        let d = if same_visit.len() == 1 {
                            Some(same_visit[0])
                        } else {
                            p.impute(m)
                        };
                        d.map(|d| (d, true))
                    }
                    None => {
                        if reported.insert((o.visit.clone(), o.dtc.clone())) {
                            errors.push(file_error(
                                &tr.file,
                                Some(o.line),
                                Some("TRDTC"),
                                format!("partial date `{}` at {}", o.dtc, visit_label(&o.visit)),
                                Some(IMPUTE_HELP.into()),
                            ));
                        }
                        None
                    }
                },
                None => {
                    if reported.insert((o.visit.clone(), o.dtc.clone())) {
                        let message = if o.dtc.is_empty() {
                            format!("no date (TRDTC is empty) at {}", visit_label(&o.visit))
                        } else {
                            not_a_date(&o.dtc)
                        };
                        errors.push(file_error(
                            &tr.file,
                            Some(o.line),
                            Some("TRDTC"),
                            message,
                            Some("TRDTC holds the scan date as YYYY-MM-DD".into()),
                        ));
                    }
                    None
                }
            };
            let Some((date, was_imputed)) = date else {
                continue;
            };
            if was_imputed {
                imputed += 1;
            }
            written.entry(date).or_default().insert(o.dtc.clone());
            let status = match o.state.as_ref() {
                Some((s, _, _)) => Some(*s),
                None if o.rows > 0 && o.not_done == o.rows => Some(Status::NotEvaluated),
                None => None,
            };
            let extra = columns.iter().map(|(_, _, tests)| {
                // LDIAM wins over DIAMETER: the first test of the column with a value.
                tests
                    .iter()
                    .find_map(|t| o.values[t.slot()].map(|(v, _)| v.to_string()))
                    .unwrap_or_default()
            });
            let nodal = o.organ.as_deref().map(|s| s.contains("lymph node"));
            let row = RowFields {
                line: o.line,
                visit: &o.visit,
                date,
                date_imputed: was_imputed,
                lesion: &o.lesion,
                role: o.role,
                organ: o.organ.as_deref(),
                nodal,
                status,
                start_date: start,
            };
            if raw.push_row(row, extra).is_err() {
                errors.push(file_error(
                    &tr.file,
                    Some(o.line),
                    None,
                    "this subject's rows hold more than 4 GiB of text".into(),
                    None,
                ));
            }
        }
        for (date, texts) in written {
            if let [text] = texts.into_iter().collect::<Vec<_>>().as_slice() {
                if !matches!(Dtc::parse(text), Some(Dtc::Full(_))) {
                    sdtm.partial_dates
                        .insert((subject.clone(), reader.clone(), date), text.clone());
                }
            }
        }
        raw.errors = errors;
        sdtm.cohort.subjects.push(raw);
    }
    sdtm.cohort.has_reader =
        !opts.accepted && (tr.col("TREVAL").is_some() || tr.col("TREVALID").is_some());
    if imputed > 0 {
        sdtm.notes.push(format!("{imputed} lesion results had partial dates, completed from their visit or imputed (--impute-dates)"));
    }
    Ok(sdtm)
}

fn visit_label(v: &str) -> &str {
    if v.is_empty() {
        "an unnamed visit"
    } else {
        v
    }
}

fn obs_visit(row: &TableRow, visit: Option<usize>) -> &str {
    val(row, visit).unwrap_or("")
}
