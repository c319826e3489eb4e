//! The statistics of a comparison: classes in display order, agreement of every pair, rates.

use super::model::*;
use super::stats;

/// The usual order of the standard classes; custom classes follow in declaration order.
const CLASS_ORDER: [&str; 5] = [COMPLETE, PARTIAL, STABLE, PROGRESSIVE, NOT_EVALUABLE];

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

/// How often the timepoint classes of criteria `a` and `b` differ, assessment by assessment.
fn timepoint_agreement(subjects: &[&SubjectRow], a: usize, b: usize) -> TimepointAgreement {
    let mut t = TimepointAgreement::default();
    for s in subjects {
        let (Some(oa), Some(ob)) = (s.outcome(a), s.outcome(b)) else {
            continue;
        };
        let mut differ = false;
        for ta in &oa.timepoints {
            let Some(tb) = ob.timepoints.iter().find(|tb| tb.date == ta.date) else {
                continue;
            };
            t.compared += 1;
            if ta.class != tb.class {
                t.differ += 1;
                differ = true;
            }
        }
        t.subjects += u64::from(differ);
    }
    t
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
    fn best(s: &SubjectRow, i: usize) -> &str {
        s.outcome(i).map_or(NO_RESPONSE, |o| &*o.best_class)
    }
    let responder = |s: &SubjectRow, i: usize| s.outcome(i).is_some_and(|o| o.best_response);
    let controlled = |s: &SubjectRow, i: usize| s.outcome(i).is_some_and(|o| o.best_control);

    // Every class that occurs (best or timepoint), plus each ruleset's declared classes in
    // declaration order so custom classes keep a stable place.
    let seen = subjects
        .iter()
        .flat_map(|s| s.per.iter().filter_map(|r| r.as_ref().ok()))
        .flat_map(|o| {
            std::iter::once(&*o.best_class).chain(o.timepoints.iter().map(|t| &*t.class))
        });
    let classes = order_classes(seen);

    let mut pairs = vec![];
    for a in 0..k {
        for b in a + 1..k {
            let used = order_classes(included.iter().flat_map(|s| [best(s, a), best(s, b)]));
            let idx = |c: &str| used.iter().position(|u| u == c).unwrap_or(0);
            let mut table = vec![vec![0u64; used.len()]; used.len()];
            let mut responders = [[0u64; 2]; 2];
            for s in &included {
                let (ca, cb) = (best(s, a), best(s, b));
                table[idx(ca)][idx(cb)] += 1;
                responders[usize::from(!responder(s, a))][usize::from(!responder(s, b))] += 1;
            }
            let timepoints = timepoint_agreement(&included, a, b);
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
                timepoints,
            });
        }
    }

    let n = included.len() as u64;
    let rates = (0..k)
        .map(|i| {
            let count = |f: &dyn Fn(&SubjectRow, usize) -> bool| {
                included.iter().filter(|s| f(s, i)).count() as u64
            };
            Rates {
                orr: stats::rate(count(&responder), n),
                dcr: stats::rate(count(&controlled), n),
                reclassified: (i > 0)
                    .then(|| included.iter().filter(|s| best(s, i) != best(s, 0)).count() as u64),
            }
        })
        .collect();
    let several_readers = subjects
        .iter()
        .any(|s| s.reader.is_some() && s.reader != subjects[0].reader);
    let mut report = Report {
        data,
        criteria,
        subjects,
        classes,
        pairs,
        rates,
        file_errors,
        several_readers,
        pfs: super::pfs::Pfs::default(),
        os: None,
    };
    report.pfs = super::pfs::pfs(&report);
    report
}
