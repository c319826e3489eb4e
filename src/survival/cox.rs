//! Cox proportional hazards for one categorical covariate: hazard ratios of each category
//! against a reference.

use super::Z_95;
use ndarray::Array2;
use solow_duration::{PHRegTies, Ties};
use statrs::distribution::{ContinuousCDF, Normal};

/// One category's hazard ratio against the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxTerm {
    pub group: usize,
    pub n: usize,
    pub events: usize,
    /// log hazard ratio and its standard error (inverse observed information).
    pub coef: Option<f64>,
    pub se: Option<f64>,
    pub hr: Option<f64>,
    /// Wald 95 % interval `exp(coef ± z se)` and two-sided Wald p.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub p: Option<f64>,
    /// Why a ratio is missing or degenerate (e.g. no events in the category).
    pub note: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CoxFit {
    pub reference: usize,
    /// One term per non-reference group that has subjects, by group index.
    pub terms: Vec<CoxTerm>,
    pub converged: bool,
}

/// Ties are handled by Efron's approximation (R `coxph`'s default).
pub const TIES: &str = "Efron";

/// Fits `h(t | g) = h0(t) exp(β_g)`, β_reference = 0. A category without events has a
/// hazard ratio of 0 in the limit (the likelihood grows as β → −∞); it is reported as such and
/// its subjects leave the fit — which is exactly that limit for the other ratios. `None` when
/// the reference group has no subjects.
pub fn cox_categorical(
    time: &[f64],
    event: &[bool],
    group: &[usize],
    reference: usize,
) -> Option<CoxFit> {
    let n_obs = time.len();
    if event.len() != n_obs || group.len() != n_obs {
        return None;
    }
    let k = group.iter().copied().max()?.max(reference) + 1;
    let (mut n, mut d) = (vec![0usize; k], vec![0usize; k]);
    for i in 0..n_obs {
        n[group[i]] += 1;
        d[group[i]] += event[i] as usize;
    }
    if n[reference] == 0 {
        return None;
    }
    let blank = |g: usize, note: &'static str| CoxTerm {
        group: g,
        n: n[g],
        events: d[g],
        coef: None,
        se: None,
        hr: None,
        lower: None,
        upper: None,
        p: None,
        note: Some(note),
    };
    let others: Vec<usize> = (0..k).filter(|g| *g != reference && n[*g] > 0).collect();
    if d[reference] == 0 {
        let terms = others
            .iter()
            .map(|g| blank(*g, "no events in the reference category"))
            .collect();
        return Some(CoxFit {
            reference,
            terms,
            converged: false,
        });
    }
    // Categories with events get a column; the rest are the β → −∞ limit.
    let fitted: Vec<usize> = others.iter().copied().filter(|g| d[*g] > 0).collect();
    let rows: Vec<usize> = (0..n_obs)
        .filter(|i| group[*i] == reference || fitted.contains(&group[*i]))
        .collect();
    let mut estimates = vec![None; k];
    let mut converged = true;
    if !fitted.is_empty() {
        let mut exog = Array2::<f64>::zeros((rows.len(), fitted.len()));
        for (r, &i) in rows.iter().enumerate() {
            if let Some(c) = fitted.iter().position(|g| *g == group[i]) {
                exog[[r, c]] = 1.0;
            }
        }
        let t: Vec<f64> = rows.iter().map(|i| time[*i]).collect();
        let s: Vec<f64> = rows.iter().map(|i| event[*i] as u8 as f64).collect();
        let res = PHRegTies::new(&t, &exog, &s, Ties::Efron)
            .ok()?
            .fit()
            .ok()?;
        converged = res.converged;
        for (c, g) in fitted.iter().enumerate() {
            estimates[*g] = Some((res.params[c], res.bse[c]));
        }
    }
    let normal = Normal::standard();
    let terms = others
        .iter()
        .map(|&g| match estimates[g] {
            Some((b, se)) if b.is_finite() && se.is_finite() => CoxTerm {
                group: g,
                n: n[g],
                events: d[g],
                coef: Some(b),
                se: Some(se),
                hr: Some(b.exp()),
                lower: Some((b - Z_95 * se).exp()),
                upper: Some((b + Z_95 * se).exp()),
                p: Some(2.0 * (1.0 - normal.cdf((b / se).abs()))),
                note: None,
            },
            Some(_) => blank(g, "the fit did not converge"),
            None => CoxTerm {
                hr: Some(0.0),
                ..blank(
                    g,
                    "no events in this category: the hazard ratio is 0 in the limit",
                )
            },
        })
        .collect();
    Some(CoxFit {
        reference,
        terms,
        converged,
    })
}
