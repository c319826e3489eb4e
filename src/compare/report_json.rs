//! The JSON forms of a comparison: the whole report, and `--subject`.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

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
    serde_json::to_value(divergence_list(r, s)).unwrap_or(Value::Null)
}

/// A map by criterion label (members in key order, as serde_json's own maps).
type ByLabel<'r, T> = BTreeMap<&'r str, T>;

/// One divergence as JSON (fields in key order, as serde_json's maps print them).
#[derive(Serialize)]
struct DivergenceJson<'r> {
    a: &'r str,
    b: &'r str,
    condition: &'r Option<String>,
    date: Option<String>,
    line: String,
    only: ByLabel<'r, &'r [String]>,
    reads: ByLabel<'r, &'r [String]>,
    responses: ByLabel<'r, &'r str>,
    rules: ByLabel<'r, &'r str>,
    values: ByLabel<'r, &'r Option<String>>,
    visit: Option<&'r str>,
}

fn divergence_list<'r>(r: &'r Report, s: &'r SubjectRow) -> Vec<DivergenceJson<'r>> {
    s.divergences
        .iter()
        .map(|d| {
            let labels = [
                r.criteria[d.a].label.as_str(),
                r.criteria[d.b].label.as_str(),
            ];
            fn by<'r, T>(labels: [&'r str; 2], f: impl Fn(usize) -> T) -> ByLabel<'r, T> {
                (0..2).map(|i| (labels[i], f(i))).collect()
            }
            let (a, b) = (crate::compare::letter(d.a), crate::compare::letter(d.b));
            DivergenceJson {
                a: labels[0],
                b: labels[1],
                condition: &d.condition,
                date: d.at.as_ref().map(|(_, dt)| format_date(*dt)),
                line: d.line([&a, &b]),
                only: by(labels, |i| d.only[i].as_slice()),
                reads: by(labels, |i| d.reads[i].as_slice()),
                responses: by(labels, |i| d.responses[i].as_str()),
                rules: by(labels, |i| d.rules[i].as_str()),
                values: by(labels, |i| &d.values[i]),
                visit: d.at.as_ref().map(|(v, _)| v.as_str()),
            }
        })
        .collect()
}

/// One subject of the report as JSON (fields in key order).
#[derive(Serialize)]
struct SubjectJson<'r> {
    best: ByLabel<'r, Option<&'r str>>,
    class: ByLabel<'r, Option<&'r str>>,
    differs: bool,
    divergences: Vec<DivergenceJson<'r>>,
    error: Option<ByLabel<'r, &'r str>>,
    first_progression: ByLabel<'r, Option<String>>,
    reader: &'r Option<String>,
    subject: &'r str,
}

/// One subject of the report: `{subject, reader, best, class, first_progression, differs,
/// divergences, error}`.
fn subject_json_of<'r>(r: &'r Report, s: &'r SubjectRow) -> SubjectJson<'r> {
    let mut out = SubjectJson {
        best: BTreeMap::new(),
        class: BTreeMap::new(),
        differs: s.included() && s.differs(),
        divergences: divergence_list(r, s),
        error: None,
        first_progression: BTreeMap::new(),
        reader: &s.reader,
        subject: &s.subject,
    };
    let mut errors = BTreeMap::new();
    for (c, res) in r.criteria.iter().zip(&s.per) {
        let label = c.label.as_str();
        match res {
            Ok(o) => {
                out.best.insert(label, o.best.as_deref());
                out.class.insert(label, Some(&*o.best_class));
                let first = o.first_progression.as_ref().map(|(_, d)| format_date(*d));
                out.first_progression.insert(label, first);
            }
            Err(m) => {
                out.best.insert(label, None);
                out.class.insert(label, None);
                out.first_progression.insert(label, None);
                errors.insert(label, m.as_str());
            }
        }
    }
    out.error = (!errors.is_empty()).then_some(errors);
    out
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
    let subjects = r
        .subjects
        .iter()
        .map(|s| serde_json::to_value(subject_json_of(r, s)).unwrap_or(Value::Null))
        .collect();
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
                    indented(w, &mut buf, &subject_json_of(r, s), b"    ")?;
                }
                w.write_all(b"\n  ]")?;
            }
        }
    }
    w.write_all(b"\n}\n")
}

/// Writes a value pretty-printed with every line after the first indented by `pad` (JSON
/// strings hold no raw line breaks, so every line break is the printer's); `buf` is reused.
fn indented(
    w: &mut dyn Write,
    buf: &mut Vec<u8>,
    v: &impl Serialize,
    pad: &[u8],
) -> std::io::Result<()> {
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
