//! Helpers shared by the integration tests that run the `crit` binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Runs `crit` from the repository root: (exit code, stdout, stderr).
pub fn crit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_crit"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A fresh, empty folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `crit eval --format json` on a table already open, on `threads` threads, through the same
/// streaming path as the binary: (output, diagnostics).
pub fn eval_json(
    eng: &crit::eval::Engine,
    binding: &crit::data::bind::Binding,
    table: &mut crit::data::Table,
    threads: usize,
) -> (Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (vec![], vec![]);
    let sdtm = Default::default();
    let run = crit::cli::EvalRun {
        eng,
        binding,
        format: crit::cli::Format::Json,
        sdtm: &sdtm,
        studyid: None,
        keep: &|_| true,
        color: false,
    };
    crit::cli::Threads {
        threads: Some(threads),
    }
    .install(|| run.write(table, &mut out, &mut err));
    (out, err)
}

/// `crit compare`'s report of the given criteria on a cohort file, with the explanations
/// `explain` names.
pub fn compare_report(
    cohort: &str,
    criteria: &[&str],
    explain: crit::compare::Explain,
) -> crit::compare::Report {
    let cohort = crit::data::table::read_path(cohort).expect("example cohort reads");
    let specs: Vec<_> = criteria
        .iter()
        .map(|c| crit::compare::parse_spec(c).expect("valid criterion"))
        .collect();
    let opts = crit::compare::Options {
        explain,
        ..Default::default()
    };
    crit::compare::build_with(&specs, &cohort, &opts).expect("comparison builds")
}
