//! `crit compare`: several criteria (or parameter variants of one) on one cohort.
//!
//! Each criterion is evaluated on every subject; results are compared by the *class* of each
//! category (`complete`, `partial`, `stable`, `progressive`, `not-evaluable`, or a custom class
//! such as `dissociated`), so criteria with different vocabularies can be compared. A category
//! without a class compares by its own name.
//!
//! The comparison is computed once into a [`Report`] ([`build`], then [`summarize`]'s
//! statistics), which the renderers turn into text, JSON, CSV or a self-contained HTML page.
//! The module takes plain values (criteria as [`Spec`]s, a loaded cohort, a [`Format`]); the
//! command line lives in `cli`.

pub mod build;
pub mod charts;
pub mod divergence;
pub mod drill;
pub mod model;
pub mod os;
pub mod pfs;
pub mod report_csv;
pub mod report_html;
pub mod report_json;
pub mod report_text;
pub mod stats;
pub mod summary;
pub mod survival_html;
pub mod survival_report;
pub mod truth;

pub use build::{
    build, build_table, build_with, end_of_count, outcome, progression, Explain, Options, SUM_VALUE,
};
pub use model::*;
pub use report_csv::{subject_csv, to_csv};
pub use report_json::{subject_json, to_json, write_json, write_json_to};
pub use summary::summarize;

pub use crate::spec::{parse as parse_spec, Spec};

/// The forms of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
    Html,
}

/// Renders a report: the cohort report, or with `subjects` the side-by-side view of the
/// subjects it holds (`--subject`; not as HTML).
pub fn render(r: &Report, format: Format, subjects: bool) -> String {
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    match (subjects, format) {
        (true, Format::Json) => pretty(subject_json(r)),
        (true, Format::Csv) => subject_csv(r),
        (true, _) => report_text::subject_view(r),
        (false, Format::Text) => report_text::render(r),
        (false, Format::Json) => write_json(r, vec![]),
        (false, Format::Csv) => to_csv(r),
        (false, Format::Html) => report_html::render(r),
    }
}
