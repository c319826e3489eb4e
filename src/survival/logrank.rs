//! The k-group log-rank (Mantel–Cox) test.

use solow_duration::{survdiff, WeightType};

/// Result of a log-rank test over groups `0..k`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRank {
    /// Per group (by index): subjects, observed and expected events.
    pub n: Vec<usize>,
    pub observed: Vec<f64>,
    pub expected: Vec<f64>,
    pub chisq: f64,
    pub df: usize,
    pub p: f64,
}

/// Log-rank test of equal survival across the groups in `group` (indices; groups without a
/// subject are left out of the test and have zero counts). `None` when fewer than two groups
/// have subjects or nobody has an event.
pub fn logrank(time: &[f64], event: &[bool], group: &[usize]) -> Option<LogRank> {
    let n_obs = time.len();
    if n_obs == 0 || event.len() != n_obs || group.len() != n_obs {
        return None;
    }
    let k = group.iter().max()? + 1;
    let mut n = vec![0usize; k];
    let mut observed = vec![0.0; k];
    for i in 0..n_obs {
        n[group[i]] += 1;
        if event[i] {
            observed[group[i]] += 1.0;
        }
    }
    if n.iter().filter(|c| **c > 0).count() < 2 || !event.iter().any(|e| *e) {
        return None;
    }
    // Expected events: at each event time, deaths × the group's share of the risk set.
    let mut order: Vec<usize> = (0..n_obs).collect();
    order.sort_by(|a, b| time[*a].total_cmp(&time[*b]));
    let mut at_risk = n.clone();
    let mut total_risk = n_obs;
    let mut expected = vec![0.0; k];
    let mut i = 0;
    while i < n_obs {
        let t = time[order[i]];
        let mut j = i;
        let mut deaths = 0usize;
        while j < n_obs && time[order[j]] == t {
            deaths += event[order[j]] as usize;
            j += 1;
        }
        if deaths > 0 {
            for g in 0..k {
                expected[g] += deaths as f64 * at_risk[g] as f64 / total_risk as f64;
            }
        }
        for &o in &order[i..j] {
            at_risk[group[o]] -= 1;
        }
        total_risk -= j - i;
        i = j;
    }
    // The statistic (O − E)' V⁻¹ (O − E) from solow, on the groups that have subjects.
    let status: Vec<f64> = event.iter().map(|e| if *e { 1.0 } else { 0.0 }).collect();
    let labels: Vec<f64> = group.iter().map(|g| *g as f64).collect();
    let test = survdiff(time, &status, &labels, WeightType::LogRank).ok()?;
    Some(LogRank {
        n,
        observed,
        expected,
        chisq: test.chisq,
        df: test.df,
        p: test.pvalue,
    })
}
