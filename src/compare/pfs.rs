//! Progression-free survival under each criterion: the subjects' progression events (or
//! censoring) as Kaplan–Meier curves, and how the criteria's event dates differ pair by pair.

use super::model::{Report, SubjectRow};
use crate::survival::{ConfType, KaplanMeier, Quantile, Rate};

/// 6 and 12 months in days (a month = 365.25 / 12 days).
pub const MONTH_6: f64 = 365.25 / 2.0;
pub const MONTH_12: f64 = 365.25;

#[derive(Debug, Clone)]
pub struct PfsCriterion {
    /// Included subjects with a progression event or censoring.
    pub n: usize,
    pub events: usize,
    pub censored: usize,
    /// Time = the event's day (day 1 = treatment start).
    pub km: Option<KaplanMeier>,
    pub median: Option<Quantile>,
    pub rate_6m: Option<Rate>,
    pub rate_12m: Option<Rate>,
}

/// How two criteria's progression dates differ.
#[derive(Debug, Clone)]
pub struct PfsPair {
    pub a: usize,
    pub b: usize,
    /// Subjects with an event under both criteria on different dates: (name, day A, day B).
    pub differ: Vec<(String, i64, i64)>,
    /// Subjects with an event under both on the same date.
    pub same: usize,
    /// Subjects with an event under A only / B only.
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
}

impl PfsPair {
    /// Days B − A over the subjects whose dates differ: (median, min, max).
    pub fn shift(&self) -> Option<(f64, i64, i64)> {
        let mut d: Vec<i64> = self.differ.iter().map(|(_, a, b)| b - a).collect();
        if d.is_empty() {
            return None;
        }
        d.sort_unstable();
        let k = d.len();
        let median = if k % 2 == 1 {
            d[k / 2] as f64
        } else {
            (d[k / 2 - 1] + d[k / 2]) as f64 / 2.0
        };
        Some((median, d[0], d[k - 1]))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Pfs {
    pub conf_type: ConfType,
    pub criteria: Vec<PfsCriterion>,
    pub pairs: Vec<PfsPair>,
}

/// (day, event) of a subject under criterion `i`.
fn point(s: &SubjectRow, i: usize) -> Option<(f64, bool)> {
    let e = s.outcome(i)?.progression.as_ref()?;
    Some((e.day as f64, !e.censored))
}

/// PFS of every criterion over the included subjects (log-transformed intervals, as R).
pub fn pfs(r: &Report) -> Pfs {
    pfs_with(r, ConfType::Log)
}

pub fn pfs_with(r: &Report, conf_type: ConfType) -> Pfs {
    let included: Vec<&SubjectRow> = r.included().collect();
    let k = r.criteria.len();
    let criteria = (0..k)
        .map(|i| {
            let pts: Vec<(f64, bool)> = included.iter().filter_map(|s| point(s, i)).collect();
            let time: Vec<f64> = pts.iter().map(|p| p.0).collect();
            let event: Vec<bool> = pts.iter().map(|p| p.1).collect();
            let km = KaplanMeier::fit(&time, &event, conf_type);
            let events = event.iter().filter(|e| **e).count();
            PfsCriterion {
                n: pts.len(),
                events,
                censored: pts.len() - events,
                median: km.as_ref().map(|k| k.median()),
                rate_6m: km.as_ref().and_then(|k| k.rate_at(MONTH_6)),
                rate_12m: km.as_ref().and_then(|k| k.rate_at(MONTH_12)),
                km,
            }
        })
        .collect();
    let mut pairs = vec![];
    for a in 0..k {
        for b in a + 1..k {
            let mut p = PfsPair {
                a,
                b,
                differ: vec![],
                same: 0,
                only_a: vec![],
                only_b: vec![],
            };
            for s in &included {
                let day = |i| point(s, i).filter(|x| x.1).map(|x| x.0 as i64);
                match (day(a), day(b)) {
                    (Some(x), Some(y)) if x == y => p.same += 1,
                    (Some(x), Some(y)) => p.differ.push((r.short_name(s), x, y)),
                    (Some(_), None) => p.only_a.push(r.short_name(s)),
                    (None, Some(_)) => p.only_b.push(r.short_name(s)),
                    (None, None) => {}
                }
            }
            pairs.push(p);
        }
    }
    Pfs {
        conf_type,
        criteria,
        pairs,
    }
}
