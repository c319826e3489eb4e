//! Statistics for comparing criteria: agreement (Cohen's kappa), the exact McNemar test, and
//! exact (Clopper–Pearson) confidence intervals for proportions.
//!
//! Counts are exact integers; the statistics are `f64`. Every function returns `None` (or a
//! documented neutral value) instead of panicking when a statistic is undefined.

use statrs::distribution::{Beta, Binomial, ContinuousCDF, DiscreteCDF};

pub use crate::survival::Z_95;

/// Cohen's kappa for a square table of counts (rows: rater A, columns: rater B).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kappa {
    pub n: u64,
    /// Observed agreement: the diagonal over n.
    pub po: f64,
    /// Agreement expected by chance: the sum over categories of row share × column share.
    pub pe: f64,
    /// `(po - pe) / (1 - pe)`; `None` when `pe = 1` (both raters use one single category) or n = 0.
    pub kappa: Option<f64>,
    /// Large-sample standard error (see [`cohen_kappa`]).
    pub se: Option<f64>,
    /// 95 % Wald interval `kappa ± 1.96 se`, clipped to [-1, 1].
    pub ci: Option<(f64, f64)>,
}

/// Cohen's kappa with a 95 % confidence interval.
///
/// The standard error is Cohen's (1960) large-sample approximation
/// `se = sqrt(po (1 - po) / (n (1 - pe)^2))`, not the Fleiss–Cohen–Everitt (1969) formula;
/// the interval is `kappa ± 1.96 se`, clipped to [-1, 1]. With perfect agreement (po = 1) the
/// standard error is 0 and the interval is the single point 1.
///
/// `table[i][j]` counts subjects in category i for A and j for B. Rows shorter than the table
/// count as zeros.
pub fn cohen_kappa(table: &[Vec<u64>]) -> Kappa {
    let k = table
        .len()
        .max(table.iter().map(|r| r.len()).max().unwrap_or(0));
    let cell = |i: usize, j: usize| table.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
    let n: u64 = (0..k)
        .flat_map(|i| (0..k).map(move |j| (i, j)))
        .map(|(i, j)| cell(i, j))
        .sum();
    if n == 0 {
        return Kappa {
            n,
            po: f64::NAN,
            pe: f64::NAN,
            kappa: None,
            se: None,
            ci: None,
        };
    }
    let nf = n as f64;
    let diag: u64 = (0..k).map(|i| cell(i, i)).sum();
    let po = diag as f64 / nf;
    let pe: f64 = (0..k)
        .map(|i| {
            let row: u64 = (0..k).map(|j| cell(i, j)).sum();
            let col: u64 = (0..k).map(|j| cell(j, i)).sum();
            (row as f64 / nf) * (col as f64 / nf)
        })
        .sum();
    if (1.0 - pe).abs() < 1e-12 {
        return Kappa {
            n,
            po,
            pe,
            kappa: None,
            se: None,
            ci: None,
        };
    }
    let kappa = (po - pe) / (1.0 - pe);
    let se = (po * (1.0 - po) / (nf * (1.0 - pe).powi(2))).sqrt();
    let ci = ((kappa - Z_95 * se).max(-1.0), (kappa + Z_95 * se).min(1.0));
    Kappa {
        n,
        po,
        pe,
        kappa: Some(kappa),
        se: Some(se),
        ci: Some(ci),
    }
}

/// Exact (binomial) McNemar test on the discordant pairs of a 2×2 table: `b` subjects are
/// positive under A only, `c` under B only. Two-sided:
/// `p = min(1, 2 P(X <= min(b, c)))` with `X ~ Bin(b + c, 1/2)`; 1 when `b + c = 0`.
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    match Binomial::new(0.5, n) {
        Ok(bin) => (2.0 * bin.cdf(b.min(c))).min(1.0),
        Err(_) => 1.0,
    }
}

/// Exact Clopper–Pearson interval for `x` successes out of `n` at the given confidence level
/// (0.95 for a 95 % interval): lower = Beta(x, n - x + 1) quantile at α/2 (0 when x = 0),
/// upper = Beta(x + 1, n - x) quantile at 1 - α/2 (1 when x = n). `None` when n = 0 or x > n.
pub fn clopper_pearson(x: u64, n: u64, level: f64) -> Option<(f64, f64)> {
    if n == 0 || x > n || !(0.0..1.0).contains(&level) {
        return None;
    }
    let alpha = 1.0 - level;
    let (xf, nf) = (x as f64, n as f64);
    let lo = if x == 0 {
        0.0
    } else {
        Beta::new(xf, nf - xf + 1.0).ok()?.inverse_cdf(alpha / 2.0)
    };
    let hi = if x == n {
        1.0
    } else {
        Beta::new(xf + 1.0, nf - xf)
            .ok()?
            .inverse_cdf(1.0 - alpha / 2.0)
    };
    Some((lo, hi))
}

/// A proportion with its exact 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub count: u64,
    pub n: u64,
    /// `count / n`; `None` when n = 0.
    pub value: Option<f64>,
    pub ci: Option<(f64, f64)>,
}

pub fn rate(count: u64, n: u64) -> Rate {
    Rate {
        count,
        n,
        value: (n > 0).then(|| count as f64 / n as f64),
        ci: clopper_pearson(count, n, 0.95),
    }
}
