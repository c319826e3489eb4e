//! Evaluation of a checked ruleset against bound subject data.
pub mod best;
mod confirm;
pub mod engine;
pub mod events;
mod reject;
pub mod value;

use rayon::prelude::*;

pub use engine::{Engine, Evaluation};

use crate::data::bind::{self, Binding};
use crate::data::model::{DataError, RawCohort, RawSubject};
use crate::data::{pipeline, Table};

/// Binds one subject's rows and evaluates them; `f` maps the evaluation, or the subject's data
/// error.
pub fn evaluate_raw<T>(
    eng: &Engine,
    binding: &Binding,
    file: &str,
    raw: &RawSubject,
    f: impl FnOnce(&RawSubject, Result<&Evaluation, &DataError>) -> T,
) -> T {
    match bind::bind(eng.rs, binding, file, raw) {
        Ok(subj) => {
            let ev = eng.evaluate(&subj);
            // Lesions the ruleset rejects make the subject a data error.
            match ev.rejection(file) {
                None => f(raw, Ok(&ev)),
                Some(e) => f(raw, Err(&e)),
            }
        }
        Err(e) => f(raw, Err(&e)),
    }
}

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
            let r = evaluate_raw(eng, binding, &cohort.file, raw, &f);
            progress.tick();
            r
        })
        .collect();
    progress.finish();
    out
}

/// Streams a table: every subject that `keep` accepts is bound, evaluated and mapped with `f`
/// in parallel (on the current rayon pool), and `sink` gets the results in the table's order,
/// with the rows that belong to no subject as errors. `sink` returns false to stop.
pub fn stream<T: Send>(
    eng: &Engine,
    binding: &Binding,
    table: &mut Table,
    keep: impl Fn(&RawSubject) -> bool + Sync,
    f: impl Fn(&RawSubject, Result<&Evaluation, &DataError>) -> T + Sync,
    sink: impl FnMut(Result<Option<T>, DataError>) -> bool,
) {
    let progress = crate::progress::Progress::new(table.subjects.unwrap_or(0) as u64, "subjects");
    progress.message(eng.rs.id.clone());
    let file = table.schema.file.clone();
    let work = |raw: &RawSubject| keep(raw).then(|| evaluate_raw(eng, binding, &file, raw, &f));
    pipeline::for_each_subject(table, work, Some(&progress), sink);
    progress.finish();
}
