//! The command line: `crit check`, `crit eval`, `crit explain`, `crit list`.
//! Exit codes: 0 ok, 1 invalid ruleset or data errors, 2 usage.

use std::io::Write;
use std::str::FromStr;

use clap::{Parser, Subcommand, ValueEnum};
use rust_decimal::Decimal;

use crate::check::{self, ir};
use crate::data::{bind, table, DataError, RawCohort};
use crate::diag::{self, Diag};
use crate::eval::{self, Engine};
use crate::explain::{output, text};
use crate::{registry, units};

#[derive(Parser, Debug)]
#[command(
    name = "crit",
    version,
    about = "Tumour response criteria as code: check rulesets, evaluate lesion data, explain every decision"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check rulesets for errors (exit 1 if any); diagnostics go to stderr.
    Check {
        /// Ruleset files (.crit) or shipped ids.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Evaluate a lesion table: timepoint and best responses of every subject.
    Eval {
        /// Ruleset: a shipped id (see `crit list`) or a .crit file.
        #[arg(long, short)]
        criteria: String,
        /// Lesion table (CSV, or JSON of the same model).
        data: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Override a param, e.g. --set pd_increase=25% (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Explain one subject's responses in full.
    Explain {
        #[arg(long, short)]
        criteria: String,
        data: String,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        reader: Option<String>,
        /// Also show why earlier rules did not apply.
        #[arg(long)]
        verbose: bool,
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// List the shipped rulesets.
    List,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check { files } => check_files(&files),
        Command::Eval {
            criteria,
            data,
            format,
            set,
        } => eval_cmd(&criteria, &data, format, &set),
        Command::Explain {
            criteria,
            data,
            subject,
            reader,
            verbose,
            set,
        } => explain_cmd(&criteria, &data, &subject, reader.as_deref(), verbose, &set),
        Command::List => list(),
    }
}

fn eprint_diags(diags: &[Diag]) {
    eprint!("{}", diag::render_terminal(diags));
}

fn check_files(files: &[String]) -> i32 {
    let mut code = 0;
    for f in files {
        match check::load(f) {
            Ok(c) => {
                eprint_diags(&c.warnings);
                let w = c.warnings.len();
                let warn = if w == 0 {
                    String::new()
                } else {
                    format!(" ({w} warning{})", if w == 1 { "" } else { "s" })
                };
                eprintln!("{f}: ok{warn}");
            }
            Err(diags) => {
                eprint_diags(&diags);
                let n = diags.iter().filter(|d| d.is_error()).count();
                eprintln!("{f}: {n} error{}", if n == 1 { "" } else { "s" });
                code = 1;
            }
        }
    }
    code
}

/// Parses `--set NAME=VALUE` against the param's declared kind and unit.
pub fn apply_set(eng: &mut Engine, set: &str) -> Result<(), Diag> {
    let rs = eng.rs;
    let (name, value) = set.split_once('=').ok_or_else(|| {
        Diag::error("crit::set", format!("`--set {set}`: expected NAME=VALUE"))
            .help("e.g. --set pd_increase=25%")
    })?;
    let (name, value) = (name.trim(), value.trim());
    let Some(i) = rs.param_id(name) else {
        let names: Vec<&str> = rs.params.iter().map(|p| p.name.as_str()).collect();
        let help = match diag::did_you_mean(name, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the params of {} are: {}", rs.id, names.join(", ")),
        };
        return Err(
            Diag::error("crit::set", format!("`{}` has no param `{name}`", rs.id)).help(help),
        );
    };
    let p = &rs.params[i];
    let parsed = match p.ty {
        ir::Ty::Bool => match value {
            "true" => Ok(ir::ParamValue::Bool(true)),
            "false" => Ok(ir::ParamValue::Bool(false)),
            _ => Err(format!("`{name}` is true or false")),
        },
        ir::Ty::Num { dim, .. } => {
            let split = value
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .unwrap_or(value.len());
            let (num, unit) = (value[..split].trim(), value[split..].trim());
            match Decimal::from_str(num) {
                Err(_) => Err(format!("`{value}` is not a number with a unit")),
                Ok(d) if unit.is_empty() && dim.is_none() && p.unit.is_none() => {
                    Ok(ir::ParamValue::Num(d))
                }
                Ok(_) if unit.is_empty() => Err(format!(
                    "`{name}` needs a unit, like its default ({})",
                    crate::explain::format::param(rs, i, &p.value)
                )),
                Ok(d) => match units::lookup(unit) {
                    Some(u) if u.dim == dim => Ok(ir::ParamValue::Num(d * u.factor)),
                    Some(u) => Err(format!(
                        "`{name}` is in {}, not {}",
                        p.unit.as_deref().unwrap_or("plain numbers"),
                        u.name
                    )),
                    None => Err(format!("unknown unit `{unit}`")),
                },
            }
        }
        _ => Err("this param cannot be set".into()),
    };
    match parsed {
        Ok(v) => {
            eng.params[i] = v;
            Ok(())
        }
        Err(m) => Err(
            Diag::error("crit::set", format!("`--set {set}`: {m}")).help(format!(
                "the default is `{name}={}`",
                crate::explain::format::param(rs, i, &p.value).replace(' ', "")
            )),
        ),
    }
}

fn data_error_diag(e: &DataError) -> String {
    format!("error: {e}")
}

/// Loads ruleset, params and data; on failure prints why and returns the exit code.
fn prepare(criteria: &str, data: &str) -> Result<(check::Checked, RawCohort), i32> {
    let checked = match check::load(criteria) {
        Ok(c) => c,
        Err(d) => {
            eprint_diags(&d);
            return Err(1);
        }
    };
    let cohort = match table::read_path(data) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", data_error_diag(&e));
            return Err(1);
        }
    };
    Ok((checked, cohort))
}

fn engine<'r>(rs: &'r ir::Ruleset, set: &[String]) -> Result<Engine<'r>, i32> {
    let mut eng = Engine::new(rs);
    for s in set {
        if let Err(d) = apply_set(&mut eng, s) {
            eprint_diags(&[d]);
            return Err(2);
        }
    }
    Ok(eng)
}

fn eval_cmd(criteria: &str, data: &str, format: Format, set: &[String]) -> i32 {
    let (checked, cohort) = match prepare(criteria, data) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let eng = match engine(&checked.ruleset, set) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let binding = match bind::plan(&checked.ruleset, &cohort) {
        Ok(b) => b,
        Err(errs) => {
            errs.iter()
                .for_each(|e| eprintln!("{}", data_error_diag(e)));
            return 1;
        }
    };
    let mut code = 0;
    for e in &cohort.errors {
        eprintln!("{}", data_error_diag(e));
        code = 1;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            let subjects = eval::each_subject(&eng, &binding, &cohort, |raw, r| match r {
                Ok(ev) => output::subject_json(ev),
                Err(e) => output::error_json(raw, e),
            });
            let errors = subjects.iter().filter(|s| !s["error"].is_null()).count();
            if errors > 0 {
                code = 1;
                for s in subjects.iter().filter(|s| !s["error"].is_null()) {
                    eprintln!(
                        "error: subject {}: {}",
                        s["subject"].as_str().unwrap_or(""),
                        s["error"]["message"].as_str().unwrap_or("")
                    );
                }
            }
            let doc =
                serde_json::json!({"criteria": output::criteria_json(&eng), "subjects": subjects});
            let _ = serde_json::to_writer_pretty(&mut out, &doc);
            let _ = writeln!(out);
        }
        Format::Csv => {
            let rows = eval::each_subject(&eng, &binding, &cohort, |raw, r| match r {
                Ok(ev) => Ok(output::csv_rows(ev)),
                Err(e) => Err(format!("error: subject {}: {e}", raw.subject)),
            });
            let mut w = csv::Writer::from_writer(&mut out);
            let _ = w.write_record(output::csv_header(&checked.ruleset));
            for r in rows {
                match r {
                    Ok(rows) => rows.iter().for_each(|row| {
                        let _ = w.write_record(row);
                    }),
                    Err(m) => {
                        eprintln!("{m}");
                        code = 1;
                    }
                }
            }
            let _ = w.flush();
        }
        Format::Text => {
            let texts = eval::each_subject(&eng, &binding, &cohort, |raw, r| match r {
                Ok(ev) => Ok(text::subject(ev, &text::Options { verbose: false })),
                Err(e) => Err(format!(
                    "{} — subject {}{}: data error\n  {e}\n",
                    checked.ruleset.title,
                    raw.subject,
                    reader_suffix(raw.reader.as_deref())
                )),
            });
            for t in texts {
                match t {
                    Ok(s) => {
                        let _ = writeln!(out, "{s}");
                    }
                    Err(s) => {
                        let _ = writeln!(out, "{s}");
                        code = 1;
                    }
                }
            }
        }
    }
    code
}

fn reader_suffix(r: Option<&str>) -> String {
    r.map(|r| format!(" (reader {r})")).unwrap_or_default()
}

fn explain_cmd(
    criteria: &str,
    data: &str,
    subject: &str,
    reader: Option<&str>,
    verbose: bool,
    set: &[String],
) -> i32 {
    let (checked, mut cohort) = match prepare(criteria, data) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let eng = match engine(&checked.ruleset, set) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let all: Vec<String> = cohort.subjects.iter().map(|s| s.subject.clone()).collect();
    cohort
        .subjects
        .retain(|s| s.subject == subject && reader.is_none_or(|r| s.reader.as_deref() == Some(r)));
    if cohort.subjects.is_empty() {
        let mut d = Diag::error(
            "crit::subject",
            format!("no subject `{subject}`{} in {data}", reader_suffix(reader)),
        );
        if let Some(s) = diag::did_you_mean(subject, all.iter().map(|s| s.as_str())) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        eprint_diags(&[d]);
        return 1;
    }
    let binding = match bind::plan(&checked.ruleset, &cohort) {
        Ok(b) => b,
        Err(errs) => {
            errs.iter()
                .for_each(|e| eprintln!("{}", data_error_diag(e)));
            return 1;
        }
    };
    let mut code = 0;
    let texts = eval::each_subject(&eng, &binding, &cohort, |raw, r| match r {
        Ok(ev) => Ok(text::subject(ev, &text::Options { verbose })),
        Err(e) => Err(format!(
            "subject {}{}: data error\n  {e}",
            raw.subject,
            reader_suffix(raw.reader.as_deref())
        )),
    });
    for t in texts {
        match t {
            Ok(s) => println!("{s}"),
            Err(s) => {
                eprintln!("{s}");
                code = 1;
            }
        }
    }
    code
}

fn list() -> i32 {
    let mut code = 0;
    for (id, _) in registry::shipped() {
        match check::load(id) {
            Ok(c) => {
                let rs = &c.ruleset;
                println!(
                    "{id}\t{}\t{}\t{}",
                    rs.title,
                    rs.version.as_deref().unwrap_or("-"),
                    rs.cites.first().map(|s| s.as_str()).unwrap_or("-")
                );
            }
            Err(d) => {
                eprint_diags(&d);
                code = 1;
            }
        }
    }
    code
}
