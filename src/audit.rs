//! The SDTM RS domain: computed responses written as RS rows (`crit eval --format sdtm-rs`), and
//! recorded overall responses recomputed and compared (`crit audit`).

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::check::ir::{DefId, Ruleset};
use crate::data::bind::Binding;
use crate::data::model::{format_date, DataError, RawCohort};
use crate::data::sdtm::{Dtc, Recorded, Sdtm};
use crate::eval::{self, Engine, Evaluation};
use crate::explain::text;

/// Named responses of a ruleset and the RS test codes (`RSTESTCD`) they are written as. These
/// are response *names*, not categories; this table is the one place the mapping lives.
pub const RESPONSE_TESTS: &[(&str, &str)] = &[
    ("overall", "OVRLRESP"),
    ("target", "TRGRESP"),
    ("non_target", "NTRGRESP"),
    ("new_lesions", "NEWLIND"),
];

/// The RS test code of the overall timepoint response.
pub fn overall_test() -> &'static str {
    test_code("overall").unwrap_or_default()
}

pub fn test_code(response: &str) -> Option<&'static str> {
    RESPONSE_TESTS
        .iter()
        .find(|(n, _)| *n == response)
        .map(|(_, c)| *c)
}

/// The definition a response name refers to: a named response, or the ruleset's overall
/// response for `overall`.
fn response_def(rs: &Ruleset, name: &str) -> Option<DefId> {
    rs.responses
        .iter()
        .copied()
        .find(|&d| rs.defs[d].name == name)
        .or_else(|| (name == "overall").then_some(rs.overall))
}

/// Columns of `crit eval --format sdtm-rs`.
pub const RS_COLUMNS: &[&str] = &[
    "USUBJID", "RSTESTCD", "RSCAT", "RSORRES", "RSSTRESC", "RSEVAL", "RSEVALID", "VISIT", "RSDTC",
];

/// One subject's timepoint responses as RS rows: one row per post-baseline assessment and named
/// response that has an RS test code. `RSEVAL`/`RSEVALID` repeat the evaluator columns the
/// reader came from (for a plain lesion table, `RSEVAL` is the reader); `RSDTC` is the date as
/// the data wrote it (a partial date stays partial).
pub fn rs_rows(ev: &Evaluation, sdtm: &Sdtm) -> Vec<Vec<String>> {
    let rs = ev.rs();
    let s = ev.subj;
    let (eval, evalid) = match s.reader.as_deref() {
        None => (String::new(), String::new()),
        Some(r) => match sdtm.evaluators.get(r) {
            Some(e) => (
                e.eval.clone().unwrap_or_else(|| r.to_string()),
                e.evalid.clone().unwrap_or_default(),
            ),
            None => (r.to_string(), String::new()),
        },
    };
    let defs: Vec<(&str, DefId)> = RESPONSE_TESTS
        .iter()
        .filter_map(|(name, code)| response_def(rs, name).map(|d| (*code, d)))
        .collect();
    let mut rows = vec![];
    for t in 1..s.assessments.len() {
        let a = &s.assessments[t];
        let dtc = sdtm
            .partial_dates
            .get(&(s.subject.clone(), s.reader.clone(), a.date))
            .cloned()
            .unwrap_or_else(|| format_date(a.date));
        for &(code, d) in &defs {
            let cat = ev
                .category(t, d)
                .map(|c| rs.cat_name(c).to_string())
                .unwrap_or_default();
            rows.push(vec![
                s.subject.clone(),
                code.to_string(),
                rs.title.clone(),
                cat.clone(),
                cat,
                eval.clone(),
                evalid.clone(),
                a.visit.clone(),
                dtc.clone(),
            ]);
        }
    }
    rows
}

/// How `crit audit` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `RSCAT` to compare (default: the ruleset's title); used when RS has an `RSCAT` column.
    pub category: Option<String>,
    /// Only this reader.
    pub reader: Option<String>,
    /// Only recorded rows with `RSACPTFL = Y`, matched to the accepted timeline of each subject.
    pub accepted: bool,
    /// Keep the text explanation of each disputed timepoint.
    pub explain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub subject: String,
    pub reader: Option<String>,
    pub visit: String,
    pub recorded: String,
    /// `None` when no timepoint was computed for it (no matching assessment, a data error, or an
    /// undecided response).
    pub computed: Option<String>,
    /// Line (record) of the RS row.
    pub line: usize,
    /// The timepoint's explanation, or why nothing was computed.
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub compared: usize,
    pub agreed: usize,
    pub disagreed: usize,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub file: String,
    pub category: String,
    pub disagreements: Vec<Disagreement>,
    pub summary: Summary,
    /// Subjects whose data could not be evaluated, as messages.
    pub subject_errors: Vec<String>,
}

/// A subject's computed timepoints, or why there are none.
type Computed = Result<Vec<Tp>, String>;

/// One computed post-baseline timepoint.
struct Tp {
    visit: String,
    date: time::Date,
    overall: Option<String>,
    text: Option<String>,
}

/// Recomputes every recorded overall response (`RSTESTCD = OVRLRESP`) and compares it with the
/// computed one, categories compared without regard to case.
pub fn audit(
    eng: &Engine,
    binding: &Binding,
    cohort: &RawCohort,
    recorded: &Recorded,
    opts: &Options,
) -> Result<Report, DataError> {
    let rs = eng.rs;
    let overall = response_def(rs, "overall").unwrap_or(rs.overall);
    let code = overall_test();
    let category = opts.category.clone().unwrap_or_else(|| rs.title.clone());
    if opts.accepted && !recorded.has_accepted {
        return Err(DataError {
            file: recorded.file.clone(),
            line: Some(1),
            column: Some("RSACPTFL".into()),
            message: "--accepted needs an RSACPTFL column in RS".into(),
            help: None,
        });
    }
    let overall_rows: Vec<_> = recorded.rows.iter().filter(|r| r.test == code).collect();
    let rows: Vec<_> = overall_rows
        .iter()
        .copied()
        .filter(|r| {
            !recorded.has_category
                || r.category
                    .as_deref()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case(category.trim()))
        })
        .filter(|r| {
            opts.reader.as_deref().is_none_or(|w| {
                r.reader
                    .as_deref()
                    .is_some_and(|x| x.trim().eq_ignore_ascii_case(w.trim()))
            })
        })
        .filter(|r| !opts.accepted || r.accepted)
        .filter(|r| r.result.is_some())
        .collect();
    if rows.is_empty() && recorded.has_category && !overall_rows.is_empty() {
        let mut cats: Vec<&str> = overall_rows
            .iter()
            .filter_map(|r| r.category.as_deref())
            .collect();
        cats.sort();
        cats.dedup();
        return Err(DataError {
            file: recorded.file.clone(),
            line: None,
            column: Some("RSCAT".into()),
            message: format!("no {code} row has RSCAT `{category}`"),
            help: Some(format!(
                "RSCAT values here: {}; choose one with --rscat",
                cats.join(", ")
            )),
        });
    }

    // Computed timepoints per (subject, reader).
    let computed = eval::each_subject(eng, binding, cohort, |raw, r| {
        let key = (raw.subject.clone(), raw.reader.clone());
        let value = match r {
            Ok(ev) => Ok((1..ev.subj.assessments.len())
                .map(|t| {
                    let a = &ev.subj.assessments[t];
                    Tp {
                        visit: a.visit.clone(),
                        date: a.date,
                        overall: ev.category(t, overall).map(|c| rs.cat_name(c).to_string()),
                        text: opts.explain.then(|| {
                            text::timepoint(ev, t, &text::Options { verbose: false })
                                .trim_end()
                                .to_string()
                        }),
                    }
                })
                .collect::<Vec<_>>()),
            Err(e) => Err(e.to_string()),
        };
        (key, value)
    });
    let mut report = Report {
        file: recorded.file.clone(),
        category,
        disagreements: vec![],
        summary: Summary::default(),
        subject_errors: vec![],
    };
    for ((s, r), v) in &computed {
        if let Err(e) = v {
            report.subject_errors.push(format!(
                "subject {s}{}: {e}",
                r.as_deref()
                    .map(|r| format!(" (reader {r})"))
                    .unwrap_or_default()
            ));
        }
    }
    let by_key: HashMap<(&str, Option<&str>), &Computed> = computed
        .iter()
        .map(|((s, r), v)| ((s.as_str(), r.as_deref()), v))
        .collect();
    let match_reader = cohort.has_reader && !opts.accepted;
    for row in rows {
        let recorded_cat = row.result.clone().unwrap_or_default();
        let reader_key = if match_reader {
            row.reader.as_deref()
        } else {
            None
        };
        let found = by_key.get(&(row.subject.as_str(), reader_key)).copied();
        let (computed_cat, explanation) = match found {
            None => (
                None,
                Some("no lesion data for this subject and reader".to_string()),
            ),
            Some(Err(e)) => (None, Some(format!("data error: {e}"))),
            Some(Ok(tps)) => {
                let date = row
                    .date
                    .as_deref()
                    .and_then(Dtc::parse)
                    .and_then(|d| match d {
                        Dtc::Full(d) => Some(d),
                        _ => None,
                    });
                let same_visit: Vec<&Tp> = tps
                    .iter()
                    .filter(|tp| {
                        !row.visit.is_empty()
                            && tp.visit.trim().eq_ignore_ascii_case(row.visit.trim())
                    })
                    .collect();
                let tp = match same_visit.as_slice() {
                    [] => date.and_then(|d| tps.iter().find(|tp| tp.date == d)),
                    [one] => Some(*one),
                    many => date
                        .and_then(|d| many.iter().copied().find(|tp| tp.date == d))
                        .or(Some(many[0])),
                };
                match tp {
                    None => (
                        None,
                        Some(format!(
                            "no assessment at {} in the lesion data",
                            if row.visit.is_empty() {
                                row.date.as_deref().unwrap_or("?")
                            } else {
                                &row.visit
                            }
                        )),
                    ),
                    Some(tp) => (tp.overall.clone(), tp.text.clone()),
                }
            }
        };
        report.summary.compared += 1;
        let agree = computed_cat
            .as_deref()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case(recorded_cat.trim()));
        if agree {
            report.summary.agreed += 1;
        } else {
            report.summary.disagreed += 1;
            report.disagreements.push(Disagreement {
                subject: row.subject.clone(),
                reader: row.reader.clone(),
                visit: row.visit.clone(),
                recorded: recorded_cat,
                computed: computed_cat,
                line: row.line,
                explanation: if opts.explain { explanation } else { None },
            });
        }
    }
    Ok(report)
}

fn reader_suffix(r: Option<&str>) -> String {
    r.map(|r| format!(" (reader {r})")).unwrap_or_default()
}

/// The text report: each disagreement with the explanation of its timepoint, then the counts.
pub fn render_text(report: &Report, rs: &Ruleset) -> String {
    let mut out = String::new();
    for d in &report.disagreements {
        let _ = writeln!(
            out,
            "subject {}{} {}: recorded {}, computed {}   [{}:{}]",
            d.subject,
            reader_suffix(d.reader.as_deref()),
            d.visit,
            d.recorded,
            d.computed.as_deref().unwrap_or("none"),
            report.file,
            d.line
        );
        if let Some(e) = &d.explanation {
            for l in e.lines() {
                let _ = writeln!(out, "    {l}");
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "{}", summary_line(report, rs));
    out
}

pub fn summary_line(report: &Report, rs: &Ruleset) -> String {
    let s = report.summary;
    format!(
        "audit of {} ({} `{}`) against {}: compared {}, agreed {}, disagreed {}",
        report.file,
        overall_test(),
        report.category,
        rs.title,
        s.compared,
        s.agreed,
        s.disagreed
    )
}

pub fn render_json(report: &Report) -> Value {
    let d: Vec<Value> = report
        .disagreements
        .iter()
        .map(|d| json!({"subject": d.subject, "reader": d.reader, "visit": d.visit, "recorded": d.recorded, "computed": d.computed}))
        .collect();
    let s = report.summary;
    json!({"disagreements": d, "summary": {"compared": s.compared, "agreed": s.agreed, "disagreed": s.disagreed}})
}

pub const CSV_COLUMNS: &[&str] = &["subject", "reader", "visit", "recorded", "computed"];

pub fn csv_rows(report: &Report) -> Vec<Vec<String>> {
    report
        .disagreements
        .iter()
        .map(|d| {
            vec![
                d.subject.clone(),
                d.reader.clone().unwrap_or_default(),
                d.visit.clone(),
                d.recorded.clone(),
                d.computed.clone().unwrap_or_default(),
            ]
        })
        .collect()
}
