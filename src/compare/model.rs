//! What a comparison is made of: the criteria, each subject's outcome under each of them, the
//! agreement of each pair and the response rates. Owned data, no borrows of the rulesets.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::Date;

pub use super::divergence::Divergence;
pub use crate::eval::events::EventOutcome;

use super::stats;
use crate::check::ir;

/// The values of a ruleset's `chart ... lines` params in percent, `-P` negated, with the
/// params' values in effect (`params`, as overridden); a param set to `none` draws no line.
pub fn reference_lines(rs: &ir::Ruleset, params: &[ir::ParamValue]) -> Vec<(String, f64)> {
    use rust_decimal::prelude::ToPrimitive;
    rs.chart_lines
        .iter()
        .filter_map(|&(p, down)| match params.get(p)? {
            ir::ParamValue::Num(v) => {
                let pct = v
                    .checked_mul(rust_decimal::Decimal::ONE_HUNDRED)?
                    .to_f64()?;
                let pct = if down { -pct } else { pct };
                Some((rs.params[p].name.clone(), pct))
            }
            _ => None,
        })
        .collect()
}

/// The class of a complete response.
pub const COMPLETE: &str = "complete";
/// The class of a partial response.
pub const PARTIAL: &str = "partial";
/// The class of stable disease.
pub const STABLE: &str = "stable";
/// The class of progression (gives the first date of progression).
pub const PROGRESSIVE: &str = "progressive";
pub const NOT_EVALUABLE: &str = "not-evaluable";
/// The pseudo-class of a subject without a best response (no follow-up assessment).
pub const NO_RESPONSE: &str = "(none)";

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
    /// Whether the ruleset has a number to chart (its `chart`, or one named [`SUM_VALUE`]):
    /// percent changes are known.
    pub has_sum: bool,
    /// That number's name.
    pub charted: Option<String>,
    /// The waterfall's reference lines: each `chart ... lines` param's name and its value in
    /// percent in this variant (negated for `-P`); none when the ruleset names none.
    pub lines: Vec<(String, f64)>,
    /// Category name → class, for every category of the ruleset (for legends).
    pub classes: Vec<(String, String)>,
}

/// One follow-up assessment of a subject under one criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Timepoint {
    /// Shared by the criteria's timepoints of the same assessment.
    pub visit: Arc<str>,
    pub date: Date,
    /// Days since the baseline assessment.
    pub days: i64,
    /// The overall timepoint response, if any. Category names and classes are shared by every
    /// timepoint that has them (one allocation per criterion, not per timepoint).
    pub category: Option<Arc<str>>,
    pub class: Arc<str>,
    /// Percent change of the sum from baseline, when known.
    pub change: Option<f64>,
    /// Whether the best response stops counting here (`stop after`): definitive progression,
    /// as against a progression that a later assessment must confirm.
    pub ends: bool,
}

/// What one criterion says about one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Names shared with every outcome that has them (one allocation per criterion).
    pub best: Option<Arc<str>>,
    pub best_class: Arc<str>,
    /// The best response counts as a response (ORR) and as disease control (DCR): the
    /// category's own flags, whatever its class.
    pub best_response: bool,
    pub best_control: bool,
    pub baseline_visit: Arc<str>,
    pub baseline_date: Date,
    /// The treatment start (the baseline date unless the data gives one).
    pub start: Date,
    pub timepoints: Vec<Timepoint>,
    /// First timepoint whose overall response has the progressive class.
    pub first_progression: Option<(String, Date)>,
    /// Most negative percent change of the sum from baseline over the follow-up assessments
    /// that count for the best response (up to and including the one that ends the count).
    pub best_change: Option<f64>,
    /// The full explanation (computed for `--subject` and the HTML report's drill-down).
    pub explanation: Option<String>,
    /// The ruleset's progression event, or where the subject is censored (`None` when the
    /// ruleset declares no progression event).
    pub progression: Option<EventOutcome>,
    /// Best response from the assessments up to the landmark (the OS analysis).
    pub landmark: Option<LandmarkBest>,
}

/// Best response as of the landmark: the category, its class and its place in the ruleset's
/// ranking (0 = best).
#[derive(Debug, Clone, PartialEq)]
pub struct LandmarkBest {
    pub category: String,
    pub class: String,
    pub rank: usize,
}

impl Outcome {
    /// No assessment ends the count: follow-up goes on (no definitive progression).
    pub fn ongoing(&self) -> bool {
        !self.timepoints.iter().any(|t| t.ends)
    }
}

/// One subject (and reader), under every criterion: an outcome or a data error message.
#[derive(Debug, Clone)]
pub struct SubjectRow {
    pub subject: String,
    pub reader: Option<String>,
    pub per: Vec<Result<Outcome, String>>,
    /// Why each criterion that disagrees with the first one (by timepoint or best-response
    /// class) does so.
    pub divergences: Vec<Divergence>,
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

    /// Whether the timepoint classes under criterion `i` differ from those under the first
    /// criterion, visit by visit.
    pub fn timepoints_differ(&self, i: usize) -> bool {
        let classes = |i: usize| {
            self.outcome(i).map(|o| {
                o.timepoints
                    .iter()
                    .map(|t| (t.date, &*t.class))
                    .collect::<Vec<_>>()
            })
        };
        classes(i) != classes(0)
    }

    /// Whether the criteria disagree about this subject anywhere: best response or any
    /// timepoint.
    pub fn changes(&self) -> bool {
        self.differs() || (1..self.per.len()).any(|i| self.timepoints_differ(i))
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
    /// Timepoint responses of the pair, assessment by assessment.
    pub timepoints: TimepointAgreement,
}

/// How often two criteria's timepoint classes differ over the included subjects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimepointAgreement {
    /// Assessments with a timepoint response under both criteria.
    pub compared: u64,
    /// Of them, those whose classes differ.
    pub differ: u64,
    /// Subjects with at least one such assessment.
    pub subjects: u64,
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
    /// Progression-free survival per criterion and pair.
    pub pfs: super::pfs::Pfs,
    /// Overall survival by landmark response category (with `--outcomes`).
    pub os: Option<super::os::Os>,
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

/// At most this many subjects get a drill-down section (timeline, divergence, explanations) in
/// the HTML report.
pub const DRILL_MAX: usize = 300;

/// At most `max` of `subjects`, in their order: those the criteria disagree about (best response
/// or any timepoint) first, the first ones when there are too many, then the others.
pub fn select<'a>(subjects: impl IntoIterator<Item = &'a SubjectRow>, max: usize) -> Vec<usize> {
    let changes: Vec<bool> = subjects.into_iter().map(|s| s.changes()).collect();
    if changes.len() <= max {
        return (0..changes.len()).collect();
    }
    let mut keep = vec![false; changes.len()];
    let mut kept = 0;
    for (k, &c) in keep.iter_mut().zip(&changes) {
        if c && kept < max {
            *k = true;
            kept += 1;
        }
    }
    for k in keep.iter_mut() {
        if kept >= max {
            break;
        }
        if !*k {
            *k = true;
            kept += 1;
        }
    }
    (0..keep.len()).filter(|&j| keep[j]).collect()
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

/// The visits of the subjects of a report, aligned by date across criteria: (visit, date) in
/// date order, baseline first.
pub fn aligned_visits(s: &SubjectRow) -> Vec<(String, Date)> {
    let mut visits: BTreeMap<Date, String> = BTreeMap::new();
    for o in s.per.iter().filter_map(|r| r.as_ref().ok()) {
        visits
            .entry(o.baseline_date)
            .or_insert_with(|| o.baseline_visit.to_string());
        for t in &o.timepoints {
            visits.entry(t.date).or_insert_with(|| t.visit.to_string());
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
