//! The pharmaversesdtm RECIST set (8 subjects, 3 readers): its TU/TR records are converted to a
//! lesion table here, evaluated with recist-1.1, and every recorded OVRLRESP in RS must match.

use std::collections::BTreeMap;

use crit::check;
use crit::data::{bind, table};
use crit::eval::{self, Engine};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pharmaversesdtm");

fn records(name: &str) -> Vec<BTreeMap<String, String>> {
    let path = format!("{DIR}/{name}");
    let mut rdr = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers = rdr.headers().unwrap().clone();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| {
                    (
                        h.to_string(),
                        if v == "NA" {
                            String::new()
                        } else {
                            v.to_string()
                        },
                    )
                })
                .collect()
        })
        .collect()
}

fn reader(r: &BTreeMap<String, String>, id: &str, eval: &str) -> String {
    let v = &r[id];
    if v.is_empty() {
        r[eval].clone()
    } else {
        v.clone()
    }
}

/// (subject, reader, visit, date, lesion)
type RowKey = (String, String, String, String, String);

/// TU/TR -> lesion table. The one partial date (2014-02) is imputed to the 15th: it belongs to an
/// NE timepoint, so the choice does not change any response.
fn lesion_table() -> String {
    let mut tu = BTreeMap::new();
    for r in records("tu_onco_recist.csv") {
        let key = (
            r["USUBJID"].clone(),
            reader(&r, "TUEVALID", "TUEVAL"),
            r["TULNKID"].clone(),
        );
        tu.insert(
            key,
            (r["TUSTRESC"].to_lowercase(), r["TULOC"].to_lowercase()),
        );
    }
    let mut rows: BTreeMap<RowKey, BTreeMap<&str, String>> = BTreeMap::new();
    for r in records("tr_onco_recist.csv") {
        let who = reader(&r, "TREVALID", "TREVAL");
        let mut date = r["TRDTC"].clone();
        if date.len() == 7 {
            date.push_str("-15");
        }
        let key = (
            r["USUBJID"].clone(),
            who,
            r["VISIT"].clone(),
            date,
            r["TRLNKID"].clone(),
        );
        let cell = rows.entry(key).or_default();
        let value = r["TRSTRESC"].clone();
        match r["TRTESTCD"].as_str() {
            "LDIAM" => cell.insert("long_axis", value),
            "LPERP" => cell.insert("short_axis", value),
            "TUMSTATE" => cell.insert("status", value.to_lowercase()),
            other => panic!("unexpected TRTESTCD {other}"),
        };
    }
    let mut out =
        String::from("subject,reader,visit,date,lesion,role,organ,status,long_axis,short_axis\n");
    for ((subject, who, visit, date, lesion), cell) in rows {
        let (role, organ) = &tu[&(subject.clone(), who.clone(), lesion.clone())];
        let get = |k: &str| cell.get(k).cloned().unwrap_or_default();
        out.push_str(&format!(
            "{subject},{who},{visit},{date},{lesion},{role},{organ},{},{},{}\n",
            get("status"),
            get("long_axis"),
            get("short_axis")
        ));
    }
    out
}

#[test]
fn all_66_recorded_responses_match() {
    let checked = check::load("recist-1.1").unwrap();
    let rs = &checked.ruleset;
    let eng = Engine::new(rs);
    let cohort = table::read_csv("pharmaverse-recist.csv", &lesion_table()).unwrap();
    let binding = bind::plan(rs, &cohort).unwrap();
    let computed: BTreeMap<(String, String, String), String> =
        eval::each_subject(&eng, &binding, &cohort, |raw, r| {
            let ev = r.unwrap_or_else(|e| panic!("{}: {e}", raw.subject));
            (1..ev.subj.assessments.len())
                .map(|t| {
                    let key = (
                        raw.subject.clone(),
                        raw.reader.clone().unwrap(),
                        ev.subj.assessments[t].visit.clone(),
                    );
                    (
                        key,
                        rs.cat_name(ev.category(t, rs.overall).unwrap())
                            .to_uppercase(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
    let mut compared = 0;
    let mut mismatches = vec![];
    for r in records("rs_onco_recist.csv") {
        if r["RSTESTCD"] != "OVRLRESP" {
            continue;
        }
        let key = (
            r["USUBJID"].clone(),
            reader(&r, "RSEVALID", "RSEVAL"),
            r["VISIT"].clone(),
        );
        compared += 1;
        let got = computed
            .get(&key)
            .cloned()
            .unwrap_or_else(|| "missing".into());
        if got != r["RSSTRESC"].to_uppercase() {
            mismatches.push(format!(
                "{key:?}: recorded {} computed {got}",
                r["RSSTRESC"]
            ));
        }
    }
    assert_eq!(compared, 66, "the RECIST set records 66 overall responses");
    assert!(
        mismatches.is_empty(),
        "mismatches:\n{}",
        mismatches.join("\n")
    );
    assert_eq!(computed.len(), 66, "and no extra timepoints");
}
