//! Harrell's concordance index.

/// Harrell's C of a risk score against right-censored times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Concordance {
    pub concordant: f64,
    pub discordant: f64,
    /// Comparable pairs tied on the score (each counts one half).
    pub tied_score: f64,
    /// `(concordant + tied/2) / (concordant + discordant + tied)`.
    pub c: f64,
}

/// Harrell's C: over comparable pairs — the shorter time is an event; a censoring at the same
/// time as an event counts as later; two events at the same time are not comparable — the
/// share in which the higher `risk` has the shorter time, ties in `risk` counting one half (R's
/// `concordance`, the `C` printed by `summary(coxph)`). `None` without a comparable pair.
pub fn concordance(time: &[f64], event: &[bool], risk: &[f64]) -> Option<Concordance> {
    let n = time.len();
    if event.len() != n || risk.len() != n || risk.iter().any(|r| r.is_nan()) {
        return None;
    }
    // Distinct scores, so that each event is compared with counts per score: O(n k) for k
    // distinct scores (a handful of response categories here).
    let mut levels: Vec<f64> = risk.to_vec();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    let level = |r: f64| levels.partition_point(|l| *l < r);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| time[*b].total_cmp(&time[*a]));
    // Subjects known to outlive the current time, counted per score level.
    let mut later = vec![0.0f64; levels.len()];
    let (mut conc, mut disc, mut tied) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < n {
        let t = time[order[i]];
        let mut j = i;
        while j < n && time[order[j]] == t {
            j += 1;
        }
        let group = &order[i..j];
        // A censoring at t counts as later than an event at t.
        for &o in group.iter().filter(|o| !event[**o]) {
            later[level(risk[o])] += 1.0;
        }
        for &o in group.iter().filter(|o| event[**o]) {
            let l = level(risk[o]);
            conc += later[..l].iter().sum::<f64>();
            tied += later[l];
            disc += later[l + 1..].iter().sum::<f64>();
        }
        for &o in group.iter().filter(|o| event[**o]) {
            later[level(risk[o])] += 1.0;
        }
        i = j;
    }
    let total = conc + disc + tied;
    (total > 0.0).then(|| Concordance {
        concordant: conc,
        discordant: disc,
        tied_score: tied,
        c: (conc + tied / 2.0) / total,
    })
}
