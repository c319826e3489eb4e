//! Survival statistics for progression-free and overall survival: Kaplan–Meier curves with
//! Greenwood standard errors and pointwise confidence intervals, the median with its
//! Brookmeyer–Crowley interval, rates at given times, the k-group log-rank test, a Cox model for
//! one categorical covariate and Harrell's concordance.
//!
//! The estimates, Greenwood errors, log-rank statistic and Cox fit (Efron ties, R's default) come
//! from `solow-duration`; the confidence intervals, quantiles and concordance follow R's
//! `survival` package (survfit, quantile.survfit, concordance) and are written here because no
//! crate offers them. Times are `f64` (days); events are `bool` (true = event, false = censored).
//! Reference values (the `aml` and `lung` data of R's survival package) are in
//! `tests/survival.rs`.

mod concordance;
mod cox;
mod km;
mod logrank;

pub use concordance::{concordance, Concordance};
pub use cox::{cox_categorical, CoxFit, CoxTerm, TIES};
pub use km::{ConfType, KaplanMeier, Quantile, Rate, Step};
pub use logrank::{logrank, LogRank};

/// z for a two-sided 95 % interval (the 0.975 quantile of the standard normal).
pub const Z_95: f64 = 1.959_963_984_540_054;
