//! The JSON and CSV contracts of `crit eval` (see DATA.md). Kept stable: extend, don't rename.
//! Each subject is written straight from its evaluation, without building a JSON tree or a
//! string per value; keys are in alphabetical order.

use std::collections::BTreeMap;
use std::io::Write;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::format;
use crate::check::ir::{DefId, Ruleset};
use crate::data::model::{DataError, IsoDate, RawSubject};
use crate::eval::engine::{Engine, Evaluation};
use crate::eval::events;

pub fn criteria_json(eng: &Engine) -> Value {
    let rs = eng.rs;
    let params: Map<String, Value> = rs
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                p.name.clone(),
                Value::String(format::param(rs, i, &eng.params()[i])),
            )
        })
        .collect();
    json!({"id": rs.id, "name": rs.title, "params": params})
}

/// A date written as `YYYY-MM-DD` without an intermediate string.
struct Date(time::Date);

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&IsoDate(self.0))
    }
}

#[derive(Serialize)]
struct SubjectView<'a> {
    best_response: Option<&'a str>,
    error: Option<ErrorView<'a>>,
    /// The ruleset's events (progression, …) with their dates or censoring; null for a data
    /// error.
    events: Option<BTreeMap<String, EventView>>,
    reader: Option<&'a str>,
    subject: &'a str,
    timepoints: Timepoints<'a>,
    /// Arithmetic that lost its value (a division by zero, a result out of range), per visit;
    /// absent for a data error.
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<Vec<String>>,
}

#[derive(Serialize)]
struct EventView {
    censored: bool,
    date: Date,
    day: i64,
    reason: String,
    visit: Option<String>,
}

#[derive(Serialize)]
struct ErrorView<'a> {
    column: Option<&'a str>,
    file: &'a str,
    line: Option<usize>,
    message: String,
}

/// The post-baseline timepoints of an evaluation (none for a data error).
struct Timepoints<'a>(Option<&'a Evaluation<'a>>);

#[derive(Serialize)]
struct TimepointView<'a> {
    date: Date,
    response: Option<&'a str>,
    responses: Responses<'a>,
    visit: &'a str,
}

/// Every named response at a timepoint, by name.
struct Responses<'a> {
    ev: &'a Evaluation<'a>,
    t: usize,
}

fn cat(rs: &Ruleset, c: Option<usize>) -> Option<&str> {
    c.map(|c| rs.cat_name(c))
}

/// The named responses in alphabetical order of their names.
fn by_name(rs: &Ruleset) -> Vec<DefId> {
    let mut ds = rs.responses.clone();
    ds.sort_by(|a, b| rs.defs[*a].name.cmp(&rs.defs[*b].name));
    ds
}

impl Serialize for Responses<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rs = self.ev.rs();
        let ds = by_name(rs);
        let mut m = s.serialize_map(Some(ds.len()))?;
        for d in ds {
            m.serialize_entry(&rs.defs[d].name, &cat(rs, self.ev.category(self.t, d)))?;
        }
        m.end()
    }
}

impl Serialize for Timepoints<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(ev) = self.0 else {
            return s.collect_seq(std::iter::empty::<()>());
        };
        let rs = ev.rs();
        s.collect_seq((1..ev.subj.assessments.len()).map(|t| {
            let a = &ev.subj.assessments[t];
            TimepointView {
                date: Date(a.date),
                response: cat(rs, ev.category(t, rs.overall)),
                responses: Responses { ev, t },
                visit: &a.visit,
            }
        }))
    }
}

fn subject_view<'a>(ev: &'a Evaluation<'a>) -> SubjectView<'a> {
    let warnings = (0..ev.subj.assessments.len())
        .flat_map(|t| {
            ev.problems(t).into_iter().map(move |p| {
                let visit = &ev.subj.assessments[t].visit;
                format!("{visit}: {}", super::text::problem(ev, &p))
            })
        })
        .collect();
    SubjectView {
        best_response: cat(ev.rs(), ev.best.category),
        error: None,
        events: Some(events_view(ev)),
        reader: ev.subj.reader.as_deref(),
        subject: &ev.subj.subject,
        timepoints: Timepoints(Some(ev)),
        warnings: Some(warnings),
    }
}

fn error_view<'a>(raw: &'a RawSubject, e: &'a DataError) -> SubjectView<'a> {
    SubjectView {
        best_response: None,
        error: Some(ErrorView {
            column: e.column.as_deref(),
            file: &e.file,
            line: e.line,
            message: e.to_string(),
        }),
        events: None,
        reader: raw.reader.as_deref(),
        subject: &raw.subject,
        timepoints: Timepoints(None),
        warnings: None,
    }
}

pub fn subject_json(ev: &Evaluation) -> Value {
    serde_json::to_value(subject_view(ev)).unwrap_or(Value::Null)
}

/// `{"progression": {"censored", "date", "day", "reason", "visit"}, …}` (DATA.md).
fn events_view(ev: &Evaluation) -> BTreeMap<String, EventView> {
    events::events(ev, None)
        .into_iter()
        .map(|e| {
            (
                e.name,
                EventView {
                    censored: e.censored,
                    date: Date(e.date),
                    day: e.day,
                    reason: e.reason,
                    visit: e.visit,
                },
            )
        })
        .collect()
}

pub fn error_json(raw: &RawSubject, e: &DataError) -> Value {
    serde_json::to_value(error_view(raw, e)).unwrap_or(Value::Null)
}

/// Indents every line after the first by `pad` spaces (JSON strings hold no raw line ends).
struct Indent<'w> {
    out: &'w mut Vec<u8>,
    pad: &'static [u8],
}

impl Write for Indent<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for part in buf.split_inclusive(|&b| b == b'\n') {
            self.out.extend_from_slice(part);
            if part.last() == Some(&b'\n') {
                self.out.extend_from_slice(self.pad);
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_pretty(out: &mut Vec<u8>, v: &impl Serialize) {
    out.extend_from_slice(b"    ");
    let _ = serde_json::to_writer_pretty(Indent { out, pad: b"    " }, v);
}

/// One subject of the `--format json` document, indented as an element of `subjects`.
pub fn write_subject_json(out: &mut Vec<u8>, ev: &Evaluation) {
    write_pretty(out, &subject_view(ev));
}

/// A subject whose data is invalid, as an element of `subjects`.
pub fn write_error_json(out: &mut Vec<u8>, raw: &RawSubject, e: &DataError) {
    write_pretty(out, &error_view(raw, e));
}

/// CSV header: subject,reader,visit,date,response, then one column per named response, then
/// `best_response` (the subject's, on each of its rows) and `error` (a data error's message).
pub fn csv_header(rs: &Ruleset) -> Vec<String> {
    let mut h: Vec<String> = ["subject", "reader", "visit", "date", "response"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(rs.responses.iter().map(|&d| rs.defs[d].name.clone()));
    h.extend(["best_response".to_string(), "error".to_string()]);
    h
}

/// A CSV writer for one subject's rows, appending to `out`.
pub fn csv_writer(out: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .buffer_capacity(1024)
        .from_writer(out)
}

/// One subject's rows of `--format csv`: one per timepoint; a subject without follow-up gets
/// one row without a visit, so that no subject is missing.
pub fn write_csv_rows(out: &mut Vec<u8>, ev: &Evaluation) {
    let rs = ev.rs();
    let mut w = csv_writer(out);
    let name = |c: Option<usize>| cat(rs, c).unwrap_or("");
    let best = name(ev.best.category);
    let mut date = String::new();
    for t in 1..ev.subj.assessments.len() {
        let a = &ev.subj.assessments[t];
        date.clear();
        let _ = std::fmt::write(&mut date, format_args!("{}", IsoDate(a.date)));
        let _ = w.write_field(&ev.subj.subject);
        let _ = w.write_field(ev.subj.reader.as_deref().unwrap_or(""));
        let _ = w.write_field(&a.visit);
        let _ = w.write_field(&date);
        let _ = w.write_field(name(ev.category(t, rs.overall)));
        for &d in &rs.responses {
            let _ = w.write_field(name(ev.category(t, d)));
        }
        let _ = w.write_field(best);
        let _ = w.write_field("");
        let _ = w.write_record(None::<&[u8]>);
    }
    if ev.subj.assessments.len() < 2 {
        let mut row = vec![
            ev.subj.subject.as_str(),
            ev.subj.reader.as_deref().unwrap_or(""),
        ];
        row.extend(std::iter::repeat_n("", 3 + rs.responses.len()));
        row.extend([best, ""]);
        let _ = w.write_record(&row);
    }
    let _ = w.flush();
}

/// A subject whose data is invalid, as one `--format csv` row: only subject, reader and the
/// error's message (on one line).
pub fn write_csv_error(out: &mut Vec<u8>, rs: &Ruleset, raw: &RawSubject, e: &DataError) {
    let mut w = csv_writer(out);
    // Where and what, without the help line.
    let message = DataError {
        help: None,
        ..e.clone()
    }
    .to_string()
    .split_whitespace()
    .collect::<Vec<_>>()
    .join(" ");
    let mut row = vec![raw.subject.as_str(), raw.reader.as_deref().unwrap_or("")];
    row.extend(std::iter::repeat_n("", 4 + rs.responses.len()));
    row.push(&message);
    let _ = w.write_record(&row);
    let _ = w.flush();
}

pub fn csv_rows(ev: &Evaluation) -> Vec<Vec<String>> {
    let mut buf = vec![];
    write_csv_rows(&mut buf, ev);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(buf.as_slice());
    r.records()
        .filter_map(|x| x.ok())
        .map(|x| x.iter().map(str::to_string).collect())
        .collect()
}

/// One line of `--format summary`: the subject (and reader), its best response, its first
/// progression (visit and date), then each timepoint's response:
/// `P04 (CENTRAL): best SD; progression WEEK 12 2024-05-27; WEEK 6 SD, WEEK 12 PD, WEEK 18 PD`.
pub fn summary_line(ev: &Evaluation, progression: Option<(String, time::Date)>) -> String {
    let rs = ev.rs();
    let name = |c: Option<usize>| cat(rs, c).unwrap_or("none");
    let reader = ev
        .subj
        .reader
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let progression = match progression {
        Some((visit, date)) => format!("progression {visit} {}", IsoDate(date)),
        None => "no progression".into(),
    };
    let timepoints: Vec<String> = (1..ev.subj.assessments.len())
        .map(|t| {
            format!(
                "{} {}",
                ev.subj.assessments[t].visit,
                name(ev.category(t, rs.overall))
            )
        })
        .collect();
    let timepoints = if timepoints.is_empty() {
        "no follow-up assessment".to_string()
    } else {
        timepoints.join(", ")
    };
    format!(
        "{}{reader}: best {}; {progression}; {timepoints}\n",
        ev.subj.subject,
        name(ev.best.category)
    )
}

/// A subject whose data is invalid, as a line of `--format summary`.
pub fn summary_error(raw: &RawSubject, e: &DataError) -> String {
    let reader = raw
        .reader
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let message = DataError {
        help: None,
        ..e.clone()
    }
    .to_string();
    format!("{}{reader}: data error: {}\n", raw.subject, message.trim())
}

/// Columns of `--format events`: one row per subject, reader and event, shaped like an ADaM
/// ADTTE dataset (AVAL in days, ADT − STARTDT + 1; CNSR 1 = censored).
pub const EVENT_COLUMNS: &[&str] = &[
    "USUBJID", "READER", "PARAMCD", "PARAM", "STARTDT", "ADT", "AVAL", "CNSR", "EVNTDESC",
    "CNSDTDSC", "CRITERIA",
];

/// ADaM PARAMCD of an event: `PFS` for progression, else its name in capitals (8 characters).
pub fn paramcd(name: &str) -> String {
    if name == events::PROGRESSION {
        return "PFS".to_string();
    }
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .take(8)
        .collect()
}

/// One subject's rows of `--format events`: one per event.
pub fn write_event_rows(out: &mut Vec<u8>, ev: &Evaluation) {
    let rs = ev.rs();
    let mut w = csv_writer(out);
    let start = IsoDate(ev.subj.start).to_string();
    for e in events::events(ev, None) {
        let param = if e.name == events::PROGRESSION {
            "Progression-free survival"
        } else {
            &e.name
        };
        let (evntdesc, cnsdtdsc) = if e.censored {
            ("", e.reason.as_str())
        } else {
            (e.reason.as_str(), "")
        };
        let _ = w.write_record([
            ev.subj.subject.as_str(),
            ev.subj.reader.as_deref().unwrap_or(""),
            &paramcd(&e.name),
            param,
            &start,
            &IsoDate(e.date).to_string(),
            &e.day.to_string(),
            if e.censored { "1" } else { "0" },
            evntdesc,
            cnsdtdsc,
            &rs.id,
        ]);
    }
    let _ = w.flush();
}
