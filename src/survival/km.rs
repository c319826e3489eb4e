//! Kaplan–Meier estimate, pointwise confidence intervals, quantiles and rates.

use super::Z_95;
use solow_duration::SurvfuncRight;

/// Transform used for the pointwise confidence interval of the survival curve (and so for the
/// Brookmeyer–Crowley interval of the median).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfType {
    /// `S exp(±z σ)` with σ the Greenwood standard error of `log S`; R survfit's default.
    #[default]
    Log,
    /// `S^exp(±z σ / log S)`: the interval on `log(-log S)`; SAS PROC LIFETEST's default.
    LogLog,
}

impl ConfType {
    pub fn name(self) -> &'static str {
        match self {
            ConfType::Log => "log",
            ConfType::LogLog => "log-log",
        }
    }
}

/// One step of the curve: an event time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub time: f64,
    /// At risk just before `time`.
    pub n_risk: usize,
    pub n_event: usize,
    /// S(time), i.e. just after the events at `time`.
    pub surv: f64,
    /// Greenwood standard error of S (survival scale, as R's `summary.survfit` prints it).
    pub std_err: f64,
    /// Pointwise 95 % interval; `None` where it is undefined (S = 0).
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// A quantile of the survival time with its interval; `None` = not reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    pub estimate: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// Survival at a given time with its pointwise interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub time: f64,
    pub surv: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub n_risk: usize,
}

/// A Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    pub n: usize,
    pub events: usize,
    pub conf_type: ConfType,
    /// One step per distinct event time, ascending.
    pub steps: Vec<Step>,
    /// Every observed time (events and censorings), ascending: numbers at risk and censor marks.
    times: Vec<f64>,
    /// Censoring times, ascending (with repeats).
    pub censored: Vec<f64>,
}

impl KaplanMeier {
    /// Fits the curve. `time` and `event` have one entry per subject; non-finite times are
    /// rejected by returning `None`, as is an empty sample.
    pub fn fit(time: &[f64], event: &[bool], conf_type: ConfType) -> Option<KaplanMeier> {
        if time.is_empty() || time.len() != event.len() || time.iter().any(|t| !t.is_finite()) {
            return None;
        }
        let mut times = time.to_vec();
        times.sort_by(f64::total_cmp);
        let mut censored: Vec<f64> = time
            .iter()
            .zip(event)
            .filter(|(_, e)| !**e)
            .map(|(t, _)| *t)
            .collect();
        censored.sort_by(f64::total_cmp);
        let events = event.iter().filter(|e| **e).count();
        let mut steps = Vec::new();
        if events > 0 {
            let status: Vec<f64> = event.iter().map(|e| if *e { 1.0 } else { 0.0 }).collect();
            let fit = SurvfuncRight::new(time, &status).ok()?;
            // Greenwood on the log scale, accumulated here because solow reports it on the
            // survival scale only and that cannot be divided back where S = 0.
            let mut log_var = 0.0;
            for k in 0..fit.surv_times.len() {
                let (n, d) = (fit.n_risk[k], fit.n_events[k]);
                log_var += if n > d {
                    d / (n * (n - d))
                } else {
                    f64::INFINITY
                };
                let surv = fit.surv_prob[k];
                let sigma = log_var.sqrt();
                let (lower, upper) = interval(surv, sigma, conf_type);
                steps.push(Step {
                    time: fit.surv_times[k],
                    n_risk: n as usize,
                    n_event: d as usize,
                    surv,
                    std_err: fit.surv_prob_se[k],
                    lower,
                    upper,
                });
            }
        }
        Some(KaplanMeier {
            n: time.len(),
            events,
            conf_type,
            steps,
            times,
            censored,
        })
    }

    /// Last observed time (event or censoring).
    pub fn max_time(&self) -> f64 {
        self.times.last().copied().unwrap_or(0.0)
    }

    /// Number at risk at time `t`: subjects whose time is `>= t`.
    pub fn at_risk(&self, t: f64) -> usize {
        self.times.len() - self.times.partition_point(|x| *x < t)
    }

    /// S(t) with its interval, as R's `summary(fit, times = t)`: the last step at or before t;
    /// `None` after the last observed time (the curve is not extended).
    pub fn rate_at(&self, t: f64) -> Option<Rate> {
        if !t.is_finite() || t > self.max_time() {
            return None;
        }
        let n_risk = self.at_risk(t);
        let i = self.steps.partition_point(|s| s.time <= t);
        Some(match i {
            0 => Rate {
                time: t,
                surv: 1.0,
                lower: Some(1.0),
                upper: Some(1.0),
                n_risk,
            },
            i => {
                let s = &self.steps[i - 1];
                Rate {
                    time: t,
                    surv: s.surv,
                    lower: s.lower,
                    upper: s.upper,
                    n_risk,
                }
            }
        })
    }

    /// The median survival time with its Brookmeyer–Crowley interval.
    pub fn median(&self) -> Quantile {
        self.quantile(0.5)
    }

    /// The time at which the curve reaches `1 - p` (p = 0.5: the median), with the interval
    /// read off the pointwise confidence curves (Brookmeyer–Crowley), as R's
    /// `quantile.survfit`: the first time the curve falls below the level; where it stays
    /// exactly on the level over a flat, the midpoint of that flat.
    pub fn quantile(&self, p: f64) -> Quantile {
        let level = 1.0 - p;
        let curve = |f: &dyn Fn(&Step) -> Option<f64>| -> Vec<(f64, f64)> {
            self.steps
                .iter()
                .filter_map(|s| f(s).map(|y| (s.time, y)))
                .collect()
        };
        Quantile {
            estimate: crossing(&curve(&|s| Some(s.surv)), level, self.max_time()),
            lower: crossing(&curve(&|s| s.lower), level, self.max_time()),
            upper: crossing(&curve(&|s| s.upper), level, self.max_time()),
        }
    }
}

/// The pointwise interval at one step.
fn interval(surv: f64, sigma: f64, conf_type: ConfType) -> (Option<f64>, Option<f64>) {
    if surv <= 0.0 || !sigma.is_finite() {
        return (None, None);
    }
    match conf_type {
        ConfType::Log => (
            Some(surv * (-Z_95 * sigma).exp()),
            Some((surv * (Z_95 * sigma).exp()).min(1.0)),
        ),
        ConfType::LogLog => {
            if surv >= 1.0 {
                return (None, None);
            }
            let ls = surv.ln();
            let v = (-ls).ln();
            let w = Z_95 * sigma / ls.abs();
            (Some((-(v + w).exp()).exp()), Some((-(v - w).exp()).exp()))
        }
    }
}

/// Where a step curve (starting at 1 at time 0) reaches `level`; see [`KaplanMeier::quantile`].
fn crossing(curve: &[(f64, f64)], level: f64, max_time: f64) -> Option<f64> {
    const TOL: f64 = 1.490_116_119_384_765_6e-8; // sqrt(machine epsilon), as R
                                                 // Points where the value changes (repeats add no step).
    let mut pts: Vec<(f64, f64)> = Vec::with_capacity(curve.len());
    let mut last = 1.0;
    for &(t, y) in curve {
        if y != last {
            pts.push((t, y));
            last = y;
        }
    }
    for (k, &(t, y)) in pts.iter().enumerate() {
        if (y - level).abs() < TOL {
            let next = pts.get(k + 1).map(|p| p.0).unwrap_or(max_time);
            return Some((t + next) / 2.0);
        }
        if y < level {
            return Some(t);
        }
    }
    None
}
