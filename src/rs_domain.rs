//! The SDTM RS domain (disease response): the test codes named responses are written as, the
//! CDISC terms of category names, and the rows of `crit eval --format sdtm-rs`.
//!
//! Each (subject, reader) gets one row per post-baseline assessment and named response that has
//! a test code, then one best overall response row (`BESTRSP`), so the file is an RS dataset:
//! `STUDYID`, `DOMAIN` = RS, `USUBJID`, `RSSEQ` (1, 2, ... within each subject), `RSTESTCD`
//! and `RSTEST`, `RSCAT` (the ruleset's title, e.g. RECIST 1.1), `RSORRES`/`RSSTRESC` in CDISC
//! terms, `RSSTAT` = NOT DONE where no result was decided, `RSEVAL`/`RSEVALID`, `VISIT` and
//! `RSDTC`.

use std::collections::HashMap;

use crate::check::ir::{DefId, Ruleset};
use crate::data::model::format_date;
use crate::data::sdtm::Sdtm;
use crate::eval::Evaluation;

/// A named response of a ruleset, the RS test code (`RSTESTCD`) it is written as, and the test's
/// name (`RSTEST`), from CDISC controlled terminology. These are response *names*, not
/// categories; this table is the one place the mapping lives.
pub const RESPONSE_TESTS: &[(&str, &str, &str)] = &[
    ("overall", "OVRLRESP", "Overall Response"),
    ("target", "TRGRESP", "Target Response"),
    ("non_target", "NTRGRESP", "Non-target Response"),
    ("new_lesions", "NEWLIND", "New Lesion Indicator"),
];

/// The test of the best overall response.
pub const BEST_TEST: (&str, &str) = ("BESTRSP", "Best Overall Response");

/// The RS test code of the overall timepoint response.
pub fn overall_test() -> &'static str {
    RESPONSE_TESTS[0].1
}

/// The definition a response name refers to: a named response, or the ruleset's overall
/// response for `overall`.
pub fn response_def(rs: &Ruleset, name: &str) -> Option<DefId> {
    rs.responses
        .iter()
        .copied()
        .find(|&d| rs.defs[d].name == name)
        .or_else(|| (name == "overall").then_some(rs.overall))
}

/// The CDISC submission value of a category name, by a general rule rather than a list of
/// criteria: a name that is `yes` or `no` is `Y` or `N` (the CDISC No Yes Response codelist);
/// otherwise every word written in lower case is upper-cased and a word with a capital letter
/// is an abbreviation kept as written. So `non-CR/non-PD` is `NON-CR/NON-PD`, and iRECIST's
/// `non-iCR/non-iUPD` is `NON-iCR/NON-iUPD` (CDISC keeps the lower-case i of iRECIST terms).
pub fn cdisc_term(category: &str) -> String {
    if category.eq_ignore_ascii_case("yes") {
        return "Y".into();
    }
    if category.eq_ignore_ascii_case("no") {
        return "N".into();
    }
    let mut out = String::with_capacity(category.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.chars().any(char::is_uppercase) {
            out.push_str(word);
        } else {
            out.push_str(&word.to_uppercase());
        }
        word.clear();
    };
    for c in category.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Columns of `crit eval --format sdtm-rs`.
pub const RS_COLUMNS: &[&str] = &[
    "STUDYID", "DOMAIN", "USUBJID", "RSSEQ", "RSTESTCD", "RSTEST", "RSCAT", "RSORRES", "RSSTRESC",
    "RSSTAT", "RSEVAL", "RSEVALID", "VISIT", "RSDTC",
];

const RSSEQ: usize = 3;

/// One subject's responses as RS rows (RSSEQ is left for [`number`]). `RSEVAL`/`RSEVALID` repeat
/// the evaluator columns the reader came from (for a plain lesion table, `RSEVAL` is the
/// reader); `RSDTC` is the date as the data wrote it (a partial date stays partial); the best
/// response's `RSDTC` is the date of the assessment that gave it.
pub fn rs_rows(ev: &Evaluation, sdtm: &Sdtm, study: &str) -> Vec<Vec<String>> {
    let rs = ev.rs();
    let s = ev.subj;
    let (eval, evalid) = match s.reader.as_deref() {
        None => (String::new(), String::new()),
        Some(r) => match sdtm.evaluators.get(r) {
            Some(e) => (
                e.eval.clone().unwrap_or_else(|| r.to_string()),
                e.evalid.clone().unwrap_or_default(),
            ),
            None => (r.to_string(), String::new()),
        },
    };
    let dtc = |t: usize| {
        let date = s.assessments[t].date;
        sdtm.partial_dates
            .get(&(s.subject.clone(), s.reader.clone(), date))
            .cloned()
            .unwrap_or_else(|| format_date(date))
    };
    let row = |(code, test): (&str, &str), cat: Option<&str>, visit: &str, dtc: String| {
        let term = cat.map(cdisc_term).unwrap_or_default();
        vec![
            study.to_string(),
            "RS".into(),
            s.subject.clone(),
            String::new(),
            code.into(),
            test.into(),
            rs.title.clone(),
            term.clone(),
            term,
            if cat.is_none() { "NOT DONE" } else { "" }.into(),
            eval.clone(),
            evalid.clone(),
            visit.into(),
            dtc,
        ]
    };
    let defs: Vec<((&str, &str), DefId)> = RESPONSE_TESTS
        .iter()
        .filter_map(|&(name, code, test)| response_def(rs, name).map(|d| ((code, test), d)))
        .collect();
    let mut rows = vec![];
    for t in 1..s.assessments.len() {
        for &(test, d) in &defs {
            let cat = ev.category(t, d).map(|c| rs.cat_name(c));
            rows.push(row(test, cat, &s.assessments[t].visit, dtc(t)));
        }
    }
    let best = ev.best.category.map(|c| rs.cat_name(c));
    rows.push(row(
        BEST_TEST,
        best,
        "",
        ev.best.at.map(dtc).unwrap_or_default(),
    ));
    rows
}

/// Numbers the rows of each subject 1, 2, ... in the order written (RSSEQ), over all its
/// readers; the numbering carries on from one call to the next (rows are written subject by
/// subject).
#[derive(Default)]
pub struct Numbering {
    seq: HashMap<String, usize>,
    /// Subjects come one at a time and never again (a streamed table): only the current
    /// subject's count is kept, so memory does not grow with the cohort.
    pub one_at_a_time: bool,
}

impl Numbering {
    pub fn number<'a>(&mut self, rows: impl IntoIterator<Item = &'a mut Vec<String>>) {
        for r in rows {
            if self.one_at_a_time && !self.seq.contains_key(&r[2]) {
                self.seq.clear();
            }
            let n = self.seq.entry(r[2].clone()).or_insert(0);
            *n += 1;
            r[RSSEQ] = n.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsseq_counts_within_each_subject() {
        let mut rows: Vec<Vec<String>> = ["A", "A", "B", "A"]
            .iter()
            .map(|s| {
                let mut r = vec![String::new(); RS_COLUMNS.len()];
                r[2] = s.to_string();
                r
            })
            .collect();
        Numbering::default().number(rows.iter_mut());
        let seq: Vec<&str> = rows.iter().map(|r| r[RSSEQ].as_str()).collect();
        assert_eq!(seq, ["1", "2", "1", "3"]);
    }
}
