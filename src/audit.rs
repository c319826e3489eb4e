//! `crit audit`: the overall responses recorded in SDTM RS, recomputed and compared.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::check::ir::Ruleset;
use crate::data::bind::Binding;
use crate::data::model::{DataError, RawCohort};
use crate::data::sdtm::{Dtc, Recorded};
use crate::eval::{self, Engine};
use crate::explain::text;
use crate::rs_domain::{overall_test, response_def};

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
    pub computed: String,
    /// Line (record) of the RS row.
    pub line: usize,
    /// The timepoint's explanation (when asked for).
    pub explanation: Option<String>,
}

/// A recorded response for which nothing was computed: no lesion data for the subject, a data
/// error (e.g. a partial date without `--impute-dates`), no assessment at that visit, or an
/// undecided response. It is neither an agreement nor a disagreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotComputed {
    pub subject: String,
    pub reader: Option<String>,
    pub visit: String,
    pub recorded: String,
    /// Line (record) of the RS row.
    pub line: usize,
    pub reason: String,
}

/// `compared` counts every recorded response looked at: agreed + disagreed + not_computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub compared: usize,
    pub agreed: usize,
    pub disagreed: usize,
    pub not_computed: usize,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub file: String,
    pub category: String,
    pub disagreements: Vec<Disagreement>,
    pub not_computed: Vec<NotComputed>,
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
        not_computed: vec![],
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
            Some(Err(e)) => (None, Some(format!("data error: {}", first_line(e)))),
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
                    Some(tp) => match &tp.overall {
                        Some(c) => (Some(c.clone()), tp.text.clone()),
                        None => (None, Some("the overall response is undecided".into())),
                    },
                }
            }
        };
        report.summary.compared += 1;
        match computed_cat {
            None => {
                report.summary.not_computed += 1;
                report.not_computed.push(NotComputed {
                    subject: row.subject.clone(),
                    reader: row.reader.clone(),
                    visit: row.visit.clone(),
                    recorded: recorded_cat,
                    line: row.line,
                    reason: explanation.unwrap_or_default(),
                });
            }
            Some(c) if c.trim().eq_ignore_ascii_case(recorded_cat.trim()) => {
                report.summary.agreed += 1;
            }
            Some(c) => {
                report.summary.disagreed += 1;
                report.disagreements.push(Disagreement {
                    subject: row.subject.clone(),
                    reader: row.reader.clone(),
                    visit: row.visit.clone(),
                    recorded: recorded_cat,
                    computed: c,
                    line: row.line,
                    explanation: if opts.explain { explanation } else { None },
                });
            }
        }
    }
    Ok(report)
}

/// The first line of an error (its message; the help follows on later lines).
fn first_line(e: &str) -> &str {
    e.lines().next().unwrap_or("")
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
            d.computed,
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
    if !report.not_computed.is_empty() {
        let _ = writeln!(out, "not computed:");
        for n in &report.not_computed {
            let _ = writeln!(
                out,
                "  subject {}{} {}: recorded {}; {}   [{}:{}]",
                n.subject,
                reader_suffix(n.reader.as_deref()),
                n.visit,
                n.recorded,
                n.reason,
                report.file,
                n.line
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "{}", summary_line(report, rs));
    out
}

pub fn summary_line(report: &Report, rs: &Ruleset) -> String {
    let s = report.summary;
    format!(
        "audit of {} ({} `{}`) against {}: compared {}, agreed {}, disagreed {}, not computed {}",
        report.file,
        overall_test(),
        report.category,
        rs.title,
        s.compared,
        s.agreed,
        s.disagreed,
        s.not_computed
    )
}

pub fn render_json(report: &Report) -> Value {
    let d: Vec<Value> = report
        .disagreements
        .iter()
        .map(|d| json!({"subject": d.subject, "reader": d.reader, "visit": d.visit, "recorded": d.recorded, "computed": d.computed}))
        .collect();
    let n: Vec<Value> = report
        .not_computed
        .iter()
        .map(|n| json!({"subject": n.subject, "reader": n.reader, "visit": n.visit, "recorded": n.recorded, "reason": n.reason}))
        .collect();
    let s = report.summary;
    json!({"disagreements": d, "not_computed": n, "summary": {"compared": s.compared, "agreed": s.agreed, "disagreed": s.disagreed, "not_computed": s.not_computed}})
}

/// CSV rows: the disagreements, then the recorded responses not computed (`computed` empty).
pub const CSV_COLUMNS: &[&str] = &[
    "subject", "reader", "visit", "recorded", "computed", "status", "reason",
];

pub fn csv_rows(report: &Report) -> Vec<Vec<String>> {
    let disagreed = report.disagreements.iter().map(|d| {
        vec![
            d.subject.clone(),
            d.reader.clone().unwrap_or_default(),
            d.visit.clone(),
            d.recorded.clone(),
            d.computed.clone(),
            "disagreed".into(),
            String::new(),
        ]
    });
    let not_computed = report.not_computed.iter().map(|n| {
        vec![
            n.subject.clone(),
            n.reader.clone().unwrap_or_default(),
            n.visit.clone(),
            n.recorded.clone(),
            String::new(),
            "not computed".into(),
            n.reason.clone(),
        ]
    });
    disagreed.chain(not_computed).collect()
}
