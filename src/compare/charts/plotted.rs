//! The charts plotters draws: waterfall, spider and swimmer plots.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    err, legend_classes, mesh, nice_ceil, nice_floor, page, shorten, signed, text_style, Palette,
    INK,
};
use crate::compare::{letter, Report, SubjectRow, PROGRESSIVE};

/// The criteria with a sum, grouped by the sum: criteria whose sums agree at every assessment of
/// every included subject share one waterfall.
pub fn sum_groups(r: &Report) -> Vec<Vec<usize>> {
    // Each included subject's changes of the sum, assessment by assessment.
    type Changes = Vec<Option<Vec<Option<f64>>>>;
    let changes = |i: usize| -> Changes {
        r.included()
            .map(|s| {
                s.outcome(i)
                    .map(|o| o.timepoints.iter().map(|t| t.change).collect())
            })
            .collect()
    };
    let mut groups: Vec<(Vec<usize>, Changes)> = vec![];
    for i in (0..r.criteria.len()).filter(|&i| r.criteria[i].has_sum) {
        let c = changes(i);
        match groups.iter_mut().find(|g| g.1 == c) {
            Some(g) => g.0.push(i),
            None => groups.push((vec![i], c)),
        }
    }
    groups.into_iter().map(|g| g.0).collect()
}

/// A waterfall's reference line: its value in percent, and the criteria of the group that
/// draw it (each criterion's `chart ... lines` params, with its values).
struct RefLine {
    value: f64,
    criteria: Vec<usize>,
}

/// The reference lines of a waterfall of criteria `group`, from the lowest: each value once,
/// with the criteria that have it.
fn reference_lines(r: &Report, group: &[usize]) -> Vec<RefLine> {
    let mut lines: Vec<RefLine> = vec![];
    for &i in group {
        for &(_, value) in &r.criteria[i].lines {
            match lines.iter_mut().find(|l| l.value == value) {
                Some(l) if !l.criteria.contains(&i) => l.criteria.push(i),
                Some(_) => {}
                None => lines.push(RefLine {
                    value,
                    criteria: vec![i],
                }),
            }
        }
    }
    lines.sort_by(|a, b| a.value.total_cmp(&b.value));
    lines
}

/// Waterfall plot of criteria sharing one sum (`group`, see [`sum_groups`]): for each subject, a
/// bar per criterion (left to right in the group's order) of its best percent change of the sum
/// from baseline up to and including the assessment that ends its best response, coloured by
/// its best-response class; subjects from the largest increase (first criterion) on the left.
/// Dashed reference lines at the criteria's `chart ... lines` params (see [`reference_lines`]),
/// each labelled with its value and, when not every criterion of the group draws it, their
/// letters. `None` when no subject has a known change.
pub fn waterfall(r: &Report, group: &[usize], palette: &Palette) -> Option<String> {
    type Bar = (String, Vec<Option<(f64, String)>>);
    let mut bars: Vec<Bar> = r
        .included()
        .filter_map(|s| {
            let per: Vec<Option<(f64, String)>> = group
                .iter()
                .map(|&i| {
                    let o = s.outcome(i)?;
                    Some((o.best_change?, o.best_class.to_string()))
                })
                .collect();
            per.iter()
                .any(|b| b.is_some())
                .then(|| (r.short_name(s), per))
        })
        .collect();
    if bars.is_empty() {
        return None;
    }
    let key = |b: &Bar| b.1.iter().flatten().map(|x| x.0).next().unwrap_or(0.0);
    bars.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.0.cmp(&b.0)));
    let n = bars.len();
    let m = group.len();
    let labels = n <= 60;
    // Gaps between subjects only while bars are wide enough to show them.
    let pad = if n * m <= 100 { 0.12 } else { 0.0 };
    let label_len = bars
        .iter()
        .map(|b| b.0.chars().count())
        .max()
        .unwrap_or(0)
        .min(18) as u32;
    let (w, h) = (
        ((n * m) as u32 * 22 + n as u32 * 6 + 160).clamp(600, 1200),
        430 + if labels { label_len * 7 } else { 0 },
    );
    let lines: Vec<(f64, String)> = reference_lines(r, group)
        .into_iter()
        .map(|l| {
            let mut text = format!("{} %", signed(l.value));
            if l.criteria.len() < m {
                let who: Vec<String> = l.criteria.iter().map(|&i| letter(i)).collect();
                text.push_str(&format!(" ({})", who.join(" ")));
            }
            (l.value, text)
        })
        .collect();
    let line_label = lines
        .iter()
        .map(|l| l.1.chars().count() as u32)
        .max()
        .unwrap_or(0);
    let values = || {
        bars.iter()
            .flat_map(|b| b.1.iter().flatten().map(|x| x.0))
            .chain(lines.iter().map(|l| l.0))
    };
    let lo = nice_floor(values().fold(-30.0, f64::min) - 5.0, 10.0).clamp(-105.0, -40.0);
    let hi = nice_ceil(values().fold(20.0, f64::max) + 5.0, 10.0);
    let names = group.iter().map(|&i| letter(i)).collect::<Vec<_>>();
    let metric = r.criteria[group[0]].charted.as_deref().unwrap_or("sum");
    let title = if m == 1 {
        format!("Waterfall — {}: best change of {metric}", names[0])
    } else {
        format!(
            "Waterfall — {} (one {metric}; bars left to right): best change of {metric}",
            names.join(", ")
        )
    };
    let mut classes: Vec<String> = vec![];
    for &i in group {
        for c in legend_classes(r, i) {
            if !classes.contains(&c) {
                classes.push(c);
            }
        }
    }
    let classes: Vec<String> = r
        .classes
        .iter()
        .filter(|c| classes.contains(c))
        .cloned()
        .collect();
    let svg = page((w, h), &title, palette, &classes, |root, body| {
        let mut chart = ChartBuilder::on(body)
            .margin_left(8)
            .margin_right((8 + line_label * 7).max(48))
            .margin_top(8)
            .x_label_area_size(if labels { label_len * 7 + 14 } else { 12 })
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..n as f64, lo..hi)
            .map_err(err)?;
        mesh(&mut chart.configure_mesh())
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(10)
            .y_desc("change from baseline (%)")
            .y_label_formatter(&|v| signed(*v))
            .draw()
            .map_err(err)?;
        let width = (1.0 - 2.0 * pad) / m as f64;
        chart
            .draw_series(bars.iter().enumerate().flat_map(|(k, (_, per))| {
                per.iter().enumerate().filter_map(move |(g, b)| {
                    let (v, c) = b.as_ref()?;
                    let x = k as f64 + pad + g as f64 * width;
                    Some(Rectangle::new(
                        [(x, 0.0), (x + width, *v)],
                        palette.colour(c).filled(),
                    ))
                })
            }))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (n as f64, 0.0)],
                INK.stroke_width(1),
            )))
            .map_err(err)?;
        for (y, text) in lines.iter().filter(|l| (lo..=hi).contains(&l.0)) {
            let y = *y;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, y), (n as f64, y)],
                    6,
                    4,
                    INK.stroke_width(1),
                ))
                .map_err(err)?;
            let (px, py) = chart.plotting_area().map_coordinate(&(n as f64, y));
            root.draw(&Text::new(
                text.clone(),
                (px + 4, py),
                text_style(12.0, INK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
        }
        if labels {
            for (k, (name, _)) in bars.iter().enumerate() {
                let (px, _) = chart.plotting_area().map_coordinate(&(k as f64 + 0.5, lo));
                let (_, py) = chart.plotting_area().map_coordinate(&(0.0, lo));
                let style = text_style(12.0, INK)
                    .pos(Pos::new(HPos::Right, VPos::Center))
                    .transform(FontTransform::Rotate270);
                root.draw(&Text::new(shorten(name, 18), (px, py + 6), style))
                    .map_err(err)?;
            }
        }
        Ok(())
    })?;
    Some(svg)
}

/// A subject's line in a spider plot: name, best-response class, (day, change, class) points.
type SpiderLine = (String, String, Vec<(f64, f64, String)>);

/// Spider plot of criterion `i`: percent change of the sum over time (days since baseline),
/// one line per subject coloured by its best-response class, a dot per assessment coloured by
/// that timepoint's class; at most [`SPIDER_MAX`] lines. Returns the SVG and how many subjects
/// it shows out of how many; `None` when no subject has a known change.
pub fn spider(r: &Report, i: usize, palette: &Palette) -> Option<(String, usize, usize)> {
    let with_change: Vec<&SubjectRow> = r
        .included()
        .filter(|s| {
            s.outcome(i)
                .is_some_and(|o| o.timepoints.iter().any(|t| t.change.is_some()))
        })
        .collect();
    let lines: Vec<SpiderLine> = select(&with_change, SPIDER_MAX)
        .into_iter()
        .filter_map(|s| {
            let o = s.outcome(i)?;
            let mut pts = vec![(0.0, 0.0, String::new())];
            pts.extend(
                o.timepoints
                    .iter()
                    .filter_map(|t| Some((t.days as f64, t.change?, t.class.to_string()))),
            );
            (pts.len() > 1).then(|| (r.short_name(s), o.best_class.to_string(), pts))
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let all = || lines.iter().flat_map(|l| l.2.iter());
    let max_day = all().map(|p| p.0).fold(1.0, f64::max);
    let lo = nice_floor(all().map(|p| p.1).fold(-30.0, f64::min) - 5.0, 10.0).clamp(-105.0, -40.0);
    let hi = nice_ceil(all().map(|p| p.1).fold(20.0, f64::max) + 5.0, 10.0);
    let label_ends = lines.len() <= 30;
    let (w, h) = (600u32, 440u32);
    let svg = page(
        (w, h),
        &format!(
            "Spider plot — {}: change of {} over time",
            letter(i),
            r.criteria[i].charted.as_deref().unwrap_or("sum")
        ),
        palette,
        &legend_classes(r, i),
        |root, body| {
            let mut chart = ChartBuilder::on(body)
                .margin_left(8)
                .margin_right(if label_ends { 70 } else { 16 })
                .margin_top(8)
                .x_label_area_size(44)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..nice_ceil(max_day * 1.04, 7.0), lo..hi)
                .map_err(err)?;
            mesh(&mut chart.configure_mesh())
                .x_desc("days since baseline")
                .y_desc("change from baseline (%)")
                .y_label_formatter(&|v| signed(*v))
                .x_label_formatter(&|v| format!("{v:.0}"))
                .draw()
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, 0.0), (max_day * 1.04, 0.0)],
                    INK.stroke_width(1),
                )))
                .map_err(err)?;
            for (name, class, pts) in &lines {
                let colour = palette.colour(class);
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|p| (p.0, p.1)),
                        colour.stroke_width(2),
                    ))
                    .map_err(err)?;
                chart
                    .draw_series(pts.iter().skip(1).map(|p| {
                        Circle::new(
                            (p.0, p.1),
                            4,
                            ShapeStyle {
                                color: palette.colour(&p.2).to_rgba(),
                                filled: true,
                                stroke_width: 1,
                            },
                        )
                    }))
                    .map_err(err)?;
                if label_ends {
                    if let Some(last) = pts.last() {
                        let (px, py) = chart.plotting_area().map_coordinate(&(last.0, last.1));
                        root.draw(&Text::new(
                            shorten(name, 10),
                            (px + 7, py),
                            text_style(11.0, INK).pos(Pos::new(HPos::Left, VPos::Center)),
                        ))
                        .map_err(err)?;
                    }
                }
            }
            Ok(())
        },
    )?;
    Some((svg, lines.len(), with_change.len()))
}

/// At most `max` of `subjects`: those the criteria disagree about first (see
/// [`crate::compare::select`]).
fn select<'a>(subjects: &[&'a SubjectRow], max: usize) -> Vec<&'a SubjectRow> {
    crate::compare::select(subjects.iter().copied(), max)
        .into_iter()
        .map(|j| subjects[j])
        .collect()
}

/// A colour mixed two parts in three with white.
fn pale(c: RGBColor) -> RGBColor {
    let mix = |v: u8| ((v as u16 + 2 * 255) / 3) as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The height of the swimmer plot's marker legend, below the chart.
const LEGEND_H: u32 = 24;

/// The swimmer plot's markers, explained in a row.
fn marker_legend(area: &super::Area) -> super::Res {
    let y = 10;
    let diamond = |x: i32| vec![(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)];
    let text = |x: i32, t: &str| {
        Text::new(
            t.to_string(),
            (x, y),
            text_style(12.0, INK).pos(Pos::new(HPos::Left, VPos::Center)),
        )
    };
    let mut x = 20;
    area.draw(&Polygon::new(diamond(x), INK.filled()))
        .map_err(err)?;
    let t = "progression that ends the best response (definitive or confirmed)";
    area.draw(&text(x + 10, t)).map_err(err)?;
    x += 24 + 6 * t.chars().count() as i32;
    let mut d = diamond(x);
    d.push(d[0]);
    area.draw(&PathElement::new(d, INK.stroke_width(1)))
        .map_err(err)?;
    let t = "progression not (yet) confirmed";
    area.draw(&text(x + 10, t)).map_err(err)?;
    x += 24 + 6 * t.chars().count() as i32;
    area.draw(&Polygon::new(
        vec![(x - 3, y - 4), (x + 4, y), (x - 3, y + 4)],
        RGBColor(0x55, 0x55, 0x55).filled(),
    ))
    .map_err(err)?;
    area.draw(&text(x + 10, "ongoing: nothing ended the count"))
        .map_err(err)
}

/// At most this many subjects in a swimmer plot; reclassified subjects are shown first.
pub const SWIMMER_MAX: usize = 80;

/// At most this many lines in a spider plot (selected as for the swimmer plot).
pub const SPIDER_MAX: usize = 300;

/// Swimmer plot: per subject one lane per criterion, a bar from baseline to each assessment
/// (days since baseline) coloured by that timepoint's response class. With more than
/// [`SWIMMER_MAX`] subjects, those whose timepoint classes differ between criteria are kept
/// first, then the others in cohort order. Returns the SVG and how many subjects it shows out
/// of how many.
pub fn swimmer(r: &Report, palette: &Palette) -> Option<(String, usize, usize)> {
    let all: Vec<_> = r
        .included()
        .filter(|s| {
            (0..r.criteria.len()).any(|i| s.outcome(i).is_some_and(|o| !o.timepoints.is_empty()))
        })
        .collect();
    if all.is_empty() {
        return None;
    }
    let subjects = select(&all, SWIMMER_MAX);
    let k = r.criteria.len();
    let lane = 11.0;
    let gap = 9.0;
    let group = k as f64 * lane + gap;
    let total = subjects.len() as f64 * group;
    let max_day = subjects
        .iter()
        .flat_map(|s| {
            s.per
                .iter()
                .filter_map(|o| o.as_ref().ok())
                .flat_map(|o| o.timepoints.iter().map(|t| t.days))
        })
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let name_len = subjects
        .iter()
        .map(|s| r.short_name(s).chars().count())
        .max()
        .unwrap_or(0)
        .min(22) as u32;
    let (w, h) = (900u32, 56 + 60 + total as u32 + 10 + LEGEND_H);
    let lanes = (0..k).map(letter).collect::<Vec<_>>().join(", ");
    let svg = page(
        (w, h),
        &format!("Swimmer plot — timepoint responses (lanes {lanes} per subject)"),
        palette,
        &r.classes,
        |root, body| {
            let (body, foot) = body.split_vertically(body.dim_in_pixel().1 - LEGEND_H);
            marker_legend(&foot)?;
            let mut chart = ChartBuilder::on(&body)
                .margin_left(8)
                .margin_right(28)
                .margin_top(8)
                .x_label_area_size(44)
                .y_label_area_size(name_len * 7 + 34)
                .build_cartesian_2d(0f64..nice_ceil(max_day * 1.03, 7.0), 0f64..total)
                .map_err(err)?;
            mesh(&mut chart.configure_mesh())
                .disable_y_mesh()
                .y_labels(0)
                .x_desc("days since baseline")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .draw()
                .map_err(err)?;
            for (g, s) in subjects.iter().enumerate() {
                // Lanes from the top: subject g occupies [total - (g+1) group, total - g group).
                let top_y = total - g as f64 * group - gap / 2.0;
                for i in 0..k {
                    let Some(o) = s.outcome(i) else { continue };
                    let y1 = top_y - i as f64 * lane - 1.0;
                    let y0 = y1 - lane + 2.0;
                    let mut from = 0.0;
                    let mut ended = false;
                    for t in &o.timepoints {
                        let to = t.days as f64;
                        // Assessments after the one that ended the count are drawn pale.
                        let c = palette.colour(&t.class);
                        let c = if ended { pale(c) } else { c };
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(from, y0), (to, y1)],
                                c.filled(),
                            )))
                            .map_err(err)?;
                        from = to;
                        ended |= t.ends;
                    }
                    let mid = (y0 + y1) / 2.0;
                    // Progression: filled where the best response stops counting (definitive
                    // or confirmed), hollow where a later assessment must confirm it.
                    // Not after the end: those assessments no longer count.
                    let counted = o
                        .timepoints
                        .iter()
                        .position(|t| t.ends)
                        .map_or(o.timepoints.len(), |e| e + 1);
                    for t in o.timepoints[..counted]
                        .iter()
                        .filter(|t| &*t.class == PROGRESSIVE)
                    {
                        let (px, py) = chart.plotting_area().map_coordinate(&(t.days as f64, mid));
                        let marker = Polygon::new(
                            vec![(px, py - 5), (px + 5, py), (px, py + 5), (px - 5, py)],
                            if t.ends { INK.filled() } else { WHITE.filled() },
                        );
                        root.draw(&marker).map_err(err)?;
                        if !t.ends {
                            root.draw(&PathElement::new(
                                vec![
                                    (px, py - 5),
                                    (px + 5, py),
                                    (px, py + 5),
                                    (px - 5, py),
                                    (px, py - 5),
                                ],
                                INK.stroke_width(1),
                            ))
                            .map_err(err)?;
                        }
                    }
                    // Ongoing: nothing ended the count; follow-up goes on.
                    if o.ongoing() && !o.timepoints.is_empty() {
                        let (px, py) = chart.plotting_area().map_coordinate(&(from, mid));
                        root.draw(&Polygon::new(
                            vec![(px + 2, py - 4), (px + 9, py), (px + 2, py + 4)],
                            RGBColor(0x55, 0x55, 0x55).filled(),
                        ))
                        .map_err(err)?;
                    }
                    let (px, py) = chart
                        .plotting_area()
                        .map_coordinate(&(0.0, (y0 + y1) / 2.0));
                    root.draw(&Text::new(
                        letter(i),
                        (px - 4, py),
                        text_style(10.0, RGBColor(0x77, 0x77, 0x77))
                            .pos(Pos::new(HPos::Right, VPos::Center)),
                    ))
                    .map_err(err)?;
                }
                let (px, py) = chart
                    .plotting_area()
                    .map_coordinate(&(0.0, top_y - k as f64 * lane / 2.0));
                let colour = if s.differs() {
                    RGBColor(0xB0, 0x30, 0x00)
                } else {
                    INK
                };
                root.draw(&Text::new(
                    shorten(&r.short_name(s), 22),
                    (px - 18, py),
                    text_style(12.0, colour).pos(Pos::new(HPos::Right, VPos::Center)),
                ))
                .map_err(err)?;
            }
            Ok(())
        },
    )?;
    Some((svg, subjects.len(), all.len()))
}
