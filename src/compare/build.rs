//! Evaluating every subject under every criterion, and what the comparison keeps of each
//! evaluation.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use time::Date;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use super::divergence;
use super::model::*;
use super::summary::summarize;
use crate::check::{self, ir};
use crate::data::bind::{self, Binding};
use crate::data::model::{DataError, RawCohort, RawSubject, Subject};
use crate::data::{pipeline, Table};
use crate::diag::Diag;
use crate::eval::best::Note;
use crate::eval::value::Val;
use crate::eval::{events, Engine, Evaluation};
use crate::explain::trace::Texts;
use crate::explain::{output, text};
use crate::progress::Progress;
use crate::spec::{self, Spec};

/// The name of the value whose percent change from baseline the charts show, when a ruleset
/// defines a number by that name.
pub const SUM_VALUE: &str = "sum";

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

/// The number the charts show the change of: the ruleset's `chart`, else the assessment-level
/// number named [`SUM_VALUE`].
fn sum_def(rs: &ir::Ruleset) -> Option<ir::DefId> {
    rs.chart.or_else(|| {
        rs.defs.iter().position(|d| {
            d.name == SUM_VALUE
                && matches!(d.ty, ir::Ty::Num { .. })
                && d.level == ir::DefLevel::Assessment
        })
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
    v.checked_sub(b)?
        .checked_div(b)?
        .checked_mul(Decimal::ONE_HUNDRED)?
        .to_f64()
}

/// The subject's progression: the visit and date of the ruleset's progression event (an
/// unconfirmed progression that never counted is not one); none when censored.
pub fn progression(ev: &Evaluation) -> Option<(String, Date)> {
    first_progression(events::progression(ev).as_ref())
}

fn first_progression(e: Option<&EventOutcome>) -> Option<(String, Date)> {
    e.filter(|e| !e.censored)
        .map(|e| (e.visit.clone().unwrap_or_default(), e.date))
}

/// The assessment after which the best response stops counting (`stop after first C`, or
/// `stop after first confirmed C` once confirmed), if any.
pub fn end_of_count(ev: &Evaluation) -> Option<usize> {
    let rs = ev.rs();
    let b = &rs.best;
    let n = ev.subj.assessments.len();
    let cat = |t: usize| ev.category(t, rs.overall);
    let stop = (1..n).find(|&t| cat(t).is_some_and(|c| b.stop_after.contains(&c)));
    let confirmed = (1..n).find(|&t| {
        cat(t).is_some_and(|c| b.stop_after_confirmed.contains(&c))
            && ev
                .best
                .notes
                .iter()
                .any(|n| matches!(n, Note::Confirmed { t: c, .. } if *c == t))
    });
    match (stop, confirmed) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A ruleset's category names and classes, shared by the timepoints that have them.
struct Names {
    names: Vec<Arc<str>>,
    classes: Vec<Arc<str>>,
    /// The class of no response.
    none: Arc<str>,
}

impl Names {
    fn new(rs: &ir::Ruleset) -> Names {
        let all = 0..rs.categories.len();
        Names {
            names: all.clone().map(|c| rs.cat_name(c).into()).collect(),
            classes: all.map(|c| class_of(rs, Some(c)).into()).collect(),
            none: class_of(rs, None).into(),
        }
    }

    fn class(&self, c: Option<ir::CatId>) -> Arc<str> {
        c.and_then(|c| self.classes.get(c))
            .unwrap_or(&self.none)
            .clone()
    }
}

/// Extracts what the comparison needs from one evaluation.
pub fn outcome(ev: &Evaluation, explain: bool) -> Outcome {
    outcome_with(ev, explain, &Names::new(ev.rs()), &visits(ev.subj))
}

/// A subject's visit names, shared by the outcomes of the criteria that read the subject.
fn visits(s: &Subject) -> Vec<Arc<str>> {
    s.assessments
        .iter()
        .map(|a| a.visit.as_str().into())
        .collect()
}

/// [`outcome`] with the ruleset's names made once and the subject's visit names (`visits`).
fn outcome_with(ev: &Evaluation, explain: bool, names: &Names, visits: &[Arc<str>]) -> Outcome {
    let rs = ev.rs();
    let s = ev.subj;
    let sum = sum_def(rs);
    let base = sum.and_then(|d| exact(ev.value(0, d)));
    let end = end_of_count(ev);
    let timepoints: Vec<Timepoint> = (1..s.assessments.len())
        .map(|t| {
            let a = &s.assessments[t];
            let c = ev.category(t, rs.overall);
            Timepoint {
                visit: visits
                    .get(t)
                    .cloned()
                    .unwrap_or_else(|| a.visit.as_str().into()),
                date: a.date,
                days: ev.days_between(0, t),
                category: c.and_then(|c| names.names.get(c).cloned()),
                class: names.class(c),
                change: sum.and_then(|d| percent_change(base, exact(ev.value(t, d)))),
                ends: end == Some(t),
            }
        })
        .collect();
    // The ruleset's progression event; censored subjects have none.
    let progression = events::progression(ev);
    let first_progression = first_progression(progression.as_ref());
    // Up to and including the assessment that ends the count: later scans do not count.
    let counted = end.unwrap_or(s.assessments.len());
    let best_change = timepoints
        .iter()
        .take(counted)
        .filter_map(|t| t.change)
        .reduce(f64::min);
    Outcome {
        best: ev.best.category.and_then(|c| names.names.get(c).cloned()),
        best_class: names.class(ev.best.category),
        best_response: ev.best.category.is_some_and(|c| rs.categories[c].response),
        best_control: ev.best.category.is_some_and(|c| rs.categories[c].control),
        baseline_visit: visits.first().cloned().unwrap_or_else(|| "".into()),
        baseline_date: s.assessments.first().map(|a| a.date).unwrap_or(Date::MIN),
        start: s.start,
        timepoints,
        first_progression,
        best_change,
        explanation: explain.then(|| text::subject(ev, &text::Options { verbose: false })),
        progression,
        landmark: None,
    }
}

/// What `crit compare` adds to the plain comparison: the landmark of the OS analysis and the
/// subjects' survival outcomes (deaths then count as progression events too).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub explain: Explain,
    pub landmark_days: Option<i64>,
    pub outcomes: Option<super::os::Outcomes>,
    /// Transform of the Kaplan–Meier intervals (R's log by default; SAS's log-log).
    pub conf_type: crate::survival::ConfType,
    /// Leave out where and why the criteria differ (the CSV report does not show it).
    pub no_divergences: bool,
}

/// A loaded criterion: its spec and checked ruleset.
struct Loaded {
    spec: Spec,
    checked: check::Checked,
}

/// Which subjects keep their full explanation under every criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Explain {
    #[default]
    None,
    All,
    /// The subjects [`select`] picks (at most this many: those the criteria disagree about
    /// first), as the HTML report's drill-down shows them.
    Selected(usize),
}

/// Builds the comparison of the given criteria on a cohort: evaluates every subject under every
/// criterion. `explain` keeps each subject's full explanation. Errors are diagnostics and an
/// exit code (2 for usage, 1 for invalid rulesets or data).
pub fn build(
    specs: &[Spec],
    cohort: &RawCohort,
    explain: bool,
) -> Result<Report, (Vec<Diag>, i32)> {
    let opts = Options {
        explain: if explain { Explain::All } else { Explain::None },
        ..Options::default()
    };
    build_with(specs, cohort, &opts)
}

/// [`build`] with the survival options and the explanations of the subjects `opts.explain`
/// names.
pub fn build_with(
    specs: &[Spec],
    cohort: &RawCohort,
    opts: &Options,
) -> Result<Report, (Vec<Diag>, i32)> {
    let mut table = Table::from_cohort(cohort.clone());
    build_table(specs, &mut table, opts, |_| true)
}

/// The criteria ready to run on a table: each engine, where it finds its inputs, and for each
/// criterion the first that binds a subject the same way (bound once, shared).
struct Prepared<'r> {
    engines: Vec<Engine<'r>>,
    bindings: Vec<Binding>,
    same: Vec<usize>,
    /// What divergences name each criterion's steps by.
    texts: Vec<Texts>,
    names: Vec<Names>,
}

impl Prepared<'_> {
    /// One subject under every criterion at once, so that disagreements can be traced in both
    /// evaluations; only what the reports need is kept.
    fn row(&self, file: &str, raw: &RawSubject, opts: &Options) -> SubjectRow {
        let (engines, same) = (&self.engines, &self.same);
        // Bound once per distinct binding, shared by the criteria that bind alike.
        let own: Vec<Option<Result<Subject, DataError>>> = (0..engines.len())
            .map(|i| {
                (same[i] == i).then(|| bind::bind(engines[i].rs, &self.bindings[i], file, raw))
            })
            .collect();
        let bound: Vec<&Result<Subject, DataError>> =
            same.iter().filter_map(|&j| own[j].as_ref()).collect();
        let own_visits: Vec<Vec<Arc<str>>> = own
            .iter()
            .map(|s| match s {
                Some(Ok(s)) => visits(s),
                _ => vec![],
            })
            .collect();
        let evs: Vec<Option<Evaluation>> = engines
            .iter()
            .zip(&bound)
            .map(|(eng, s)| s.as_ref().ok().map(|s| eng.evaluate(s)))
            .collect();
        let per: Vec<Result<Outcome, String>> = evs
            .iter()
            .zip(&bound)
            .enumerate()
            .map(|(i, (ev, s))| match (ev, s) {
                (Some(ev), _) => Ok(super::os::with_outcomes(
                    outcome_with(
                        ev,
                        opts.explain == Explain::All,
                        &self.names[i],
                        &own_visits[same[i]],
                    ),
                    ev,
                    opts,
                )),
                (None, Err(e)) => Err(e.to_string()),
                (None, Ok(_)) => Err("not evaluated".into()),
            })
            .collect();
        let traced = if opts.no_divergences {
            1
        } else {
            engines.len()
        };
        let divergences = (1..traced)
            .filter_map(|i| match (&evs[0], &evs[i], &per[0], &per[i]) {
                (Some(e0), Some(ei), Ok(o0), Ok(oi)) => {
                    let texts = (&self.texts[0], &self.texts[i]);
                    divergence::find((0, i), (e0, ei), (o0, oi), texts)
                }
                _ => None,
            })
            .collect();
        SubjectRow {
            subject: raw.subject.clone(),
            reader: raw.reader.clone(),
            per,
            divergences,
        }
    }

    /// A subject's explanation under each criterion (none where its data is invalid).
    fn explanations(&self, file: &str, raw: &RawSubject) -> Vec<Option<String>> {
        self.engines
            .iter()
            .zip(&self.bindings)
            .map(|(eng, b)| {
                let s = bind::bind(eng.rs, b, file, raw).ok()?;
                let opts = text::Options { verbose: false };
                let ev = eng.evaluate(&s);
                Some(text::subject(&ev, &opts))
            })
            .collect()
    }
}

/// [`build_with`] on a table read subject by subject (streamed when each subject's rows are
/// together): every subject that `keep` accepts is evaluated under every criterion, and only
/// its [`SubjectRow`] is kept, so memory grows with the outcomes, not with the rows.
pub fn build_table(
    specs: &[Spec],
    table: &mut Table,
    opts: &Options,
    keep: impl Fn(&RawSubject) -> bool + Sync,
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
        if let Err(d) = spec::apply_all(&mut eng, &l.spec.label, &l.spec.overrides) {
            return Err((vec![d], 2));
        }
        engines.push(eng);
    }
    let schema = &table.schema;
    let mut criteria = vec![];
    let mut bindings = vec![];
    for (l, eng) in loaded.iter().zip(&engines) {
        let rs = &l.checked.ruleset;
        match bind::plan_columns(rs, &schema.file, &schema.columns, &schema.duplicates) {
            Ok(b) => bindings.push(b),
            Err(errs) => {
                let diags = errs
                    .iter()
                    .map(|e| Diag::error("crit::data", format!("{}: {e}", l.spec.label)))
                    .collect();
                return Err((diags, 1));
            }
        }
        criteria.push(info(l, eng));
    }
    let same: Vec<usize> = (0..engines.len())
        .map(|i| {
            (0..i)
                .find(|&j| bindings[i].same_as(engines[i].rs, &bindings[j], engines[j].rs))
                .unwrap_or(i)
        })
        .collect();
    let texts = engines.iter().map(|e| Texts::new(e.rs)).collect();
    let names = engines.iter().map(|e| Names::new(e.rs)).collect();
    let prepared = Prepared {
        engines,
        bindings,
        same,
        texts,
        names,
    };
    let file = schema.file.clone();
    let progress = Progress::new(table.subjects.unwrap_or(0) as u64, "subjects");
    progress.message(format!("{} criteria", prepared.engines.len()));

    // The HTML drill-down shows at most `max` subjects, those the criteria disagree about
    // first (`select`): only the first `max` of each kind can be shown, so only their rows are
    // kept for the explanations. `sunk` counts each kind handed on so far (a lower bound of
    // the count before any subject still at work), so no subject that may be shown is missed.
    let max = match opts.explain {
        Explain::Selected(max) => Some(max),
        Explain::None | Explain::All => None,
    };
    let sunk = [AtomicUsize::new(0), AtomicUsize::new(0)];
    let work = |raw: &RawSubject| {
        keep(raw).then(|| {
            let row = prepared.row(&file, raw, opts);
            let kind = usize::from(!row.changes());
            let raw = max
                .filter(|&m| sunk[kind].load(Ordering::Relaxed) < m)
                .map(|_| raw.clone());
            (row, kind, raw)
        })
    };
    let mut subjects: Vec<SubjectRow> = vec![];
    let mut file_errors = vec![];
    let mut candidates: Vec<(usize, RawSubject)> = vec![];
    let mut counts = [0usize; 2];
    pipeline::for_each_subject(table, work, Some(&progress), |r| {
        match r {
            Err(e) => file_errors.push(e.to_string()),
            Ok(None) => {}
            Ok(Some((row, kind, raw))) => {
                if let (Some(m), Some(raw)) = (max, raw) {
                    if counts[kind] < m {
                        candidates.push((subjects.len(), raw));
                    }
                }
                counts[kind] += 1;
                sunk[kind].store(counts[kind], Ordering::Relaxed);
                subjects.push(row);
            }
        }
        true
    });
    progress.finish();
    if let Some(max) = max {
        // Evaluated again, only those shown: a few hundred explanations, not the cohort's.
        let picked: Vec<(usize, Vec<Option<String>>)> = select(&subjects, max)
            .into_par_iter()
            .filter_map(|j| {
                let c = candidates.binary_search_by_key(&j, |c| c.0).ok()?;
                Some((j, prepared.explanations(&file, &candidates[c].1)))
            })
            .collect();
        for (j, texts) in picked {
            for (o, t) in subjects[j].per.iter_mut().zip(texts) {
                if let Ok(o) = o {
                    o.explanation = t;
                }
            }
        }
    }
    let mut report = summarize(file, criteria, subjects, file_errors);
    if opts.conf_type != report.pfs.conf_type {
        report.pfs = super::pfs::pfs_with(&report, opts.conf_type);
    }
    if let Some(outcomes) = &opts.outcomes {
        report.os = Some(super::os::analyse(
            &report,
            outcomes,
            opts.landmark_days,
            opts.conf_type,
        ));
    }
    Ok(report)
}

/// What the report says about a criterion: its label, ruleset, params and classes.
fn info(l: &Loaded, eng: &Engine) -> CriterionInfo {
    let rs = &l.checked.ruleset;
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
    CriterionInfo {
        label: l.spec.label.clone(),
        id: rs.id.clone(),
        title: rs.title.clone(),
        params,
        all_params: all
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect(),
        has_sum: sum_def(rs).is_some(),
        charted: sum_def(rs).map(|d| rs.defs[d].name.clone()),
        lines: super::model::reference_lines(rs, eng.params()),
        classes: (0..rs.categories.len())
            .map(|c| (rs.cat_name(c).to_string(), class_of(rs, Some(c))))
            .collect(),
    }
}
