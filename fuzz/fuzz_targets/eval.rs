//! Any bytes as a lesion table under a shipped ruleset, through the path `crit eval` takes:
//! the table streamed subject by subject, bound, evaluated and written (text, JSON or CSV,
//! data errors rendered), then the first subject explained in full. The first byte picks the
//! ruleset and the format, and whether the rest is read as CSV (raw bytes) or as JSON.
#![no_main]

use crit::check;
use crit::cli::{EvalRun, Format};
use crit::data::model::RawSubject;
use crit::data::{bind, json, sdtm::Sdtm, stream::Table};
use crit::eval::Engine;
use crit::explain::text;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The shipped rulesets, checked once.
fn shipped() -> &'static [check::Checked] {
    static SHIPPED: OnceLock<Vec<check::Checked>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        crit::registry::shipped()
            .iter()
            .map(|(id, _)| check::load(id).expect("shipped rulesets check"))
            .collect()
    })
}

fn open(as_json: bool, bytes: &[u8]) -> Option<Table> {
    let table = if as_json {
        json::read("fuzz.json", std::str::from_utf8(bytes).ok()?)
    } else {
        Table::csv_text("fuzz.csv", bytes)
    };
    table.map_err(|e| e.to_string()).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let shipped = shipped();
    let checked = &shipped[(pick & 0x1f) as usize % shipped.len()];
    let format = [Format::Text, Format::Json, Format::Csv, Format::Summary][((pick >> 5) & 3) as usize];
    let as_json = pick >> 7 == 1;
    let rs = &checked.ruleset;
    let eng = Engine::new(rs);
    let Some(mut table) = open(as_json, rest) else {
        return;
    };
    let s = &table.schema;
    let binding = match bind::plan_columns(rs, &s.file, &s.columns, &s.duplicates) {
        Ok(b) => b,
        Err(errs) => {
            errs.iter().for_each(|e| drop(e.to_string()));
            return;
        }
    };
    let keep = |_: &RawSubject| true;
    let run = EvalRun {
        eng: &eng,
        binding: &binding,
        format,
        sdtm: &Sdtm::default(),
        studyid: None,
        keep: &keep,
        color: false,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run.write(&mut table, &mut out, &mut err);

    // `crit explain --verbose` on the first subject.
    let Some(table) = open(as_json, rest) else {
        return;
    };
    let cohort = table.load();
    if let Some(raw) = cohort.subjects.first() {
        if let Ok(subj) = bind::bind(rs, &binding, &cohort.file, raw) {
            let ev = eng.evaluate(&subj);
            let _ = text::subject(&ev, &text::Options { verbose: true });
        }
    }
});
