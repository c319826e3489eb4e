//! Any bytes as a ruleset: parse, check, render the diagnostics; a ruleset that checks is
//! evaluated and explained on a small cohort.
#![no_main]

use crit::check;
use crit::data::{bind, table};
use crit::eval::Engine;
use crit::explain::{output, text};
use libfuzzer_sys::fuzz_target;

const COHORT: &str =
    "subject,visit,date,lesion,role,organ,nodal,status,long_axis,short_axis,sul_peak
A,BL,2024-01-01,T1,target,liver,,present,20,,3.1
A,BL,2024-01-01,N1,target,lymph node,yes,present,,15,
A,W8,2024-02-26,T1,target,liver,,present,0,,1.0
A,W8,2024-02-26,N1,target,lymph node,yes,not-evaluated,,,
A,W8,2024-02-26,X1,new,lung,,present,7,,4.5
B,BL,2024-01-01,T1,target,lung,,present,79228162514264337593543950335,,
B,W8,2024-02-26,T1,target,lung,,absent,,,
";

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    let checked = match check::check_text("fuzz.crit", &src) {
        Ok(c) => c,
        Err(diags) => {
            let _ = crit::diag::render_plain(&diags);
            return;
        }
    };
    let rs = &checked.ruleset;
    let eng = Engine::new(rs);
    let Ok(cohort) = table::read_csv("cohort.csv", COHORT) else {
        return;
    };
    let Ok(binding) = bind::plan(rs, &cohort) else {
        return;
    };
    for raw in &cohort.subjects {
        if let Ok(subj) = bind::bind(rs, &binding, &cohort.file, raw) {
            let ev = eng.evaluate(&subj);
            let _ = text::subject(&ev, &text::Options { verbose: true });
            let _ = output::subject_json(&ev);
        }
    }
});
