//! The JSON forms of a comparison: the whole report, and `--subject`.

use std::io::Write;

use serde_json::{json, Map, Value};

use super::model::{aligned_visits, response_at, Report, SubjectRow};
use super::stats;
use super::survival_report;
use crate::data::model::format_date;

fn text_map(pairs: &[(String, String)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

fn round6(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1e6).round() / 1e6)
    } else {
        Value::Null
    }
}

pub(crate) fn opt_round(x: Option<f64>) -> Value {
    x.map(round6).unwrap_or(Value::Null)
}

pub(crate) fn ci_json(ci: Option<(f64, f64)>) -> Value {
    ci.map(|(l, h)| json!([round6(l), round6(h)]))
        .unwrap_or(Value::Null)
}

/// Where and why each criterion first parts from the first one: `[{a, b, visit, date,
/// responses: {LABEL: category}, rules: {LABEL: rule}, condition, values: {LABEL: text|null},
/// reads: {LABEL: [line]}, only: {LABEL: [test]}, line}]`; `visit`/`date` are null when only the
/// best responses differ.
fn divergences(r: &Report, s: &SubjectRow) -> Value {
    let list: Vec<Value> = s
        .divergences
        .iter()
        .map(|d| {
            let labels = [&r.criteria[d.a].label, &r.criteria[d.b].label];
            let by = |f: &dyn Fn(usize) -> Value| -> Map<String, Value> {
                (0..2).map(|i| (labels[i].clone(), f(i))).collect()
            };
            let (visit, date) = match &d.at {
                Some((v, dt)) => (Value::String(v.clone()), Value::String(format_date(*dt))),
                None => (Value::Null, Value::Null),
            };
            let (a, b) = (crate::compare::letter(d.a), crate::compare::letter(d.b));
            json!({
                "a": labels[0],
                "b": labels[1],
                "visit": visit,
                "date": date,
                "responses": by(&|i| json!(d.responses[i])),
                "rules": by(&|i| json!(d.rules[i])),
                "condition": d.condition,
                "values": by(&|i| json!(d.values[i])),
                "reads": by(&|i| json!(d.reads[i])),
                "only": by(&|i| json!(d.only[i])),
                "line": d.line([&a, &b]),
            })
        })
        .collect();
    Value::Array(list)
}

/// The JSON form of a report. Stable keys (extend, don't rename):
/// `criteria: [{label, id, name, params}]` (`params`: the label's overrides, `all_params`: every
/// param of the variant), `subjects: [{subject, reader, best: {LABEL: category}, class,
/// first_progression, differs, error}]`, `pairs: [{a, b, n, agreement, kappa, kappa_se,
/// kappa_ci, crosstab: {classes, counts}, responders, mcnemar_p, timepoints: {compared,
/// differ, subjects}}]` (`timepoints`: assessments with a response under both criteria, those
/// whose classes differ, and the subjects with one),
/// `rates: {LABEL: {orr: {value, ci, count, n}, dcr: {…}, reclassified}}`, `excluded`,
/// `file_errors`, `data`, `pfs` and `os` (see [`survival_report`]). Statistics are rounded to 6 decimals; undefined ones are null.
pub fn to_json(r: &Report) -> Value {
    let mut m: Map<String, Value> = members(r)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let subjects = r.subjects.iter().map(|s| subject_value(r, s)).collect();
    m.insert("subjects".into(), Value::Array(subjects));
    Value::Object(m)
}

/// The report as pretty JSON, written as `serde_json::to_string_pretty(&to_json(r))` writes it
/// (members in key order, two spaces per level) but one subject at a time, so that no JSON tree
/// of the whole cohort is built. `extra` members (e.g. `truth`) join the report's.
pub fn write_json(r: &Report, extra: Vec<(&'static str, Value)>) -> String {
    let mut out = vec![];
    // Writing to memory does not fail; serde_json writes UTF-8.
    let _ = write_json_to(r, extra, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`write_json`] to a writer, without the whole text in memory.
pub fn write_json_to(
    r: &Report,
    extra: Vec<(&'static str, Value)>,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let mut members: Vec<(&str, Option<Value>)> = members(r)
        .into_iter()
        .chain(extra)
        .map(|(k, v)| (k, Some(v)))
        .collect();
    members.push(("subjects", None));
    members.sort_by(|a, b| a.0.cmp(b.0));
    let mut buf = vec![];
    w.write_all(b"{\n")?;
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",\n")?;
        }
        write!(w, "  {}: ", Value::String(key.to_string()))?;
        match value {
            Some(v) => indented(w, &mut buf, &v, b"  ")?,
            None if r.subjects.is_empty() => w.write_all(b"[]")?,
            None => {
                w.write_all(b"[\n")?;
                for (j, s) in r.subjects.iter().enumerate() {
                    if j > 0 {
                        w.write_all(b",\n")?;
                    }
                    w.write_all(b"    ")?;
                    indented(w, &mut buf, &subject_value(r, s), b"    ")?;
                }
                w.write_all(b"\n  ]")?;
            }
        }
    }
    w.write_all(b"\n}\n")
}

/// Writes a value pretty-printed with every line after the first indented by `pad` (JSON
/// strings hold no raw line breaks, so every line break is the printer's); `buf` is reused.
fn indented(w: &mut dyn Write, buf: &mut Vec<u8>, v: &Value, pad: &[u8]) -> std::io::Result<()> {
    buf.clear();
    serde_json::to_writer_pretty(&mut *buf, v)?;
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', buf) {
        w.write_all(&buf[start..=i])?;
        w.write_all(pad)?;
        start = i + 1;
    }
    w.write_all(&buf[start..])
}

/// The report's top-level members but its subjects.
fn members(r: &Report) -> Vec<(&'static str, Value)> {
    let criteria: Vec<Value> = r
        .criteria
        .iter()
        .map(|c| {
            json!({
                "label": c.label,
                "id": c.id,
                "name": c.title,
                "params": text_map(&c.params),
                "all_params": text_map(&c.all_params),
            })
        })
        .collect();
    let pairs: Vec<Value> = r
        .pairs
        .iter()
        .map(|p| {
            let [[both, a_only], [b_only, neither]] = p.responders;
            json!({
                "a": r.criteria[p.a].label,
                "b": r.criteria[p.b].label,
                "n": p.n(),
                "agreement": opt_round(p.agreement()),
                "kappa": opt_round(p.kappa.kappa),
                "kappa_se": opt_round(p.kappa.se),
                "kappa_ci": ci_json(p.kappa.ci),
                "crosstab": {"classes": p.classes, "counts": p.table},
                "responders": {
                    "both": both, "a_only": a_only, "b_only": b_only, "neither": neither
                },
                "mcnemar_p": round6(p.mcnemar_p),
                "timepoints": {
                    "compared": p.timepoints.compared,
                    "differ": p.timepoints.differ,
                    "subjects": p.timepoints.subjects
                },
            })
        })
        .collect();
    let rate = |x: &stats::Rate| json!({"value": opt_round(x.value), "ci": ci_json(x.ci), "count": x.count, "n": x.n});
    let rates: Map<String, Value> = r
        .criteria
        .iter()
        .zip(&r.rates)
        .map(|(c, x)| {
            (
                c.label.clone(),
                json!({"orr": rate(&x.orr), "dcr": rate(&x.dcr), "reclassified": x.reclassified}),
            )
        })
        .collect();
    let excluded: Vec<Value> = r
        .excluded()
        .map(|s| json!({"subject": s.subject, "reader": s.reader}))
        .collect();
    vec![
        ("data", json!(r.data)),
        ("criteria", Value::Array(criteria)),
        ("pairs", Value::Array(pairs)),
        ("rates", Value::Object(rates)),
        ("excluded", Value::Array(excluded)),
        ("file_errors", json!(r.file_errors)),
        ("pfs", survival_report::pfs_json(r, &r.pfs)),
        (
            "os",
            json!(r.os.as_ref().map(|os| survival_report::os_json(r, os))),
        ),
    ]
}
/// One subject of the report: `{subject, reader, best, class, first_progression, differs,
/// divergences, error}`.
fn subject_value(r: &Report, s: &SubjectRow) -> Value {
    let mut best = Map::new();
    let mut class = Map::new();
    let mut prog = Map::new();
    let mut errors = Map::new();
    for (c, res) in r.criteria.iter().zip(&s.per) {
        match res {
            Ok(o) => {
                best.insert(
                    c.label.clone(),
                    o.best.clone().map(Value::String).unwrap_or(Value::Null),
                );
                class.insert(c.label.clone(), Value::String(o.best_class.clone()));
                prog.insert(
                    c.label.clone(),
                    o.first_progression
                        .as_ref()
                        .map(|(_, d)| Value::String(format_date(*d)))
                        .unwrap_or(Value::Null),
                );
            }
            Err(m) => {
                best.insert(c.label.clone(), Value::Null);
                class.insert(c.label.clone(), Value::Null);
                prog.insert(c.label.clone(), Value::Null);
                errors.insert(c.label.clone(), Value::String(m.clone()));
            }
        }
    }
    json!({
        "subject": s.subject,
        "reader": s.reader,
        "best": best,
        "class": class,
        "first_progression": prog,
        "differs": s.included() && s.differs(),
        "divergences": divergences(r, s),
        "error": if errors.is_empty() { Value::Null } else { Value::Object(errors) },
    })
}

/// `--subject` as JSON: each subject's visits with the response under every criterion, the
/// best responses and the explanations.
pub fn subject_json(r: &Report) -> Value {
    let text = |x: Option<&str>| {
        x.map(|x| Value::String(x.to_string()))
            .unwrap_or(Value::Null)
    };
    let subject = |s: &SubjectRow| {
        let visits: Vec<Value> = aligned_visits(s)
            .iter()
            .map(|(v, d)| {
                let responses: Map<String, Value> = (0..r.criteria.len())
                    .map(|i| {
                        (
                            r.criteria[i].label.clone(),
                            text(response_at(s, i, *d).flatten()),
                        )
                    })
                    .collect();
                json!({"visit": v, "date": format_date(*d), "responses": responses})
            })
            .collect();
        let mut best = Map::new();
        let mut explanations = Map::new();
        for (c, res) in r.criteria.iter().zip(&s.per) {
            let label = c.label.clone();
            match res {
                Ok(o) => {
                    best.insert(label.clone(), text(o.best.as_deref()));
                    explanations.insert(label, text(o.explanation.as_deref()));
                }
                Err(m) => {
                    best.insert(label.clone(), Value::Null);
                    explanations.insert(label, Value::String(format!("data error: {m}")));
                }
            }
        }
        json!({
            "subject": s.subject,
            "reader": s.reader,
            "visits": visits,
            "best": best,
            "differs": s.included() && s.differs(),
            "divergences": divergences(r, s),
            "explanations": explanations,
        })
    };
    let criteria: Vec<Value> = r
        .criteria
        .iter()
        .map(|c| {
            json!({"label": c.label, "id": c.id, "name": c.title, "params": text_map(&c.params)})
        })
        .collect();
    json!({"criteria": criteria, "subjects": r.subjects.iter().map(subject).collect::<Vec<_>>()})
}
