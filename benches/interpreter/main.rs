//! The interpreter against RECIST 1.1 written by hand (`recist.rs`), over the same simulated
//! cohort bound in memory: the ratio of their medians is the interpreter's overhead
//! (`bench/run.sh`, ratio 3, target ≤ 2). Also binding alone, for scale.
//!
//! `cargo bench --bench interpreter` (divan), or `cargo bench --bench interpreter -- --paired`:
//! runs of the two in turn and the median of their ratios, which `bench/run.sh` reports.

mod recist;

use crit::check::{self, Checked};
use crit::data::bind::{self, Binding};
use crit::data::model::{RawCohort, Subject};
use crit::data::Table;
use crit::eval::Engine;

/// Subjects in the benchmark cohort.
const SUBJECTS: u64 = 2_000;

struct Cohort {
    checked: Checked,
    raw: RawCohort,
    binding: Binding,
    subjects: Vec<Subject>,
}

fn cohort() -> Cohort {
    let plan = crit::simulate::Plan::new(Default::default(), 1, 1, false, false, SUBJECTS);
    let mut csv = crit::simulate::readers::header(false).as_bytes().to_vec();
    let (mut truth, mut outcomes) = (vec![], vec![]);
    for i in 0..SUBJECTS {
        plan.write_subject(i, &mut csv, &mut truth, &mut outcomes);
    }
    let raw = Table::csv_text("sim.csv", &csv)
        .unwrap_or_else(|e| panic!("{e}"))
        .load();
    // Another ruleset (a variant of RECIST 1.1, say) in `CRIT_BENCH_CRITERIA`: what each of
    // its parts costs, from the difference (the agreement line then compares unlike things).
    let criteria = std::env::var("CRIT_BENCH_CRITERIA").unwrap_or_else(|_| "recist-1.1".into());
    let checked = check::load(&criteria).unwrap_or_else(|_| panic!("{criteria} loads"));
    let binding = bind::plan(&checked.ruleset, &raw).unwrap_or_else(|_| panic!("columns"));
    let subjects: Vec<Subject> = raw
        .subjects
        .iter()
        .filter_map(|r| bind::bind(&checked.ruleset, &binding, &raw.file, r).ok())
        .collect();
    assert_eq!(subjects.len() as u64, SUBJECTS, "every subject binds");
    Cohort {
        checked,
        raw,
        binding,
        subjects,
    }
}

fn columns(c: &Cohort) -> recist::Columns {
    let lesion_inputs: Vec<&str> = c
        .checked
        .ruleset
        .inputs
        .iter()
        .filter(|i| i.level == crit::check::ir::InputLevel::Lesion)
        .map(|i| i.name.as_str())
        .collect();
    let at = |n: &str| lesion_inputs.iter().position(|x| *x == n);
    recist::Columns {
        long_axis: at("long_axis").unwrap_or_else(|| panic!("long_axis")),
        short_axis: at("short_axis"),
    }
}

fn main() {
    // How often the two agree, said once so that the ratio compares like with like.
    let c = cohort();
    let eng = Engine::new(&c.checked.ruleset);
    let cols = columns(&c);
    let rs = &c.checked.ruleset;
    let (mut same_t, mut all_t, mut same_best) = (0, 0, 0);
    for s in &c.subjects {
        let ev = eng.evaluate(s);
        let (overall, best) = recist::recist(s, &cols);
        for (k, cat) in overall.iter().enumerate() {
            all_t += 1;
            same_t += usize::from(
                ev.category(k + 1, rs.overall).map(|x| rs.cat_name(x)) == Some(cat.name()),
            );
        }
        same_best += usize::from(ev.best.category.map(|x| rs.cat_name(x)) == Some(best.name()));
    }
    println!(
        "by hand = interpreter: {same_t} of {all_t} timepoint responses, {same_best} of {} best responses",
        c.subjects.len()
    );
    if std::env::args().any(|a| a == "--paired") {
        paired(&c, &eng, &cols);
        return;
    }
    divan::main();
}

/// Pairs of runs over the cohort, one of each in turn (the order alternating), and the median
/// of their ratios: a slower spell of a shared machine slows both runs of a pair, where
/// divan's medians, taken one benchmark after the other, can catch it in one only.
fn paired(c: &Cohort, eng: &Engine, cols: &recist::Columns) {
    const PAIRS: usize = 101;
    let interpreted = || {
        let t = std::time::Instant::now();
        for s in &c.subjects {
            std::hint::black_box(eng.evaluate(s).best.category);
        }
        t.elapsed().as_secs_f64()
    };
    let by_hand = || {
        let t = std::time::Instant::now();
        for s in &c.subjects {
            std::hint::black_box(recist::recist(s, cols).1);
        }
        t.elapsed().as_secs_f64()
    };
    // Warm both up (caches, the evaluation buffers of this thread).
    for _ in 0..5 {
        interpreted();
        by_hand();
    }
    let mut ratios: Vec<f64> = (0..PAIRS)
        .map(|k| {
            let (a, b) = if k % 2 == 0 {
                let a = interpreted();
                (a, by_hand())
            } else {
                let b = by_hand();
                (interpreted(), b)
            };
            a / b
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "paired ratio interpreted / by hand: {:.3} (median of {PAIRS} pairs; {:.3} to {:.3})",
        ratios[PAIRS / 2],
        ratios[0],
        ratios[PAIRS - 1]
    );
}

#[divan::bench(sample_count = 100, sample_size = 5)]
fn interpreted(b: divan::Bencher) {
    let c = cohort();
    let eng = Engine::new(&c.checked.ruleset);
    b.bench_local(|| {
        for s in &c.subjects {
            divan::black_box(eng.evaluate(s).best.category);
        }
    });
}

#[divan::bench(sample_count = 100, sample_size = 5)]
fn by_hand(b: divan::Bencher) {
    let c = cohort();
    let cols = columns(&c);
    b.bench_local(|| {
        for s in &c.subjects {
            divan::black_box(recist::recist(s, &cols).1);
        }
    });
}

#[divan::bench(sample_count = 100, sample_size = 5)]
fn bind_only(b: divan::Bencher) {
    let c = cohort();
    b.bench_local(|| {
        for r in &c.raw.subjects {
            let _ = divan::black_box(bind::bind(&c.checked.ruleset, &c.binding, &c.raw.file, r));
        }
    });
}
