//! Tumour dynamics: the size of each true lesion over time, and the true pattern of a subject
//! read from its noise-free trajectories.
//!
//! Baseline lesions follow the tumour growth inhibition model of Stein et al. (2008), used by
//! Claret et al. (2018) for atezolizumab in NSCLC: relative to its size at the treatment start,
//! a lesion is f(t) = exp(−d·t) + exp(g·t) − 1 (d: regression of the sensitive cells, g: growth
//! of the resistant ones); before the start it grows as exp(g·t). Nodes shrink towards a normal
//! short axis (`floor`) instead of zero: SA(t) = floor + (SA₀ − floor)·f(t). A flare adds
//! A·x·exp(1 − x), x = t / peak, to f: a swelling that peaks at `peak` and fades. New lesions
//! appear at a small size and grow as exp(g·(t − onset)); inflammatory new lesions rise and fade
//! with the flare.

use super::model::Truth;

/// What a true lesion is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Present at baseline.
    Baseline,
    /// Appeared during treatment: tumour.
    New,
    /// Appeared with a flare and fades with it: not tumour.
    Inflammatory,
}

/// One true lesion.
#[derive(Clone, Debug)]
pub struct Lesion {
    pub origin: Origin,
    /// Index into the organ table.
    pub organ: usize,
    pub nodal: bool,
    /// Solid lesion that can be measured (bone and pleural disease mostly cannot).
    pub solid: bool,
    /// Size (longest diameter, or short axis for nodes) at the start; for new lesions at onset;
    /// for inflammatory ones at their peak.
    pub size0: f64,
    /// Normal short axis a node shrinks towards (0 for other lesions).
    pub floor: f64,
    /// Long axis / short axis of a node.
    pub axis_ratio: f64,
    pub g: f64,
    pub d: f64,
    /// Day (since the start) the lesion appears; 0 for baseline lesions.
    pub onset: f64,
    /// Baseline SULpeak (new lesions: at onset).
    pub sul0: f64,
}

/// A flare: amplitude (fraction of baseline size) and day of the peak.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flare {
    pub amplitude: f64,
    pub peak: f64,
}

/// x·exp(1 − x): 0 at 0, 1 at 1, fading after.
fn bump(x: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        x * (1.0 - x).exp()
    }
}

impl Lesion {
    /// The relative size f(t) of a baseline lesion.
    pub fn relative(&self, t: f64, flare: Option<Flare>) -> f64 {
        if t < 0.0 {
            return (self.g * t).exp();
        }
        let f = (-self.d * t).exp() + (self.g * t).exp() - 1.0;
        match flare {
            Some(fl) => f + fl.amplitude * bump(t / fl.peak),
            None => f,
        }
    }

    /// The true size at day `t` (0 before a new lesion appears).
    pub fn size(&self, t: f64, flare: Option<Flare>) -> f64 {
        match self.origin {
            Origin::Baseline => self.floor + (self.size0 - self.floor) * self.relative(t, flare),
            Origin::New if t < self.onset => 0.0,
            Origin::New => self.size0 * (self.g * (t - self.onset)).exp(),
            Origin::Inflammatory => match flare {
                Some(fl) => self.size0 * bump(t / fl.peak),
                None => 0.0,
            },
        }
    }

    /// Whether a measured size of this lesion makes it measurable at baseline (RECIST).
    pub fn measurable(&self, size: f64, measurable_mm: f64, node_measurable_mm: f64) -> bool {
        self.solid
            && if self.nodal {
                size >= node_measurable_mm
            } else {
                size >= measurable_mm
            }
    }
}

/// The true pattern of a subject (the `pattern` column of truth.csv).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    Pseudoprogression,
    Dissociated,
    Responder,
    Stable,
    Progressor,
    NotEvaluable,
}

impl Pattern {
    pub const ALL: [Pattern; 6] = [
        Pattern::Responder,
        Pattern::Stable,
        Pattern::Progressor,
        Pattern::Dissociated,
        Pattern::Pseudoprogression,
        Pattern::NotEvaluable,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pattern::Pseudoprogression => "pseudoprogression",
            Pattern::Dissociated => "dissociated",
            Pattern::Responder => "responder",
            Pattern::Stable => "stable",
            Pattern::Progressor => "progressor",
            Pattern::NotEvaluable => "not-evaluable",
        }
    }
}

/// The burden of the baseline lesions on a grid of days, with what each grid day shows.
pub struct Trajectory {
    /// Grid days 0, Δ, 2Δ, … up to the end of follow-up.
    pub days: Vec<f64>,
    /// True burden (sum of sizes of the baseline lesions) on each grid day.
    pub burden: Vec<f64>,
    /// Whether one measurable baseline lesion has responded and another progressed by that day.
    pub dissociated: Vec<bool>,
    /// True burden at the baseline scan.
    pub baseline: f64,
    /// The growing part of the disease on each grid day: the resistant part exp(g·t) of each
    /// lesion (exp(g·t) − 1 for a responding one), in mm. It seeds new lesions; the flare's
    /// swelling does not.
    pub seeding: Vec<f64>,
}

/// Computes the baseline-lesion trajectory on the grid up to `end` (days since the start).
/// `baseline_day` is the (negative) day of the baseline scan; `measurable[j]` says whether
/// baseline lesion j counts for the dissociated pattern.
pub fn trajectory(
    lesions: &[Lesion],
    measurable: &[bool],
    flare: Option<Flare>,
    baseline_day: f64,
    end: f64,
    truth: &Truth,
) -> Trajectory {
    let step = truth.grid_days as f64;
    let at_base: Vec<f64> = lesions.iter().map(|l| l.size(baseline_day, None)).collect();
    let baseline: f64 = at_base.iter().sum();
    let n = (end.max(0.0) / step).floor() as usize + 1;
    let mut days = Vec::with_capacity(n);
    let mut burden = Vec::with_capacity(n);
    let mut dissociated = Vec::with_capacity(n);
    let mut seeding = Vec::with_capacity(n);
    // exp(−d·t) and exp(g·t) advance by one factor per step instead of an exp per point.
    let mut decay: Vec<f64> = vec![1.0; lesions.len()];
    let mut growth: Vec<f64> = vec![1.0; lesions.len()];
    let fd: Vec<f64> = lesions.iter().map(|l| (-l.d * step).exp()).collect();
    let fg: Vec<f64> = lesions.iter().map(|l| (l.g * step).exp()).collect();
    for k in 0..n {
        let t = k as f64 * step;
        let swell = flare.map(|f| f.amplitude * bump(t / f.peak)).unwrap_or(0.0);
        let (mut sum, mut seed, mut responded, mut progressed) = (0.0, 0.0, false, false);
        for (j, l) in lesions.iter().enumerate() {
            let rel = decay[j] + growth[j] - 1.0 + swell;
            let s = l.floor + (l.size0 - l.floor) * rel;
            sum += s;
            let resistant = if l.d > 0.0 {
                growth[j] - 1.0
            } else {
                growth[j]
            };
            seed += (l.size0 - l.floor) * resistant;
            if measurable[j] && at_base[j] > 0.0 {
                responded |= s <= at_base[j] * (1.0 - truth.lesion_response);
                progressed |= s >= at_base[j] * (1.0 + truth.lesion_progression);
            }
            decay[j] *= fd[j];
            growth[j] *= fg[j];
        }
        days.push(t);
        burden.push(sum);
        seeding.push(seed);
        dissociated.push(responded && progressed);
    }
    Trajectory {
        days,
        burden,
        dissociated,
        baseline,
        seeding,
    }
}

/// What the truth of a subject is.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub pattern: Pattern,
    /// Smallest burden over the follow-up window, as a fraction of the baseline burden minus 1.
    pub best_change: Option<f64>,
    /// Day (since the start; the start is day 0) of true progression.
    pub progression: Option<f64>,
}

/// The day of true progression: the first grid day at which the burden is at least
/// `progression_increase` and `progression_min_mm` above its nadir (baseline included), or a
/// new tumour lesion has appeared, and stays so on every later grid day up to `end`.
/// `new_onsets` are the onset days of the new tumour lesions, sorted.
pub fn progression_day(tr: &Trajectory, new_onsets: &[f64], truth: &Truth) -> Option<f64> {
    let prog = progressing(tr, new_onsets, truth);
    let mut first = None;
    for (k, p) in prog.iter().enumerate().rev() {
        if !p {
            break;
        }
        first = Some(tr.days[k]);
    }
    first
}

fn progressing(tr: &Trajectory, new_onsets: &[f64], truth: &Truth) -> Vec<bool> {
    let mut nadir = tr.baseline;
    tr.days
        .iter()
        .zip(&tr.burden)
        .map(|(&t, &b)| {
            let grown = b - nadir >= nadir * truth.progression_increase
                && b - nadir >= truth.progression_min_mm;
            nadir = nadir.min(b);
            grown || new_onsets.first().is_some_and(|&o| o <= t)
        })
        .collect()
}

/// Reads the true pattern over the follow-up window (grid days in (0, window]).
/// `inflammatory` says on which grid days an inflammatory new lesion is visible.
pub fn summarize(
    tr: &Trajectory,
    new_onsets: &[f64],
    inflammatory: &dyn Fn(f64) -> bool,
    progression: Option<f64>,
    window: f64,
    truth: &Truth,
) -> Summary {
    let prog = progressing(tr, new_onsets, truth);
    let inside: Vec<usize> = (1..tr.days.len())
        .filter(|&k| tr.days[k] <= window)
        .collect();
    let best_change = inside
        .iter()
        .map(|&k| tr.burden[k] / tr.baseline - 1.0)
        .reduce(f64::min);
    let before_progression = |k: usize| progression.is_none_or(|p| tr.days[k] < p);
    // Apparent progression (growth or a new lesion, inflammatory ones included) before the true
    // progression, followed by a burden back at or below baseline.
    let mut apparent = false;
    let mut pseudo = false;
    for &k in &inside {
        if !before_progression(k) {
            break;
        }
        if apparent && tr.burden[k] <= tr.baseline {
            pseudo = true;
            break;
        }
        apparent |= prog[k] || inflammatory(tr.days[k]);
    }
    let pattern = if pseudo {
        Pattern::Pseudoprogression
    } else if inside.iter().any(|&k| tr.dissociated[k]) {
        Pattern::Dissociated
    } else if best_change.is_some_and(|c| c <= -truth.response_decrease) {
        Pattern::Responder
    } else if progression.is_some_and(|p| p <= truth.stable_min_days as f64) {
        Pattern::Progressor
    } else if window < truth.stable_min_days as f64 {
        Pattern::NotEvaluable
    } else {
        Pattern::Stable
    };
    Summary {
        pattern,
        best_change,
        progression,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesion(size0: f64, g: f64, d: f64) -> Lesion {
        Lesion {
            origin: Origin::Baseline,
            organ: 0,
            nodal: false,
            solid: true,
            size0,
            floor: 0.0,
            axis_ratio: 1.0,
            g,
            d,
            onset: 0.0,
            sul0: 5.0,
        }
    }

    #[test]
    fn stein_model_values() {
        // f(t) = exp(−d t) + exp(g t) − 1 at t = 100 days, d = 0.01, g = 0.002:
        // 0.367879 + 1.221403 − 1 = 0.589282.
        let l = lesion(40.0, 0.002, 0.01);
        assert!((l.relative(100.0, None) - 0.589282).abs() < 1e-6);
        assert!((l.size(100.0, None) - 40.0 * 0.589282).abs() < 1e-4);
        // Before the start the lesion grows: exp(g t).
        assert!((l.relative(-10.0, None) - (-0.02f64).exp()).abs() < 1e-12);
        // A flare of 0.5 peaking at day 35 adds exactly 0.5 there.
        let f = Some(Flare {
            amplitude: 0.5,
            peak: 35.0,
        });
        assert!((l.relative(35.0, f) - l.relative(35.0, None) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn grid_recurrence_matches_closed_form() {
        let ls = vec![lesion(30.0, 0.003, 0.02), lesion(20.0, 0.001, 0.0)];
        let truth = Truth::default();
        let tr = trajectory(&ls, &[true, true], None, -7.0, 140.0, &truth);
        for (k, t) in tr.days.iter().enumerate() {
            let exact: f64 = ls.iter().map(|l| l.size(*t, None)).sum();
            assert!((tr.burden[k] - exact).abs() < 1e-9, "day {t}");
        }
        assert_eq!(tr.days.len(), 21);
    }

    #[test]
    fn patterns_from_trajectories() {
        let truth = Truth::default();
        let none = |_: f64| false;
        let read = |ls: &[Lesion], flare: Option<Flare>| {
            let m = vec![true; ls.len()];
            let tr = trajectory(ls, &m, flare, -7.0, 365.0, &truth);
            let p = progression_day(&tr, &[], &truth);
            summarize(&tr, &[], &none, p, 365.0, &truth)
        };
        // Fast regression, slow regrowth: responder.
        let s = read(&[lesion(40.0, 0.0005, 0.02)], None);
        assert_eq!(s.pattern, Pattern::Responder);
        assert!(s.best_change.unwrap() < -0.3);
        // Growth from the start: progressor, progression on the first grid day that is
        // 20 % and 5 mm over the nadir (baseline at day −7).
        let s = read(&[lesion(40.0, 0.006, 0.0)], None);
        assert_eq!(s.pattern, Pattern::Progressor);
        let p = s.progression.unwrap();
        let l = lesion(40.0, 0.006, 0.0);
        assert!(l.size(p, None) >= 1.2 * l.size(-7.0, None));
        assert!(l.size(p - 7.0, None) < 1.2 * l.size(-7.0, None));
        // Slow growth: stable (progression long after day 42).
        let s = read(&[lesion(40.0, 0.001, 0.0)], None);
        assert_eq!(s.pattern, Pattern::Stable);
        // One lesion shrinks, another grows: dissociated.
        let s = read(
            &[lesion(30.0, 0.0005, 0.03), lesion(30.0, 0.004, 0.0)],
            None,
        );
        assert_eq!(s.pattern, Pattern::Dissociated);
        // A flare of +60 % at day 35 on a responder: growth then regression.
        let flare = Some(Flare {
            amplitude: 0.6,
            peak: 35.0,
        });
        let s = read(&[lesion(40.0, 0.0005, 0.015)], flare);
        assert_eq!(s.pattern, Pattern::Pseudoprogression);
        assert_eq!(s.progression, None);
    }
}
