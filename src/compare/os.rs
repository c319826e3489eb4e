//! Overall survival by response category at a landmark: does a category track benefit?
//!
//! For each criterion, the subjects alive and followed at the landmark are grouped by their best
//! response as of the landmark (assessments on or before it); survival is measured from the
//! landmark. Subjects who died or were censored before it are left out and counted. Per
//! category: a Kaplan–Meier curve and median OS; across categories: the log-rank test, Cox
//! hazard ratios against a reference category (a `progressive` one by default) and Harrell's C
//! of the ruleset's ranking of the categories.

use std::collections::{HashMap, HashSet};

use time::Date;

use super::model::{LandmarkBest, Outcome, Report};
use super::Options;
use crate::data::model::parse_date;
use crate::eval::events::{self, PROGRESSION};
use crate::eval::Evaluation;
use crate::survival::{
    concordance, cox_categorical, logrank, Concordance, ConfType, CoxFit, KaplanMeier, LogRank,
    Quantile,
};

/// The default landmark: 12 weeks.
pub const DEFAULT_LANDMARK_DAYS: i64 = 84;
/// The class whose category is the default reference of the hazard ratios.
pub const REFERENCE_CLASS: &str = "progressive";

/// A subject's survival: days elapsed since the treatment start (`os_days`), or a date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OsTime {
    Days(f64),
    /// Death date, or the date last known alive.
    Date(Date),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OsRecord {
    pub time: OsTime,
    pub death: bool,
}

impl OsRecord {
    /// OS in days elapsed since the start.
    pub fn days(&self, start: Date) -> f64 {
        match self.time {
            OsTime::Days(d) => d,
            OsTime::Date(d) => (d - start).whole_days() as f64,
        }
    }
    pub fn death_date(&self, start: Date) -> Option<Date> {
        if !self.death {
            return None;
        }
        match self.time {
            OsTime::Date(d) => Some(d),
            OsTime::Days(d) => start.checked_add(time::Duration::days(d.round() as i64)),
        }
    }
}

/// The outcomes file: one record per subject.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    pub file: String,
    pub records: HashMap<String, OsRecord>,
}

/// Reads the outcomes CSV (DATA.md): `subject`, then `os_days`, `death_date` or
/// `last_alive_date`, and `death` (0/1); other columns are ignored. Every bad row is an error
/// naming its line.
pub fn read_outcomes(path: &str) -> Result<Outcomes, Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{path}: {e}")])?;
    let text = text.trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![format!("{path}: {e}")]),
    };
    let col = |n: &str| headers.iter().position(|h| h == n);
    let subject = col("subject");
    let death = col("death");
    let (os_days, death_date, alive) = (col("os_days"), col("death_date"), col("last_alive_date"));
    let mut errors = vec![];
    if subject.is_none() || death.is_none() {
        errors.push(format!("{path}: needs the columns `subject` and `death`"));
    }
    if os_days.is_none() && death_date.is_none() && alive.is_none() {
        errors.push(format!(
            "{path}: needs `os_days`, or `death_date` / `last_alive_date`"
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Outcomes {
        file: path.to_string(),
        records: HashMap::new(),
    };
    for (i, row) in rdr.records().enumerate() {
        let line = i + 2;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("{path}:{line}: {e}"));
                continue;
            }
        };
        let get = |c: Option<usize>| c.and_then(|c| row.get(c)).map(str::trim).unwrap_or("");
        let id = get(subject).to_string();
        let dead = match get(death) {
            "1" => true,
            "0" => false,
            v => {
                errors.push(format!("{path}:{line}: death is `{v}`, expected 0 or 1"));
                continue;
            }
        };
        let date = |c: Option<usize>, name: &str| -> Result<Option<Date>, String> {
            match get(c) {
                "" => Ok(None),
                v => parse_date(v).map(Some).ok_or_else(|| {
                    format!("{path}:{line}: {name} `{v}` is not a date (YYYY-MM-DD)")
                }),
            }
        };
        let time = match get(os_days) {
            "" => {
                let d = if dead {
                    date(death_date, "death_date")
                } else {
                    date(alive, "last_alive_date").and_then(|a| match a {
                        Some(a) => Ok(Some(a)),
                        None => date(death_date, "death_date"),
                    })
                };
                match d {
                    Ok(Some(d)) => OsTime::Date(d),
                    Ok(None) => {
                        errors.push(format!(
                            "{path}:{line}: subject {id} has no os_days and no {}",
                            if dead {
                                "death_date"
                            } else {
                                "last_alive_date"
                            }
                        ));
                        continue;
                    }
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                }
            }
            v => match v.parse::<f64>() {
                Ok(d) if d.is_finite() && d >= 0.0 => OsTime::Days(d),
                _ => {
                    errors.push(format!(
                        "{path}:{line}: os_days `{v}` is not a number of days"
                    ));
                    continue;
                }
            },
        };
        if id.is_empty() {
            errors.push(format!("{path}:{line}: no subject"));
            continue;
        }
        if out
            .records
            .insert(id.clone(), OsRecord { time, death: dead })
            .is_some()
        {
            errors.push(format!("{path}:{line}: subject {id} appears twice"));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Adds what the survival analyses need to one subject's outcome: the progression event with
/// the death counted, and the best response as of the landmark.
pub fn with_outcomes(mut o: Outcome, ev: &Evaluation, opts: &Options) -> Outcome {
    let Some(outcomes) = &opts.outcomes else {
        return o;
    };
    let record = outcomes.records.get(&ev.subj.subject);
    if let Some(death) = record.and_then(|r| r.death_date(ev.subj.start)) {
        o.progression = events::events(ev, Some(death))
            .into_iter()
            .find(|e| e.name == PROGRESSION);
    }
    let days = opts.landmark_days.unwrap_or(DEFAULT_LANDMARK_DAYS);
    o.landmark = landmark_best(ev, days);
    o
}

/// Best response from the assessments on or before the landmark (start + `days`); `None`
/// when no follow-up assessment falls before it.
pub fn landmark_best(ev: &Evaluation, days: i64) -> Option<LandmarkBest> {
    let cutoff = ev.subj.start.checked_add(time::Duration::days(days))?;
    let k = ev
        .subj
        .assessments
        .iter()
        .filter(|a| a.date <= cutoff)
        .count();
    if k < 2 {
        return None;
    }
    let mut sub = ev.subj.clone();
    sub.assessments.truncate(k);
    let ev2 = ev.eng.evaluate(&sub);
    let rs = ev.rs();
    let c = ev2.best.category?;
    Some(LandmarkBest {
        category: rs.cat_name(c).to_string(),
        class: rs.categories[c]
            .class
            .clone()
            .unwrap_or_else(|| rs.cat_name(c).to_string()),
        rank: rs
            .best
            .rank
            .iter()
            .position(|r| *r == c)
            .unwrap_or(rs.best.rank.len()),
    })
}

#[derive(Debug, Clone)]
pub struct OsGroup {
    pub category: String,
    pub class: String,
    pub rank: usize,
    pub n: usize,
    pub deaths: usize,
    pub km: KaplanMeier,
    pub median: Quantile,
}

#[derive(Debug, Clone)]
pub struct OsCriterion {
    /// Categories in the ruleset's ranking order (best first).
    pub groups: Vec<OsGroup>,
    /// Index into `groups` of the hazard ratios' reference.
    pub reference: Option<usize>,
    pub logrank: Option<LogRank>,
    pub cox: Option<CoxFit>,
    /// Harrell's C of the ranking (a better category predicting longer survival).
    pub concordance: Option<Concordance>,
    /// Left out: died or censored before the landmark.
    pub before_landmark: usize,
    /// Left out: alive at the landmark but without a follow-up assessment before it.
    pub no_assessment: usize,
}

#[derive(Debug, Clone)]
pub struct Os {
    pub file: String,
    pub landmark_days: i64,
    pub conf_type: ConfType,
    pub criteria: Vec<OsCriterion>,
    /// Subjects of the lesion data without an outcome, and outcomes without lesion data.
    pub missing_outcome: Vec<String>,
    pub unknown_subjects: Vec<String>,
}

/// The landmark OS analysis of every criterion.
pub fn analyse(
    r: &Report,
    outcomes: &Outcomes,
    landmark_days: Option<i64>,
    conf_type: ConfType,
) -> Os {
    let landmark = landmark_days.unwrap_or(DEFAULT_LANDMARK_DAYS);
    let included: Vec<_> = r.included().collect();
    let mut missing_outcome: Vec<String> = included
        .iter()
        .filter(|s| !outcomes.records.contains_key(&s.subject))
        .map(|s| r.short_name(s))
        .collect();
    missing_outcome.dedup();
    let known: HashSet<&str> = r.subjects.iter().map(|s| s.subject.as_str()).collect();
    let mut unknown_subjects: Vec<String> = outcomes
        .records
        .keys()
        .filter(|k| !known.contains(k.as_str()))
        .cloned()
        .collect();
    unknown_subjects.sort();
    let criteria = (0..r.criteria.len())
        .map(|i| {
            let mut before_landmark = 0;
            let mut no_assessment = 0;
            // (category, class, rank, time from landmark, death)
            let mut rows: Vec<(String, String, usize, f64, bool)> = vec![];
            for s in &included {
                let (Some(rec), Some(o)) = (outcomes.records.get(&s.subject), s.outcome(i)) else {
                    continue;
                };
                let t = rec.days(o.start);
                if t < landmark as f64 {
                    before_landmark += 1;
                    continue;
                }
                match &o.landmark {
                    Some(b) => rows.push((
                        b.category.clone(),
                        b.class.clone(),
                        b.rank,
                        t - landmark as f64,
                        rec.death,
                    )),
                    None => no_assessment += 1,
                }
            }
            criterion(rows, before_landmark, no_assessment, conf_type)
        })
        .collect();
    Os {
        file: outcomes.file.clone(),
        landmark_days: landmark,
        conf_type,
        criteria,
        missing_outcome,
        unknown_subjects,
    }
}

fn criterion(
    rows: Vec<(String, String, usize, f64, bool)>,
    before_landmark: usize,
    no_assessment: usize,
    conf_type: ConfType,
) -> OsCriterion {
    let mut cats: Vec<(String, String, usize)> = vec![];
    for (c, k, r, _, _) in &rows {
        if !cats.iter().any(|x| &x.0 == c) {
            cats.push((c.clone(), k.clone(), *r));
        }
    }
    cats.sort_by_key(|c| c.2);
    let group: Vec<usize> = rows
        .iter()
        .map(|r| cats.iter().position(|c| c.0 == r.0).unwrap_or(0))
        .collect();
    let time: Vec<f64> = rows.iter().map(|r| r.3).collect();
    let death: Vec<bool> = rows.iter().map(|r| r.4).collect();
    let groups: Vec<OsGroup> = cats
        .iter()
        .enumerate()
        .filter_map(|(g, (c, k, rank))| {
            let idx: Vec<usize> = (0..rows.len()).filter(|i| group[*i] == g).collect();
            let t: Vec<f64> = idx.iter().map(|i| time[*i]).collect();
            let d: Vec<bool> = idx.iter().map(|i| death[*i]).collect();
            let km = KaplanMeier::fit(&t, &d, conf_type)?;
            Some(OsGroup {
                category: c.clone(),
                class: k.clone(),
                rank: *rank,
                n: idx.len(),
                deaths: d.iter().filter(|x| **x).count(),
                median: km.median(),
                km,
            })
        })
        .collect();
    // Reference: the progressive category with the most subjects.
    let reference = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.class == REFERENCE_CLASS)
        .max_by_key(|(i, g)| (g.n, usize::MAX - i))
        .map(|(i, _)| i);
    let risk: Vec<f64> = rows.iter().map(|r| r.2 as f64).collect();
    OsCriterion {
        logrank: logrank(&time, &death, &group),
        cox: reference.and_then(|r| cox_categorical(&time, &death, &group, r)),
        concordance: concordance(&time, &death, &risk),
        reference,
        groups,
        before_landmark,
        no_assessment,
    }
}
