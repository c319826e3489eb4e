//! `crit compare` on the command line: its arguments, reading the data, choosing the subject,
//! and writing the report. The comparison itself is `crate::compare`, which takes plain values.

use std::io::Write;
use std::path::PathBuf;

use super::SdtmArgs;
use crate::compare::{self, Format};
use crate::data::model::RawSubject;
use crate::data::{table, Table};
use crate::diag::{self, Diag};
use crate::spec::{self, Spec};

/// The forms of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Rates, agreement, cross-tabulations, reclassified subjects with their divergence.
    Text,
    /// The same as data: criteria with params, statistics, every subject with its divergences.
    Json,
    /// One row per subject: each criterion's best response and first progression.
    Csv,
    /// One self-contained page: tables, plots, and every subject to drill into.
    Html,
}

/// Arguments of `crit compare`.
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Lesion table (CSV, or JSON of the same model); not needed with --sdtm.
    #[arg(required_unless_present = "sdtm")]
    pub data: Option<String>,
    #[command(flatten)]
    pub sdtm: SdtmArgs,
    /// A ruleset (shipped id or .crit file), optionally with param overrides, e.g.
    /// 'recist-1.1[pd_increase=25%,sd_min_interval=56 days]'. Repeat for each criterion (at
    /// least two); the whole string is the criterion's label.
    #[arg(long, short, required = true, value_name = "CRITERIA")]
    pub criteria: Vec<String>,
    /// Form of the report.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Show one subject's responses side by side, visit by visit, with each explanation.
    #[arg(long)]
    pub subject: Option<String>,
    /// With --subject: only this reader.
    #[arg(long, requires = "subject")]
    pub reader: Option<String>,
    /// Override a param under every criterion, e.g. --set confirmation_required=true
    /// (repeatable); a criterion's own `[name=value]` wins.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Score each criterion against a known truth (truth.csv of `crit simulate`).
    #[arg(long, value_name = "FILE", conflicts_with = "subject")]
    pub truth: Option<PathBuf>,
    /// Survival outcomes (CSV: subject, os_days or death_date / last_alive_date, death 0/1):
    /// adds overall survival by landmark response category, and deaths to PFS.
    #[arg(long, value_name = "FILE")]
    pub outcomes: Option<String>,
    /// Landmark of the OS analysis: best response from the assessments up to it, survival
    /// from it, e.g. 12w (default), 84d.
    #[arg(long, value_name = "TIME", requires = "outcomes")]
    pub landmark: Option<String>,
    #[command(flatten)]
    pub threads: super::Threads,
    /// Transform of the Kaplan–Meier confidence intervals (PFS, OS and their medians): log
    /// (R survfit's default) or log-log (SAS LIFETEST's default).
    #[arg(long, value_enum, default_value_t = CiTransform::Log)]
    pub ci: CiTransform,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CiTransform {
    Log,
    LogLog,
}

/// Days of a landmark written `12w`, `84d`, `12 weeks` or `84 days`.
pub fn parse_landmark(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok()?;
    match unit.trim() {
        "w" | "week" | "weeks" => n.checked_mul(7),
        "d" | "day" | "days" | "" => Some(n),
        _ => None,
    }
}

fn usage(message: String, help: &str) -> i32 {
    super::eprint_diags(&[Diag::error("crit::compare", message).help(help)]);
    2
}

/// Runs `crit compare`; returns the exit code (0 ok, 1 invalid ruleset or data errors, 2 usage).
pub fn run(args: &CompareArgs) -> i32 {
    let mut specs: Vec<Spec> = vec![];
    for c in &args.criteria {
        match spec::parse(c) {
            Ok(s) if specs.iter().any(|x| x.label == s.label) => {
                return usage(
                    format!("`{}` is given twice", s.label),
                    "each criterion needs its own label",
                )
            }
            Ok(mut s) => {
                // --set first, so that the criterion's own overrides win.
                s.overrides = args.set.iter().cloned().chain(s.overrides).collect();
                specs.push(s)
            }
            Err(m) => return usage(m, spec::HELP),
        }
    }
    for c in &args.criteria {
        if let Some(d) = super::swapped(c, args.data.as_deref()) {
            super::eprint_diags(&[d]);
            return 2;
        }
    }
    if specs.len() < 2 {
        let help = "repeat --criteria, e.g. --criteria ID --criteria 'ID[pd_increase=25%]'";
        return usage("compare needs at least two criteria".into(), help);
    }
    if args.subject.is_some() && args.format == ReportFormat::Html {
        return usage(
            "--subject gives text, JSON or CSV, not HTML".into(),
            "drop --subject for the HTML report of the cohort",
        );
    }
    let opened = match (&args.data, &args.sdtm.sdtm) {
        (Some(data), None) => table::open(data),
        (None, Some(dir)) => crate::data::sdtm::read_dir(dir, &args.sdtm.options(None)).map(|s| {
            s.notes.iter().for_each(|n| eprintln!("note: {n}"));
            Table::from_cohort(s.cohort)
        }),
        _ => {
            return usage(
                "give either a lesion table or --sdtm DIR, not both".into(),
                "e.g. crit compare --sdtm DIR --dataset NAME --criteria A --criteria B",
            )
        }
    };
    let mut table = match opened {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    table.notes.iter().for_each(|n| eprintln!("note: {n}"));
    let landmark_days = match args.landmark.as_deref().map(|l| (l, parse_landmark(l))) {
        Some((l, None)) => {
            return usage(
                format!("`--landmark {l}` is not a time"),
                "write weeks or days, e.g. --landmark 12w or --landmark 84d",
            )
        }
        Some((_, d)) => d,
        None => None,
    };
    let outcomes = match &args.outcomes {
        Some(path) => match compare::os::read_outcomes(path) {
            Ok(o) => Some(o),
            Err(errors) => {
                for e in errors {
                    eprintln!("error: {e}");
                }
                return 1;
            }
        },
        None => None,
    };
    let opts = compare::Options {
        // --subject shows every explanation; the HTML report those of its drill-down.
        explain: match (&args.subject, args.format) {
            (Some(_), _) => compare::Explain::All,
            (None, ReportFormat::Html) => compare::Explain::Selected(compare::DRILL_MAX),
            (None, _) => compare::Explain::None,
        },
        landmark_days,
        outcomes,
        conf_type: match args.ci {
            CiTransform::Log => crate::survival::ConfType::Log,
            CiTransform::LogLog => crate::survival::ConfType::LogLog,
        },
        no_divergences: args.format == ReportFormat::Csv,
    };
    // With --subject, only that subject (and reader) is evaluated.
    let keep = |s: &RawSubject| match &args.subject {
        Some(subject) => {
            &s.subject == subject
                && args
                    .reader
                    .as_deref()
                    .is_none_or(|r| s.reader.as_deref() == Some(r))
        }
        None => true,
    };
    let report = match compare::build_table(&specs, &mut table, &opts, keep) {
        Ok(r) => r,
        Err((d, code)) => {
            super::eprint_diags(&d);
            return code;
        }
    };
    if let (Some(subject), true) = (&args.subject, report.subjects.is_empty()) {
        no_subject(args, subject, &report.data);
        return 1;
    }
    let mut code = 0;
    for e in &report.file_errors {
        eprintln!("error: {e}");
        code = 1;
    }
    for s in report.excluded() {
        for (c, r) in report.criteria.iter().zip(&s.per) {
            if let Err(m) = r {
                eprintln!("error: subject {} under {}: {m}", s.name(), c.label);
            }
        }
        code = 1;
    }
    if let Some(os) = &report.os {
        for s in &os.missing_outcome {
            eprintln!(
                "warning: subject {s} has no row in {}: left out of the OS analysis",
                os.file
            );
        }
        for s in &os.unknown_subjects {
            eprintln!(
                "warning: {} has subject {s}, who is not in the lesion data",
                os.file
            );
        }
    }
    let format = match args.format {
        ReportFormat::Text => Format::Text,
        ReportFormat::Json => Format::Json,
        ReportFormat::Csv => Format::Csv,
        ReportFormat::Html => Format::Html,
    };
    let scores = match &args.truth {
        Some(path) => match compare::truth::scores(&report, path) {
            Ok(t) => Some(t),
            Err(e) => {
                super::eprint_diags(&[Diag::error("crit::truth", e)
                    .help("a truth file is the truth.csv that `crit simulate` writes")]);
                return 1;
            }
        },
        None => None,
    };
    let written = if format == Format::Json && args.subject.is_none() {
        // JSON goes to its file as it is written, with the truth among its members.
        let extra = scores
            .iter()
            .map(|t| ("truth", compare::truth::json(t)))
            .collect();
        write_to(args.output.as_deref(), |w| {
            compare::write_json_to(&report, extra, w)
        })
    } else {
        let out = match &scores {
            Some(t) => {
                let out = compare::render(&report, format, false);
                compare::truth::attach(&report, t, format, out)
            }
            None => compare::render(&report, format, args.subject.is_some()),
        };
        write_to(args.output.as_deref(), |w| w.write_all(out.as_bytes()))
    };
    if let Err(m) = written {
        eprintln!("error: {m}");
        return 1;
    }
    // The process ends here: the report (millions of small allocations for a large cohort) is
    // left to the operating system instead of being freed one by one.
    std::mem::forget(report);
    code
}

/// Writes the report with `f` to the file, or to standard output; the error says where.
fn write_to(
    path: Option<&std::path::Path>,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), String> {
    match path {
        Some(path) => std::fs::File::create(path)
            .and_then(|file| {
                let mut w = std::io::BufWriter::new(file);
                f(&mut w)?;
                w.flush()
            })
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            f(&mut w)
                .and_then(|_| w.flush())
                .map_err(|e| format!("cannot write the report: {e}"))
        }
    }
}

/// Says that `--subject` (with `--reader`) names no subject of the data, with the nearest name:
/// the data is read again for the names (only on this error).
fn no_subject(args: &CompareArgs, subject: &str, file: &str) {
    let names: Vec<String> = match (&args.data, &args.sdtm.sdtm) {
        (Some(data), _) => table::read_path(data)
            .map(|c| c.subjects)
            .unwrap_or_default(),
        (None, Some(dir)) => crate::data::sdtm::read_dir(dir, &args.sdtm.options(None))
            .map(|s| s.cohort.subjects)
            .unwrap_or_default(),
        (None, None) => vec![],
    }
    .into_iter()
    .map(|s| s.subject)
    .collect();
    let reader = args.reader.as_deref();
    let reader = reader.map(|r| format!(" (reader {r})")).unwrap_or_default();
    let mut d = Diag::error(
        "crit::subject",
        format!("no subject `{subject}`{reader} in {file}"),
    );
    if let Some(s) = diag::did_you_mean(subject, names.iter().map(|s| s.as_str())) {
        d = d.help(format!("did you mean `{s}`?"));
    }
    super::eprint_diags(&[d]);
}
