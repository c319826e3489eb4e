//! crit: tumour response criteria written in a small declarative language, checked, evaluated
//! against lesion data, and explained.
//!
//! Pipeline: [`syntax`] (source → AST) → [`check`] (names, units, tables → IR) → [`eval`]
//! (values with unknowns, per subject) → [`explain`] (text, JSON, CSV).

pub mod audit;
pub mod check;
pub mod cli;
pub mod compare;
pub mod data;
pub mod diag;
pub mod eval;
pub mod explain;
pub mod progress;
pub mod registry;
pub mod rs_domain;
pub mod simulate;
pub mod spec;
pub mod survival;
pub mod syntax;
pub mod units;
