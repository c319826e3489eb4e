//! Evaluation of a checked ruleset against bound subject data.
pub mod best;
pub mod engine;
pub mod value;

use rayon::prelude::*;

pub use engine::{Engine, Evaluation};

use crate::data::bind::{self, Binding};
use crate::data::model::{DataError, RawCohort, RawSubject};

/// Evaluates every subject of a cohort in parallel and maps each result with `f` (in the
/// cohort's order). A subject whose data is invalid reaches `f` as its error.
pub fn each_subject<T: Send>(
    eng: &Engine,
    binding: &Binding,
    cohort: &RawCohort,
    f: impl Fn(&RawSubject, Result<&Evaluation, &DataError>) -> T + Sync,
) -> Vec<T> {
    let progress = crate::progress::Progress::new(cohort.subjects.len() as u64, "subjects");
    progress.message(eng.rs.id.clone());
    let out = cohort
        .subjects
        .par_iter()
        .map(|raw| {
            let r = match bind::bind(eng.rs, binding, &cohort.file, raw) {
                Ok(subj) => {
                    let ev = eng.evaluate(&subj);
                    f(raw, Ok(&ev))
                }
                Err(e) => f(raw, Err(&e)),
            };
            progress.tick();
            r
        })
        .collect();
    progress.finish();
    out
}
