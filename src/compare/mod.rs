//! `crit compare`: several criteria (or parameter variants of one) on one cohort.
//!
//! Each criterion is evaluated on every subject; results are compared by the *class* of each
//! category (`complete`, `partial`, `stable`, `progressive`, `not-evaluable`, or a custom class
//! such as `dissociated`), so criteria with different vocabularies can be compared. A category
//! without a class compares by its own name.
//!
//! The comparison is computed once into a [`Report`] (owned data, no borrows of the rulesets),
//! which the renderers turn into text, JSON, CSV or a self-contained HTML page.

pub mod charts;
pub mod report_html;
pub mod report_text;
pub mod stats;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use time::Date;

use crate::check::{self, ir};
use crate::data::model::{format_date, RawCohort};
use crate::data::{bind, table};
use crate::diag::{self, Diag};
use crate::eval::value::Val;
use crate::eval::{self, Engine, Evaluation};
use crate::explain::{output, text};
use crate::progress::Progress;

/// The class of a complete response (counts for ORR and DCR).
pub const COMPLETE: &str = "complete";
/// The class of a partial response (counts for ORR and DCR).
pub const PARTIAL: &str = "partial";
/// The class of stable disease (counts for DCR).
pub const STABLE: &str = "stable";
/// The class of progression (gives the first date of progression).
pub const PROGRESSIVE: &str = "progressive";
pub const NOT_EVALUABLE: &str = "not-evaluable";
/// The pseudo-class of a subject without a best response (no follow-up assessment).
pub const NO_RESPONSE: &str = "(none)";
/// The name of the value whose percent change from baseline the charts show, when a ruleset
/// defines a number by that name.
pub const SUM_VALUE: &str = "sum";

/// The usual order of the standard classes; custom classes follow in declaration order.
const CLASS_ORDER: [&str; 5] = [COMPLETE, PARTIAL, STABLE, PROGRESSIVE, NOT_EVALUABLE];

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Csv,
    Html,
}

/// Arguments of `crit compare`.
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Lesion table (CSV, or JSON of the same model); not needed with --sdtm.
    #[arg(required_unless_present = "sdtm")]
    pub data: Option<String>,
    #[command(flatten)]
    pub sdtm: crate::cli::SdtmArgs,
    /// A ruleset (shipped id or .crit file), optionally with param overrides, e.g.
    /// 'recist-1.1[pd_increase=25%,sd_min_interval=56 days]'. Repeat for each criterion (at
    /// least two); the whole string is the criterion's label.
    #[arg(long, short, required = true, value_name = "CRITERIA")]
    pub criteria: Vec<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Show one subject's responses side by side, visit by visit, with each explanation.
    #[arg(long)]
    pub subject: Option<String>,
    /// With --subject: only this reader.
    #[arg(long, requires = "subject")]
    pub reader: Option<String>,
}

/// A criterion as given on the command line: `id` or `id[name=value,...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The whole string as given.
    pub label: String,
    /// Shipped id or path of the ruleset.
    pub id: String,
    /// Param overrides, each `name=value` as written.
    pub overrides: Vec<String>,
}

/// Parses `recist-1.1[pd_increase=25%,pd_min_increase=0mm]`.
pub fn parse_spec(s: &str) -> Result<Spec, String> {
    let label = s.trim().to_string();
    if label.is_empty() {
        return Err("empty criterion".into());
    }
    let Some(open) = label.find('[') else {
        if label.contains(']') {
            return Err(format!("`{label}`: `]` without `[`"));
        }
        return Ok(Spec {
            id: label.clone(),
            label,
            overrides: vec![],
        });
    };
    let Some(inner) = label[open + 1..].strip_suffix(']') else {
        return Err(format!(
            "`{label}`: the overrides must end with `]`, e.g. ID[pd_increase=25%]"
        ));
    };
    let id = label[..open].trim().to_string();
    if id.is_empty() {
        return Err(format!("`{label}`: the ruleset is missing before `[`"));
    }
    let mut overrides = vec![];
    for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !part.contains('=') {
            return Err(format!("`{label}`: `{part}` is not NAME=VALUE"));
        }
        overrides.push(part.to_string());
    }
    Ok(Spec {
        label: label.clone(),
        id,
        overrides,
    })
}

/// One criterion of the report.
#[derive(Debug, Clone)]
pub struct CriterionInfo {
    pub label: String,
    pub id: String,
    pub title: String,
    /// The overrides of the label, as (name, value) with the value in the ruleset's units.
    pub params: Vec<(String, String)>,
    /// Every param with its value in this variant.
    pub all_params: Vec<(String, String)>,
    /// Whether the ruleset defines a number named [`SUM_VALUE`] (percent changes are known).
    pub has_sum: bool,
    /// Category name → class, for every category of the ruleset (for legends).
    pub classes: Vec<(String, String)>,
}

/// One follow-up assessment of a subject under one criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Timepoint {
    pub visit: String,
    pub date: Date,
    /// Days since the baseline assessment.
    pub days: i64,
    /// The overall timepoint response, if any.
    pub category: Option<String>,
    pub class: String,
    /// Percent change of the sum from baseline, when known.
    pub change: Option<f64>,
}

/// What one criterion says about one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub best: Option<String>,
    pub best_class: String,
    pub baseline_visit: String,
    pub baseline_date: Date,
    pub timepoints: Vec<Timepoint>,
    /// First timepoint whose overall response has the progressive class.
    pub first_progression: Option<(String, Date)>,
    /// Most negative percent change of the sum from baseline over the follow-up assessments.
    pub best_change: Option<f64>,
    /// The full explanation (only computed for `--subject`).
    pub explanation: Option<String>,
}

/// One subject (and reader), under every criterion: an outcome or a data error message.
#[derive(Debug, Clone)]
pub struct SubjectRow {
    pub subject: String,
    pub reader: Option<String>,
    pub per: Vec<Result<Outcome, String>>,
}

impl SubjectRow {
    /// Evaluated without data error under every criterion: counts in the statistics.
    pub fn included(&self) -> bool {
        self.per.iter().all(|r| r.is_ok())
    }

    pub fn outcome(&self, i: usize) -> Option<&Outcome> {
        self.per.get(i).and_then(|r| r.as_ref().ok())
    }

    /// Whether the best-response classes are not all the same.
    pub fn differs(&self) -> bool {
        let mut classes = self
            .per
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|o| &o.best_class);
        match classes.next() {
            Some(first) => classes.any(|c| c != first),
            None => false,
        }
    }

    pub fn name(&self) -> String {
        match &self.reader {
            Some(r) => format!("{} ({r})", self.subject),
            None => self.subject.clone(),
        }
    }
}

/// Agreement between two criteria (indices into the report's criteria).
#[derive(Debug, Clone)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    /// Classes of the cross-tabulation, rows (A) and columns (B) alike.
    pub classes: Vec<String>,
    pub table: Vec<Vec<u64>>,
    pub kappa: stats::Kappa,
    /// Responders (complete or partial) under A and B: [[both, A only], [B only, neither]].
    pub responders: [[u64; 2]; 2],
    pub mcnemar_p: f64,
}

impl Pair {
    pub fn n(&self) -> u64 {
        self.kappa.n
    }
    pub fn agreement(&self) -> Option<f64> {
        (self.kappa.n > 0).then_some(self.kappa.po)
    }
}

/// Response rates of one criterion over the included subjects.
#[derive(Debug, Clone)]
pub struct Rates {
    /// Objective response rate: complete + partial.
    pub orr: stats::Rate,
    /// Disease control rate: complete + partial + stable. Custom classes (e.g. a
    /// `dissociated` response) do not count: a ruleset that wants them counted gives those
    /// categories the `stable` class.
    pub dcr: stats::Rate,
    /// Subjects whose best-response class differs from the first criterion's (`None` for the
    /// first criterion).
    pub reclassified: Option<u64>,
}

/// The whole comparison.
#[derive(Debug, Clone)]
pub struct Report {
    pub data: String,
    pub criteria: Vec<CriterionInfo>,
    pub subjects: Vec<SubjectRow>,
    /// Every class that occurs, in display order.
    pub classes: Vec<String>,
    pub pairs: Vec<Pair>,
    pub rates: Vec<Rates>,
    /// Problems with the data file that belong to no subject.
    pub file_errors: Vec<String>,
    /// Whether the subjects have more than one reader (charts then name the reader too).
    pub several_readers: bool,
}

impl Report {
    pub fn included(&self) -> impl Iterator<Item = &SubjectRow> {
        self.subjects.iter().filter(|s| s.included())
    }
    pub fn excluded(&self) -> impl Iterator<Item = &SubjectRow> {
        self.subjects.iter().filter(|s| !s.included())
    }
    /// A subject's name in charts: with the reader only when there are several readers.
    pub fn short_name(&self, s: &SubjectRow) -> String {
        if self.several_readers {
            s.name()
        } else {
            s.subject.clone()
        }
    }
}

/// A short name for the i-th criterion in tables: A, B, …, Z, AA, AB, …
pub fn letter(i: usize) -> String {
    let mut s = String::new();
    let mut n = i + 1;
    while n > 0 {
        let r = (n - 1) % 26;
        s.insert(0, (b'A' + r as u8) as char);
        n = (n - 1) / 26;
    }
    s
}

fn class_of(rs: &ir::Ruleset, c: Option<ir::CatId>) -> String {
    match c {
        Some(c) => rs
            .categories
            .get(c)
            .and_then(|k| k.class.clone())
            .unwrap_or_else(|| rs.cat_name(c).to_string()),
        None => NO_RESPONSE.to_string(),
    }
}

/// Whether a class counts as a response (ORR).
pub fn is_responder(class: &str) -> bool {
    class == COMPLETE || class == PARTIAL
}

/// Whether a class counts as disease control (DCR).
pub fn is_controlled(class: &str) -> bool {
    is_responder(class) || class == STABLE
}

/// The definition named [`SUM_VALUE`], if it is an assessment-level number.
fn sum_def(rs: &ir::Ruleset) -> Option<ir::DefId> {
    rs.defs.iter().position(|d| {
        d.name == SUM_VALUE
            && matches!(d.ty, ir::Ty::Num { .. })
            && d.level == ir::DefLevel::Assessment
    })
}

fn exact(v: &Val) -> Option<Decimal> {
    match v {
        Val::Num(iv) => iv.value(),
        _ => None,
    }
}

/// Percent change of `v` from `base`, when both are known and the base is not zero.
fn percent_change(base: Option<Decimal>, v: Option<Decimal>) -> Option<f64> {
    let (b, v) = (base?, v?);
    if b.is_zero() {
        return None;
    }
    ((v - b) / b * Decimal::ONE_HUNDRED).to_f64()
}

/// Extracts what the comparison needs from one evaluation.
pub fn outcome(ev: &Evaluation, explain: bool) -> Outcome {
    let rs = ev.rs();
    let s = ev.subj;
    let sum = sum_def(rs);
    let base = sum.and_then(|d| exact(ev.value(0, d)));
    let timepoints: Vec<Timepoint> = (1..s.assessments.len())
        .map(|t| {
            let a = &s.assessments[t];
            let c = ev.category(t, rs.overall);
            Timepoint {
                visit: a.visit.clone(),
                date: a.date,
                days: ev.days_between(0, t),
                category: c.map(|c| rs.cat_name(c).to_string()),
                class: class_of(rs, c),
                change: sum.and_then(|d| percent_change(base, exact(ev.value(t, d)))),
            }
        })
        .collect();
    let first_progression = timepoints
        .iter()
        .find(|t| t.class == PROGRESSIVE)
        .map(|t| (t.visit.clone(), t.date));
    let best_change = timepoints.iter().filter_map(|t| t.change).reduce(f64::min);
    Outcome {
        best: ev.best.category.map(|c| rs.cat_name(c).to_string()),
        best_class: class_of(rs, ev.best.category),
        baseline_visit: s
            .assessments
            .first()
            .map(|a| a.visit.clone())
            .unwrap_or_default(),
        baseline_date: s.assessments.first().map(|a| a.date).unwrap_or(Date::MIN),
        timepoints,
        first_progression,
        best_change,
        explanation: explain.then(|| text::subject(ev, &text::Options { verbose: false })),
    }
}

/// Orders classes: the standard ones first, then custom ones in the order given, then
/// [`NO_RESPONSE`].
fn order_classes<'a>(seen: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut custom: Vec<String> = vec![];
    let mut present: Vec<&str> = vec![];
    for c in seen {
        if !present.contains(&c) {
            present.push(c);
        }
    }
    let mut out: Vec<String> = CLASS_ORDER
        .iter()
        .filter(|c| present.contains(c))
        .map(|c| c.to_string())
        .collect();
    for c in &present {
        if !CLASS_ORDER.contains(c) && *c != NO_RESPONSE && !custom.iter().any(|x| x == c) {
            custom.push(c.to_string());
        }
    }
    out.extend(custom);
    if present.contains(&NO_RESPONSE) {
        out.push(NO_RESPONSE.to_string());
    }
    out
}

/// Computes the statistics of a report from its criteria and subjects.
pub fn summarize(
    data: String,
    criteria: Vec<CriterionInfo>,
    subjects: Vec<SubjectRow>,
    file_errors: Vec<String>,
) -> Report {
    let k = criteria.len();
    let included: Vec<&SubjectRow> = subjects.iter().filter(|s| s.included()).collect();
    let best = |s: &SubjectRow, i: usize| {
        s.outcome(i)
            .map(|o| o.best_class.clone())
            .unwrap_or_else(|| NO_RESPONSE.to_string())
    };

    // Every class that occurs (best or timepoint), plus each ruleset's declared classes in
    // declaration order so custom classes keep a stable place.
    let mut seen: Vec<String> = vec![];
    for s in &subjects {
        for o in s.per.iter().filter_map(|r| r.as_ref().ok()) {
            seen.push(o.best_class.clone());
            seen.extend(o.timepoints.iter().map(|t| t.class.clone()));
        }
    }
    let classes = order_classes(seen.iter().map(|s| s.as_str()));

    let mut pairs = vec![];
    for a in 0..k {
        for b in a + 1..k {
            let used = order_classes(
                included
                    .iter()
                    .flat_map(|s| [best(s, a), best(s, b)])
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|s| s.as_str()),
            );
            let idx = |c: &str| used.iter().position(|u| u == c).unwrap_or(0);
            let mut table = vec![vec![0u64; used.len()]; used.len()];
            let mut responders = [[0u64; 2]; 2];
            for s in &included {
                let (ca, cb) = (best(s, a), best(s, b));
                table[idx(&ca)][idx(&cb)] += 1;
                responders[usize::from(!is_responder(&ca))][usize::from(!is_responder(&cb))] += 1;
            }
            let kappa = stats::cohen_kappa(&table);
            let mcnemar_p = stats::mcnemar_exact(responders[0][1], responders[1][0]);
            pairs.push(Pair {
                a,
                b,
                classes: used,
                table,
                kappa,
                responders,
                mcnemar_p,
            });
        }
    }

    let n = included.len() as u64;
    let rates = (0..k)
        .map(|i| {
            let count =
                |f: fn(&str) -> bool| included.iter().filter(|s| f(&best(s, i))).count() as u64;
            Rates {
                orr: stats::rate(count(is_responder), n),
                dcr: stats::rate(count(is_controlled), n),
                reclassified: (i > 0)
                    .then(|| included.iter().filter(|s| best(s, i) != best(s, 0)).count() as u64),
            }
        })
        .collect();
    let several_readers = subjects
        .iter()
        .any(|s| s.reader.is_some() && s.reader != subjects[0].reader);
    Report {
        data,
        criteria,
        subjects,
        classes,
        pairs,
        rates,
        file_errors,
        several_readers,
    }
}

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

fn opt_round(x: Option<f64>) -> Value {
    x.map(round6).unwrap_or(Value::Null)
}

fn ci_json(ci: Option<(f64, f64)>) -> Value {
    ci.map(|(l, h)| json!([round6(l), round6(h)]))
        .unwrap_or(Value::Null)
}

/// The JSON form of a report. Stable keys (extend, don't rename):
/// `criteria: [{label, id, name, params}]` (`params`: the label's overrides, `all_params`: every
/// param of the variant), `subjects: [{subject, reader, best: {LABEL: category}, class,
/// first_progression, differs, error}]`, `pairs: [{a, b, n, agreement, kappa, kappa_se,
/// kappa_ci, crosstab: {classes, counts}, responders, mcnemar_p}]`,
/// `rates: {LABEL: {orr: {value, ci, count, n}, dcr: {…}, reclassified}}`, `excluded`,
/// `file_errors`, `data`. Statistics are rounded to 6 decimals; undefined ones are null.
pub fn to_json(r: &Report) -> Value {
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
    let subjects: Vec<Value> = r
        .subjects
        .iter()
        .map(|s| {
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
                "error": if errors.is_empty() { Value::Null } else { Value::Object(errors) },
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
    json!({
        "data": r.data,
        "criteria": criteria,
        "subjects": subjects,
        "pairs": pairs,
        "rates": rates,
        "excluded": excluded,
        "file_errors": r.file_errors,
    })
}

/// CSV: one row per subject: subject, reader, best response per label, first progression date
/// per label, differs.
pub fn to_csv(r: &Report) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut header = vec!["subject".to_string(), "reader".to_string()];
    header.extend(r.criteria.iter().map(|c| format!("best:{}", c.label)));
    header.extend(
        r.criteria
            .iter()
            .map(|c| format!("first_progression:{}", c.label)),
    );
    header.push("differs".into());
    let _ = w.write_record(&header);
    for s in &r.subjects {
        let mut row = vec![s.subject.clone(), s.reader.clone().unwrap_or_default()];
        row.extend(s.per.iter().map(|o| match o {
            Ok(o) => o.best.clone().unwrap_or_default(),
            Err(_) => "error".into(),
        }));
        row.extend(s.per.iter().map(|o| {
            match o {
                Ok(o) => o
                    .first_progression
                    .as_ref()
                    .map(|(_, d)| format_date(*d))
                    .unwrap_or_default(),
                Err(_) => String::new(),
            }
        }));
        row.push((s.included() && s.differs()).to_string());
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A loaded criterion: its spec and checked ruleset.
struct Loaded {
    spec: Spec,
    checked: check::Checked,
}

fn print_diags(diags: &[Diag]) {
    eprint!("{}", diag::render_terminal(diags));
}

/// Builds the comparison of the given criteria on a cohort: evaluates every subject under every
/// criterion. `explain` keeps each subject's full explanation. Errors are diagnostics and an
/// exit code (2 for usage, 1 for invalid rulesets or data).
pub fn build(
    specs: &[Spec],
    cohort: &RawCohort,
    explain: bool,
) -> Result<Report, (Vec<Diag>, i32)> {
    let mut loaded = vec![];
    for spec in specs {
        match check::load(&spec.id) {
            Ok(checked) => loaded.push(Loaded {
                spec: spec.clone(),
                checked,
            }),
            Err(d) => return Err((d, 1)),
        }
    }
    let mut engines = vec![];
    for l in &loaded {
        let mut eng = Engine::new(&l.checked.ruleset);
        for o in &l.spec.overrides {
            if let Err(d) = crate::cli::apply_set(&mut eng, o) {
                let d = Diag {
                    message: format!("{}: {}", l.spec.label, d.message),
                    ..d
                };
                return Err((vec![d], 2));
            }
        }
        engines.push(eng);
    }
    let mut criteria = vec![];
    let mut bindings = vec![];
    for (l, eng) in loaded.iter().zip(&engines) {
        let rs = &l.checked.ruleset;
        match bind::plan(rs, cohort) {
            Ok(b) => bindings.push(b),
            Err(errs) => {
                let diags = errs
                    .iter()
                    .map(|e| Diag::error("crit::data", format!("{}: {e}", l.spec.label)))
                    .collect();
                return Err((diags, 1));
            }
        }
        let all = output::criteria_json(eng)["params"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let value = |name: &str| {
            all.get(name)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let params = l
            .spec
            .overrides
            .iter()
            .filter_map(|o| o.split_once('='))
            .map(|(n, _)| (n.trim().to_string(), value(n.trim())))
            .collect();
        criteria.push(CriterionInfo {
            label: l.spec.label.clone(),
            id: rs.id.clone(),
            title: rs.title.clone(),
            params,
            all_params: all
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect(),
            has_sum: sum_def(rs).is_some(),
            classes: (0..rs.categories.len())
                .map(|c| (rs.cat_name(c).to_string(), class_of(rs, Some(c))))
                .collect(),
        });
    }

    let progress = Progress::new(
        (cohort.subjects.len() * engines.len()) as u64,
        "evaluations",
    );
    let mut per_criterion: Vec<Vec<Result<Outcome, String>>> = vec![];
    for (i, ((eng, binding), c)) in engines.iter().zip(&bindings).zip(&criteria).enumerate() {
        let label: String = c.label.chars().take(27).collect();
        progress.message(format!("{} {label}", letter(i)));
        per_criterion.push(eval::each_subject(eng, binding, cohort, |_, r| {
            progress.tick();
            match r {
                Ok(ev) => Ok(outcome(ev, explain)),
                Err(e) => Err(e.to_string()),
            }
        }));
    }
    progress.finish();

    let mut columns: Vec<std::vec::IntoIter<Result<Outcome, String>>> =
        per_criterion.into_iter().map(|v| v.into_iter()).collect();
    let subjects = cohort
        .subjects
        .iter()
        .map(|raw| SubjectRow {
            subject: raw.subject.clone(),
            reader: raw.reader.clone(),
            per: columns
                .iter_mut()
                .map(|c| c.next().unwrap_or_else(|| Err("not evaluated".into())))
                .collect(),
        })
        .collect();
    let file_errors = cohort.errors.iter().map(|e| e.to_string()).collect();
    Ok(summarize(
        cohort.file.clone(),
        criteria,
        subjects,
        file_errors,
    ))
}

fn usage(message: String, help: &str) -> i32 {
    print_diags(&[Diag::error("crit::compare", message).help(help)]);
    2
}

/// Runs `crit compare`; returns the exit code (0 ok, 1 invalid ruleset or data errors, 2 usage).
pub fn run(args: &CompareArgs) -> i32 {
    let mut specs: Vec<Spec> = vec![];
    for c in &args.criteria {
        match parse_spec(c) {
            Ok(s) if specs.iter().any(|x| x.label == s.label) => {
                return usage(
                    format!("`{}` is given twice", s.label),
                    "each criterion needs its own label",
                )
            }
            Ok(s) => specs.push(s),
            Err(m) => {
                return usage(
                    m,
                    "write a criterion as ID or ID[NAME=VALUE,...], e.g. ID[pd_increase=25%]",
                )
            }
        }
    }
    if specs.len() < 2 {
        let help = "repeat --criteria, e.g. --criteria ID --criteria 'ID[pd_increase=25%]'";
        return usage("compare needs at least two criteria".into(), help);
    }
    if args.subject.is_some() && args.format == ReportFormat::Html {
        return usage(
            "--subject gives text, JSON or CSV, not HTML".into(),
            "drop --subject for the HTML report of the cohort",
        );
    }
    let loaded = match (&args.data, &args.sdtm.sdtm) {
        (Some(data), None) => table::read_path(data),
        (None, Some(dir)) => crate::data::sdtm::read_dir(dir, &args.sdtm.options(None)).map(|s| {
            s.notes.iter().for_each(|n| eprintln!("note: {n}"));
            s.cohort
        }),
        _ => {
            return usage(
                "give either a lesion table or --sdtm DIR, not both".into(),
                "e.g. crit compare --sdtm DIR --dataset NAME --criteria A --criteria B",
            )
        }
    };
    let mut cohort = match loaded {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if let Some(subject) = &args.subject {
        let all: Vec<String> = cohort.subjects.iter().map(|s| s.subject.clone()).collect();
        let reader = args.reader.as_deref();
        cohort.subjects.retain(|s| {
            &s.subject == subject && reader.is_none_or(|r| s.reader.as_deref() == Some(r))
        });
        if cohort.subjects.is_empty() {
            let reader = reader.map(|r| format!(" (reader {r})")).unwrap_or_default();
            let mut d = Diag::error(
                "crit::subject",
                format!("no subject `{subject}`{reader} in {}", cohort.file),
            );
            if let Some(s) = diag::did_you_mean(subject, all.iter().map(|s| s.as_str())) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            print_diags(&[d]);
            return 1;
        }
    }
    let report = match build(&specs, &cohort, args.subject.is_some()) {
        Ok(r) => r,
        Err((d, code)) => {
            print_diags(&d);
            return code;
        }
    };
    let mut code = 0;
    for e in &report.file_errors {
        eprintln!("error: {e}");
        code = 1;
    }
    for s in report.excluded() {
        for (c, r) in report.criteria.iter().zip(&s.per) {
            if let Err(m) = r {
                eprintln!("error: subject {} under {}: {m}", s.name(), c.label);
            }
        }
        code = 1;
    }
    let out = match (args.subject.is_some(), args.format) {
        (true, ReportFormat::Json) => {
            serde_json::to_string_pretty(&subject_json(&report)).unwrap_or_default() + "\n"
        }
        (true, ReportFormat::Csv) => subject_csv(&report),
        (true, _) => report_text::subject_view(&report),
        (false, ReportFormat::Text) => report_text::render(&report),
        (false, ReportFormat::Json) => {
            serde_json::to_string_pretty(&to_json(&report)).unwrap_or_default() + "\n"
        }
        (false, ReportFormat::Csv) => to_csv(&report),
        (false, ReportFormat::Html) => report_html::render(&report),
    };
    let written = match &args.output {
        Some(path) => std::fs::write(path, out.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(out.as_bytes())
                .and_then(|_| o.flush())
                .map_err(|e| format!("cannot write the report: {e}"))
        }
    };
    if let Err(m) = written {
        eprintln!("error: {m}");
        return 1;
    }
    code
}

/// The visits of the subjects of a report, aligned by date across criteria: (visit, date) in
/// date order, baseline first.
pub fn aligned_visits(s: &SubjectRow) -> Vec<(String, Date)> {
    let mut visits: BTreeMap<Date, String> = BTreeMap::new();
    for o in s.per.iter().filter_map(|r| r.as_ref().ok()) {
        visits
            .entry(o.baseline_date)
            .or_insert_with(|| o.baseline_visit.clone());
        for t in &o.timepoints {
            visits.entry(t.date).or_insert_with(|| t.visit.clone());
        }
    }
    visits.into_iter().map(|(d, v)| (v, d)).collect()
}

/// The response of a subject at a date under criterion `i`: `Some(None)` when the assessment
/// exists but has no response, `None` when there is no such assessment (or it is the baseline).
pub fn response_at(s: &SubjectRow, i: usize, date: Date) -> Option<Option<&str>> {
    let o = s.outcome(i)?;
    o.timepoints
        .iter()
        .find(|t| t.date == date)
        .map(|t| t.category.as_deref())
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

/// `--subject` as CSV: one row per visit: subject, reader, visit, date, then the response
/// under each label.
pub fn subject_csv(r: &Report) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut header = vec![
        "subject".to_string(),
        "reader".into(),
        "visit".into(),
        "date".into(),
    ];
    header.extend(r.criteria.iter().map(|c| c.label.clone()));
    let _ = w.write_record(&header);
    for s in &r.subjects {
        for (v, d) in aligned_visits(s) {
            let mut row = vec![
                s.subject.clone(),
                s.reader.clone().unwrap_or_default(),
                v,
                format_date(d),
            ];
            row.extend(
                (0..r.criteria.len())
                    .map(|i| response_at(s, i, d).flatten().unwrap_or("").to_string()),
            );
            let _ = w.write_record(&row);
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
