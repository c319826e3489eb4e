//! Differential test: DATA.md's reference semantics of RECIST 1.1, written directly in Rust for
//! tables without missing data, against `criteria/recist-1.1.crit` run by crit.

use std::str::FromStr;

use crit::check;
use crit::data::{bind, table};
use crit::eval::{self, Engine};
use proptest::prelude::*;
use rust_decimal::Decimal;

#[derive(Debug, Clone)]
struct Lesion {
    role: &'static str,
    nodal: bool,
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    status: &'static str,
    long: u32,
    short: u32,
}

#[derive(Debug, Clone)]
struct Subject {
    gaps: Vec<u16>,
    lesions: Vec<Lesion>,
    cells: Vec<Vec<Cell>>,
    new_at: Vec<(usize, &'static str)>,
}

fn d(tenths: u32) -> Decimal {
    Decimal::new(tenths as i64, 1)
}

fn size(l: &Lesion, c: &Cell) -> Decimal {
    match c.status {
        "absent" => Decimal::ZERO,
        "too-small" => Decimal::from(5),
        _ if l.nodal => d(c.short),
        _ => d(c.long),
    }
}

/// RECIST 1.1 as DATA.md states it (reference semantics), for complete data; a new lesion
/// without a row after the assessment where it was recorded is not evaluated there.
fn reference(s: &Subject) -> (Vec<&'static str>, &'static str) {
    let n = s.gaps.len();
    let targets: Vec<usize> = (0..s.lesions.len())
        .filter(|&i| s.lesions[i].role == "target")
        .collect();
    let nts: Vec<usize> = (0..s.lesions.len())
        .filter(|&i| s.lesions[i].role == "non-target")
        .collect();
    let sum = |t: usize| -> Decimal {
        targets
            .iter()
            .map(|&i| size(&s.lesions[i], &s.cells[t][i]))
            .sum()
    };
    let mut out = vec![];
    for t in 1..n {
        let target = if targets.is_empty() {
            "NA"
        } else {
            let nadir = (0..t).map(sum).min().unwrap();
            let now = sum(t);
            let all_normal = targets.iter().all(|&i| {
                let l = &s.lesions[i];
                let v = size(l, &s.cells[t][i]);
                if l.nodal {
                    v < Decimal::from(10)
                } else {
                    v.is_zero()
                }
            });
            if all_normal {
                "CR"
            } else if now - nadir >= nadir * Decimal::from_str("0.2").unwrap()
                && now - nadir >= Decimal::from(5)
            {
                "PD"
            } else if now <= sum(0) * Decimal::from_str("0.7").unwrap() {
                "PR"
            } else {
                "SD"
            }
        };
        let non_target = if nts.is_empty() {
            "NA"
        } else if nts
            .iter()
            .any(|&i| s.cells[t][i].status == "unequivocal-progression")
        {
            "PD"
        } else if nts.iter().all(|&i| {
            let (l, c) = (&s.lesions[i], &s.cells[t][i]);
            c.status == "absent" || (l.nodal && size(l, c) < Decimal::from(10))
        }) {
            "CR"
        } else {
            "non-CR/non-PD"
        };
        let new = s.new_at.iter().any(|(at, st)| {
            *at == t
                && [
                    "present",
                    "too-small",
                    "increased",
                    "unequivocal-progression",
                ]
                .contains(st)
        });
        // A new lesion recorded at an earlier assessment has no row here: not evaluated.
        let new_unknown = !new && s.new_at.iter().any(|(at, _)| *at < t);
        let overall = match (target, non_target, new) {
            ("PD", _, _) | (_, "PD", _) | (_, _, true) => "PD",
            _ if new_unknown => "NE",
            ("CR", "CR" | "NA", _) => "CR",
            ("CR", _, _) => "PR",
            ("PR", _, _) => "PR",
            ("SD", _, _) => "SD",
            ("NA", "CR", _) => "CR",
            ("NA", "non-CR/non-PD", _) => "non-CR/non-PD",
            _ => "NE",
        };
        out.push(overall);
    }
    // Best response: up to the first PD; SD and non-CR/non-PD only from 42 days after baseline.
    let rank = ["CR", "PR", "SD", "non-CR/non-PD", "PD", "NE"];
    let mut day = 0u32;
    let mut best = "NE";
    for (k, c) in out.iter().enumerate() {
        day += s.gaps[k + 1] as u32;
        let counted = if (*c == "SD" || *c == "non-CR/non-PD") && day < 42 {
            "NE"
        } else {
            *c
        };
        if rank.iter().position(|r| *r == counted) < rank.iter().position(|r| *r == best) {
            best = counted;
        }
        if *c == "PD" {
            break;
        }
    }
    (out, best)
}

fn subject() -> impl Strategy<Value = Subject> {
    (2usize..6, 1usize..5, 0usize..3).prop_flat_map(|(n, k, m)| {
        let lesion = (prop_oneof![3 => Just("target"), 1 => Just("non-target")], any::<bool>()).prop_map(|(role, nodal)| Lesion { role, nodal });
        let status = prop_oneof![6 => Just("present"), 1 => Just("absent"), 1 => Just("too-small"), 1 => Just("unequivocal-progression")];
        let cell = (status, 1u32..1500, 0u32..300).prop_map(|(status, long, short)| Cell { status, long, short });
        (
            prop::collection::vec(1u16..90, n),
            prop::collection::vec(lesion, k + m.min(1)),
            prop::collection::vec(prop::collection::vec(cell, k + m.min(1)), n),
            prop::collection::vec((1usize..6, prop_oneof![Just("present"), Just("equivocal"), Just("absent")]), 0..2),
        )
            .prop_map(|(gaps, lesions, cells, new_at)| Subject { gaps, lesions, cells, new_at })
    })
}

fn table(subjects: &[Subject]) -> String {
    let mut csv =
        String::from("subject,visit,date,lesion,role,organ,status,long_axis,short_axis\n");
    for (si, s) in subjects.iter().enumerate() {
        let mut day = 0i64;
        for t in 0..s.gaps.len() {
            if t > 0 {
                day += s.gaps[t] as i64;
            }
            let date = crit::data::model::format_date(
                time::Date::from_calendar_date(2020, time::Month::January, 1).unwrap()
                    + time::Duration::days(day),
            );
            for (li, l) in s.lesions.iter().enumerate() {
                let c = &s.cells[t][li];
                // Baseline lesions are present at baseline; targets are never unequivocal.
                let status =
                    if t == 0 || (l.role == "target" && c.status == "unequivocal-progression") {
                        "present"
                    } else {
                        c.status
                    };
                let organ = if l.nodal { "lymph node" } else { "lung" };
                csv.push_str(&format!(
                    "S{si},V{t},{date},L{li},{},{organ},{status},{},{}\n",
                    l.role,
                    d(c.long),
                    d(c.short)
                ));
            }
            for (k, (at, st)) in s.new_at.iter().enumerate() {
                if *at == t && t > 0 {
                    csv.push_str(&format!("S{si},V{t},{date},N{k},new,liver,{st},8,\n"));
                }
            }
        }
    }
    csv
}

/// The same data as the table, with the baseline and target statuses as written there.
fn normalised(s: &Subject) -> Subject {
    let mut s = s.clone();
    for t in 0..s.gaps.len() {
        for (li, l) in s.lesions.iter().enumerate() {
            let c = &mut s.cells[t][li];
            if t == 0 || (l.role == "target" && c.status == "unequivocal-progression") {
                c.status = "present";
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn crit_recist_matches_the_reference_semantics(subjects in prop::collection::vec(subject(), 1..6)) {
        let csv = table(&subjects);
        let checked = check::load("recist-1.1").unwrap();
        let rs = &checked.ruleset;
        let eng = Engine::new(rs);
        let cohort = table::read_csv("diff.csv", &csv).unwrap();
        let binding = bind::plan(rs, &cohort).unwrap();
        let got = eval::each_subject(&eng, &binding, &cohort, |raw, r| {
            let r = r.map(|ev| {
                let tps: Vec<String> = (1..ev.subj.assessments.len()).map(|t| rs.cat_name(ev.category(t, rs.overall).unwrap()).to_string()).collect();
                (tps, rs.cat_name(ev.best.category.unwrap()).to_string())
            });
            (raw.subject.clone(), r.map_err(|e| e.message.clone()))
        });
        for (subject, r) in got {
            let i: usize = subject[1..].parse().unwrap();
            let s = normalised(&subjects[i]);
            // A target of 0 mm at baseline is not measurable: the subject is a data error.
            let zero_target = s.lesions.iter().zip(&s.cells[0]).any(|(l, c)| l.role == "target" && size(l, c).is_zero());
            if zero_target {
                prop_assert!(r.as_ref().is_err_and(|m| m.contains("measurable at baseline")), "{} should be rejected\n{}", subject, csv);
                continue;
            }
            let (tps, best) = r.unwrap_or_else(|e| panic!("{subject}: {e}\n{csv}"));
            let (want, want_best) = reference(&s);
            prop_assert_eq!(&tps, &want, "{} timepoints\n{}", subject, csv);
            prop_assert_eq!(best.as_str(), want_best, "{} best response\n{}", subject, csv);
        }
    }
}
