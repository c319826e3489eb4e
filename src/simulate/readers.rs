//! Readers: each reads the subject's scans on its own. At baseline it measures every lesion and
//! selects its targets under the RECIST rules (measurable, at most 5, at most 2 per organ),
//! ranking by its own measurement times a personal preference; the rest are non-targets. At
//! each follow-up it measures targets and new lesions with its measurement error, and judges
//! non-targets from its impression of their size against their smallest size and the previous
//! scan. New lesions are seen once large enough (equivocal while small).

use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use time::{Date, Duration};

use super::dynamics::Origin;
use super::model::Model;
use super::subject::{stream, Organs, Purpose, Subject};
use super::write::Line;

/// PET values of one subject (shared by readers: a property of the scan, not of the reader).
pub struct PetScans {
    /// Per assessment (baseline first): liver SULmean and SD.
    pub liver: Vec<(f64, f64)>,
    /// Per assessment, per true lesion: SULpeak.
    pub sul: Vec<Vec<f64>>,
}

/// The true size of every lesion at every scheduled scan: `sizes[scan * lesions + lesion]`
/// (computed once per subject, shared by the readers and PET).
pub fn true_sizes(s: &Subject) -> Vec<f64> {
    let mut out = Vec::with_capacity(s.scans.len() * s.lesions.len());
    for scan in &s.scans {
        let t = scan.day as f64;
        out.extend(s.lesions.iter().map(|l| l.size(t, s.flare)));
    }
    out
}

/// Draws the PET values of a subject's assessments (baseline, then every scheduled scan).
pub fn pet(m: &Model, s: &Subject, sizes: &[f64], seed: u64) -> PetScans {
    let mut rng = stream(seed, s.index, Purpose::Pet as u64);
    let p = &m.pet;
    let liver_level = p.liver_mean * (p.liver_between_sd_log * normal(&mut rng)).exp();
    let n = s.lesions.len();
    let mut liver = vec![];
    let mut sul = vec![];
    let base: Vec<f64> = s
        .lesions
        .iter()
        .map(|l| l.size(s.baseline_day as f64, None))
        .collect();
    for a in 0..=s.scans.len() {
        let mean = liver_level * (log_sd(p.liver_scan_cv) * normal(&mut rng)).exp();
        let sd = p.liver_sd * (log_sd(p.liver_sd_cv) * normal(&mut rng)).exp();
        liver.push((mean, sd));
        let row = s
            .lesions
            .iter()
            .zip(&base)
            .enumerate()
            .map(|(j, (l, &b))| {
                let z = normal(&mut rng);
                let size = if a == 0 { b } else { sizes[(a - 1) * n + j] };
                // Uptake above background scales with the lesion's size relative to its
                // reference (baseline, or 10 mm for lesions that appear later), saturating.
                let reference = match l.origin {
                    Origin::Baseline => b - l.floor,
                    _ => 10.0,
                };
                let rel =
                    ((size - l.floor) / reference.max(1e-9)).clamp(0.0, p.max_relative_uptake);
                (p.background_sul + (l.sul0 - p.background_sul) * rel)
                    * (log_sd(p.sul_cv) * z).exp()
            })
            .collect();
        sul.push(row);
    }
    PetScans { liver, sul }
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// The SD of a log-normal factor with this coefficient of variation.
fn log_sd(cv: f64) -> f64 {
    (1.0 + cv * cv).ln().sqrt()
}

/// What does not change between the rows of one subject and reader.
pub struct Fixed<'a> {
    pub subject: &'a str,
    pub reader: &'a str,
    pub start: Date,
    pub decimals: u32,
}

/// One lesion row.
struct Row<'a> {
    visit: &'a str,
    date: Date,
    lesion: &'a str,
    role: &'a str,
    organ: &'a str,
    nodal: bool,
    status: &'a str,
    long_axis: Option<f64>,
    short_axis: Option<f64>,
    pet: Option<(Option<f64>, f64, f64)>,
}

fn write_row(out: &mut Vec<u8>, f: &Fixed, r: &Row) {
    let mut l = Line::new(out);
    l.text(f.subject)
        .text(f.reader)
        .text(r.visit)
        .date(r.date)
        .text(r.lesion)
        .text(r.role)
        .text(r.organ)
        .text(if r.nodal { "true" } else { "false" })
        .text(r.status)
        .opt_num(r.long_axis, f.decimals)
        .opt_num(r.short_axis, f.decimals)
        .date(f.start);
    if let Some((sul, mean, sd)) = r.pet {
        l.opt_num(sul, 2).num(mean, 2).num(sd, 2);
    }
    l.end();
}

/// The lesion table header.
pub fn header(pet: bool) -> &'static str {
    if pet {
        "subject,reader,visit,date,lesion,role,organ,nodal,status,long_axis,short_axis,start_date,sul_peak,liver_sul_mean[SUL],liver_sul_sd[SUL]\n"
    } else {
        "subject,reader,visit,date,lesion,role,organ,nodal,status,long_axis,short_axis,start_date\n"
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Target,
    NonTarget,
    New,
}

/// A reader's memory of one lesion.
#[derive(Clone)]
struct Memory {
    part: Part,
    id: String,
    /// Smallest and previous impression of its size (non-targets).
    nadir: f64,
    previous: f64,
    called_progression: bool,
    /// New lesions: first seen, and whether it is still equivocal.
    seen: bool,
    equivocal: bool,
}

/// Writes every row of one reader's reading of a subject. `labels` are the visit labels of the
/// schedule ("WEEK 6", …) by week.
#[allow(clippy::too_many_arguments)]
pub fn write_reader<'l>(
    out: &mut Vec<u8>,
    m: &Model,
    organs: &Organs,
    s: &Subject,
    reader: u64,
    fixed: &Fixed,
    sizes: &[f64],
    pet: Option<&PetScans>,
    seed: u64,
    label: &dyn Fn(u32) -> &'l str,
) {
    let rd = &m.readers;
    let mut rng = stream(seed, s.index, Purpose::Reader as u64 + reader);
    let sigma = log_sd(rd.measurement_cv);
    let judge = log_sd(rd.nt_judgement_cv);
    let res = rd.resolution_mm;
    let round = |x: f64| (x / res).round() * res;
    let nb = s.baseline_lesions;
    let base_t = s.baseline_day as f64;

    // Baseline: measure every lesion, rank the measurable ones, select targets.
    let mut measured = Vec::with_capacity(nb);
    let mut score = Vec::with_capacity(nb);
    for l in &s.lesions[..nb] {
        let z = normal(&mut rng);
        let zs = normal(&mut rng);
        let m = round(l.size(base_t, None) * (sigma * z).exp());
        measured.push(m);
        score.push(m * (rd.selection_sd_log * zs).exp());
    }
    let mut order: Vec<usize> = (0..nb)
        .filter(|&j| s.lesions[j].measurable(measured[j], rd.measurable_mm, rd.node_measurable_mm))
        .collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let mut is_target = vec![false; nb];
    let mut per_organ = vec![0u32; organs.names.len()];
    let mut n_targets = 0;
    for j in order {
        let o = s.lesions[j].organ;
        if n_targets < rd.max_targets && per_organ[o] < rd.max_per_organ {
            is_target[j] = true;
            per_organ[o] += 1;
            n_targets += 1;
        }
    }
    let (mut t_n, mut nt_n) = (0, 0);
    let mut memory: Vec<Memory> = s
        .lesions
        .iter()
        .enumerate()
        .map(|(j, _)| {
            let (part, id) = if j >= nb {
                (Part::New, String::new())
            } else if is_target[j] {
                t_n += 1;
                (Part::Target, format!("T{t_n:02}"))
            } else {
                nt_n += 1;
                (Part::NonTarget, format!("NT{nt_n:02}"))
            };
            let size = if j < nb { measured[j] } else { 0.0 };
            Memory {
                part,
                id,
                nadir: size,
                previous: size,
                called_progression: false,
                seen: false,
                equivocal: false,
            }
        })
        .collect();

    let pet_at = |a: usize, j: usize| pet.map(|p| (p.sul[a][j], p.liver[a].0, p.liver[a].1));
    let baseline_date = s.start + Duration::days(s.baseline_day);
    for (j, l) in s.lesions[..nb].iter().enumerate() {
        let mem = &memory[j];
        let target = mem.part == Part::Target;
        let (long_axis, short_axis) = if l.nodal {
            (Some(round(measured[j] * l.axis_ratio)), Some(measured[j]))
        } else if target {
            (Some(measured[j]), None)
        } else {
            (None, None)
        };
        let p = pet_at(0, j);
        write_row(
            out,
            fixed,
            &Row {
                visit: "BASELINE",
                date: baseline_date,
                lesion: &mem.id,
                role: if target { "target" } else { "non-target" },
                organ: &organs.names[l.organ],
                nodal: l.nodal,
                status: "present",
                long_axis,
                short_axis,
                pet: p.map(|(sul, a, b)| (Some(sul), a, b)),
            },
        );
    }

    let mut new_n = 0;
    let n = s.lesions.len();
    let mut noise: Vec<(f64, f64)> = Vec::with_capacity(n);
    for (a, scan) in s.scans.iter().enumerate() {
        // The draws of a scan do not depend on what the reader sees, so readers stay aligned.
        noise.clear();
        for _ in 0..n {
            let z = normal(&mut rng);
            let zj = normal(&mut rng);
            noise.push(((sigma * z).exp(), (judge * zj).exp()));
        }
        if scan.missed {
            continue;
        }
        let visit = label(scan.week);
        let date = s.start + Duration::days(scan.day);
        for (j, l) in s.lesions.iter().enumerate() {
            let size = sizes[a * n + j];
            let (zm, zj) = noise[j];
            let ne = scan.not_evaluated.get(j).copied().unwrap_or(false);
            let mem = &mut memory[j];
            let visible = l.nodal || size >= rd.visible_mm;
            let m_size = round(size * zm);
            let mut long_axis = None;
            let mut short_axis = None;
            let status: &str = match mem.part {
                Part::Target => {
                    if ne {
                        "not-evaluated"
                    } else if !visible {
                        "absent"
                    } else if l.nodal {
                        short_axis = Some(m_size);
                        long_axis = Some(round(size * l.axis_ratio * zm));
                        "present"
                    } else if m_size < rd.too_small_mm {
                        "too-small"
                    } else {
                        long_axis = Some(m_size);
                        "present"
                    }
                }
                Part::NonTarget => {
                    if ne {
                        "not-evaluated"
                    } else if !visible {
                        "absent"
                    } else {
                        if l.nodal {
                            short_axis = Some(m_size);
                            long_axis = Some(round(size * l.axis_ratio * zm));
                        }
                        let seen = size * zj;
                        let grew = seen >= mem.previous * (1.0 + rd.nt_increase);
                        let st = if mem.called_progression && grew {
                            "increased"
                        } else if seen >= mem.nadir * (1.0 + rd.nt_unequivocal) {
                            mem.called_progression = true;
                            "unequivocal-progression"
                        } else if grew {
                            "increased"
                        } else {
                            "present"
                        };
                        mem.nadir = mem.nadir.min(seen);
                        mem.previous = seen;
                        st
                    }
                }
                Part::New => {
                    let (min, certain) = if l.nodal {
                        (rd.node_pathological_mm, rd.node_measurable_mm)
                    } else {
                        (rd.new_lesion_min_mm, rd.new_lesion_certain_mm)
                    };
                    if !mem.seen {
                        if ne || l.origin == Origin::Baseline || size <= 0.0 || m_size < min {
                            continue;
                        }
                        mem.seen = true;
                        mem.equivocal = m_size < certain;
                        new_n += 1;
                        mem.id = format!("NEW{new_n:02}");
                    }
                    if ne {
                        "not-evaluated"
                    } else if !visible {
                        "absent"
                    } else if !l.nodal && m_size < rd.too_small_mm {
                        "too-small"
                    } else {
                        mem.equivocal &= m_size < certain;
                        if l.nodal {
                            short_axis = Some(m_size);
                            long_axis = Some(round(size * l.axis_ratio * zm));
                        } else {
                            long_axis = Some(m_size);
                        }
                        if mem.equivocal {
                            "equivocal"
                        } else {
                            "present"
                        }
                    }
                }
            };
            let shows = !matches!(status, "absent" | "not-evaluated");
            let p = pet_at(a + 1, j).map(|(sul, x, y)| (shows.then_some(sul), x, y));
            let role = match mem.part {
                Part::Target => "target",
                Part::NonTarget => "non-target",
                Part::New => "new",
            };
            write_row(
                out,
                fixed,
                &Row {
                    visit,
                    date,
                    lesion: &mem.id,
                    role,
                    organ: &organs.names[l.organ],
                    nodal: l.nodal,
                    status,
                    long_axis,
                    short_axis,
                    pet: p,
                },
            );
        }
    }
}
