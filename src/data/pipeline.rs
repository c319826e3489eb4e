//! Subjects read, worked on in parallel, and handed on in the table's order. The table is read
//! in batches; while the threads of the current rayon pool work on one batch (parsing, binding,
//! evaluating, formatting), the next is read. Results reach `sink` in input order whatever the
//! number of threads, so the output is byte for byte the same for any `--threads`. Memory holds
//! two batches, not the cohort.

use rayon::prelude::*;

use super::model::{DataError, RawSubject};
use super::stream::{Table, Unit};

/// Units per batch, and the most bytes of rows a batch holds before it is handed on.
const BATCH: usize = 256;
const BATCH_BYTES: usize = 8 << 20;

fn read_batch(table: &mut Table) -> Vec<Unit> {
    let mut batch = Vec::with_capacity(BATCH);
    let mut bytes = 0;
    while batch.len() < BATCH && bytes < BATCH_BYTES {
        let Some(u) = table.next() else { break };
        if let Unit::Rows(c) = &u {
            bytes += c.bytes();
        }
        batch.push(u);
    }
    batch
}

/// Calls `work` on every subject of the table (one per subject and reader), in parallel on the
/// current rayon pool, and `sink` on each result in the table's order; a row that belongs to no
/// subject reaches `sink` as its error. `sink` returns false to stop (e.g. a closed pipe).
pub fn for_each_subject<T: Send>(
    table: &mut Table,
    work: impl Fn(&RawSubject) -> T + Sync,
    progress: Option<&crate::progress::Progress>,
    mut sink: impl FnMut(Result<T, DataError>) -> bool,
) {
    let schema = table.schema.clone();
    let process = |batch: Vec<Unit>| -> Vec<Result<Vec<T>, DataError>> {
        batch
            .into_par_iter()
            .map(|u| {
                let r = u
                    .into_subjects(&schema)
                    .map(|subjects| subjects.iter().map(&work).collect());
                if let Some(p) = progress {
                    p.tick();
                }
                r
            })
            .collect()
    };
    // While the pool works on one batch, this thread hands the previous batch's results to
    // `sink` and reads the next: writing and reading overlap the work instead of waiting for it.
    let mut batch = read_batch(table);
    let mut done: Vec<Result<Vec<T>, DataError>> = Vec::new();
    while !batch.is_empty() {
        let mut finished = Vec::new();
        // `sink` need not be Send: it stays on this thread, the work goes to the pool.
        let (go, next) = rayon::in_place_scope(|s| {
            s.spawn(|_| finished = process(batch));
            let go = hand_on(std::mem::take(&mut done), &mut sink);
            (go, if go { read_batch(table) } else { Vec::new() })
        });
        if !go {
            return;
        }
        done = finished;
        batch = next;
    }
    hand_on(done, &mut sink);
}

/// Gives a batch's results to `sink` in order; false when `sink` asked to stop.
fn hand_on<T>(
    done: Vec<Result<Vec<T>, DataError>>,
    sink: &mut impl FnMut(Result<T, DataError>) -> bool,
) -> bool {
    for r in done {
        let go = match r {
            Ok(ts) => ts.into_iter().all(|t| sink(Ok(t))),
            Err(e) => sink(Err(e)),
        };
        if !go {
            return false;
        }
    }
    true
}
