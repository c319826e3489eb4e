//! Survival statistics against values published for the `aml` and `lung` data of R's survival
//! package (tests/data/survival/SOURCES.md). Each expected value names where it was printed and
//! is compared at the precision printed there.

use crit::survival::{concordance, cox_categorical, logrank, ConfType, KaplanMeier, Quantile};

struct Data {
    time: Vec<f64>,
    event: Vec<bool>,
    group: Vec<usize>,
}

/// Reads `time,status,GROUP` with the event coded as `event_code` and groups in order of
/// first appearance.
fn load(file: &str, event_code: &str) -> Data {
    let text = std::fs::read_to_string(format!("tests/data/survival/{file}")).unwrap();
    let mut labels: Vec<String> = Vec::new();
    let mut d = Data {
        time: vec![],
        event: vec![],
        group: vec![],
    };
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        d.time.push(f[0].parse().unwrap());
        d.event.push(f[1] == event_code);
        let g = match labels.iter().position(|l| l == f[2]) {
            Some(g) => g,
            None => {
                labels.push(f[2].to_string());
                labels.len() - 1
            }
        };
        d.group.push(g);
    }
    d
}

fn subset(d: &Data, g: usize) -> (Vec<f64>, Vec<bool>) {
    let idx = (0..d.time.len()).filter(|i| d.group[*i] == g);
    (
        idx.clone().map(|i| d.time[i]).collect(),
        idx.map(|i| d.event[i]).collect(),
    )
}

/// `a` equals `b` at the given number of decimals (as printed).
fn close(a: f64, b: f64, decimals: i32) -> bool {
    (a - b).abs() <= 0.5 * 10f64.powi(-decimals) + 1e-12
}

#[track_caller]
fn assert_close(what: &str, got: f64, want: f64, decimals: i32) {
    assert!(
        close(got, want, decimals),
        "{what}: got {got}, published {want} (to {decimals} decimals)"
    );
}

#[track_caller]
fn assert_quantile(q: Quantile, want: (Option<f64>, Option<f64>, Option<f64>)) {
    assert_eq!((q.estimate, q.lower, q.upper), want);
}

/// R survival, tests/doaml.Rout.save: `summary(survfit(Surv(time, status) ~ x, aml))`.
/// Columns: time, n.risk, n.event, survival, std.err, lower 95% CI, upper 95% CI (None = NA).
#[allow(clippy::type_complexity)]
const AML_MAINTAINED: [(f64, usize, usize, f64, f64, f64, f64); 7] = [
    (9.0, 11, 1, 0.909, 0.0867, 0.7541, 1.000),
    (13.0, 10, 1, 0.818, 0.1163, 0.6192, 1.000),
    (18.0, 8, 1, 0.716, 0.1397, 0.4884, 1.000),
    (23.0, 7, 1, 0.614, 0.1526, 0.3769, 0.999),
    (31.0, 5, 1, 0.491, 0.1642, 0.2549, 0.946),
    (34.0, 4, 1, 0.368, 0.1627, 0.1549, 0.875),
    (48.0, 2, 1, 0.184, 0.1535, 0.0359, 0.944),
];
#[allow(clippy::type_complexity)]
const AML_NONMAINTAINED: [(f64, usize, usize, f64, f64, f64, f64); 8] = [
    (5.0, 12, 2, 0.8333, 0.1076, 0.6470, 1.000),
    (8.0, 10, 2, 0.6667, 0.1361, 0.4468, 0.995),
    (12.0, 8, 1, 0.5833, 0.1423, 0.3616, 0.941),
    (23.0, 6, 1, 0.4861, 0.1481, 0.2675, 0.883),
    (27.0, 5, 1, 0.3889, 0.1470, 0.1854, 0.816),
    (30.0, 4, 1, 0.2917, 0.1387, 0.1148, 0.741),
    (33.0, 3, 1, 0.1944, 0.1219, 0.0569, 0.664),
    (43.0, 2, 1, 0.0972, 0.0919, 0.0153, 0.620),
];

/// The number of decimals a published value was printed with (trailing zeros included where the
/// table prints them: callers pass the precision explicitly then).
fn decimals(x: f64) -> i32 {
    let s = format!("{x}");
    s.split('.').nth(1).map(|f| f.len() as i32).unwrap_or(0)
}

#[test]
fn aml_kaplan_meier_greenwood_and_log_intervals() {
    let d = load("aml.csv", "1");
    for (g, table) in [(0, &AML_MAINTAINED[..]), (1, &AML_NONMAINTAINED[..])] {
        let (t, e) = subset(&d, g);
        let km = KaplanMeier::fit(&t, &e, ConfType::Log).unwrap();
        let steps: Vec<_> = km.steps.iter().filter(|s| s.surv > 0.0).collect();
        assert_eq!(steps.len(), table.len(), "group {g}: event times");
        for (s, row) in steps.iter().zip(table) {
            let (time, n_risk, n_event, surv, se, lower, upper) = *row;
            assert_eq!((s.time, s.n_risk, s.n_event), (time, n_risk, n_event));
            assert_close("survival", s.surv, surv, decimals(surv).max(3));
            assert_close("std.err", s.std_err, se, 4);
            assert_close("lower", s.lower.unwrap(), lower, 4);
            assert_close("upper", s.upper.unwrap(), upper, 3);
        }
    }
    // Nonmaintained ends with the last subject's event at 45: survival 0, std.err NaN, CI NA.
    let (t, e) = subset(&d, 1);
    let km = KaplanMeier::fit(&t, &e, ConfType::Log).unwrap();
    let last = km.steps.last().unwrap();
    assert_eq!((last.time, last.n_risk, last.surv), (45.0, 1, 0.0));
    assert!(last.std_err.is_nan());
    assert_eq!((last.lower, last.upper), (None, None));
}

#[test]
fn aml_median_brookmeyer_crowley() {
    // doaml.Rout.save, print(survfit(...)): median 0.95LCL 0.95UCL — Maintained 31 18 NA,
    // Nonmaintained 23 8 NA.
    let d = load("aml.csv", "1");
    let (t, e) = subset(&d, 0);
    let km = KaplanMeier::fit(&t, &e, ConfType::Log).unwrap();
    assert_eq!((km.n, km.events), (11, 7));
    assert_quantile(km.median(), (Some(31.0), Some(18.0), None));
    let (t, e) = subset(&d, 1);
    let km = KaplanMeier::fit(&t, &e, ConfType::Log).unwrap();
    assert_eq!((km.n, km.events), (12, 11));
    assert_quantile(km.median(), (Some(23.0), Some(8.0), None));
}

#[test]
fn aml_logrank() {
    // doaml.Rout.save, survdiff: Observed 7 / 11, Expected 10.69 / 7.31, (O-E)^2/V 3.40,
    // Chisq= 3.4 on 1 degrees of freedom, p= 0.0653.
    let d = load("aml.csv", "1");
    let lr = logrank(&d.time, &d.event, &d.group).unwrap();
    assert_eq!(lr.n, vec![11, 12]);
    assert_eq!(lr.observed, vec![7.0, 11.0]);
    assert_close("E maintained", lr.expected[0], 10.69, 2);
    assert_close("E nonmaintained", lr.expected[1], 7.31, 2);
    assert_close("chisq", lr.chisq, 3.40, 2);
    assert_eq!(lr.df, 1);
    assert_close("p", lr.p, 0.0653, 4);
}

#[test]
fn aml_cox_efron() {
    // doaml.Rout.save, coxph(Surv(time, status) ~ x, aml, method='efron'):
    // xNonmaintained coef 0.916, exp(coef) 2.5, se(coef) 0.512, p 0.074.
    let d = load("aml.csv", "1");
    let fit = cox_categorical(&d.time, &d.event, &d.group, 0).unwrap();
    assert!(fit.converged);
    let term = &fit.terms[0];
    assert_eq!((term.group, term.n, term.events), (1, 12, 11));
    assert_close("coef", term.coef.unwrap(), 0.916, 3);
    assert_close("HR", term.hr.unwrap(), 2.5, 1);
    assert_close("se", term.se.unwrap(), 0.512, 3);
    assert_close("p", term.p.unwrap(), 0.074, 3);
}

#[test]
fn lung_medians_by_sex() {
    // print(survfit(Surv(time, status) ~ sex, data = lung)), R's output as reproduced in many
    // published tutorials: sex=1 138 112 270 212 310; sex=2 90 53 426 348 550.
    // Overall (~ 1): 228 165 310 285 363.
    let d = load("lung.csv", "2");
    let want = [
        (138, 112, (270.0, 212.0, 310.0)),
        (90, 53, (426.0, 348.0, 550.0)),
    ];
    for (g, (n, events, (m, lo, hi))) in want.into_iter().enumerate() {
        let (t, e) = subset(&d, g);
        let km = KaplanMeier::fit(&t, &e, ConfType::Log).unwrap();
        assert_eq!((km.n, km.events), (n, events));
        assert_quantile(km.median(), (Some(m), Some(lo), Some(hi)));
    }
    let km = KaplanMeier::fit(&d.time, &d.event, ConfType::Log).unwrap();
    assert_eq!((km.n, km.events), (228, 165));
    assert_quantile(km.median(), (Some(310.0), Some(285.0), Some(363.0)));
}

#[test]
fn lung_rates_at_times() {
    // summary(survfit(Surv(time, status) ~ 1, data = lung), times = 365.25), as printed in
    // E. Zabor's "Survival analysis in R" tutorial and others: time 365, n.risk 65, n.event 121,
    // survival 0.409, std.err 0.0358, lower 95% CI 0.345, upper 95% CI 0.486.
    let d = load("lung.csv", "2");
    let km = KaplanMeier::fit(&d.time, &d.event, ConfType::Log).unwrap();
    let r = km.rate_at(365.25).unwrap();
    assert_eq!(r.n_risk, 65);
    assert_close("survival", r.surv, 0.409, 3);
    assert_close("lower", r.lower.unwrap(), 0.345, 3);
    assert_close("upper", r.upper.unwrap(), 0.486, 3);
    // Not extended past the last observation (1022 days).
    assert!(km.rate_at(1023.0).is_none());
}

#[test]
fn lung_logrank_by_sex() {
    // survdiff(Surv(time, status) ~ sex, lung) printed with full digits in Machine Learning
    // with R Cookbook, 2nd ed. (Packt), "Using the log-rank test": Expected 91.5817 / 73.4183,
    // (O-E)^2/V 10.3267, p= 0.00131116.
    let d = load("lung.csv", "2");
    let lr = logrank(&d.time, &d.event, &d.group).unwrap();
    assert_eq!(lr.observed, vec![112.0, 53.0]);
    assert_close("E male", lr.expected[0], 91.5817, 4);
    assert_close("E female", lr.expected[1], 73.4183, 4);
    assert_close("chisq", lr.chisq, 10.3267, 4);
    assert_close("p", lr.p, 0.00131116, 8);
}

#[test]
fn lung_cox_and_concordance_by_sex() {
    // summary(coxph(Surv(time, status) ~ sex, data = lung)), as printed in many R tutorials:
    // coef -0.5310, exp(coef) 0.5880, se(coef) 0.1672, Pr(>|z|) 0.00149, lower .95 0.4237,
    // upper .95 0.816; Concordance= 0.579 (se = 0.021).
    let d = load("lung.csv", "2");
    let fit = cox_categorical(&d.time, &d.event, &d.group, 0).unwrap();
    let term = &fit.terms[0];
    assert_close("coef", term.coef.unwrap(), -0.5310, 4);
    assert_close("HR", term.hr.unwrap(), 0.5880, 4);
    assert_close("se", term.se.unwrap(), 0.1672, 4);
    assert_close("p", term.p.unwrap(), 0.00149, 5);
    assert_close("lower", term.lower.unwrap(), 0.4237, 4);
    assert_close("upper", term.upper.unwrap(), 0.816, 3);
    // The Cox linear predictor orders men (sex 1) above women.
    let risk: Vec<f64> = d
        .group
        .iter()
        .map(|g| if *g == 0 { 1.0 } else { 0.0 })
        .collect();
    let c = concordance(&d.time, &d.event, &risk).unwrap();
    assert_close("C", c.c, 0.579, 3);
}

#[test]
fn cox_category_without_events_has_ratio_zero_and_others_unchanged() {
    // Adding a category whose subjects never have the event leaves the other ratio at the
    // published aml value (the β → −∞ limit removes them from every risk set).
    let mut d = load("aml.csv", "1");
    for t in [3.0, 40.0, 200.0] {
        d.time.push(t);
        d.event.push(false);
        d.group.push(2);
    }
    let fit = cox_categorical(&d.time, &d.event, &d.group, 0).unwrap();
    assert_close("coef", fit.terms[0].coef.unwrap(), 0.916, 3);
    assert_eq!(fit.terms[1].hr, Some(0.0));
    assert!(fit.terms[1].note.is_some());
}

#[test]
fn aml_log_log_intervals_from_the_published_standard_errors() {
    // R's survfit(conf.type = "log-log") interval: u = log(-log S), se(u) = se(S) / (S |log S|),
    // S from exp(-exp(u ± z se(u))). No printed log-log table for aml was found, so the expected
    // bounds are computed from the survival and std.err that doaml.Rout.save prints (Maintained
    // arm, 4 decimals): they agree with crit's to 3 decimals.
    let d = load("aml.csv", "1");
    let (t, e) = subset(&d, 0);
    let km = KaplanMeier::fit(&t, &e, ConfType::LogLog).unwrap();
    let z = 1.959963984540054;
    for (s, row) in km
        .steps
        .iter()
        .filter(|s| s.surv > 0.0)
        .zip(&AML_MAINTAINED)
    {
        let (time, _, _, _, se, _, _) = *row;
        assert_eq!(s.time, time);
        let u = (-s.surv.ln()).ln();
        let se_u = se / (s.surv * -s.surv.ln());
        let lower = (-(u + z * se_u).exp()).exp();
        let upper = (-(u - z * se_u).exp()).exp();
        assert_close("log-log lower", s.lower.unwrap(), lower, 3);
        assert_close("log-log upper", s.upper.unwrap(), upper, 3);
        // The log-log interval stays inside (0, 1) and around the estimate.
        assert!(s.lower.unwrap() > 0.0 && s.upper.unwrap() < 1.0);
        assert!(s.lower.unwrap() < s.surv && s.surv < s.upper.unwrap());
    }
}
