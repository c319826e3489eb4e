//! The JSON and CSV contracts of `crit eval` (see DATA.md). Kept stable: extend, don't rename.

use serde_json::{json, Map, Value};

use super::format;
use crate::check::ir::Ruleset;
use crate::data::model::{format_date, DataError, RawSubject};
use crate::eval::engine::{Engine, Evaluation};

pub fn criteria_json(eng: &Engine) -> Value {
    let rs = eng.rs;
    let params: Map<String, Value> = rs
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                p.name.clone(),
                Value::String(format::param(rs, i, &eng.params[i])),
            )
        })
        .collect();
    json!({"id": rs.id, "name": rs.title, "params": params})
}

pub fn subject_json(ev: &Evaluation) -> Value {
    let rs = ev.rs();
    let timepoints: Vec<Value> = (1..ev.subj.assessments.len())
        .map(|t| {
            let a = &ev.subj.assessments[t];
            let responses: Map<String, Value> = rs
                .responses
                .iter()
                .map(|&d| (rs.defs[d].name.clone(), cat_value(rs, ev.category(t, d))))
                .collect();
            json!({
                "visit": a.visit,
                "date": format_date(a.date),
                "response": cat_value(rs, ev.category(t, rs.overall)),
                "responses": responses,
            })
        })
        .collect();
    // Arithmetic that lost its value (a division by zero, a result out of range), per visit.
    let warnings: Vec<Value> = (0..ev.subj.assessments.len())
        .flat_map(|t| {
            ev.problems(t).into_iter().map(move |p| {
                let visit = &ev.subj.assessments[t].visit;
                Value::String(format!("{visit}: {}", super::text::problem(ev, &p)))
            })
        })
        .collect();
    json!({
        "subject": ev.subj.subject,
        "reader": ev.subj.reader,
        "timepoints": timepoints,
        "best_response": cat_value(rs, ev.best.category),
        "error": Value::Null,
        "warnings": warnings,
    })
}

pub fn error_json(raw: &RawSubject, e: &DataError) -> Value {
    json!({
        "subject": raw.subject,
        "reader": raw.reader,
        "timepoints": [],
        "best_response": Value::Null,
        "error": {"message": e.to_string(), "file": e.file, "line": e.line, "column": e.column},
    })
}

fn cat_value(rs: &Ruleset, c: Option<usize>) -> Value {
    c.map(|c| Value::String(rs.cat_name(c).to_string()))
        .unwrap_or(Value::Null)
}

/// CSV header: subject,reader,visit,date,response, then one column per named response.
pub fn csv_header(rs: &Ruleset) -> Vec<String> {
    let mut h: Vec<String> = ["subject", "reader", "visit", "date", "response"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(rs.responses.iter().map(|&d| rs.defs[d].name.clone()));
    h
}

pub fn csv_rows(ev: &Evaluation) -> Vec<Vec<String>> {
    let rs = ev.rs();
    let name = |c: Option<usize>| c.map(|c| rs.cat_name(c).to_string()).unwrap_or_default();
    (1..ev.subj.assessments.len())
        .map(|t| {
            let a = &ev.subj.assessments[t];
            let mut row = vec![
                ev.subj.subject.clone(),
                ev.subj.reader.clone().unwrap_or_default(),
                a.visit.clone(),
                format_date(a.date),
                name(ev.category(t, rs.overall)),
            ];
            row.extend(rs.responses.iter().map(|&d| name(ev.category(t, d))));
            row
        })
        .collect()
}
