//! `crit simulate`: determinism, realised shares, readers, and hand-checked cohorts per pattern
//! evaluated under RECIST 1.1, iRECIST and dr-recist.

mod common;
use common::crit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crit::simulate::dynamics::Pattern;
use crit::simulate::model::{Model, Site};
use crit::simulate::subject::Kinetics;
use crit::simulate::{generate, Plan};

fn temp(name: &str) -> PathBuf {
    common::temp_dir(&format!("simulate-{name}"))
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn same_seed_same_files_for_any_thread_count() {
    let run = |threads: &str, seed: &str, name: &str| {
        let dir = temp(name);
        let d = dir.to_string_lossy().to_string();
        let (code, _, err) = crit(&[
            "simulate",
            "--subjects",
            "600",
            "--seed",
            seed,
            "--readers",
            "2",
            "--pet",
            "--outcomes",
            "--threads",
            threads,
            "--output",
            &d,
        ]);
        assert_eq!(code, 0, "{err}");
        dir
    };
    let a = run("1", "7", "t1");
    let b = run("2", "7", "t2");
    let c = run("2", "8", "t3");
    for f in ["lesions.csv", "truth.csv", "outcomes.csv"] {
        assert_eq!(
            read(&a, f),
            read(&b, f),
            "{f} differs between 1 and 2 threads"
        );
        assert_ne!(read(&a, f), read(&c, f), "{f} does not depend on the seed");
    }
    // A subject does not depend on how many subjects are simulated.
    let plan_small = Plan::new(Model::default(), 7, 1, false, false, 10);
    let plan_large = Plan::new(Model::default(), 7, 1, false, false, 100_000);
    let (mut l1, mut t1, mut o1) = (vec![], vec![], vec![]);
    let (mut l2, mut t2, mut o2) = (vec![], vec![], vec![]);
    plan_small.write_subject(5, &mut l1, &mut t1, &mut o1);
    plan_large.write_subject(5, &mut l2, &mut t2, &mut o2);
    let strip = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&l1), strip(&l2));
    assert_eq!(strip(&t1), strip(&t2));
}

#[test]
fn the_files_follow_the_contract() {
    let dir = temp("contract");
    let d = dir.to_string_lossy().to_string();
    let (code, _, err) = crit(&[
        "simulate",
        "--subjects",
        "50",
        "--seed",
        "1",
        "--pet",
        "--outcomes",
        "--output",
        &d,
    ]);
    assert_eq!(code, 0, "{err}");
    let lesions = read(&dir, "lesions.csv");
    assert_eq!(
        lesions.lines().next().unwrap(),
        "subject,reader,visit,date,lesion,role,organ,nodal,status,long_axis,short_axis,start_date,sul_peak,liver_sul_mean[SUL],liver_sul_sd[SUL]"
    );
    let truth = read(&dir, "truth.csv");
    let header: Vec<&str> = truth.lines().next().unwrap().split(',').collect();
    for c in [
        "subject",
        "pattern",
        "true_best_change",
        "true_progression_day",
    ] {
        assert!(header.contains(&c), "truth.csv has {c}");
    }
    assert_eq!(truth.lines().count(), 51);
    assert_eq!(
        read(&dir, "outcomes.csv").lines().next().unwrap(),
        "subject,os_days,death"
    );
    // The table reads and evaluates under every shipped CT and PET ruleset, without errors.
    for c in ["recist-1.1", "irecist", "dr-recist", "percist-1.0"] {
        let (code, _, err) = crit(&[
            "eval",
            "--criteria",
            c,
            &format!("{d}/lesions.csv"),
            "--format",
            "csv",
        ]);
        assert_eq!(code, 0, "{c}: {err}");
    }
}

#[test]
fn realised_shares_match_the_model() {
    let m = Model::default();
    let n = 20_000u64;
    let plan = Plan::new(m.clone(), 3, 1, false, false, n);
    let mut kinetics: BTreeMap<&str, f64> = BTreeMap::new();
    let mut patterns: BTreeMap<&str, f64> = BTreeMap::new();
    for i in 0..n {
        let s = plan.subject(i);
        *kinetics.entry(s.kinetics.name()).or_default() += 1.0 / n as f64;
        *patterns.entry(s.pattern().name()).or_default() += 1.0 / n as f64;
    }
    // The kinetics classes are drawn with the model's shares (within 4 binomial SEs).
    let k = &m.kinetics;
    for (class, p) in [
        (Kinetics::Responsive, k.responsive_share),
        (Kinetics::Mixed, k.mixed_share),
        (Kinetics::Flare, k.flare_share),
    ] {
        let got = kinetics.get(class.name()).copied().unwrap_or(0.0);
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((got - p).abs() < 4.0 * se, "{}: {got} vs {p}", class.name());
    }
    // The patterns read from the true trajectories give what the defaults are calibrated to:
    // an immunotherapy trial in advanced NSCLC with about 20 % responders, about 10 %
    // dissociated responses and a few % pseudoprogressions.
    let share = |p: Pattern| patterns.get(p.name()).copied().unwrap_or(0.0);
    assert!(
        (share(Pattern::Responder) - 0.20).abs() < 0.03,
        "{patterns:?}"
    );
    assert!(
        (share(Pattern::Dissociated) - 0.10).abs() < 0.03,
        "{patterns:?}"
    );
    assert!(
        (0.015..0.06).contains(&share(Pattern::Pseudoprogression)),
        "{patterns:?}"
    );
    assert!(
        (share(Pattern::Progressor) - 0.40).abs() < 0.08,
        "{patterns:?}"
    );
}

#[test]
fn readers_without_noise_read_alike() {
    let mut m = Model::default();
    m.readers.measurement_cv = 0.0;
    m.readers.selection_sd_log = 0.0;
    m.readers.nt_judgement_cv = 0.0;
    let plan = Plan::new(m, 11, 3, true, false, 200);
    let dir = temp("noiseless");
    generate(&plan, 200, &dir).unwrap();
    let mut by_reader: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in read(&dir, "lesions.csv").lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let mut rest = cells.clone();
        rest.remove(1);
        by_reader
            .entry(cells[1].to_string())
            .or_default()
            .push(rest.join(","));
    }
    assert_eq!(by_reader.len(), 3);
    let r1 = &by_reader["R1"];
    assert!(r1.len() > 1000);
    assert_eq!(r1, &by_reader["R2"]);
    assert_eq!(r1, &by_reader["R3"]);

    // With the default noise the readers differ, in measurements and in target selection.
    let plan = Plan::new(Model::default(), 11, 2, false, false, 200);
    let dir = temp("noisy");
    generate(&plan, 200, &dir).unwrap();
    let text = read(&dir, "lesions.csv");
    let rows = |r: &str| {
        text.lines()
            .filter(|l| l.split(',').nth(1) == Some(r))
            .map(|l| {
                let mut c: Vec<&str> = l.split(',').collect();
                c.remove(1);
                c.join(",")
            })
            .collect::<Vec<_>>()
    };
    assert_ne!(rows("R1"), rows("R2"));
}

/// A deterministic model: one subject, no variability, no noise, nothing missing, scans exactly
/// every 6 weeks, baseline the day before the start.
fn exact_model(kinetics: &str, sites: Vec<Site>) -> Model {
    let mut m = Model::default();
    m.trial.accrual_days = 0;
    m.trial.baseline_window_days = 1;
    m.trial.visit_window_days = 0;
    m.trial.follow_up_days = 200;
    m.disease.sites = sites;
    let k = &mut m.kinetics;
    (k.responsive_share, k.mixed_share, k.flare_share) = match kinetics {
        "responsive" => (1.0, 0.0, 0.0),
        "mixed" => (0.0, 1.0, 0.0),
        "flare" => (0.0, 0.0, 1.0),
        _ => (0.0, 0.0, 0.0),
    };
    k.growth_sd_log = 0.0;
    k.decay_sd_log = 0.0;
    k.lesion_sd_log = 0.0;
    k.responsive_growth_median = 0.001;
    k.decay_median = 0.02;
    m.flare.amplitude_sd_log = 0.0;
    m.flare.peak_day_sd_log = 0.0;
    m.flare.amplitude_median = 1.0;
    m.flare.peak_day_median = 42.0;
    m.flare.new_lesion_probability = 0.0;
    m.new_lesions.rate_per_mm_day = 0.0;
    m.survival.median_days = 1e12;
    m.missing = crit::simulate::model::Missing {
        missed_scan: 0.0,
        lesion_not_evaluated: 0.0,
        dropout_per_year: 0.0,
    };
    m.readers.measurement_cv = 0.0;
    m.readers.selection_sd_log = 0.0;
    m.readers.nt_judgement_cv = 0.0;
    m
}

fn lung(size: f64) -> Site {
    Site {
        organ: "lung".into(),
        nodal: false,
        prevalence: 1.0,
        extra_lesions_mean: 0.0,
        measurable_share: 1.0,
        size_median_mm: size,
        size_sd_log: 0.0,
    }
}

/// Simulates one subject and returns (pattern, sums of the target long axes per visit, best
/// responses under each ruleset).
fn one(m: Model, name: &str, rulesets: &[&str]) -> (String, Vec<(String, u32)>, Vec<String>) {
    let dir = temp(name);
    let plan = Plan::new(m, 1, 1, false, false, 1);
    generate(&plan, 1, &dir).unwrap();
    let truth = read(&dir, "truth.csv");
    let pattern = truth
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .to_string();
    let mut sums: Vec<(String, u32)> = vec![];
    for l in read(&dir, "lesions.csv").lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        let v: u32 = c[9].parse().unwrap_or(0);
        match sums.last_mut() {
            Some((visit, s)) if visit == c[2] => *s += v,
            _ => sums.push((c[2].to_string(), v)),
        }
    }
    let data = dir.join("lesions.csv").to_string_lossy().to_string();
    let best = rulesets
        .iter()
        .map(|r| {
            let (code, out, err) = crit(&["eval", "--criteria", r, &data, "--format", "json"]);
            assert_eq!(code, 0, "{err}");
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            v["subjects"][0]["best_response"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    (pattern, sums, best)
}

/// `crit compare --truth` on a cohort folder, as JSON.
fn scored(dir: &Path, criteria: &[&str]) -> serde_json::Value {
    let data = dir.join("lesions.csv").to_string_lossy().to_string();
    let truth = dir.join("truth.csv").to_string_lossy().to_string();
    let mut args = vec!["compare", &data, "--truth", &truth, "--format", "json"];
    for c in criteria {
        args.extend(["--criteria", c]);
    }
    let (code, out, err) = crit(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["truth"].clone()
}

fn visits(sums: &[(&str, u32)]) -> Vec<(String, u32)> {
    sums.iter().map(|(v, s)| (v.to_string(), *s)).collect()
}

#[test]
fn hand_checked_responder() {
    // One 30 mm lung lesion, g = 0.001, d = 0.02 per day: 30·(exp(−0.02 t) + exp(0.001 t) − 1)
    // is 14.24 at day 42, 8.22 at 84, 6.44 at 126, 6.53 at 168 (29.97 at the baseline, day −1).
    let (pattern, sums, best) = one(
        exact_model("responsive", vec![lung(30.0)]),
        "responder",
        &["recist-1.1", "irecist"],
    );
    assert_eq!(pattern, "responder");
    assert_eq!(
        sums,
        visits(&[
            ("BASELINE", 30),
            ("WEEK 6", 14),
            ("WEEK 12", 8),
            ("WEEK 18", 6),
            ("WEEK 24", 7)
        ])
    );
    assert_eq!(best, ["PR", "iPR"]);
}

#[test]
fn hand_checked_stable() {
    // Resistant lesion growing at g = 0.001: 30·exp(0.001 t) = 31.29, 32.63, 34.03, 35.49.
    let mut m = exact_model("resistant", vec![lung(30.0)]);
    m.kinetics.growth_median = 0.001;
    let (pattern, sums, best) = one(m, "stable", &["recist-1.1", "irecist"]);
    assert_eq!(pattern, "stable");
    assert_eq!(
        sums,
        visits(&[
            ("BASELINE", 30),
            ("WEEK 6", 31),
            ("WEEK 12", 33),
            ("WEEK 18", 34),
            ("WEEK 24", 35)
        ])
    );
    assert_eq!(best, ["SD", "iSD"]);
}

#[test]
fn hand_checked_progressor() {
    // g = 0.006: 30·exp(0.252) = 38.60 at week 6 (+9 mm, +30 %: PD, iUPD), 49.66 at week 12
    // (+11 mm more: iCPD); imaging stops two scans after the first scan past true progression.
    let mut m = exact_model("resistant", vec![lung(30.0)]);
    m.kinetics.growth_median = 0.006;
    let (pattern, sums, best) = one(m, "progressor", &["recist-1.1", "irecist"]);
    assert_eq!(pattern, "progressor");
    assert_eq!(
        sums,
        visits(&[
            ("BASELINE", 30),
            ("WEEK 6", 39),
            ("WEEK 12", 50),
            ("WEEK 18", 64)
        ])
    );
    assert_eq!(best, ["PD", "iCPD"]);
}

#[test]
fn hand_checked_pseudoprogression() {
    // Responder kinetics plus a flare of amplitude 1 peaking at day 42: the relative size is
    // 0.4746 + 1 = 1.4746 at week 6 (44 mm: PD, iUPD), 0.2740 + 2/e = 1.0098 at week 12
    // (30 mm: iSD, reset), 0.2147 + 3/e² = 0.6208 at week 18 (19 mm: iPR), 0.2177 + 4/e³ =
    // 0.4168 at week 24 (13 mm: iPR).
    let (pattern, sums, best) = one(
        exact_model("flare", vec![lung(30.0)]),
        "pseudo",
        &["recist-1.1", "irecist"],
    );
    assert_eq!(pattern, "pseudoprogression");
    assert_eq!(
        sums,
        visits(&[
            ("BASELINE", 30),
            ("WEEK 6", 44),
            ("WEEK 12", 30),
            ("WEEK 18", 19),
            ("WEEK 24", 13)
        ])
    );
    assert_eq!(best, ["PD", "iPR"]);
}

#[test]
fn hand_checked_dissociated() {
    // Two 30 mm lesions, one responsive (14.24, 8.22, 6.44, 6.53 mm), one resistant with
    // g = 0.006 (38.60, 49.66, 63.90, 82.22 mm). Sums 53, 58, 70, 89 (baseline 60): SD, SD, then
    // PD at week 18 (+17 mm over the nadir 53). Lesion by lesion −53 % and +30 % at week 6: DR.
    let mut liver = lung(30.0);
    liver.organ = "liver".into();
    let mut m = exact_model("mixed", vec![lung(30.0), liver]);
    m.kinetics.growth_median = 0.006;
    let (pattern, sums, best) = one(m, "dissociated", &["recist-1.1", "irecist", "dr-recist"]);
    assert_eq!(pattern, "dissociated");
    assert_eq!(
        sums,
        visits(&[
            ("BASELINE", 60),
            ("WEEK 6", 53),
            ("WEEK 12", 58),
            ("WEEK 18", 70),
            ("WEEK 24", 89)
        ])
    );
    assert_eq!(best, ["SD", "iSD", "DR"]);
}

#[test]
fn model_files_and_print_model() {
    let (code, out, _) = crit(&["simulate", "--print-model"]);
    assert_eq!(code, 0);
    let printed: Model = serde_json::from_str(&out).unwrap();
    assert_eq!(
        Model {
            sources: None,
            ..printed.clone()
        },
        Model::default()
    );
    // Every parameter has a source, and every source names a parameter.
    let sources = printed.sources.unwrap();
    let named: Vec<&str> = sources
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let defaults = serde_json::to_value(Model::default()).unwrap();
    let mut leaves = vec![];
    for (group, v) in defaults.as_object().unwrap() {
        for (name, _) in v.as_object().unwrap() {
            leaves.push(format!("{group}.{name}"));
        }
    }
    for l in &leaves {
        assert!(named.contains(&l.as_str()), "{l} has no source");
    }
    assert_eq!(named.len(), leaves.len());
    // The model documentation lists every parameter.
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/simulate.md")).unwrap();
    for l in &leaves {
        assert!(
            doc.contains(&format!("| `{l}` |")),
            "docs/simulate.md lacks {l}"
        );
    }

    // A partial model keeps the other defaults; a misspelt parameter is an error.
    let dir = temp("models");
    let good = dir.join("good.json");
    std::fs::write(&good, r#"{"kinetics": {"flare_share": 0.1}}"#).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"kinetics": {"flare_shares": 0.1}}"#).unwrap();
    let range = dir.join("range.json");
    std::fs::write(&range, r#"{"missing": {"missed_scan": 1.5}}"#).unwrap();
    let m = crit::simulate::load_model(&good).unwrap();
    assert_eq!(m.kinetics.flare_share, 0.1);
    assert_eq!(
        m.kinetics.mixed_share,
        Model::default().kinetics.mixed_share
    );
    let out = dir.join("out").to_string_lossy().to_string();
    let (code, _, err) = crit(&[
        "simulate",
        "--model",
        &bad.to_string_lossy(),
        "--output",
        &out,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("flare_shares"), "{err}");
    let (code, _, err) = crit(&[
        "simulate",
        "--model",
        &range.to_string_lossy(),
        "--output",
        &out,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("missing.missed_scan"), "{err}");
    // Values that would make a subject huge are refused; an extreme but bounded model runs,
    // and its table evaluates.
    let huge = dir.join("huge.json");
    std::fs::write(&huge, r#"{"trial": {"follow_up_days": 100000000}}"#).unwrap();
    let (code, _, err) = crit(&[
        "simulate",
        "--model",
        &huge.to_string_lossy(),
        "--output",
        &out,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("trial.follow_up_days"), "{err}");
    let extreme = dir.join("extreme.json");
    std::fs::write(
        &extreme,
        r#"{"disease": {"sites": [{"organ": "lung", "prevalence": 1, "extra_lesions_mean": 1e15,
            "measurable_share": 1, "size_median_mm": 20, "size_sd_log": 3}]},
            "new_lesions": {"rate_per_mm_day": 1e6}, "trial": {"follow_up_days": 36500}}"#,
    )
    .unwrap();
    let (code, _, err) = crit(&[
        "simulate",
        "--model",
        &extreme.to_string_lossy(),
        "--subjects",
        "20",
        "--output",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    let data = format!("{out}/lesions.csv");
    let (code, _, err) = crit(&["eval", "--criteria", "recist-1.1", &data, "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn truth_scores_of_hand_checked_cohorts() {
    // Pseudoprogression (see hand_checked_pseudoprogression): RECIST calls it progressive,
    // iRECIST does not; neither has a true progression to match its iUPD/PD date at week 6.
    let dir = temp("score-pseudo");
    generate(
        &Plan::new(
            exact_model("flare", vec![lung(30.0)]),
            1,
            1,
            false,
            false,
            1,
        ),
        1,
        &dir,
    )
    .unwrap();
    let t = scored(&dir, &["recist-1.1", "irecist"]);
    let c = &t["criteria"];
    assert_eq!(t["patterns"]["pseudoprogression"], 1);
    assert_eq!(
        c["recist-1.1"]["pseudoprogression_as_progression"]["count"],
        1
    );
    assert_eq!(c["irecist"]["pseudoprogression_as_progression"]["count"], 0);
    assert_eq!(c["recist-1.1"]["agreement"]["count"], 0);
    assert_eq!(c["irecist"]["agreement"]["count"], 1);
    assert_eq!(c["recist-1.1"]["progression"]["false_progression"], 1);
    assert_eq!(
        c["recist-1.1"]["dissociated_detected"],
        serde_json::Value::Null
    );

    // Progressor: 30·exp(0.006 t) first reaches 1.2 × the baseline 29.82 mm on grid day 35
    // (36.99 mm), true progression day 36 (day 1 = start); PD is called at week 6, day 43:
    // seven days late.
    let dir = temp("score-progressor");
    let mut m = exact_model("resistant", vec![lung(30.0)]);
    m.kinetics.growth_median = 0.006;
    generate(&Plan::new(m, 1, 1, false, false, 1), 1, &dir).unwrap();
    assert!(read(&dir, "truth.csv").contains(",progressor,"));
    assert!(read(&dir, "truth.csv").contains(",36,"));
    let t = scored(&dir, &["recist-1.1", "irecist"]);
    let p = &t["criteria"]["recist-1.1"]["progression"];
    assert_eq!(p["n"], 1);
    assert_eq!(p["median"], 7.0);
    assert_eq!(t["criteria"]["recist-1.1"]["agreement"]["count"], 1);

    // Dissociated: only dr-recist can express it, and detects it.
    let dir = temp("score-dr");
    let mut liver = lung(30.0);
    liver.organ = "liver".into();
    let mut m = exact_model("mixed", vec![lung(30.0), liver]);
    m.kinetics.growth_median = 0.006;
    generate(&Plan::new(m, 1, 1, false, false, 1), 1, &dir).unwrap();
    let t = scored(&dir, &["recist-1.1", "dr-recist"]);
    assert_eq!(t["criteria"]["recist-1.1"]["agreement"]["n"], 0);
    assert_eq!(
        t["criteria"]["dr-recist"]["dissociated_detected"]["count"],
        1
    );
    assert_eq!(t["criteria"]["dr-recist"]["agreement"]["count"], 1);
}

#[test]
fn truth_scores_of_a_simulated_trial() {
    let dir = temp("score-trial");
    let d = dir.to_string_lossy().to_string();
    let (code, _, err) = crit(&[
        "simulate",
        "--subjects",
        "400",
        "--seed",
        "5",
        "--readers",
        "2",
        "--output",
        &d,
    ]);
    assert_eq!(code, 0, "{err}");
    let t = scored(&dir, &["recist-1.1", "irecist", "dr-recist"]);
    let c = &t["criteria"];
    let readings: u64 = t["patterns"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(readings, 800);
    // iRECIST calls fewer true pseudoprogressions progressive than RECIST 1.1.
    let pp = |l: &str| {
        c[l]["pseudoprogression_as_progression"]["count"]
            .as_u64()
            .unwrap()
    };
    assert!(pp("irecist") < pp("recist-1.1"), "{t}");
    // Readers agree substantially but not perfectly.
    let k = c["recist-1.1"]["reader_kappa"][0]["kappa"]
        .as_f64()
        .unwrap();
    assert!((0.5..1.0).contains(&k), "{k}");
    assert_eq!(c["recist-1.1"]["reader_kappa"][0]["n"], 400);
    // dr-recist detects most true dissociated responses and rarely calls one otherwise.
    let det = c["dr-recist"]["dissociated_detected"]["value"]
        .as_f64()
        .unwrap();
    let fa = c["dr-recist"]["dissociated_false"]["value"]
        .as_f64()
        .unwrap();
    assert!(det > 0.6 && fa < 0.05, "{det} {fa}");
    // Progression is called after the true date, by less than a scan interval in the median.
    let med = c["recist-1.1"]["progression"]["median"].as_f64().unwrap();
    assert!((0.0..42.0).contains(&med), "{med}");

    // The HTML report has the section; a subject unknown to the truth file is named.
    let truth = dir.join("truth.csv");
    let text = read(&dir, "truth.csv");
    let cut: String = text
        .lines()
        .filter(|l| !l.starts_with("S0001,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&truth, cut).unwrap();
    let html = dir.join("report.html").to_string_lossy().to_string();
    let (code, _, err) = crit(&[
        "compare",
        &format!("{d}/lesions.csv"),
        "--criteria",
        "recist-1.1",
        "--criteria",
        "irecist",
        "--truth",
        &truth.to_string_lossy(),
        "--format",
        "html",
        "--output",
        &html,
    ]);
    assert_eq!(code, 0, "{err}");
    let page = read(&dir, "report.html");
    let section = page
        .find("Operating characteristics against the truth")
        .unwrap();
    assert!(section < page.find("<h2>Cross-tabulations</h2>").unwrap());
    assert!(page.contains("Not in the truth file (not scored): S0001"));
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    if let Err(e) = roxmltree::Document::parse_with_options(&page, options) {
        panic!("not well-formed: {e}");
    }
}
