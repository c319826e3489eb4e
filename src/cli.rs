//! The command line: `crit check`, `crit eval`, `crit explain`, `crit compare`, `crit audit`,
//! `crit simulate`, `crit list`.
//! Exit codes: 0 ok, 1 invalid ruleset or data errors, 2 usage.

mod compare;
mod simulate;

use std::io::Write;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check::{self, ir};
use crate::data::{bind, table, DataError, RawCohort};
use crate::diag::{self, Diag};
use crate::eval::{self, Engine};
use crate::explain::{output, text};
use crate::registry;

pub use crate::spec::apply_set;
pub use compare::CompareArgs;

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
        /// Lesion table (CSV, or JSON of the same model); not needed with --sdtm.
        #[arg(required_unless_present = "sdtm")]
        data: Option<String>,
        #[command(flatten)]
        sdtm: SdtmArgs,
        /// Only this reader.
        #[arg(long)]
        reader: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// STUDYID of `--format sdtm-rs` rows (default: the data's STUDYID).
        #[arg(long, value_name = "ID")]
        studyid: Option<String>,
        /// Override a param, e.g. --set pd_increase=25% (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Explain one subject's responses in full.
    Explain {
        #[arg(long, short)]
        criteria: String,
        #[arg(required_unless_present = "sdtm")]
        data: Option<String>,
        #[command(flatten)]
        sdtm: SdtmArgs,
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
    /// Compare criteria (or parameter variants) on one cohort: agreement, rates, reclassification.
    Compare(CompareArgs),
    /// Recompute the overall responses recorded in SDTM RS and list every disagreement (exit 1 if any).
    Audit {
        /// Ruleset: a shipped id (see `crit list`) or a .crit file.
        #[arg(long, short)]
        criteria: String,
        #[command(flatten)]
        sdtm: SdtmArgs,
        /// Only this reader (RSEVALID, else RSEVAL; TREVALID, else TREVAL).
        #[arg(long)]
        reader: Option<String>,
        /// RSCAT of the rows to compare (default: the ruleset's title).
        #[arg(long, value_name = "TEXT")]
        rscat: Option<String>,
        #[arg(long, value_enum, default_value_t = crate::audit::Format::Text)]
        format: crate::audit::Format,
        /// Override a param, e.g. --set pd_increase=25% (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Simulate a virtual trial whose truth is known: lesions.csv, truth.csv (and outcomes.csv).
    Simulate(simulate::SimulateArgs),
    /// List the shipped rulesets.
    List,
}

/// Reading CDISC SDTM (TU, TR, and DM, RS when present) instead of a lesion table.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SdtmArgs {
    /// Folder with SDTM tu, tr (and dm, rs) files, .csv or .xpt (SAS transport v5/v8).
    #[arg(long, value_name = "DIR")]
    pub sdtm: Option<String>,
    /// Dataset name: `--dataset onco_recist` reads tu_onco_recist.*, tr_onco_recist.*, rs_onco_recist.*.
    #[arg(long, value_name = "NAME", requires = "sdtm")]
    pub dataset: Option<String>,
    /// Only results with TRACPTFL = Y (RSACPTFL = Y): one accepted timeline per subject.
    #[arg(long, requires = "sdtm")]
    pub accepted: bool,
    /// Complete partial dates (2014-02): first → the 1st (1 January), middle → the 15th (1 July).
    #[arg(long, value_enum, value_name = "HOW", requires = "sdtm")]
    pub impute_dates: Option<crate::data::sdtm::Impute>,
}

impl SdtmArgs {
    pub(crate) fn options(&self, reader: Option<&str>) -> crate::data::sdtm::Options {
        crate::data::sdtm::Options {
            dataset: self.dataset.clone(),
            reader: reader.map(|r| r.to_string()),
            accepted: self.accepted,
            impute: self.impute_dates,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
    /// CDISC SDTM RS rows (CSV): OVRLRESP, TRGRESP, NTRGRESP, NEWLIND per timepoint, then
    /// BESTRSP, in CDISC terms.
    SdtmRs,
}

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check { files } => check_files(&files),
        Command::Eval {
            criteria,
            data,
            sdtm,
            reader,
            format,
            studyid,
            set,
        } => eval_cmd(
            &criteria,
            &Source { data, sdtm, reader },
            format,
            studyid.as_deref(),
            &set,
        ),
        Command::Explain {
            criteria,
            data,
            sdtm,
            subject,
            reader,
            verbose,
            set,
        } => explain_cmd(
            &criteria,
            &Source {
                data,
                sdtm,
                reader: reader.clone(),
            },
            &subject,
            reader.as_deref(),
            verbose,
            &set,
        ),
        Command::Audit {
            criteria,
            sdtm,
            reader,
            rscat,
            format,
            set,
        } => audit_cmd(&criteria, &sdtm, reader, rscat, format, &set),
        Command::Compare(args) => compare::run(&args),
        Command::Simulate(args) => simulate::run(&args),
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

/// A data error rendered like a ruleset error: the file, the offending line underlined, the
/// column, and a help line.
fn data_error_diag(e: &DataError) -> String {
    diag::render_terminal(&[data_diag(e, None)])
}

fn data_diag(e: &DataError, who: Option<String>) -> Diag {
    let message = match who {
        Some(w) => format!("{w}: {}", e.message),
        None => e.message.clone(),
    };
    let mut d = Diag::error("crit::data", message);
    if let Some(h) = &e.help {
        d = d.help(h.clone());
    }
    let text_file =
        !(e.file.to_lowercase().ends_with(".json") || e.file.to_lowercase().ends_with(".xpt"));
    let source = e
        .line
        .filter(|_| text_file)
        .and_then(|line| data_source(&e.file).map(|src| (line, src)));
    match source {
        Some((line, src)) => {
            let text = src.inner();
            let start: usize = text
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(|l| l.len())
                .sum();
            let end = text[start.min(text.len())..]
                .find('\n')
                .map(|i| start + i)
                .unwrap_or(text.len());
            let label = e
                .column
                .as_deref()
                .map(|c| format!("column {c}"))
                .unwrap_or_else(|| "here".into());
            d.label(
                crate::syntax::ast::Span::new(start.min(text.len()), end),
                label,
            )
            .with_src(&src)
        }
        None => {
            let place = match &e.column {
                Some(c) if e.line.is_some() => format!(" ({}, column {c})", e.place()),
                _ => format!(" ({})", e.place()),
            };
            d.message.push_str(&place);
            d
        }
    }
}

/// Data files read once for error messages.
fn data_source(path: &str) -> Option<diag::Source> {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Option<diag::Source>>> = Default::default();
    }
    CACHE.with(|c| {
        c.borrow_mut()
            .entry(path.to_string())
            .or_insert_with(|| {
                std::fs::read_to_string(path)
                    .ok()
                    .map(|t| diag::source(path, &t))
            })
            .clone()
    })
}

/// Where the lesion data comes from: a lesion table, or an SDTM folder.
struct Source {
    data: Option<String>,
    sdtm: SdtmArgs,
    reader: Option<String>,
}

impl Source {
    fn name(&self) -> &str {
        self.data
            .as_deref()
            .or(self.sdtm.sdtm.as_deref())
            .unwrap_or("")
    }
}

/// Loads ruleset, params and data; on failure prints why and returns the exit code. SDTM input
/// also yields what RS output and audits need.
fn prepare(
    criteria: &str,
    source: &Source,
) -> Result<(check::Checked, RawCohort, crate::data::sdtm::Sdtm), i32> {
    if source.data.is_some() && source.sdtm.sdtm.is_some() {
        eprint_diags(&[Diag::error(
            "crit::usage",
            "give either a lesion table or --sdtm DIR, not both",
        )]);
        return Err(2);
    }
    let checked = match check::load(criteria) {
        Ok(c) => c,
        Err(d) => {
            eprint_diags(&d);
            return Err(1);
        }
    };
    let loaded = match (&source.data, &source.sdtm.sdtm) {
        (Some(data), _) => table::read_path(data).map(|mut c| {
            if let Some(r) = &source.reader {
                c.subjects.retain(|s| {
                    s.reader
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(r))
                });
            }
            (c, crate::data::sdtm::Sdtm::default())
        }),
        (None, Some(dir)) => {
            crate::data::sdtm::read_dir(dir, &source.sdtm.options(source.reader.as_deref())).map(
                |mut s| {
                    s.notes.iter().for_each(|n| eprintln!("note: {n}"));
                    (std::mem::take(&mut s.cohort), s)
                },
            )
        }
        (None, None) => {
            eprint_diags(&[Diag::error("crit::usage", "no lesion data")
                .help("give a lesion table, or --sdtm DIR")]);
            return Err(2);
        }
    };
    match loaded {
        Ok((cohort, sdtm)) => Ok((checked, cohort, sdtm)),
        Err(e) => {
            eprintln!("{}", data_error_diag(&e));
            Err(1)
        }
    }
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

/// Where the ruleset's inputs are in the table; a missing column is reported (exit code 1).
fn binding(rs: &ir::Ruleset, cohort: &RawCohort) -> Result<bind::Binding, i32> {
    bind::plan(rs, cohort).map_err(|errs| {
        errs.iter()
            .for_each(|e| eprintln!("{}", data_error_diag(e)));
        1
    })
}

fn eval_cmd(
    criteria: &str,
    source: &Source,
    format: Format,
    studyid: Option<&str>,
    set: &[String],
) -> i32 {
    let (checked, cohort, sdtm) = match prepare(criteria, source) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let eng = match engine(&checked.ruleset, set) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let binding = match binding(&checked.ruleset, &cohort) {
        Ok(b) => b,
        Err(c) => return c,
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
            // Each subject is serialised where it is evaluated, so the cohort is never held as a
            // JSON tree; the document is the criteria, then the subjects in order.
            let subjects = eval::each_subject(&eng, &binding, &cohort, |raw, r| {
                let (v, error) = match r {
                    Ok(ev) => (output::subject_json(ev), None),
                    Err(e) => (
                        output::error_json(raw, e),
                        Some(format!("error: subject {}: {e}", raw.subject)),
                    ),
                };
                (
                    indent(
                        &serde_json::to_string_pretty(&v).unwrap_or_default(),
                        "    ",
                    ),
                    error,
                )
            });
            let criteria = indent(
                &serde_json::to_string_pretty(&output::criteria_json(&eng)).unwrap_or_default(),
                "  ",
            );
            let _ = write!(
                out,
                "{{\n  \"criteria\": {},\n  \"subjects\": [",
                criteria.trim_start()
            );
            for (i, (s, error)) in subjects.iter().enumerate() {
                if let Some(e) = error {
                    eprintln!("{e}");
                    code = 1;
                }
                let _ = write!(out, "{}\n{s}", if i == 0 { "" } else { "," });
            }
            let _ = writeln!(
                out,
                "{}]\n}}",
                if subjects.is_empty() { "" } else { "\n  " }
            );
        }
        Format::Csv => {
            let rows = eval::each_subject(&eng, &binding, &cohort, |raw, r| match r {
                Ok(ev) => Ok(output::csv_rows(ev)),
                Err(e) => Err(subject_error(raw, e)),
            });
            code = code.max(write_csv(
                &mut out,
                &output::csv_header(&checked.ruleset),
                rows,
            ));
        }
        Format::SdtmRs => {
            use crate::rs_domain;
            if studyid.is_none() && sdtm.studies.is_empty() {
                eprint_diags(&[Diag::error(
                    "crit::usage",
                    format!("{} has no STUDYID for the RS rows", source.name()),
                )
                .help("give the study with --studyid ID")]);
                return 2;
            }
            let mut rows = eval::each_subject(&eng, &binding, &cohort, |raw, r| {
                let study = studyid.or(sdtm.studies.get(&raw.subject).map(|s| s.as_str()));
                match (r, study) {
                    (Ok(ev), Some(study)) => Ok(rs_domain::rs_rows(ev, &sdtm, study)),
                    (Ok(_), None) => Err(format!(
                        "error: subject {}: no STUDYID in the data (give --studyid ID)",
                        raw.subject
                    )),
                    (Err(e), _) => Err(subject_error(raw, e)),
                }
            });
            rs_domain::number(rows.iter_mut().filter_map(|r| r.as_mut().ok()).flatten());
            code = code.max(write_csv(&mut out, rs_domain::RS_COLUMNS, rows));
        }
        Format::Text => {
            let texts = eval::each_subject(&eng, &binding, &cohort, |raw, r| match r {
                Ok(ev) => Ok((
                    text::subject(ev, &text::Options { verbose: false }),
                    text::added_categories(ev),
                )),
                Err(e) => Err(format!(
                    "{} — subject {}{}: data error\n  {e}\n",
                    checked.ruleset.title,
                    raw.subject,
                    reader_suffix(raw.reader.as_deref())
                )),
            });
            let n = texts.len();
            let mut tallies = vec![];
            for t in texts {
                match t {
                    Ok((s, tally)) => {
                        let _ = writeln!(out, "{s}");
                        tallies.push(tally);
                    }
                    Err(s) => {
                        let _ = writeln!(out, "{s}");
                        code = 1;
                    }
                }
            }
            let _ = write!(
                out,
                "{}",
                text::cohort_summary(&checked.ruleset, n, &tallies)
            );
        }
    }
    code
}

fn subject_error(raw: &crate::data::model::RawSubject, e: &DataError) -> String {
    let who = format!(
        "subject {}{}",
        raw.subject,
        reader_suffix(raw.reader.as_deref())
    );
    diag::render_terminal(&[data_diag(e, Some(who))])
        .trim_end()
        .to_string()
}

/// Writes CSV rows after a header; subjects that failed are reported on stderr (exit code 1).
fn write_csv<H: AsRef<[u8]>>(
    out: &mut impl Write,
    header: &[H],
    rows: Vec<Result<Vec<Vec<String>>, String>>,
) -> i32 {
    let mut code = 0;
    let mut w = csv::Writer::from_writer(out);
    let _ = w.write_record(header);
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
    code
}

/// Indents every line of a pretty-printed JSON value.
fn indent(json: &str, pad: &str) -> String {
    json.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn reader_suffix(r: Option<&str>) -> String {
    r.map(|r| format!(" (reader {r})")).unwrap_or_default()
}

fn explain_cmd(
    criteria: &str,
    source: &Source,
    subject: &str,
    reader: Option<&str>,
    verbose: bool,
    set: &[String],
) -> i32 {
    let (checked, mut cohort, _) = match prepare(criteria, source) {
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
            format!(
                "no subject `{subject}`{} in {}",
                reader_suffix(reader),
                source.name()
            ),
        );
        if let Some(s) = diag::did_you_mean(subject, all.iter().map(|s| s.as_str())) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        eprint_diags(&[d]);
        return 1;
    }
    let binding = match binding(&checked.ruleset, &cohort) {
        Ok(b) => b,
        Err(c) => return c,
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
    let mut out = std::io::stdout().lock();
    for t in texts {
        match t {
            // A closed pipe (`| head`) ends the output quietly.
            Ok(s) => {
                if writeln!(out, "{s}").is_err() {
                    break;
                }
            }
            Err(s) => {
                eprintln!("{s}");
                code = 1;
            }
        }
    }
    code
}

fn audit_cmd(
    criteria: &str,
    sdtm: &SdtmArgs,
    reader: Option<String>,
    rscat: Option<String>,
    format: crate::audit::Format,
    set: &[String],
) -> i32 {
    use crate::audit;
    if sdtm.sdtm.is_none() {
        eprint_diags(&[
            Diag::error("crit::usage", "crit audit reads SDTM: give --sdtm DIR")
                .help("e.g. crit audit --criteria ID --sdtm DIR --dataset NAME"),
        ]);
        return 2;
    }
    let source = Source {
        data: None,
        sdtm: sdtm.clone(),
        reader: reader.clone(),
    };
    let (checked, cohort, data) = match prepare(criteria, &source) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let Some(recorded) = &data.recorded else {
        eprintln!(
            "error: no RS file (rs{}.csv or .xpt) in {}",
            sdtm.dataset
                .as_deref()
                .map(|d| format!("_{d}"))
                .unwrap_or_default(),
            source.name()
        );
        return 1;
    };
    let eng = match engine(&checked.ruleset, set) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let binding = match binding(&checked.ruleset, &cohort) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let opts = audit::Options {
        category: rscat,
        reader,
        accepted: sdtm.accepted,
        explain: format == audit::Format::Text,
    };
    let report = match audit::audit(&eng, &binding, &cohort, recorded, &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}", data_error_diag(&e));
            return 1;
        }
    };
    cohort
        .errors
        .iter()
        .chain(&recorded.errors)
        .for_each(|e| eprintln!("{}", data_error_diag(e)));
    report
        .subject_errors
        .iter()
        .for_each(|e| eprintln!("error: {e}"));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        audit::Format::Text => {
            let _ = write!(out, "{}", audit::render_text(&report, &checked.ruleset));
        }
        audit::Format::Json => {
            let _ = serde_json::to_writer_pretty(&mut out, &audit::render_json(&report));
            let _ = writeln!(out);
        }
        audit::Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            let _ = w.write_record(audit::CSV_COLUMNS);
            audit::csv_rows(&report).iter().for_each(|r| {
                let _ = w.write_record(r);
            });
            let _ = w.flush();
            eprintln!("{}", audit::summary_line(&report, &checked.ruleset));
        }
    }
    i32::from(
        report.summary.disagreed > 0
            || report.summary.not_computed > 0
            || !report.subject_errors.is_empty(),
    )
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
