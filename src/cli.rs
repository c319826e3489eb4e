//! The command line: `crit check`, `crit eval`, `crit explain`, `crit compare`, `crit audit`,
//! `crit simulate`, `crit list`.
//! Exit codes: 0 ok, 1 invalid ruleset or data errors, 2 usage.

mod compare;
mod simulate;

use std::io::Write;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check::{self, ir};
use crate::data::model::RawSubject;
use crate::data::{bind, report, table, DataError, Table};
use crate::diag::{self, Diag};
use crate::eval::{self, Engine, Evaluation};
use crate::explain::{output, text};
use crate::spec::{self, Spec};
use crate::{registry, rs_domain};

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
        #[command(flatten)]
        source: Source,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// STUDYID of `--format sdtm-rs` rows (default: the data's STUDYID).
        #[arg(long, value_name = "ID")]
        studyid: Option<String>,
        /// Override a param, e.g. --set pd_increase=25% (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Read a lesion table and check it against a ruleset's inputs, without evaluating.
    Validate {
        #[command(flatten)]
        source: Source,
    },
    /// Explain one subject's responses in full.
    Explain {
        #[command(flatten)]
        source: Source,
        /// The subject to explain (every reader of it, unless --reader).
        #[arg(long, value_name = "ID")]
        subject: String,
        /// Also show why earlier rules did not apply.
        #[arg(long)]
        verbose: bool,
        /// Override a param, e.g. --set pd_increase=25% (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Compare criteria (or parameter variants) on one cohort: agreement, rates, reclassification.
    Compare(CompareArgs),
    /// Recompute the overall responses recorded in SDTM RS and list every disagreement (exit 1 if any).
    Audit {
        /// Ruleset: a shipped id (see `crit list`) or a .crit file, optionally with param
        /// overrides: 'recist-1.1[pd_increase=25%]'.
        #[arg(long, short, value_name = "CRITERIA")]
        criteria: String,
        #[command(flatten)]
        sdtm: SdtmArgs,
        /// Only this reader (RSEVALID, else RSEVAL; TREVALID, else TREVAL).
        #[arg(long)]
        reader: Option<String>,
        /// RSCAT of the rows to compare (default: the ruleset's title).
        #[arg(long, value_name = "TEXT")]
        rscat: Option<String>,
        /// Form of the list of disagreements.
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

/// How many threads read, bind, evaluate and write.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct Threads {
    /// Worker threads (default: one per core); the output is the same for any number.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

impl Threads {
    /// Runs `f` on a pool of this many threads.
    pub fn install<R: Send>(self, f: impl FnOnce() -> R + Send) -> R {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(n) = self.threads {
            b = b.num_threads(n.max(1));
        }
        match b.build() {
            Ok(pool) => pool.install(f),
            Err(_) => f(),
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Each subject's timepoints and best response, as read by a person.
    Text,
    /// The contract of DATA.md: criteria, params, then every subject's timepoints.
    Json,
    /// One row per timepoint (one for a subject without follow-up), with the subject's best
    /// response and, for a subject whose data is invalid, its error.
    Csv,
    /// CDISC SDTM RS rows (CSV): OVRLRESP, TRGRESP, NTRGRESP, NEWLIND per timepoint, then
    /// BESTRSP, in CDISC terms.
    SdtmRs,
    /// One line per subject: best response, first progression, each timepoint's response.
    Summary,
    /// Time-to-event rows (CSV) shaped like ADaM ADTTE: one per subject, reader and event.
    Events,
}

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check { files } => check_files(&files),
        Command::Eval {
            source,
            format,
            studyid,
            set,
        } => source
            .threads
            .install(|| eval_cmd(&source, format, studyid.as_deref(), &set)),
        Command::Validate { source } => source.threads.install(|| validate_cmd(&source)),
        Command::Explain {
            source,
            subject,
            verbose,
            set,
        } => source
            .threads
            .install(|| explain_cmd(&source, &subject, verbose, &set)),
        Command::Audit {
            criteria,
            sdtm,
            reader,
            rscat,
            format,
            set,
        } => audit_cmd(&criteria, &sdtm, reader, rscat, format, &set),
        Command::Compare(args) => args.threads.install(|| compare::run(&args)),
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
        if spec::looks_like_data(f) {
            eprint_diags(&[Diag::error(
                "crit::usage",
                format!("`{f}` looks like lesion data, not a ruleset"),
            )
            .help(format!(
                "crit check reads rulesets; to check a lesion table against one: crit validate --criteria ID {f}"
            ))]);
            code = 2;
            continue;
        }
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

fn data_error_diag(e: &DataError) -> String {
    report::render(e, None)
}

fn eprint_warnings(warnings: &[DataError]) {
    let diags: Vec<Diag> = warnings
        .iter()
        .map(|w| report::diag(w, None, true))
        .collect();
    eprint_diags(&diags);
}

/// The ruleset and the lesion data a command reads: a lesion table, or an SDTM folder.
#[derive(clap::Args, Debug, Clone)]
pub struct Source {
    /// Ruleset: a shipped id (see `crit list`) or a .crit file, optionally with param
    /// overrides: 'recist-1.1[pd_increase=25%,sd_min_interval=56 days]'.
    #[arg(long, short, value_name = "CRITERIA")]
    criteria: String,
    /// Lesion table (CSV, or JSON of the same model); not needed with --sdtm.
    #[arg(required_unless_present = "sdtm")]
    data: Option<String>,
    #[command(flatten)]
    sdtm: SdtmArgs,
    /// Only this reader.
    #[arg(long)]
    reader: Option<String>,
    #[command(flatten)]
    threads: Threads,
}

impl Source {
    /// The criterion as named, with its param overrides.
    fn spec(&self) -> Result<Spec, Diag> {
        spec::parse(&self.criteria).map_err(|m| Diag::error("crit::usage", m).help(spec::HELP))
    }

    fn name(&self) -> &str {
        self.data
            .as_deref()
            .or(self.sdtm.sdtm.as_deref())
            .unwrap_or("")
    }

    /// Whether a subject is one the command asked for (`--reader`).
    fn wanted(&self, raw: &RawSubject) -> bool {
        self.reader.as_deref().is_none_or(|r| {
            raw.reader
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(r))
        })
    }
}

/// Loads the ruleset and opens the data; on failure prints why and returns the exit code. SDTM
/// input also yields what RS output needs.
fn prepare(source: &Source) -> Result<(check::Checked, Table, crate::data::sdtm::Sdtm), i32> {
    if source.data.is_some() && source.sdtm.sdtm.is_some() {
        eprint_diags(&[Diag::error(
            "crit::usage",
            "give either a lesion table or --sdtm DIR, not both",
        )]);
        return Err(2);
    }
    if let Some(d) = swapped(&source.criteria, source.data.as_deref()) {
        eprint_diags(&[d]);
        return Err(2);
    }
    let spec = match source.spec() {
        Ok(s) => s,
        Err(d) => {
            eprint_diags(&[d]);
            return Err(2);
        }
    };
    let checked = match check::load(&spec.id) {
        Ok(c) => c,
        Err(d) => {
            eprint_diags(&d);
            return Err(1);
        }
    };
    // The shipped rulesets' inputs (binding's list of known columns) are worked out on another
    // thread while this one scans the table: both would otherwise run before any subject.
    rayon::spawn(crate::data::bind::warm_up);
    let opened = match (&source.data, &source.sdtm.sdtm) {
        (Some(data), _) => table::open(data).map(|t| (t, crate::data::sdtm::Sdtm::default())),
        (None, Some(dir)) => {
            crate::data::sdtm::read_dir(dir, &source.sdtm.options(source.reader.as_deref())).map(
                |mut s| {
                    s.notes.iter().for_each(|n| eprintln!("note: {n}"));
                    (Table::from_cohort(std::mem::take(&mut s.cohort)), s)
                },
            )
        }
        (None, None) => {
            eprint_diags(&[Diag::error("crit::usage", "no lesion data")
                .help("give a lesion table, or --sdtm DIR")]);
            return Err(2);
        }
    };
    match opened {
        Ok((table, sdtm)) => {
            table.notes.iter().for_each(|n| eprintln!("note: {n}"));
            Ok((checked, table, sdtm))
        }
        Err(e) => {
            eprintln!("{}", data_error_diag(&e));
            Err(1)
        }
    }
}

/// `--criteria` naming data, or the data naming a ruleset: the arguments look swapped.
fn swapped(criteria: &str, data: Option<&str>) -> Option<Diag> {
    if spec::looks_like_data(criteria) {
        let help = match data {
            Some(d) if spec::looks_like_ruleset(d) => {
                format!("the arguments look swapped: --criteria {d} {criteria}")
            }
            _ => {
                "--criteria takes a ruleset: a shipped id (see `crit list`) or a .crit file".into()
            }
        };
        return Some(
            Diag::error(
                "crit::usage",
                format!("`--criteria {criteria}` looks like lesion data, not a ruleset"),
            )
            .help(help),
        );
    }
    let d = data?;
    spec::looks_like_ruleset(d).then(|| {
        Diag::error(
            "crit::usage",
            format!("`{d}` looks like a ruleset, not lesion data"),
        )
        .help(if spec::looks_like_ruleset(criteria) {
            format!("give the ruleset with --criteria and the lesion table as the argument, e.g. --criteria {d} DATA.csv")
        } else {
            format!("the arguments look swapped: --criteria {d} {criteria}")
        })
    })
}

/// The ruleset ready to run: the criterion's own overrides (`ID[name=value]`), then `--set`.
fn engine<'r>(rs: &'r ir::Ruleset, source: &Source, set: &[String]) -> Result<Engine<'r>, i32> {
    let mut eng = Engine::new(rs);
    let own = source.spec().map(|s| s.overrides).unwrap_or_default();
    for s in own.iter().chain(set) {
        if let Err(d) = apply_set(&mut eng, s) {
            eprint_diags(&[d]);
            return Err(2);
        }
    }
    Ok(eng)
}

/// Where the ruleset's inputs are in the table; a missing column is reported (exit code 1),
/// columns nobody reads are warned about.
fn binding(rs: &ir::Ruleset, table: &Table) -> Result<bind::Binding, i32> {
    let s = &table.schema;
    match bind::plan_columns(rs, &s.file, &s.columns, &s.duplicates) {
        Ok(b) => {
            eprint_warnings(&b.warnings);
            Ok(b)
        }
        Err(errs) => {
            errs.iter()
                .for_each(|e| eprintln!("{}", data_error_diag(e)));
            Err(1)
        }
    }
}

/// A subject's output, made where it is evaluated.
#[derive(Default)]
struct Rendered {
    bytes: Vec<u8>,
    /// Whose data error, and which.
    error: Option<(String, DataError)>,
    /// Timepoints with an added category (text format's cohort line).
    tally: Vec<(usize, Option<usize>)>,
    /// RS rows, numbered (RSSEQ) and written in the table's order.
    rs_rows: Vec<Vec<String>>,
}

fn who(raw: &RawSubject) -> String {
    format!(
        "subject {}{}",
        raw.subject,
        reader_suffix(raw.reader.as_deref())
    )
}

fn eval_cmd(source: &Source, format: Format, studyid: Option<&str>, set: &[String]) -> i32 {
    let (checked, mut table, sdtm) = match prepare(source) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if format == Format::SdtmRs && studyid.is_none() && sdtm.studies.is_empty() {
        eprint_diags(&[Diag::error(
            "crit::usage",
            format!("{} has no STUDYID for the RS rows", source.name()),
        )
        .help("give the study with --studyid ID")]);
        return 2;
    }
    let rs = &checked.ruleset;
    let eng = match engine(rs, source, set) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let binding = match binding(rs, &table) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let keep = |raw: &RawSubject| source.wanted(raw);
    let run = EvalRun {
        eng: &eng,
        binding: &binding,
        format,
        sdtm: &sdtm,
        studyid,
        keep: &keep,
        color: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    run.write(&mut table, &mut out, &mut std::io::stderr())
}

/// What `crit eval` writes: the ruleset ready to run, the format, and which subjects.
pub struct EvalRun<'a> {
    pub eng: &'a Engine<'a>,
    pub binding: &'a bind::Binding,
    pub format: Format,
    /// What RS output needs from SDTM input (empty otherwise).
    pub sdtm: &'a crate::data::sdtm::Sdtm,
    /// STUDYID of RS rows, when not the data's.
    pub studyid: Option<&'a str>,
    pub keep: &'a (dyn Fn(&RawSubject) -> bool + Sync),
    /// Diagnostics in colour.
    pub color: bool,
}

impl EvalRun<'_> {
    /// Evaluates a table subject by subject on the current rayon pool and writes the output
    /// to `out`, data errors to `err`. Returns the exit code. The output is the same for any
    /// number of threads.
    pub fn write(&self, table: &mut Table, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
        let (eng, binding, format, sdtm, keep) =
            (self.eng, self.binding, self.format, self.sdtm, self.keep);
        let show = |e: &DataError, who: Option<&str>| {
            let d = [report::diag(e, who, false)];
            let text = if self.color {
                diag::render_terminal(&d)
            } else {
                diag::render_plain(&d)
            };
            text.trim_end().to_string()
        };
        let rs = eng.rs;
        let table_file = table.schema.file.clone();
        let mut numbering = rs_domain::Numbering::default();
        numbering.one_at_a_time = table.one_unit_per_subject;
        let mut code = 0;
        let mut n = 0;
        let mut tallies = vec![];
        // Each subject is formatted where it is evaluated; here its bytes are written in order.
        let render = |raw: &RawSubject, r: Result<&Evaluation, &DataError>| -> Rendered {
            let mut done = Rendered {
                error: r.err().map(|e| (who(raw), e.clone())),
                ..Default::default()
            };
            let buf = &mut done.bytes;
            match (format, r) {
                (Format::Json, Ok(ev)) => output::write_subject_json(buf, ev),
                (Format::Json, Err(e)) => output::write_error_json(buf, raw, e),
                (Format::Csv, Ok(ev)) => output::write_csv_rows(buf, ev),
                (Format::Csv, Err(e)) => output::write_csv_error(buf, rs, raw, e),
                (Format::Events, Ok(ev)) => output::write_event_rows(buf, ev),
                (Format::SdtmRs, Ok(ev)) => {
                    let study = self
                        .studyid
                        .or(sdtm.studies.get(&raw.subject).map(|s| s.as_str()));
                    match study {
                        Some(study) => done.rs_rows = rs_domain::rs_rows(ev, sdtm, study),
                        None => {
                            done.error = Some((
                                who(raw),
                                DataError {
                                    file: table_file.clone(),
                                    line: None,
                                    column: Some("STUDYID".into()),
                                    message: "no STUDYID in the data".into(),
                                    help: Some("give the study with --studyid ID".into()),
                                },
                            ))
                        }
                    }
                }
                (Format::Text, Ok(ev)) => {
                    let t = text::subject(ev, &text::Options { verbose: false });
                    buf.extend_from_slice(t.as_bytes());
                    buf.push(b'\n');
                    done.tally = text::added_categories(ev);
                }
                (Format::Summary, Ok(ev)) => {
                    let line = output::summary_line(ev, crate::compare::progression(ev));
                    buf.extend_from_slice(line.as_bytes());
                }
                (Format::Summary, Err(e)) => {
                    buf.extend_from_slice(output::summary_error(raw, e).as_bytes());
                }
                (Format::Text, Err(e)) => {
                    let t = format!("{} — {}: data error\n  {e}\n\n", rs.title, who(raw));
                    buf.extend_from_slice(t.as_bytes());
                }
                (Format::Events | Format::SdtmRs, Err(_)) => {}
            }
            done
        };
        let head = match format {
            Format::Json => {
                let criteria = indent(
                    &serde_json::to_string_pretty(&output::criteria_json(eng)).unwrap_or_default(),
                    "  ",
                );
                format!(
                    "{{\n  \"criteria\": {},\n  \"subjects\": [",
                    criteria.trim_start()
                )
            }
            Format::Csv => csv_line(&output::csv_header(rs)),
            Format::SdtmRs => csv_line(rs_domain::RS_COLUMNS),
            Format::Events => csv_line(output::EVENT_COLUMNS),
            Format::Text | Format::Summary => String::new(),
        };
        let mut ok = out.write_all(head.as_bytes()).is_ok();
        let sink = |r: Result<Option<Rendered>, DataError>| -> bool {
            match r {
                Err(e) => {
                    let _ = writeln!(err, "{}", show(&e, None));
                    code = 1;
                }
                Ok(None) => {}
                Ok(Some(mut done)) => {
                    if let Some((who, e)) = &done.error {
                        code = 1;
                        if !matches!(format, Format::Text | Format::Summary) {
                            let _ = writeln!(err, "{}", show(e, Some(who)));
                        }
                    }
                    if !done.tally.is_empty() {
                        tallies.push(done.tally);
                    }
                    if format == Format::Json {
                        ok &= out.write_all(if n > 0 { b",\n" } else { b"\n" }).is_ok();
                    }
                    if !done.rs_rows.is_empty() {
                        numbering.number(done.rs_rows.iter_mut());
                        let mut w = output::csv_writer(&mut done.bytes);
                        for row in &done.rs_rows {
                            let _ = w.write_record(row);
                        }
                        let _ = w.flush();
                    }
                    ok &= out.write_all(&done.bytes).is_ok();
                    n += 1;
                }
            }
            ok
        };
        eval::stream(eng, binding, table, keep, render, sink);
        let tail = match format {
            Format::Json => format!("{}]\n}}\n", if n == 0 { "" } else { "\n  " }),
            Format::Text => text::cohort_summary(rs, n, &tallies),
            _ => String::new(),
        };
        let _ = out.write_all(tail.as_bytes());
        let _ = out.flush();
        code
    }
}

/// A CSV header line.
fn csv_line<H: AsRef<[u8]>>(fields: &[H]) -> String {
    let mut buf = vec![];
    {
        let mut w = output::csv_writer(&mut buf);
        let _ = w.write_record(fields);
        let _ = w.flush();
    }
    String::from_utf8_lossy(&buf).into_owned()
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

/// `crit validate`: reads and binds every subject, reports each problem, evaluates nothing.
fn validate_cmd(source: &Source) -> i32 {
    let (checked, mut table, _) = match prepare(source) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let rs = &checked.ruleset;
    let binding = match binding(rs, &table) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let file = table.schema.file.clone();
    let (mut subjects, mut rows, mut bad, mut file_errors) = (0usize, 0usize, 0usize, 0usize);
    let work = |raw: &RawSubject| {
        source.wanted(raw).then(|| {
            let r = bind::bind(rs, &binding, &file, raw)
                .map(|_| ())
                .map_err(|e| (who(raw), e));
            (raw.rows.len(), r)
        })
    };
    crate::data::pipeline::for_each_subject(&mut table, work, None, |r| {
        match r {
            Err(e) => {
                eprintln!("{}", data_error_diag(&e));
                file_errors += 1;
            }
            Ok(None) => {}
            Ok(Some((n, r))) => {
                subjects += 1;
                rows += n;
                if let Err((who, e)) = r {
                    eprintln!("{}", report::render(&e, Some(&who)).trim_end());
                    bad += 1;
                }
            }
        }
        true
    });
    let problems = match (bad, file_errors) {
        (0, 0) => "no data errors".to_string(),
        (b, 0) => format!("{b} with data errors"),
        (0, f) => format!("{f} rows without a subject"),
        (b, f) => format!("{b} with data errors, {f} rows without a subject"),
    };
    println!(
        "{}: {subjects} subject{} ({rows} rows) read for {}: {problems}",
        source.name(),
        if subjects == 1 { "" } else { "s" },
        rs.id
    );
    i32::from(bad + file_errors > 0)
}

fn explain_cmd(source: &Source, subject: &str, verbose: bool, set: &[String]) -> i32 {
    let (checked, mut table, _) = match prepare(source) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let eng = match engine(&checked.ruleset, source, set) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let binding = match binding(&checked.ruleset, &table) {
        Ok(b) => b,
        Err(c) => return c,
    };
    // Only the subject asked for is evaluated; the others' ids are kept for a suggestion.
    let mut all: Vec<String> = vec![];
    let mut found = 0;
    let mut code = 0;
    let file = table.schema.file.clone();
    let work = |raw: &RawSubject| {
        if raw.subject != subject || !source.wanted(raw) {
            return Err(raw.subject.clone());
        }
        Ok(eval::evaluate_raw(
            &eng,
            &binding,
            &file,
            raw,
            |raw, r| match r {
                Ok(ev) => Ok(text::subject(ev, &text::Options { verbose })),
                Err(e) => Err(format!("{}: data error\n  {e}", who(raw))),
            },
        ))
    };
    let mut out = std::io::stdout().lock();
    crate::data::pipeline::for_each_subject(&mut table, work, None, |r| {
        match r {
            // A closed pipe (`| head`) ends the output quietly.
            Ok(Ok(Ok(s))) => {
                found += 1;
                return writeln!(out, "{s}").is_ok();
            }
            Ok(Ok(Err(s))) => {
                eprintln!("{s}");
                found += 1;
                code = 1;
            }
            Ok(Err(name)) => all.push(name),
            Err(_) => {}
        }
        true
    });
    if found == 0 {
        let mut d = Diag::error(
            "crit::subject",
            format!(
                "no subject `{subject}`{} in {}",
                reader_suffix(source.reader.as_deref()),
                source.name()
            ),
        );
        if let Some(s) = diag::did_you_mean(subject, all.iter().map(|s| s.as_str())) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        eprint_diags(&[d]);
        return 1;
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
        criteria: criteria.into(),
        data: None,
        sdtm: sdtm.clone(),
        reader: reader.clone(),
        threads: Threads::default(),
    };
    let (checked, table, data) = match prepare(&source) {
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
    let eng = match engine(&checked.ruleset, &source, set) {
        Ok(e) => e,
        Err(c) => return c,
    };
    let binding = match binding(&checked.ruleset, &table) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let cohort = table.load();
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
