//! One virtual subject's truth: lesions and their kinetics, flare, new lesions, survival, the
//! scan schedule, and the true pattern.
//!
//! Every random draw comes from streams of a ChaCha8 generator keyed by the seed; the stream
//! number is (subject index, purpose), so a subject is the same whatever the number of
//! subjects, threads or readers, and switching PET on or adding a reader changes nothing else.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp1, Poisson, StandardNormal};
use time::{Date, Duration};

use super::dynamics::{self, Flare, Lesion, Origin, Pattern, Summary};
use super::model::Model;

/// What a stream is used for.
#[derive(Clone, Copy)]
pub enum Purpose {
    Truth = 0,
    Scans = 1,
    Pet = 2,
    /// Reader r uses `Reader as u64 + r`.
    Reader = 3,
}

/// Streams per subject (readers use the numbers from `Purpose::Reader` up to this).
pub const STREAMS: u64 = 1 << 12;

/// The generator of one (subject, purpose) stream.
pub fn stream(seed: u64, subject: u64, purpose: u64) -> ChaCha8Rng {
    // The key spreads the 64-bit seed over 256 bits (SplitMix64), so nearby seeds give
    // unrelated keys; the stream number selects the subject and purpose.
    let mut key = [0u8; 32];
    let mut x = seed;
    for chunk in key.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(subject.wrapping_mul(STREAMS).wrapping_add(purpose));
    rng
}

/// Organ names: the baseline sites, then the organs of new lesions not among them.
#[derive(Clone, Debug)]
pub struct Organs {
    pub names: Vec<String>,
    pub nodal: Vec<bool>,
    /// For each new-lesion organ entry of the model, its index here.
    pub new_index: Vec<usize>,
}

impl Organs {
    pub fn new(m: &Model) -> Organs {
        let mut names: Vec<String> = vec![];
        let mut nodal = vec![];
        for s in &m.disease.sites {
            if !names.contains(&s.organ) {
                names.push(s.organ.clone());
                nodal.push(s.nodal);
            }
        }
        let mut new_index = vec![];
        for (o, _) in &m.new_lesions.organs {
            match names.iter().position(|n| n == o) {
                Some(i) => new_index.push(i),
                None => {
                    names.push(o.clone());
                    nodal.push(o == "lymph node");
                    new_index.push(names.len() - 1);
                }
            }
        }
        Organs {
            names,
            nodal,
            new_index,
        }
    }
}

/// The kinetics class a subject was drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kinetics {
    Resistant,
    Responsive,
    Mixed,
    Flare,
}

impl Kinetics {
    pub fn name(self) -> &'static str {
        match self {
            Kinetics::Resistant => "resistant",
            Kinetics::Responsive => "responsive",
            Kinetics::Mixed => "mixed",
            Kinetics::Flare => "flare",
        }
    }
}

/// A scheduled follow-up scan.
#[derive(Clone, Debug)]
pub struct Scan {
    /// Day since the start (jittered).
    pub day: i64,
    pub week: u32,
    pub missed: bool,
    /// Per true lesion: not evaluable on this scan.
    pub not_evaluated: Vec<bool>,
}

/// One subject's truth.
#[derive(Clone, Debug)]
pub struct Subject {
    pub index: u64,
    pub start: Date,
    /// Day of the baseline scan (negative: before the start).
    pub baseline_day: i64,
    pub kinetics: Kinetics,
    pub growth: f64,
    pub decay: f64,
    pub flare: Option<Flare>,
    /// Baseline lesions first, then new and inflammatory ones.
    pub lesions: Vec<Lesion>,
    pub baseline_lesions: usize,
    pub scans: Vec<Scan>,
    /// Day of death, when within follow-up.
    pub death: Option<f64>,
    /// Days from the start to death or the end of follow-up.
    pub os_days: i64,
    pub summary: Summary,
    pub baseline_burden: f64,
    pub new_tumour_lesions: usize,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

fn lognormal(rng: &mut ChaCha8Rng, median: f64, sd_log: f64) -> f64 {
    median * (sd_log * normal(rng)).exp()
}

fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean)
        .map(|p| p.sample(rng) as u64)
        .unwrap_or(0)
}

/// Index drawn from non-negative weights.
fn weighted(rng: &mut ChaCha8Rng, weights: impl Iterator<Item = f64> + Clone) -> usize {
    let total: f64 = weights.clone().sum();
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        if w > 0.0 {
            last = i;
            if u < w {
                return i;
            }
            u -= w;
        }
    }
    last
}

/// Draws the baseline lesions; a subject needs at least one measurable lesion (trial
/// eligibility), so the draw is repeated until one is (at most 100 times, then a 20 mm lung
/// lesion is added).
fn baseline_lesions(
    rng: &mut ChaCha8Rng,
    m: &Model,
    organs: &Organs,
    kinetics: Kinetics,
    g_sub: f64,
    g_resp: f64,
    d_sub: f64,
) -> Vec<Lesion> {
    let k = &m.kinetics;
    let r = &m.readers;
    for _ in 0..100 {
        let mut out: Vec<Lesion> = vec![];
        for s in &m.disease.sites {
            let involved = rng.random::<f64>() < s.prevalence;
            // More lesions than the cap are never used.
            let extra = poisson(rng, s.extra_lesions_mean).min(m.disease.max_lesions as u64);
            if !involved {
                continue;
            }
            let organ = organs.names.iter().position(|n| *n == s.organ).unwrap_or(0);
            for _ in 0..=extra {
                let mut size = lognormal(rng, s.size_median_mm, s.size_sd_log);
                if s.nodal {
                    // Nodes under the pathological short axis are normal: not lesions.
                    size = size.max(r.node_pathological_mm);
                }
                let solid = rng.random::<f64>() < s.measurable_share;
                let zg = normal(rng);
                let zd = normal(rng);
                let responsive = match kinetics {
                    Kinetics::Resistant => false,
                    Kinetics::Responsive | Kinetics::Flare => true,
                    Kinetics::Mixed => rng.random::<f64>() < k.mixed_responsive_lesions,
                };
                let floor = if s.nodal {
                    k.node_floor_min_mm
                        + rng.random::<f64>() * (k.node_floor_max_mm - k.node_floor_min_mm)
                } else {
                    0.0
                };
                let axis_ratio = 1.2 + 0.6 * rng.random::<f64>();
                let sul0 = lognormal(rng, m.pet.sul_median, m.pet.sul_sd_log);
                let (g, d) = if responsive {
                    (
                        g_resp * (k.lesion_sd_log * zg).exp(),
                        d_sub * (k.lesion_sd_log * zd).exp(),
                    )
                } else {
                    (g_sub * (k.lesion_sd_log * zg).exp(), 0.0)
                };
                out.push(Lesion {
                    origin: Origin::Baseline,
                    organ,
                    nodal: s.nodal,
                    solid,
                    size0: size.max(floor + 1.0),
                    floor: floor.min(size),
                    axis_ratio,
                    g,
                    d,
                    onset: 0.0,
                    sul0,
                });
            }
        }
        out.truncate(m.disease.max_lesions as usize);
        if out
            .iter()
            .any(|l| l.measurable(l.size0, r.measurable_mm, r.node_measurable_mm))
        {
            if kinetics == Kinetics::Mixed && out.len() > 1 {
                // Mixed kinetics need both kinds: make the smallest lesion the other kind.
                let responsive = out.iter().filter(|l| l.d > 0.0).count();
                if responsive == 0 || responsive == out.len() {
                    let j = (0..out.len())
                        .min_by(|&a, &b| out[a].size0.total_cmp(&out[b].size0))
                        .unwrap_or(0);
                    if out[j].d > 0.0 {
                        out[j].d = 0.0;
                        out[j].g = g_sub;
                    } else {
                        out[j].d = d_sub;
                        out[j].g = g_resp;
                    }
                }
            }
            return out;
        }
    }
    vec![Lesion {
        origin: Origin::Baseline,
        organ: organs.names.iter().position(|n| n == "lung").unwrap_or(0),
        nodal: false,
        solid: true,
        size0: 20.0,
        floor: 0.0,
        axis_ratio: 1.5,
        g: g_sub,
        d: if kinetics == Kinetics::Resistant {
            0.0
        } else {
            d_sub
        },
        onset: 0.0,
        sul0: m.pet.sul_median,
    }]
}

/// The nominal scan weeks up to `follow_up_days`.
pub fn schedule(m: &Model) -> Vec<u32> {
    let t = &m.trial;
    let mut weeks = vec![];
    let mut w = t.interval_weeks;
    while w * 7 <= t.follow_up_days {
        weeks.push(w);
        w += if w < t.interval_until_week {
            t.interval_weeks
        } else {
            t.later_interval_weeks
        };
    }
    weeks
}

/// Generates subject `index` (0-based).
pub fn generate(m: &Model, organs: &Organs, weeks: &[u32], seed: u64, index: u64) -> Subject {
    let mut rng = stream(seed, index, Purpose::Truth as u64);
    let k = &m.kinetics;
    let tr = &m.trial;
    let first = crate::data::model::parse_date(&tr.first_start).unwrap_or(Date::MIN);
    let start = first + Duration::days(rng.random_range(0..=tr.accrual_days as i64));
    let baseline_day = -rng.random_range(1..=tr.baseline_window_days.max(1) as i64);

    let u = rng.random::<f64>();
    let kinetics = if u < k.responsive_share {
        Kinetics::Responsive
    } else if u < k.responsive_share + k.mixed_share {
        Kinetics::Mixed
    } else if u < k.responsive_share + k.mixed_share + k.flare_share {
        Kinetics::Flare
    } else {
        Kinetics::Resistant
    };
    let g_sub = lognormal(&mut rng, k.growth_median, k.growth_sd_log);
    let g_resp = lognormal(&mut rng, k.responsive_growth_median, k.growth_sd_log);
    let d_sub = lognormal(&mut rng, k.decay_median, k.decay_sd_log);
    let amplitude = lognormal(&mut rng, m.flare.amplitude_median, m.flare.amplitude_sd_log);
    let peak = lognormal(&mut rng, m.flare.peak_day_median, m.flare.peak_day_sd_log).max(7.0);
    let flare = (kinetics == Kinetics::Flare).then_some(Flare { amplitude, peak });

    let mut lesions = baseline_lesions(&mut rng, m, organs, kinetics, g_sub, g_resp, d_sub);
    let n_base = lesions.len();
    let baseline_burden: f64 = lesions
        .iter()
        .map(|l| l.size(baseline_day as f64, None))
        .sum();

    // Survival: Weibull proportional hazards on the size-weighted growth rate of the baseline
    // lesions and the baseline burden.
    let s = &m.survival;
    let total0: f64 = lesions.iter().map(|l| l.size0).sum();
    let g_eff = lesions.iter().map(|l| l.size0 * l.g).sum::<f64>() / total0.max(1e-9);
    let lp = s.growth_log_hazard * (g_eff.max(1e-9) / s.growth_reference).ln()
        + s.burden_log_hazard * (baseline_burden.max(1e-9) / s.burden_reference_mm).ln();
    let scale = s.median_days / std::f64::consts::LN_2.powf(1.0 / s.shape);
    let e: f64 = Exp1.sample(&mut rng);
    let t_death = scale * (e * (-lp).exp()).powf(1.0 / s.shape);
    let horizon = tr.follow_up_days as f64;
    let death = (t_death <= horizon).then_some(t_death);
    let end = t_death.min(horizon);
    let e: f64 = Exp1.sample(&mut rng);
    let dropout = if m.missing.dropout_per_year > 0.0 {
        e * 365.25 / m.missing.dropout_per_year
    } else {
        f64::INFINITY
    };

    // The baseline-lesion trajectory, then new lesions from a Poisson process whose rate is
    // proportional to the growing (resistant) part of that burden.
    let measurable: Vec<bool> = lesions
        .iter()
        .map(|l| {
            l.measurable(
                l.size(baseline_day as f64, None),
                m.readers.measurable_mm,
                m.readers.node_measurable_mm,
            )
        })
        .collect();
    let traj = dynamics::trajectory(
        &lesions,
        &measurable,
        flare,
        baseline_day as f64,
        end,
        &m.truth,
    );
    let nl = &m.new_lesions;
    let step = m.truth.grid_days as f64;
    let mut onsets = vec![];
    let mut threshold: f64 = Exp1.sample(&mut rng);
    let mut hazard = 0.0;
    'grid: for (kk, b) in traj.seeding.iter().enumerate() {
        let h = nl.rate_per_mm_day * b * step;
        while hazard + h > threshold {
            let t = traj.days[kk] + step * (threshold - hazard) / h;
            if t > end || onsets.len() >= nl.max_per_subject as usize {
                break 'grid;
            }
            onsets.push(t);
            let e: f64 = Exp1.sample(&mut rng);
            threshold += e;
        }
        hazard += h;
    }
    for &t in &onsets {
        let o = weighted(&mut rng, nl.organs.iter().map(|(_, w)| *w));
        let organ = organs.new_index.get(o).copied().unwrap_or(0);
        let nodal = organs.nodal[organ];
        let size0 = if nodal {
            nl.node_onset_mm
        } else {
            lognormal(&mut rng, nl.onset_median_mm, nl.onset_sd_log)
        };
        let g = g_sub * (k.lesion_sd_log * normal(&mut rng)).exp();
        let sul0 = lognormal(&mut rng, m.pet.sul_median, m.pet.sul_sd_log);
        lesions.push(Lesion {
            origin: Origin::New,
            organ,
            nodal,
            solid: true,
            size0,
            floor: 0.0,
            axis_ratio: 1.2 + 0.6 * rng.random::<f64>(),
            g,
            d: 0.0,
            onset: t,
            sul0,
        });
    }
    // A flare may show a transient inflammatory new lesion.
    let u = rng.random::<f64>();
    let o = weighted(&mut rng, nl.organs.iter().map(|(_, w)| *w));
    let peak_size = lognormal(&mut rng, m.flare.new_lesion_peak_mm, 0.2);
    let sul0 = lognormal(&mut rng, m.pet.sul_median, m.pet.sul_sd_log);
    if flare.is_some() && u < m.flare.new_lesion_probability {
        let organ = organs.new_index.get(o).copied().unwrap_or(0);
        let nodal = organs.nodal[organ];
        lesions.push(Lesion {
            origin: Origin::Inflammatory,
            organ,
            nodal,
            solid: true,
            size0: if nodal {
                peak_size + m.readers.node_pathological_mm
            } else {
                peak_size
            },
            floor: 0.0,
            axis_ratio: 1.4,
            g: 0.0,
            d: 0.0,
            onset: 0.0,
            sul0,
        });
    }

    // True progression, then the scans: imaging stops at death, dropout, the end of follow-up,
    // or `scans_after_progression` scans after the first scan at or after true progression.
    let progression = dynamics::progression_day(&traj, &onsets, &m.truth);
    let mut sched = stream(seed, index, Purpose::Scans as u64);
    let mut scans: Vec<Scan> = vec![];
    let mut after_progression: Option<u32> = None;
    let mut last_day = 0i64;
    let imaging_end = end.min(dropout);
    let window = tr.visit_window_days as i64;
    for &w in weeks {
        let nominal = w as i64 * 7;
        let jitter = sched.random_range(-window..=window);
        let missed = sched.random::<f64>() < m.missing.missed_scan;
        let not_evaluated: Vec<bool> = (0..lesions.len())
            .map(|_| sched.random::<f64>() < m.missing.lesion_not_evaluated)
            .collect();
        match after_progression.as_mut() {
            Some(n) if *n >= tr.scans_after_progression => break,
            Some(n) => *n += 1,
            None if progression.is_some_and(|p| nominal as f64 >= p) => after_progression = Some(0),
            None => {}
        }
        let day = (nominal + jitter).max(last_day + 1);
        if day as f64 > imaging_end {
            break;
        }
        last_day = day;
        scans.push(Scan {
            day,
            week: w,
            missed,
            not_evaluated,
        });
    }
    // The truth is read over the imaging window: up to the last scheduled scan (done or
    // missed), or up to death or dropout when there was none.
    let window_end = scans.last().map(|s| s.day as f64).unwrap_or(imaging_end);
    let inflammatory: Vec<&Lesion> = lesions
        .iter()
        .filter(|l| l.origin == Origin::Inflammatory)
        .collect();
    let visible = m.readers.new_lesion_min_mm;
    let inflamed = |t: f64| inflammatory.iter().any(|l| l.size(t, flare) >= visible);
    let summary = dynamics::summarize(&traj, &onsets, &inflamed, progression, window_end, &m.truth);
    Subject {
        index,
        start,
        baseline_day,
        kinetics,
        growth: g_eff,
        decay: if kinetics == Kinetics::Resistant {
            0.0
        } else {
            d_sub
        },
        flare,
        lesions,
        baseline_lesions: n_base,
        scans,
        death,
        os_days: end.round().max(1.0) as i64,
        summary,
        baseline_burden,
        new_tumour_lesions: onsets.len(),
    }
}

impl Subject {
    pub fn pattern(&self) -> Pattern {
        self.summary.pattern
    }
}
