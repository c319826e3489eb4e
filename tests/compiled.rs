//! The compiled evaluator against the tree walker, which defines what every expression means.
//! For every shipped ruleset, on every eval case of the corpus and on simulated cohorts (as
//! simulated, and with measurements and statuses knocked out so that values are unknown), both
//! give the same categories, best responses, events and verbose explanations, word for word;
//! also with each yes/no param set the other way.

use std::collections::BTreeMap;
use std::path::Path;

use crit::check::ir::ParamValue;
use crit::check::{self, Checked};
use crit::data::model::RawCohort;
use crit::data::{bind, table, Table};
use crit::eval::{events, Engine, Evaluation};
use crit::explain::{output, text};

/// Everything a user sees of one subject's evaluation.
fn seen(ev: &Evaluation) -> String {
    let mut s = text::subject(ev, &text::Options { verbose: true });
    s.push_str(&output::subject_json(ev).to_string());
    s.push_str(&format!("{:?}", events::events(ev, None)));
    s
}

/// Evaluates every subject of `cohort` both ways and asserts the same result; the number of
/// subjects compared.
fn compare(what: &str, checked: &Checked, sets: &[String], cohort: &RawCohort) -> usize {
    let rs = &checked.ruleset;
    let Ok(binding) = bind::plan(rs, cohort) else {
        return 0;
    };
    let mut compiled = Engine::new(rs);
    let mut walker = Engine::new(rs).tree_walking();
    for s in sets {
        crit::cli::apply_set(&mut compiled, s).unwrap_or_else(|d| panic!("{what}: {d}"));
        crit::cli::apply_set(&mut walker, s).unwrap_or_else(|d| panic!("{what}: {d}"));
    }
    let mut n = 0;
    for raw in &cohort.subjects {
        let Ok(subj) = bind::bind(rs, &binding, &cohort.file, raw) else {
            continue;
        };
        let (a, b) = (compiled.evaluate(&subj), walker.evaluate(&subj));
        assert_eq!(
            seen(&a),
            seen(&b),
            "{what}: subject {} (left: compiled, right: tree walker)",
            raw.subject
        );
        n += 1;
    }
    n
}

/// A simulated cohort; `knock_out` blanks every 7th measurement and makes every 11th lesion
/// not evaluated.
fn simulated(seed: u64, pet: bool, knock_out: bool) -> RawCohort {
    let plan = crit::simulate::Plan::new(Default::default(), seed, 1, pet, false, 150);
    let mut csv = crit::simulate::readers::header(pet).as_bytes().to_vec();
    let (mut truth, mut outcomes) = (vec![], vec![]);
    for i in 0..150 {
        plan.write_subject(i, &mut csv, &mut truth, &mut outcomes);
    }
    if knock_out {
        let text = String::from_utf8(csv).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
        let (status, long) = (col("status"), col("long_axis"));
        let mut out = header.join(",") + "\n";
        for (i, line) in lines.enumerate() {
            let mut cells: Vec<String> = line.split(',').map(String::from).collect();
            if i % 7 == 3 {
                cells[long].clear();
            }
            if i % 11 == 5 {
                cells[status] = "not-evaluated".into();
            }
            out.push_str(&(cells.join(",") + "\n"));
        }
        csv = out.into_bytes();
    }
    Table::csv_text("sim.csv", &csv).unwrap().load()
}

#[test]
fn compiled_definitions_give_what_the_tree_walker_gives() {
    let mut compared: BTreeMap<&str, usize> = BTreeMap::new();
    let cohorts: Vec<(String, RawCohort)> = [
        (1, false, false),
        (2, false, true),
        (3, true, false),
        (4, true, true),
    ]
    .iter()
    .map(|&(seed, pet, k)| {
        (
            format!("simulated seed {seed} pet {pet} knock-out {k}"),
            simulated(seed, pet, k),
        )
    })
    .collect();
    for (id, _) in crit::registry::shipped() {
        let checked = check::load(id).unwrap_or_else(|_| panic!("{id} loads"));
        for (what, cohort) in &cohorts {
            *compared.entry(id).or_default() +=
                compare(&format!("{id}, {what}"), &checked, &[], cohort);
        }
        // Rules that a protocol choice switches on: each yes/no param the other way round,
        // on the cohorts with unknown values.
        for p in &checked.ruleset.params {
            if let ParamValue::Bool(b) = p.value {
                let set = vec![format!("{}={}", p.name, !b)];
                for (what, cohort) in cohorts.iter().filter(|(w, _)| w.ends_with("true")) {
                    compare(
                        &format!("{id}, {what}, --set {}", set[0]),
                        &checked,
                        &set,
                        cohort,
                    );
                }
            }
        }
    }
    // The corpus: every eval case with its ruleset and `set:` lines.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = vec![root.join("tests/cases/eval")];
    while let Some(p) = cases.pop() {
        if p.is_dir() {
            cases.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "case") {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        let (header, data) = src.split_once("\n---\n").unwrap();
        let field = |k: &'static str| {
            header
                .lines()
                .filter_map(move |l| l.trim().strip_prefix(k).map(str::trim))
        };
        let criteria = field("criteria:").next().unwrap();
        let local = p.parent().unwrap().join(criteria);
        let checked = if local.is_file() {
            check::load(&local.to_string_lossy())
        } else {
            check::load(criteria)
        }
        .unwrap_or_else(|_| panic!("{}: ruleset loads", p.display()));
        let sets: Vec<String> = field("set:").map(String::from).collect();
        let Ok(cohort) = table::read_csv("case.csv", data) else {
            continue;
        };
        let n = compare(&p.display().to_string(), &checked, &sets, &cohort);
        if let Some((id, _)) = crit::registry::shipped()
            .into_iter()
            .find(|(id, _)| *id == criteria)
        {
            *compared.entry(id).or_default() += n;
        }
    }
    for (id, _) in crit::registry::shipped() {
        assert!(
            compared.get(id).copied().unwrap_or(0) > 0,
            "{id}: no subject compared ({compared:?})"
        );
    }
}
