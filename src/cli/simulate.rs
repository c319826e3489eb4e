//! `crit simulate` on the command line: its arguments, the model file, the output folder and
//! the threads. The simulation itself is `crate::simulate`.

use std::path::PathBuf;

use crate::diag::Diag;
use crate::simulate::{generate, load_model, model, Plan, MAX_READERS};
use model::Model;

/// Arguments of `crit simulate`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Number of subjects.
    #[arg(long, default_value_t = 100)]
    pub subjects: u64,
    /// Seed: the same seed and model give the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Model file (JSON); parameters left out keep their defaults (see --print-model).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Readers per subject, each with its own measurement error and target selection.
    #[arg(long, default_value_t = 1)]
    pub readers: u32,
    /// Add PET columns: sul_peak, liver_sul_mean[SUL], liver_sul_sd[SUL].
    #[arg(long)]
    pub pet: bool,
    /// Also write outcomes.csv (overall survival).
    #[arg(long)]
    pub outcomes: bool,
    /// Output folder (created if needed).
    #[arg(long, short, required_unless_present = "print_model")]
    pub output: Option<PathBuf>,
    /// Threads (default: all cores); the output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the default model with the source of every parameter, and exit.
    #[arg(long)]
    pub print_model: bool,
}

fn error(message: String, help: &str) -> i32 {
    super::eprint_diags(&[Diag::error("crit::simulate", message).help(help)]);
    1
}

/// Runs `crit simulate`; returns the exit code.
pub fn run(args: &SimulateArgs) -> i32 {
    if args.print_model {
        print!("{}", model::print_defaults());
        return 0;
    }
    let Some(dir) = &args.output else {
        return error("no output folder".into(), "give --output DIR");
    };
    if args.readers == 0 || args.readers > MAX_READERS {
        return error(
            format!("--readers {} is out of range", args.readers),
            &format!("give 1 to {MAX_READERS} readers"),
        );
    }
    let model = match &args.model {
        Some(p) => match load_model(p) {
            Ok(m) => m,
            Err(e) => {
                return error(
                    e,
                    "print the defaults with `crit simulate --print-model` and edit a copy",
                )
            }
        },
        None => Model::default(),
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return error(
            format!("cannot create {}: {e}", dir.display()),
            "give a folder you can write to",
        );
    }
    let plan = Plan::new(
        model,
        args.seed,
        args.readers,
        args.pet,
        args.outcomes,
        args.subjects,
    );
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
    {
        Ok(p) => p,
        Err(e) => return error(format!("cannot start threads: {e}"), "try --threads 1"),
    };
    match pool.install(|| generate(&plan, args.subjects, dir)) {
        Ok(()) => 0,
        Err(e) => error(e, "check the output folder and the free disk space"),
    }
}
