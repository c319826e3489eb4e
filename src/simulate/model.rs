//! The simulation model: every parameter with its default and where the default comes from.
//!
//! A model file is JSON of this shape; every field may be left out (its default is used), an
//! unknown field is an error (a misspelt parameter must not be silently ignored). `crit simulate
//! --print-model` prints the defaults with a `sources` object that names, for each parameter, its
//! meaning, unit and source. Times are in days, sizes in mm, rates per day.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The whole model.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Model {
    pub trial: Trial,
    pub disease: Disease,
    pub kinetics: Kinetics,
    pub flare: Flare,
    pub new_lesions: NewLesions,
    pub survival: Survival,
    pub readers: Readers,
    pub missing: Missing,
    pub pet: Pet,
    pub truth: Truth,
    /// Meaning, unit and source of each parameter (printed by `--print-model`, ignored on reading).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Value>,
}

/// Enrolment, visit schedule and follow-up.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Trial {
    pub first_start: String,
    pub accrual_days: u32,
    pub baseline_window_days: u32,
    pub interval_weeks: u32,
    pub interval_until_week: u32,
    pub later_interval_weeks: u32,
    pub visit_window_days: u32,
    pub follow_up_days: u32,
    pub scans_after_progression: u32,
}

impl Default for Trial {
    fn default() -> Self {
        Trial {
            first_start: "2024-01-01".into(),
            accrual_days: 365,
            baseline_window_days: 21,
            interval_weeks: 6,
            interval_until_week: 48,
            later_interval_weeks: 12,
            visit_window_days: 7,
            follow_up_days: 730,
            scans_after_progression: 2,
        }
    }
}

/// One organ or site where baseline lesions occur.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub organ: String,
    #[serde(default)]
    pub nodal: bool,
    /// Probability that a subject has lesions here.
    pub prevalence: f64,
    /// Lesions at the site: 1 + Poisson(this).
    pub extra_lesions_mean: f64,
    /// Share of the site's lesions that are solid and measurable in principle (bone and
    /// pleural disease mostly are not).
    pub measurable_share: f64,
    /// Median baseline size (longest diameter; short axis for nodes), mm.
    pub size_median_mm: f64,
    /// Between-lesion SD of log size.
    pub size_sd_log: f64,
}

fn site(organ: &str, nodal: bool, prev: f64, extra: f64, meas: f64, med: f64, sd: f64) -> Site {
    Site {
        organ: organ.into(),
        nodal,
        prevalence: prev,
        extra_lesions_mean: extra,
        measurable_share: meas,
        size_median_mm: med,
        size_sd_log: sd,
    }
}

/// Baseline disease.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Disease {
    pub sites: Vec<Site>,
    pub max_lesions: u32,
}

impl Default for Disease {
    fn default() -> Self {
        Disease {
            sites: vec![
                site("lung", false, 0.90, 0.8, 1.0, 22.0, 0.45),
                site("lymph node", true, 0.60, 0.6, 1.0, 15.0, 0.30),
                site("liver", false, 0.20, 1.0, 1.0, 20.0, 0.45),
                site("adrenal", false, 0.15, 0.1, 1.0, 20.0, 0.40),
                site("bone", false, 0.30, 1.0, 0.2, 18.0, 0.40),
                site("pleura", false, 0.15, 0.3, 0.3, 15.0, 0.40),
                site("brain", false, 0.08, 0.5, 1.0, 12.0, 0.40),
            ],
            max_lesions: 12,
        }
    }
}

/// Tumour growth inhibition kinetics (Stein 2008 / Claret 2018): relative size
/// f(t) = exp(−d·t) + exp(g·t) − 1 from the treatment start.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Kinetics {
    pub responsive_share: f64,
    pub mixed_share: f64,
    pub flare_share: f64,
    pub mixed_responsive_lesions: f64,
    pub growth_median: f64,
    pub growth_sd_log: f64,
    pub responsive_growth_median: f64,
    pub decay_median: f64,
    pub decay_sd_log: f64,
    pub lesion_sd_log: f64,
    pub node_floor_min_mm: f64,
    pub node_floor_max_mm: f64,
}

impl Default for Kinetics {
    fn default() -> Self {
        Kinetics {
            responsive_share: 0.22,
            mixed_share: 0.15,
            flare_share: 0.04,
            mixed_responsive_lesions: 0.5,
            growth_median: 0.0045,
            growth_sd_log: 0.7,
            responsive_growth_median: 0.0008,
            decay_median: 0.012,
            decay_sd_log: 0.5,
            lesion_sd_log: 0.3,
            node_floor_min_mm: 4.0,
            node_floor_max_mm: 8.0,
        }
    }
}

/// Pseudoprogression: a transient inflammatory swelling A·x·exp(1 − x), x = t / peak day,
/// added to the relative size of every lesion of a flare subject.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Flare {
    pub amplitude_median: f64,
    pub amplitude_sd_log: f64,
    pub peak_day_median: f64,
    pub peak_day_sd_log: f64,
    pub new_lesion_probability: f64,
    pub new_lesion_peak_mm: f64,
}

impl Default for Flare {
    fn default() -> Self {
        Flare {
            amplitude_median: 0.7,
            amplitude_sd_log: 0.3,
            peak_day_median: 35.0,
            peak_day_sd_log: 0.25,
            new_lesion_probability: 0.3,
            new_lesion_peak_mm: 9.0,
        }
    }
}

/// New lesions: a Poisson process whose rate is proportional to the true burden.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NewLesions {
    pub rate_per_mm_day: f64,
    pub onset_median_mm: f64,
    pub onset_sd_log: f64,
    pub node_onset_mm: f64,
    pub max_per_subject: u32,
    /// Organs where new lesions appear, with weights.
    pub organs: Vec<(String, f64)>,
}

impl Default for NewLesions {
    fn default() -> Self {
        NewLesions {
            rate_per_mm_day: 0.000025,
            onset_median_mm: 6.0,
            onset_sd_log: 0.3,
            node_onset_mm: 11.0,
            max_per_subject: 20,
            organs: vec![
                ("liver".into(), 0.25),
                ("lung".into(), 0.25),
                ("bone".into(), 0.20),
                ("lymph node".into(), 0.15),
                ("adrenal".into(), 0.10),
                ("brain".into(), 0.05),
            ],
        }
    }
}

/// Overall survival: Weibull proportional hazards, log-hazard linear in the log growth rate
/// and the log baseline burden.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Survival {
    pub median_days: f64,
    pub shape: f64,
    pub growth_log_hazard: f64,
    pub growth_reference: f64,
    pub burden_log_hazard: f64,
    pub burden_reference_mm: f64,
}

impl Default for Survival {
    fn default() -> Self {
        Survival {
            median_days: 360.0,
            shape: 1.2,
            growth_log_hazard: 0.55,
            growth_reference: 0.003,
            burden_log_hazard: 0.4,
            burden_reference_mm: 80.0,
        }
    }
}

/// What readers do: measurement error, target selection, qualitative calls.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Readers {
    pub measurement_cv: f64,
    pub resolution_mm: f64,
    pub selection_sd_log: f64,
    pub max_targets: u32,
    pub max_per_organ: u32,
    pub measurable_mm: f64,
    pub node_measurable_mm: f64,
    pub node_pathological_mm: f64,
    pub visible_mm: f64,
    pub too_small_mm: f64,
    pub new_lesion_min_mm: f64,
    pub new_lesion_certain_mm: f64,
    pub nt_unequivocal: f64,
    pub nt_increase: f64,
    pub nt_judgement_cv: f64,
}

impl Default for Readers {
    fn default() -> Self {
        Readers {
            measurement_cv: 0.086,
            resolution_mm: 1.0,
            selection_sd_log: 0.3,
            max_targets: 5,
            max_per_organ: 2,
            measurable_mm: 10.0,
            node_measurable_mm: 15.0,
            node_pathological_mm: 10.0,
            visible_mm: 2.0,
            too_small_mm: 5.0,
            new_lesion_min_mm: 5.0,
            new_lesion_certain_mm: 8.0,
            nt_unequivocal: 0.5,
            nt_increase: 0.1,
            nt_judgement_cv: 0.1,
        }
    }
}

/// Missing data.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Missing {
    pub missed_scan: f64,
    pub lesion_not_evaluated: f64,
    pub dropout_per_year: f64,
}

impl Default for Missing {
    fn default() -> Self {
        Missing {
            missed_scan: 0.05,
            lesion_not_evaluated: 0.02,
            dropout_per_year: 0.05,
        }
    }
}

/// FDG PET (`--pet`): SULpeak follows each lesion's kinetics; the liver reference has its own
/// noise.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Pet {
    pub sul_median: f64,
    pub sul_sd_log: f64,
    pub background_sul: f64,
    pub max_relative_uptake: f64,
    pub sul_cv: f64,
    pub liver_mean: f64,
    pub liver_between_sd_log: f64,
    pub liver_scan_cv: f64,
    pub liver_sd: f64,
    pub liver_sd_cv: f64,
}

impl Default for Pet {
    fn default() -> Self {
        Pet {
            sul_median: 6.0,
            sul_sd_log: 0.45,
            background_sul: 1.0,
            max_relative_uptake: 3.0,
            sul_cv: 0.10,
            liver_mean: 2.1,
            liver_between_sd_log: 0.15,
            liver_scan_cv: 0.05,
            liver_sd: 0.25,
            liver_sd_cv: 0.15,
        }
    }
}

/// How the true pattern of a subject is read from its noise-free trajectories.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Truth {
    pub grid_days: u32,
    pub progression_increase: f64,
    pub progression_min_mm: f64,
    pub response_decrease: f64,
    pub lesion_response: f64,
    pub lesion_progression: f64,
    pub stable_min_days: u32,
}

impl Default for Truth {
    fn default() -> Self {
        Truth {
            grid_days: 7,
            progression_increase: 0.20,
            progression_min_mm: 5.0,
            response_decrease: 0.30,
            lesion_response: 0.30,
            lesion_progression: 0.20,
            stable_min_days: 42,
        }
    }
}

const YOON: &str = "Yoon SH et al. Observer variability in RECIST-based tumour burden measurements: a meta-analysis. Eur J Cancer 2016;53:5-15";
const STEIN: &str = "Stein WD et al. Tumor growth rates derived from data for patients in a clinical trial correlate strongly with patient survival. Oncologist 2008;13:1046-1054";
const CLARET: &str = "Claret L et al. A model of overall survival predicts treatment outcomes with atezolizumab versus chemotherapy in NSCLC based on early tumor kinetics. Clin Cancer Res 2018;24:3292-3298";
const FUJIMOTO: &str = "Fujimoto D et al. Pseudoprogression in previously treated patients with NSCLC who received nivolumab monotherapy. J Thorac Oncol 2019;14:468-474 (20 % typical response, 53 % progression, 3 % pseudoprogression, n = 542)";
const PARK: &str = "Park HJ et al. Incidence of pseudoprogression during immune checkpoint inhibitor therapy for solid tumors: a meta-analysis. Radiology 2020;297:87-96 (pooled 6.0 %)";
const HUMBERT: &str = "Humbert O, Chardin D. Dissociated response in metastatic cancer. Front Oncol 2020;10:566297 (about 10 % of advanced lung cancers on immunotherapy); Tozuka 2020 via Guan 2022 (9.2 %, n = 120)";
const RECIST: &str = "Eisenhauer EA et al. RECIST 1.1. Eur J Cancer 2009;45:228-247";
const CHECKMATE: &str = "Borghaei H et al. Nivolumab versus docetaxel in advanced nonsquamous NSCLC (CheckMate 057). N Engl J Med 2015;373:1627-1639: tumour assessment every 6 weeks for the first year, then every 12 weeks; median OS 12.2 months";
const CALIBRATED: &str = "calibrated: chosen so that the default cohort reproduces the published rates cited for kinetics.*_share and the median OS; not a fitted estimate";
const LODGE: &str = "Lodge MA. Repeatability of SUV in oncologic 18F-FDG PET. J Nucl Med 2017;58:523-532 (within-subject CV about 10 %)";
const VINER: &str = "Viner M et al. Liver SULmean at FDG PET/CT: interreader agreement and impact of placement of volume of interest. Radiology 2013;266:596-603 (liver SULmean 2.11-2.17, between-patient CV 21-23 %)";
const PERCIST: &str = "Wahl RL et al. From RECIST to PERCIST. J Nucl Med 2009;50 Suppl 1:122S-150S";
const CONVENTION: &str = "modelling convention of this simulator";

/// (parameter, meaning with unit, source) for every parameter.
pub fn sources() -> Vec<(&'static str, &'static str, String)> {
    let s = |x: &str| x.to_string();
    vec![
        ("trial.first_start", "date of the first treatment start (ISO)", s(CONVENTION)),
        ("trial.accrual_days", "treatment starts are uniform over this many days", s(CONVENTION)),
        ("trial.baseline_window_days", "baseline scan 1 to this many days before the start", format!("{RECIST}: baseline no more than 4 weeks before treatment")),
        ("trial.interval_weeks", "weeks between scans in the first phase", s(CHECKMATE)),
        ("trial.interval_until_week", "last week of the first phase", s(CHECKMATE)),
        ("trial.later_interval_weeks", "weeks between scans afterwards", s(CHECKMATE)),
        ("trial.visit_window_days", "each scan is moved by a uniform whole number of days within ± this", s(CONVENTION)),
        ("trial.follow_up_days", "follow-up of each subject (imaging and survival), days from the start", s(CONVENTION)),
        ("trial.scans_after_progression", "scans done after the first scan at or after the true progression (treatment beyond progression, iRECIST confirmation)", format!("Seymour L et al. iRECIST. Lancet Oncol 2017;18:e143-e152: confirmation 4-8 weeks after iUPD; {CONVENTION}")),
        ("disease.sites", "organs with prevalence, extra lesions (1 + Poisson), measurable share, median size (mm; short axis for nodes) and SD of log size", format!("illustrative metastatic NSCLC spread; {RECIST} for measurability (10 mm; nodes 15 mm short axis, normal < 10 mm)")),
        ("disease.max_lesions", "most baseline lesions per subject", s(CONVENTION)),
        ("kinetics.responsive_share", "share of subjects whose every lesion responds to treatment (d > 0)", format!("{CALIBRATED}; {FUJIMOTO}")),
        ("kinetics.mixed_share", "share of subjects whose lesions are drawn from responsive and resistant kinetics (dissociated)", format!("{CALIBRATED}; {HUMBERT}")),
        ("kinetics.flare_share", "share of subjects with responsive kinetics and an inflammatory flare (pseudoprogression)", format!("{FUJIMOTO}; {PARK}")),
        ("kinetics.mixed_responsive_lesions", "in mixed subjects, probability that a lesion is responsive", s(CONVENTION)),
        ("kinetics.growth_median", "median growth rate g of resistant lesions, per day", format!("{STEIN} (g of the order of 10^-3 per day); {CALIBRATED}")),
        ("kinetics.growth_sd_log", "between-subject SD of log g", format!("{STEIN} (log g spread over about one order of magnitude)")),
        ("kinetics.responsive_growth_median", "median g of responsive lesions, per day (immunotherapy slows regrowth)", format!("{CLARET} (slower KG with atezolizumab); {CALIBRATED}")),
        ("kinetics.decay_median", "median regression rate d of responsive lesions, per day", format!("{STEIN}; {CALIBRATED}")),
        ("kinetics.decay_sd_log", "between-subject SD of log d", s(CALIBRATED)),
        ("kinetics.lesion_sd_log", "within-subject (lesion-level) SD of log g and log d", s(CONVENTION)),
        ("kinetics.node_floor_min_mm", "responding nodes shrink towards a normal short axis between min and max", format!("{RECIST}: normal node < 10 mm")),
        ("kinetics.node_floor_max_mm", "see node_floor_min_mm", format!("{RECIST}: normal node < 10 mm")),
        ("flare.amplitude_median", "peak inflammatory swelling as a fraction of baseline size", format!("Ippolito D et al. World J Clin Oncol 2021;12:323-334 (> 20 % growth at first follow-up then > 30 % decrease); {CALIBRATED}")),
        ("flare.amplitude_sd_log", "SD of log amplitude", s(CONVENTION)),
        ("flare.peak_day_median", "day of peak swelling", format!("{FUJIMOTO} (most pseudoprogressions respond within 3 months)")),
        ("flare.peak_day_sd_log", "SD of log peak day", s(CONVENTION)),
        ("flare.new_lesion_probability", "probability that a flare shows a transient inflammatory new lesion", format!("Jia W et al. Cancer Biol Med 2019;16:655-670 (pseudoprogression: growth or new lesions, then regression); {CONVENTION}")),
        ("flare.new_lesion_peak_mm", "peak size of such a lesion, mm", s(CONVENTION)),
        ("new_lesions.rate_per_mm_day", "new lesions per day per mm of the growing part of the burden: exp(g t) of each resistant lesion, exp(g t) - 1 of each responding one (Poisson process)", s(CALIBRATED)),
        ("new_lesions.onset_median_mm", "size at which a new lesion appears, mm (median)", s(CONVENTION)),
        ("new_lesions.onset_sd_log", "SD of log onset size", s(CONVENTION)),
        ("new_lesions.node_onset_mm", "short axis at which a new node appears (pathological at 10 mm)", format!("{RECIST}; RECIST FAQ on new lymph nodes")),
        ("new_lesions.max_per_subject", "most new lesions per subject", s(CONVENTION)),
        ("new_lesions.organs", "organs of new lesions with weights", s(CONVENTION)),
        ("survival.median_days", "median OS of a subject at the reference growth rate and burden (Weibull)", format!("{CHECKMATE}; {CALIBRATED}")),
        ("survival.shape", "Weibull shape", s(CONVENTION)),
        ("survival.growth_log_hazard", "log hazard ratio per unit of log(g / growth_reference); g is the size-weighted growth rate of the baseline lesions", format!("{STEIN} (OS correlates with log g; HR 5.1 above vs below the median); {CLARET}")),
        ("survival.growth_reference", "reference growth rate, per day", s(CONVENTION)),
        ("survival.burden_log_hazard", "log hazard ratio per unit of log(baseline burden / reference)", "Chan P et al. CPT Pharmacometrics Syst Pharmacol 2021;10:1171-1182 (baseline tumour burden prognostic)".to_string()),
        ("survival.burden_reference_mm", "reference baseline burden, mm", s(CONVENTION)),
        ("readers.measurement_cv", "coefficient of variation of one reader's diameter measurement (log-normal)", format!("{YOON}: inter-observer 95 % limits of agreement -22.1 % to +25.4 % for a single lesion, i.e. SD of a difference 12.1 %, 8.6 % per reader")),
        ("readers.resolution_mm", "measurements are rounded to this, mm", s(CONVENTION)),
        ("readers.selection_sd_log", "reader preference in target selection: SD of a log-normal factor on the measured size used to rank lesions", format!("{RECIST}: targets chosen by size and reproducibility; {CONVENTION}")),
        ("readers.max_targets", "most target lesions", s(RECIST)),
        ("readers.max_per_organ", "most target lesions per organ", s(RECIST)),
        ("readers.measurable_mm", "smallest measurable longest diameter, mm", s(RECIST)),
        ("readers.node_measurable_mm", "smallest measurable node short axis, mm", s(RECIST)),
        ("readers.node_pathological_mm", "short axis from which a node is pathological (new node), mm", s(RECIST)),
        ("readers.visible_mm", "a lesion smaller than this is read as absent, mm", s(CONVENTION)),
        ("readers.too_small_mm", "a visible lesion measured below this is recorded too-small, mm", format!("{RECIST} (too small to measure: 5 mm)")),
        ("readers.new_lesion_min_mm", "a new lesion is seen from this measured size, mm", s(CONVENTION)),
        ("readers.new_lesion_certain_mm", "below this a first-seen new lesion is equivocal, mm (nodes: node_measurable_mm)", format!("{RECIST} (equivocal new lesions)")),
        ("readers.nt_unequivocal", "a non-target grown by this fraction over its smallest size is unequivocal progression", format!("{RECIST} (unequivocal progression; 73 % in volume is about 20 % in diameter for the whole non-target burden)")),
        ("readers.nt_increase", "a non-target grown by this fraction since the previous scan is marked increased", "Seymour 2017 iRECIST FAQ (any further increase of non-target disease confirms)".to_string()),
        ("readers.nt_judgement_cv", "noise of a reader's qualitative impression of a non-target's size", s(CONVENTION)),
        ("missing.missed_scan", "probability that a scheduled follow-up scan is not done", s(CONVENTION)),
        ("missing.lesion_not_evaluated", "probability that a lesion cannot be evaluated on a scan (all readers)", s(CONVENTION)),
        ("missing.dropout_per_year", "rate at which subjects leave imaging follow-up, per year", s(CONVENTION)),
        ("pet.sul_median", "median baseline SULpeak of a lesion", format!("{PERCIST}; {CONVENTION}")),
        ("pet.sul_sd_log", "SD of log baseline SULpeak", s(CONVENTION)),
        ("pet.background_sul", "uptake a lesion tends to as it vanishes", s(CONVENTION)),
        ("pet.max_relative_uptake", "SULpeak saturates at this multiple of the baseline excess uptake", s(CONVENTION)),
        ("pet.sul_cv", "scan-to-scan CV of SULpeak", s(LODGE)),
        ("pet.liver_mean", "median liver SULmean", s(VINER)),
        ("pet.liver_between_sd_log", "between-subject SD of log liver SULmean", s(VINER)),
        ("pet.liver_scan_cv", "scan-to-scan CV of the liver SULmean", format!("{LODGE}; {CONVENTION}")),
        ("pet.liver_sd", "liver SUL standard deviation in the reference sphere", s(CONVENTION)),
        ("pet.liver_sd_cv", "scan-to-scan CV of that SD", s(CONVENTION)),
        ("truth.grid_days", "the true trajectories are read every this many days", s(CONVENTION)),
        ("truth.progression_increase", "true progression: burden at least this fraction above its nadir (and new lesions)", s(RECIST)),
        ("truth.progression_min_mm", "... and at least this many mm above it", s(RECIST)),
        ("truth.response_decrease", "true responder: burden at least this fraction below baseline", s(RECIST)),
        ("truth.lesion_response", "dissociated: a lesion at least this fraction below its baseline ...", "Ippolito 2021 and Bernard-Tessier 2020 (definitions D-12, D-8: 30 % and 20 %)".to_string()),
        ("truth.lesion_progression", "... while another is at least this fraction above its baseline", "Ippolito 2021 (D-12)".to_string()),
        ("truth.stable_min_days", "stable: no true progression within this many days of the start", format!("{RECIST} (SD at least 6-8 weeks after the start)")),
    ]
}

/// The defaults as JSON with their sources (`--print-model`).
pub fn print_defaults() -> String {
    let mut v = serde_json::to_value(Model::default()).unwrap_or(Value::Null);
    let mut src = serde_json::Map::new();
    for (name, meaning, source) in sources() {
        src.insert(name.into(), json!(format!("{meaning}. Source: {source}")));
    }
    if let Value::Object(m) = &mut v {
        m.insert("sources".into(), Value::Object(src));
    }
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// Checks the ranges of the parameters; each problem is (parameter, message).
pub fn validate(m: &Model) -> Vec<(String, String)> {
    let mut errs = vec![];
    let mut share = |name: &str, x: f64| {
        if !(0.0..=1.0).contains(&x) || x.is_nan() {
            errs.push((name.to_string(), format!("is {x}, must be between 0 and 1")));
        }
    };
    let k = &m.kinetics;
    share("kinetics.responsive_share", k.responsive_share);
    share("kinetics.mixed_share", k.mixed_share);
    share("kinetics.flare_share", k.flare_share);
    share(
        "kinetics.mixed_responsive_lesions",
        k.mixed_responsive_lesions,
    );
    share(
        "flare.new_lesion_probability",
        m.flare.new_lesion_probability,
    );
    share("missing.missed_scan", m.missing.missed_scan);
    share(
        "missing.lesion_not_evaluated",
        m.missing.lesion_not_evaluated,
    );
    for s in &m.disease.sites {
        share(
            &format!("disease.sites[{}].prevalence", s.organ),
            s.prevalence,
        );
        share(
            &format!("disease.sites[{}].measurable_share", s.organ),
            s.measurable_share,
        );
    }
    let total = k.responsive_share + k.mixed_share + k.flare_share;
    if total > 1.0 {
        errs.push((
            "kinetics".into(),
            format!("responsive_share + mixed_share + flare_share is {total}, more than 1"),
        ));
    }
    let mut positive = |name: &str, x: f64| {
        if !(x > 0.0 && x.is_finite()) {
            errs.push((name.to_string(), format!("is {x}, must be positive")));
        }
    };
    positive("kinetics.growth_median", k.growth_median);
    positive(
        "kinetics.responsive_growth_median",
        k.responsive_growth_median,
    );
    positive("kinetics.decay_median", k.decay_median);
    positive("flare.peak_day_median", m.flare.peak_day_median);
    positive("flare.amplitude_median", m.flare.amplitude_median);
    positive("new_lesions.onset_median_mm", m.new_lesions.onset_median_mm);
    positive("survival.median_days", m.survival.median_days);
    positive("survival.shape", m.survival.shape);
    positive("survival.growth_reference", m.survival.growth_reference);
    positive(
        "survival.burden_reference_mm",
        m.survival.burden_reference_mm,
    );
    positive("readers.resolution_mm", m.readers.resolution_mm);
    positive("pet.sul_median", m.pet.sul_median);
    positive("pet.liver_mean", m.pet.liver_mean);
    for s in &m.disease.sites {
        positive(
            &format!("disease.sites[{}].size_median_mm", s.organ),
            s.size_median_mm,
        );
    }
    let mut nonneg = |name: &str, x: f64| {
        if !(x >= 0.0 && x.is_finite()) {
            errs.push((name.to_string(), format!("is {x}, must be zero or more")));
        }
    };
    nonneg("kinetics.growth_sd_log", k.growth_sd_log);
    nonneg("kinetics.decay_sd_log", k.decay_sd_log);
    nonneg("kinetics.lesion_sd_log", k.lesion_sd_log);
    nonneg("new_lesions.rate_per_mm_day", m.new_lesions.rate_per_mm_day);
    nonneg("readers.measurement_cv", m.readers.measurement_cv);
    nonneg("readers.selection_sd_log", m.readers.selection_sd_log);
    nonneg("readers.nt_judgement_cv", m.readers.nt_judgement_cv);
    nonneg("missing.dropout_per_year", m.missing.dropout_per_year);
    nonneg("pet.sul_cv", m.pet.sul_cv);
    nonneg("pet.liver_scan_cv", m.pet.liver_scan_cv);
    for s in &m.disease.sites {
        nonneg(
            &format!("disease.sites[{}].extra_lesions_mean", s.organ),
            s.extra_lesions_mean,
        );
        nonneg(
            &format!("disease.sites[{}].size_sd_log", s.organ),
            s.size_sd_log,
        );
    }
    if m.disease.sites.is_empty()
        || !m
            .disease
            .sites
            .iter()
            .any(|s| s.measurable_share > 0.0 && s.prevalence > 0.0)
    {
        errs.push((
            "disease.sites".into(),
            "needs at least one site with measurable lesions".into(),
        ));
    }
    if m.new_lesions.organs.is_empty()
        || m.new_lesions
            .organs
            .iter()
            .any(|(_, w)| w.is_nan() || *w < 0.0)
    {
        errs.push((
            "new_lesions.organs".into(),
            "needs at least one organ, with weights of zero or more".into(),
        ));
    }
    if m.trial.interval_weeks == 0 || m.trial.later_interval_weeks == 0 {
        errs.push((
            "trial".into(),
            "scan intervals must be at least one week".into(),
        ));
    }
    if m.truth.grid_days == 0 {
        errs.push(("truth.grid_days".into(), "must be at least 1".into()));
    }
    if m.disease.max_lesions == 0 {
        errs.push(("disease.max_lesions".into(), "must be at least 1".into()));
    }
    match crate::data::model::parse_date(&m.trial.first_start) {
        None => errs.push((
            "trial.first_start".into(),
            format!("`{}` is not a date (YYYY-MM-DD)", m.trial.first_start),
        )),
        Some(d) if !(1900..=9000).contains(&d.year()) => errs.push((
            "trial.first_start".into(),
            "must be between the years 1900 and 9000".into(),
        )),
        Some(_) => {}
    }
    // Bounds that keep one subject small and fast whatever the file says.
    let mut at_most = |name: &str, x: f64, max: f64| {
        if x > max {
            errs.push((name.to_string(), format!("is {x}, at most {max}")));
        }
    };
    let t = &m.trial;
    at_most("trial.follow_up_days", t.follow_up_days as f64, 36500.0);
    at_most("trial.accrual_days", t.accrual_days as f64, 36500.0);
    at_most(
        "trial.baseline_window_days",
        t.baseline_window_days as f64,
        365.0,
    );
    at_most("trial.visit_window_days", t.visit_window_days as f64, 365.0);
    at_most("disease.max_lesions", m.disease.max_lesions as f64, 200.0);
    at_most(
        "new_lesions.max_per_subject",
        m.new_lesions.max_per_subject as f64,
        1000.0,
    );
    at_most("readers.max_targets", m.readers.max_targets as f64, 100.0);
    for (name, sd) in [
        ("kinetics.growth_sd_log", k.growth_sd_log),
        ("kinetics.decay_sd_log", k.decay_sd_log),
        ("kinetics.lesion_sd_log", k.lesion_sd_log),
        ("flare.amplitude_sd_log", m.flare.amplitude_sd_log),
        ("flare.peak_day_sd_log", m.flare.peak_day_sd_log),
        ("new_lesions.onset_sd_log", m.new_lesions.onset_sd_log),
        ("readers.selection_sd_log", m.readers.selection_sd_log),
        ("pet.sul_sd_log", m.pet.sul_sd_log),
    ] {
        at_most(name, sd, 3.0);
    }
    for s in &m.disease.sites {
        at_most(
            &format!("disease.sites[{}].size_sd_log", s.organ),
            s.size_sd_log,
            3.0,
        );
    }
    errs
}
