//! Charts of the HTML report, as inline SVG: waterfall, spider and swimmer plots drawn with
//! plotters' SVG backend; cross-tabulation heatmaps, Sankey diagrams and the forest plot of
//! rates written by hand (no crate draws them).
//!
//! Colours come from the Okabe–Ito palette, which stays distinguishable with the common colour
//! vision deficiencies; each chart also labels its colours, so none depends on colour alone.

use std::fmt::Write;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    letter, Report, SubjectRow, COMPLETE, NOT_EVALUABLE, NO_RESPONSE, PARTIAL, PROGRESSIVE, STABLE,
};

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);

/// The colour of each class: standard classes have fixed colours, custom classes take the
/// remaining Okabe–Ito colours in order.
#[derive(Debug, Clone)]
pub struct Palette {
    entries: Vec<(String, RGBColor)>,
}

const CUSTOM: [RGBColor; 4] = [
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x00, 0x00, 0x00),
];

impl Palette {
    pub fn new(classes: &[String]) -> Palette {
        let mut custom = 0;
        let entries = classes
            .iter()
            .map(|c| {
                let colour = match c.as_str() {
                    COMPLETE => RGBColor(0x00, 0x72, 0xB2),
                    PARTIAL => RGBColor(0x56, 0xB4, 0xE9),
                    STABLE => RGBColor(0xE6, 0x9F, 0x00),
                    PROGRESSIVE => RGBColor(0xD5, 0x5E, 0x00),
                    NOT_EVALUABLE => RGBColor(0x99, 0x99, 0x99),
                    NO_RESPONSE => RGBColor(0xCC, 0xCC, 0xCC),
                    _ => {
                        custom += 1;
                        CUSTOM[(custom - 1) % CUSTOM.len()]
                    }
                };
                (c.clone(), colour)
            })
            .collect();
        Palette { entries }
    }

    pub fn colour(&self, class: &str) -> RGBColor {
        self.entries
            .iter()
            .find(|(c, _)| c == class)
            .map(|(_, c)| *c)
            .unwrap_or(RGBColor(0xCC, 0xCC, 0xCC))
    }

    pub fn hex(&self, class: &str) -> String {
        hex(self.colour(class))
    }

    pub fn classes(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(c, _)| c.as_str())
    }
}

pub fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Text colour that reads on a background.
fn on(c: RGBColor) -> &'static str {
    let l = 0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64;
    if l < 140.0 {
        "#FFFFFF"
    } else {
        "#222222"
    }
}

/// Escapes text for XML (and HTML).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

type Res = Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn text_style(size: f64, colour: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: (FONT, size).into_font(),
        color: colour.to_backend_color(),
        pos: Pos::new(HPos::Left, VPos::Top),
    }
}

/// A title and a row of class swatches at the top of a chart.
fn header(
    area: &DrawingArea<SVGBackend, Shift>,
    title: &str,
    palette: &Palette,
    classes: &[String],
) -> Res {
    area.draw(&Text::new(
        title.to_string(),
        (12, 8),
        text_style(17.0, INK).pos(Pos::new(HPos::Left, VPos::Top)),
    ))
    .map_err(err)?;
    let mut x = 12;
    for c in classes {
        area.draw(&Rectangle::new(
            [(x, 34), (x + 12, 46)],
            palette.colour(c).filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            c.clone(),
            (x + 16, 40),
            text_style(13.0, INK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
        x += 16 + 8 * c.chars().count() as i32 + 18;
    }
    Ok(())
}

/// `+20`, `0`, `-40`.
fn signed(v: f64) -> String {
    if v.round() == 0.0 {
        "0".into()
    } else {
        format!("{v:+.0}")
    }
}

fn nice_floor(x: f64, step: f64) -> f64 {
    (x / step).floor() * step
}

fn nice_ceil(x: f64, step: f64) -> f64 {
    (x / step).ceil() * step
}

/// Classes of the subjects' best responses under criterion `i` (for a legend).
fn legend_classes(r: &Report, i: usize) -> Vec<String> {
    r.classes
        .iter()
        .filter(|c| {
            r.included()
                .any(|s| s.outcome(i).is_some_and(|o| &o.best_class == *c))
        })
        .cloned()
        .collect()
}

/// Waterfall plot of criterion `i`: each subject's best (most negative) percent change of the
/// sum from baseline, largest increase on the left, coloured by the best-response class.
/// `None` when no subject has a known change.
pub fn waterfall(r: &Report, i: usize, palette: &Palette) -> Option<String> {
    let mut bars: Vec<(String, f64, String)> = r
        .included()
        .filter_map(|s| {
            let o = s.outcome(i)?;
            Some((r.short_name(s), o.best_change?, o.best_class.clone()))
        })
        .collect();
    if bars.is_empty() {
        return None;
    }
    bars.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let n = bars.len();
    let labels = n <= 60;
    // Gaps between bars only while bars are wide enough to show them.
    let pad = if n <= 100 { 0.12 } else { 0.0 };
    let label_len = bars
        .iter()
        .map(|b| b.0.chars().count())
        .max()
        .unwrap_or(0)
        .min(18) as u32;
    let (w, h) = (
        ((n as u32) * 26 + 120).clamp(600, 1200),
        430 + if labels { label_len * 7 } else { 0 },
    );
    let lo =
        nice_floor(bars.iter().map(|b| b.1).fold(-30.0, f64::min) - 5.0, 10.0).clamp(-105.0, -40.0);
    let hi = nice_ceil(bars.iter().map(|b| b.1).fold(20.0, f64::max) + 5.0, 10.0);
    let mut buf = String::new();
    let drawn: Res = (|| {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, body) = root.split_vertically(56);
        header(
            &top,
            &format!(
                "Waterfall — {}: best change of the sum from baseline",
                letter(i)
            ),
            palette,
            &legend_classes(r, i),
        )?;
        let mut chart = ChartBuilder::on(&body)
            .margin_left(8)
            .margin_right(16)
            .margin_top(8)
            .x_label_area_size(if labels { label_len * 7 + 14 } else { 12 })
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..n as f64, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(10)
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .y_desc("change from baseline (%)")
            .y_label_formatter(&|v| signed(*v))
            .label_style(text_style(13.0, INK))
            .axis_desc_style(text_style(14.0, INK))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(k, (_, v, c))| {
                let x = k as f64;
                Rectangle::new(
                    [(x + pad, 0.0), (x + 1.0 - pad, *v)],
                    palette.colour(c).filled(),
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (n as f64, 0.0)],
                INK.stroke_width(1),
            )))
            .map_err(err)?;
        if labels {
            for (k, (name, _, _)) in bars.iter().enumerate() {
                let (px, _) = chart.plotting_area().map_coordinate(&(k as f64 + 0.5, lo));
                let (_, py) = chart.plotting_area().map_coordinate(&(0.0, lo));
                let style = text_style(12.0, INK)
                    .pos(Pos::new(HPos::Right, VPos::Center))
                    .transform(FontTransform::Rotate270);
                root.draw(&Text::new(shorten(name, 18), (px, py + 6), style))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
        Ok(())
    })();
    drawn.ok().map(|_| buf)
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
    let lines: Vec<SpiderLine> = select(r, &with_change, SPIDER_MAX)
        .into_iter()
        .filter_map(|s| {
            let o = s.outcome(i)?;
            let mut pts = vec![(0.0, 0.0, String::new())];
            pts.extend(
                o.timepoints
                    .iter()
                    .filter_map(|t| Some((t.days as f64, t.change?, t.class.clone()))),
            );
            (pts.len() > 1).then(|| (r.short_name(s), o.best_class.clone(), pts))
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
    let mut buf = String::new();
    let drawn: Res = (|| {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, body) = root.split_vertically(56);
        header(
            &top,
            &format!("Spider plot — {}: change of the sum over time", letter(i)),
            palette,
            &legend_classes(r, i),
        )?;
        let mut chart = ChartBuilder::on(&body)
            .margin_left(8)
            .margin_right(if label_ends { 70 } else { 16 })
            .margin_top(8)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..nice_ceil(max_day * 1.04, 7.0), lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_desc("days since baseline")
            .y_desc("change from baseline (%)")
            .y_label_formatter(&|v| signed(*v))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .label_style(text_style(13.0, INK))
            .axis_desc_style(text_style(14.0, INK))
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
        root.present().map_err(err)?;
        Ok(())
    })();
    drawn.ok().map(|_| (buf, lines.len(), with_change.len()))
}

/// At most `max` of `subjects`, in their order: those whose timepoint classes differ between
/// criteria first (the first ones when there are too many), then the others.
fn select<'a>(r: &Report, subjects: &[&'a SubjectRow], max: usize) -> Vec<&'a SubjectRow> {
    if subjects.len() <= max {
        return subjects.to_vec();
    }
    let changing = |s: &SubjectRow| {
        let classes = |i: usize| {
            s.outcome(i).map(|o| {
                o.timepoints
                    .iter()
                    .map(|t| t.class.as_str())
                    .collect::<Vec<_>>()
            })
        };
        s.differs() || (1..r.criteria.len()).any(|i| classes(i) != classes(0))
    };
    let mut keep: Vec<bool> = subjects.iter().map(|s| changing(s)).collect();
    let mut kept = 0;
    for k in keep.iter_mut() {
        if *k {
            kept += 1;
            *k = kept <= max;
        }
    }
    for k in keep.iter_mut() {
        if kept >= max {
            break;
        }
        if !*k {
            *k = true;
            kept += 1;
        }
    }
    subjects
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(s, _)| *s)
        .collect()
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
    let subjects = select(r, &all, SWIMMER_MAX);
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
    let (w, h) = (900u32, 56 + 60 + total as u32 + 10);
    let mut buf = String::new();
    let drawn: Res = (|| {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, body) = root.split_vertically(56);
        let lanes = (0..k).map(letter).collect::<Vec<_>>().join(", ");
        header(
            &top,
            &format!("Swimmer plot — timepoint responses (lanes {lanes} per subject)"),
            palette,
            &r.classes,
        )?;
        let mut chart = ChartBuilder::on(&body)
            .margin_left(8)
            .margin_right(20)
            .margin_top(8)
            .x_label_area_size(44)
            .y_label_area_size(name_len * 7 + 34)
            .build_cartesian_2d(0f64..nice_ceil(max_day * 1.03, 7.0), 0f64..total)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_desc("days since baseline")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .label_style(text_style(13.0, INK))
            .axis_desc_style(text_style(14.0, INK))
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
                for t in &o.timepoints {
                    let to = t.days as f64;
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(from, y0), (to, y1)],
                            palette.colour(&t.class).filled(),
                        )))
                        .map_err(err)?;
                    from = to;
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
        root.present().map_err(err)?;
        Ok(())
    })();
    drawn.ok().map(|_| (buf, subjects.len(), all.len()))
}

/// Heatmap of a pair's cross-tabulation: rows are the first criterion's classes, columns the
/// second's; the shade grows with the count, the diagonal (agreement) is outlined.
pub fn heatmap(r: &Report, pair: usize) -> String {
    let p = &r.pairs[pair];
    let m = p.classes.len();
    let cell = 58.0;
    let label_w = 7.0
        * p.classes
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(4) as f64
        + 12.0;
    let (left, top) = (label_w + 26.0, label_w * 0.75 + 62.0);
    let (w, h) = (left + m as f64 * cell + 20.0, top + m as f64 * cell + 20.0);
    let max = p.table.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="{FONT}" role="img">"#
    );
    let (a, b) = (letter(p.a), letter(p.b));
    let _ = write!(
        s,
        "<title>Cross-tabulation of best-response classes, {a} (rows) by {b} (columns)</title>"
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#FFFFFF"/>"##);
    let _ = write!(
        s,
        r##"<text x="10" y="22" font-size="16" fill="#222222">{a} (rows) × {b} (columns)</text>"##
    );
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="46" font-size="13" fill="#555555" text-anchor="middle">{b}</text>"##,
        left + m as f64 * cell / 2.0
    );
    let _ = write!(
        s,
        r##"<text x="14" y="{:.1}" font-size="13" fill="#555555" text-anchor="middle" transform="rotate(-90 14 {:.1})">{a}</text>"##,
        top + m as f64 * cell / 2.0,
        top + m as f64 * cell / 2.0
    );
    for (j, c) in p.classes.iter().enumerate() {
        let x = left + (j as f64 + 0.5) * cell;
        let _ = write!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" font-size="12" fill="#222222" transform="rotate(-40 {x:.1} {:.1})">{}</text>"##,
            top - 6.0,
            top - 6.0,
            esc(c)
        );
    }
    for (i, c) in p.classes.iter().enumerate() {
        let y = top + (i as f64 + 0.5) * cell;
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{y:.1}" dy="0.35em" font-size="12" fill="#222222" text-anchor="end">{}</text>"##,
            left - 6.0,
            esc(c)
        );
        for j in 0..m {
            let n = p.table[i][j];
            let t = n as f64 / max;
            // White to dark blue (#08306B), a sequential scale readable in grey.
            let mix = |from: f64, to: f64| (from + (to - from) * t).round() as u8;
            let fill = RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0));
            let (x, y0) = (left + j as f64 * cell, top + i as f64 * cell);
            let stroke = if i == j {
                r##"stroke="#222222" stroke-width="2""##
            } else {
                r##"stroke="#BBBBBB" stroke-width="1""##
            };
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y0:.1}" width="{cell}" height="{cell}" fill="{}" {stroke}/>"#,
                hex(fill)
            );
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" dy="0.35em" font-size="15" text-anchor="middle" fill="{}">{n}</text>"#,
                x + cell / 2.0,
                y0 + cell / 2.0,
                on(fill)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// Sankey diagram of reclassification from criterion `a` (left) to `b` (right): a node per
/// best-response class, sized by its count, and a ribbon per (class under a, class under b).
pub fn sankey(r: &Report, pair: usize, palette: &Palette) -> String {
    let p = &r.pairs[pair];
    let m = p.classes.len();
    let n = p.n().max(1) as f64;
    let (w, h) = (620.0, 380.0);
    let (top, bottom) = (58.0, 16.0);
    let gap = 10.0;
    let label_w = 8.0
        * p.classes
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(4) as f64
        + 40.0;
    let (x0, x1) = (label_w, w - label_w);
    let node_w = 16.0;
    let used_l: Vec<u64> = (0..m).map(|i| p.table[i].iter().sum()).collect();
    let used_r: Vec<u64> = (0..m)
        .map(|j| p.table.iter().map(|row| row[j]).sum())
        .collect();
    let gaps =
        |used: &[u64]| used.iter().filter(|&&u| u > 0).count().saturating_sub(1) as f64 * gap;
    let scale = (h - top - bottom - gaps(&used_l).max(gaps(&used_r))) / n;
    let positions = |used: &[u64]| {
        let mut y = top;
        used.iter()
            .map(|&u| {
                let start = y;
                if u > 0 {
                    y += u as f64 * scale + gap;
                }
                start
            })
            .collect::<Vec<f64>>()
    };
    let (yl, yr) = (positions(&used_l), positions(&used_r));
    let (a, b) = (letter(p.a), letter(p.b));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="{FONT}" role="img">"#
    );
    let _ = write!(
        s,
        "<title>Reclassification of best-response classes from {a} to {b}</title>"
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#FFFFFF"/>"##);
    let _ = write!(
        s,
        r##"<text x="10" y="22" font-size="16" fill="#222222">Reclassification {a} → {b}</text>"##
    );
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="46" font-size="13" fill="#555555" text-anchor="middle">{a}</text>"##,
        x0 + node_w / 2.0
    );
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="46" font-size="13" fill="#555555" text-anchor="middle">{b}</text>"##,
        x1 - node_w / 2.0
    );
    // Ribbons: leave each left node in the order of the right classes, enter each right node
    // in the order of the left classes, so ribbons do not cross inside a node.
    let mut out_off = vec![0.0; m];
    let mut in_off = vec![0.0; m];
    let mut ribbons = String::new();
    for i in 0..m {
        for j in 0..m {
            let c = p.table[i][j];
            if c == 0 {
                continue;
            }
            let t = c as f64 * scale;
            let ya = yl[i] + out_off[i];
            let mut before = 0.0;
            for k in 0..i {
                before += p.table[k][j] as f64 * scale;
            }
            let yb = yr[j] + before;
            out_off[i] += t;
            in_off[j] += t;
            let (xa, xb) = (x0 + node_w, x1 - node_w);
            let xm = (xa + xb) / 2.0;
            let opacity = if i == j { 0.35 } else { 0.7 };
            let _ = write!(
                ribbons,
                r#"<path d="M{xa:.1},{ya:.1} C{xm:.1},{ya:.1} {xm:.1},{yb:.1} {xb:.1},{yb:.1} L{xb:.1},{:.1} C{xm:.1},{:.1} {xm:.1},{:.1} {xa:.1},{:.1} Z" fill="{}" fill-opacity="{opacity}"><title>{}: {} → {}: {c}</title></path>"#,
                yb + t,
                yb + t,
                ya + t,
                ya + t,
                palette.hex(&p.classes[i]),
                esc(&format!("{a} {}", p.classes[i])),
                esc(&p.classes[i]),
                esc(&p.classes[j]),
            );
        }
    }
    s.push_str(&ribbons);
    for (side, used, ys, x) in [(0, &used_l, &yl, x0), (1, &used_r, &yr, x1 - node_w)] {
        for (i, c) in p.classes.iter().enumerate() {
            let u = used[i];
            if u == 0 {
                continue;
            }
            let hgt = u as f64 * scale;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{:.1}" width="{node_w}" height="{hgt:.1}" fill="{}"/>"#,
                ys[i],
                palette.hex(c)
            );
            let (tx, anchor) = if side == 0 {
                (x - 6.0, "end")
            } else {
                (x + node_w + 6.0, "start")
            };
            let _ = write!(
                s,
                r##"<text x="{tx:.1}" y="{:.1}" dy="0.35em" font-size="13" fill="#222222" text-anchor="{anchor}">{} {u}</text>"##,
                ys[i] + hgt / 2.0,
                esc(c)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// Forest plot of ORR and DCR with their exact 95 % intervals, one row per criterion.
pub fn rates_forest(r: &Report) -> String {
    let k = r.criteria.len();
    let row = 26.0;
    let (left, panel, gap) = (60.0, 300.0, 80.0);
    let (top, w) = (58.0, left + 2.0 * panel + gap + 20.0);
    let h = top + k as f64 * row + 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="{FONT}" role="img">"#
    );
    s.push_str("<title>Objective response rate and disease control rate with exact 95 % confidence intervals</title>");
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#FFFFFF"/>"##);
    for (pi, name) in ["ORR", "DCR"].iter().enumerate() {
        let px = left + pi as f64 * (panel + gap);
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="24" font-size="15" fill="#222222" text-anchor="middle">{name} (95 % CI)</text>"##,
            px + panel / 2.0
        );
        for tick in 0..=5 {
            let x = px + panel * tick as f64 / 5.0;
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#DDDDDD"/>"##,
                top - 10.0,
                top + k as f64 * row
            );
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{:.1}" font-size="12" fill="#555555" text-anchor="middle">{}%</text>"##,
                top + k as f64 * row + 18.0,
                tick * 20
            );
        }
        for (i, x) in r.rates.iter().enumerate() {
            let rt = if pi == 0 { &x.orr } else { &x.dcr };
            let y = top + i as f64 * row + row / 2.0 - 6.0;
            if let (Some(v), Some((lo, hi))) = (rt.value, rt.ci) {
                let _ = write!(
                    s,
                    r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#222222" stroke-width="2"/>"##,
                    px + lo * panel,
                    px + hi * panel
                );
                let _ = write!(
                    s,
                    r##"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="#0072B2"><title>{}: {:.1} % [{:.1}, {:.1}]</title></rect>"##,
                    px + v * panel - 5.0,
                    y - 5.0,
                    letter(i),
                    v * 100.0,
                    lo * 100.0,
                    hi * 100.0
                );
            }
        }
    }
    for i in 0..k {
        let y = top + i as f64 * row + row / 2.0 - 6.0;
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{y:.1}" dy="0.35em" font-size="14" fill="#222222" text-anchor="end">{}</text>"##,
            left - 12.0,
            letter(i)
        );
    }
    s.push_str("</svg>");
    s
}
