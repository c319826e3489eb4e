//! Virtual trials whose truth is known (`crit simulate`; the command line is `cli/simulate.rs`).
//!
//! Each subject's tumour follows the tumour growth inhibition model (see `dynamics`), with
//! per-subject and per-lesion variability, kinetics classes (responsive, resistant, mixed,
//! flare) and new lesions from a burden-driven Poisson process; readers measure it with error
//! and choose their own targets (`readers`); survival depends on the true growth rate. The
//! output is the lesion table crit reads, the truth per subject and, on request, the outcomes
//! (DATA.md, "Simulated cohorts").
//!
//! Subjects are generated in parallel blocks and written in subject order as each batch of
//! blocks completes, so memory stays bounded whatever the number of subjects, and every random
//! draw comes from a stream keyed by (seed, subject, purpose): the files are byte-identical for
//! any number of threads.

pub mod dynamics;
pub mod model;
pub mod readers;
pub mod subject;
pub mod write;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rayon::prelude::*;

use model::Model;
use subject::{Organs, Subject};
use write::Line;

/// Subjects per parallel block, and blocks per batch between writes.
const BLOCK: u64 = 256;
const BATCH_BLOCKS: u64 = 16;

/// Readers are streams of a subject; at most this many.
pub const MAX_READERS: u32 = (subject::STREAMS - subject::Purpose::Reader as u64) as u32;

/// The truth.csv header.
pub const TRUTH_HEADER: &str = "subject,pattern,true_best_change,true_progression_day,true_progression_date,start_date,kinetics,growth_rate,decay_rate,flare_amplitude,flare_peak_day,baseline_lesions,baseline_burden,new_lesions,death_day\n";
/// The outcomes.csv header.
pub const OUTCOMES_HEADER: &str = "subject,os_days,death\n";

/// Everything a run needs besides the subject index.
pub struct Plan {
    pub model: Model,
    pub organs: Organs,
    pub weeks: Vec<u32>,
    pub labels: Vec<String>,
    pub seed: u64,
    pub readers: u32,
    pub pet: bool,
    pub outcomes: bool,
    pub width: usize,
}

impl Plan {
    pub fn new(model: Model, seed: u64, readers: u32, pet: bool, outcomes: bool, n: u64) -> Plan {
        let organs = Organs::new(&model);
        let weeks = subject::schedule(&model);
        let labels = weeks.iter().map(|w| format!("WEEK {w}")).collect();
        Plan {
            model,
            organs,
            weeks,
            labels,
            seed,
            readers,
            pet,
            outcomes,
            width: n.max(1).to_string().len().max(4),
        }
    }

    pub fn subject_id(&self, index: u64) -> String {
        format!("S{:0w$}", index + 1, w = self.width)
    }

    pub fn subject(&self, index: u64) -> Subject {
        subject::generate(&self.model, &self.organs, &self.weeks, self.seed, index)
    }

    /// Appends subject `index`'s rows to the three buffers.
    pub fn write_subject(
        &self,
        index: u64,
        lesions: &mut Vec<u8>,
        truth: &mut Vec<u8>,
        outcomes: &mut Vec<u8>,
    ) {
        let s = self.subject(index);
        let id = self.subject_id(index);
        let sizes = readers::true_sizes(&s);
        let pet = self
            .pet
            .then(|| readers::pet(&self.model, &s, &sizes, self.seed));
        let decimals = decimals(self.model.readers.resolution_mm);
        // Scans are on the schedule's weeks, so every week has its label.
        let label = |w: u32| {
            self.weeks
                .iter()
                .position(|x| *x == w)
                .map(|i| self.labels[i].as_str())
                .unwrap_or("WEEK ?")
        };
        for r in 0..self.readers {
            let reader = format!("R{}", r + 1);
            let fixed = readers::Fixed {
                subject: &id,
                reader: &reader,
                start: s.start,
                decimals,
            };
            readers::write_reader(
                lesions,
                &self.model,
                &self.organs,
                &s,
                r as u64,
                &fixed,
                &sizes,
                pet.as_ref(),
                self.seed,
                &label,
            );
        }
        write_truth(truth, &id, &s);
        if self.outcomes {
            Line::new(outcomes)
                .text(&id)
                .int(s.os_days)
                .int(i64::from(s.death.is_some()))
                .end();
        }
    }
}

fn decimals(resolution: f64) -> u32 {
    if resolution >= 1.0 {
        0
    } else if resolution >= 0.1 {
        1
    } else {
        2
    }
}

fn write_truth(out: &mut Vec<u8>, id: &str, s: &Subject) {
    let sum = &s.summary;
    // Days count from the treatment start as day 1, like the events of DATA.md.
    let day = sum.progression.map(|p| p.round() as i64 + 1);
    let mut l = Line::new(out);
    l.text(id)
        .text(sum.pattern.name())
        .opt_num(sum.best_change, 4);
    match day {
        Some(d) => l.int(d).date(s.start + time::Duration::days(d - 1)),
        None => l.empty().empty(),
    };
    l.date(s.start)
        .text(s.kinetics.name())
        .num(s.growth, 6)
        .num(s.decay, 6)
        .opt_num(s.flare.map(|f| f.amplitude), 3)
        .opt_num(s.flare.map(|f| f.peak), 1)
        .int(s.baseline_lesions as i64)
        .num(s.baseline_burden, 1)
        .int(s.new_tumour_lesions as i64)
        .opt_num(s.death.map(|d| d.round().max(1.0)), 0)
        .end();
}

/// Reads a model file: JSON with any subset of the parameters.
pub fn load_model(path: &Path) -> Result<Model, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let model: Model = serde_json::from_str(&text)
        .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?;
    let problems = model::validate(&model);
    if !problems.is_empty() {
        return Err(problems
            .iter()
            .map(|(p, m)| format!("{}: `{p}` {m}", path.display()))
            .collect::<Vec<_>>()
            .join("\n"));
    }
    Ok(model)
}

/// Writes the cohort into `dir`, streaming: blocks of subjects are generated in parallel and
/// written in order, one batch at a time.
pub fn generate(plan: &Plan, n: u64, dir: &Path) -> Result<(), String> {
    let open = |name: &str| {
        let path = dir.join(name);
        File::create(&path)
            .map(|f| BufWriter::with_capacity(1 << 20, f))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let mut lesions = open("lesions.csv")?;
    let mut truth = open("truth.csv")?;
    let mut outcomes = if plan.outcomes {
        Some(open("outcomes.csv")?)
    } else {
        None
    };
    let io = |e: std::io::Error| format!("cannot write to {}: {e}", dir.display());
    lesions
        .write_all(readers::header(plan.pet).as_bytes())
        .map_err(io)?;
    truth.write_all(TRUTH_HEADER.as_bytes()).map_err(io)?;
    if let Some(o) = outcomes.as_mut() {
        o.write_all(OUTCOMES_HEADER.as_bytes()).map_err(io)?;
    }
    let blocks = n.div_ceil(BLOCK);
    // One set of buffers per block of a batch, reused from batch to batch (fresh large
    // buffers would be mapped and unmapped by the allocator every time).
    let mut parts: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> =
        (0..BATCH_BLOCKS).map(|_| Default::default()).collect();
    let mut b0 = 0;
    while b0 < blocks {
        let b1 = (b0 + BATCH_BLOCKS).min(blocks);
        let used = &mut parts[..(b1 - b0) as usize];
        used.par_iter_mut().enumerate().for_each(|(k, (l, t, o))| {
            l.clear();
            t.clear();
            o.clear();
            let b = b0 + k as u64;
            for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                plan.write_subject(i, l, t, o);
            }
        });
        for (l, t, o) in used.iter() {
            lesions.write_all(l).map_err(io)?;
            truth.write_all(t).map_err(io)?;
            if let Some(w) = outcomes.as_mut() {
                w.write_all(o).map_err(io)?;
            }
        }
        b0 = b1;
    }
    lesions.flush().map_err(io)?;
    truth.flush().map_err(io)?;
    if let Some(o) = outcomes.as_mut() {
        o.flush().map_err(io)?;
    }
    Ok(())
}
