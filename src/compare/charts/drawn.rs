//! The charts written by hand as SVG (no crate draws them): cross-tabulation heatmaps, Sankey
//! diagrams and the forest plot of rates.

use std::fmt::Write;

use plotters::style::RGBColor;

use super::{esc, hex, label, on, shorten, svg_open, Palette};
use crate::compare::{letter, Report};

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
    // Column labels lean right at 40°: room above and to the right for the longest one.
    let (left, top) = (label_w + 26.0, label_w * 0.65 + 62.0);
    let lean = (label_w * 0.77 - cell / 2.0).max(0.0);
    let named = |i: usize| format!("{} {}", letter(i), shorten(&r.criteria[i].label, 28));
    let (a, b) = (named(p.a), named(p.b));
    let heading = format!("{a} (rows) × {b} (columns)");
    let w = (left + m as f64 * cell + lean + 20.0).max(20.0 + 8.0 * heading.chars().count() as f64);
    let h = top + m as f64 * cell + 20.0;
    let max = p.table.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut s = svg_open(
        w,
        h,
        &format!("Cross-tabulation of best-response classes, {a} (rows) by {b} (columns)"),
        Some(&heading),
    );
    s.push_str(
        &label(left + m as f64 * cell / 2.0, 46.0, 13.0)
            .muted()
            .middle()
            .svg(&b),
    );
    let mid = top + m as f64 * cell / 2.0;
    s.push_str(
        &label(14.0, mid, 13.0)
            .muted()
            .middle()
            .rotate(-90.0)
            .svg(&a),
    );
    for (j, c) in p.classes.iter().enumerate() {
        let x = left + (j as f64 + 0.5) * cell;
        s.push_str(&label(x, top - 6.0, 12.0).rotate(-40.0).svg(c));
    }
    for (i, c) in p.classes.iter().enumerate() {
        let y = top + (i as f64 + 0.5) * cell;
        s.push_str(&label(left - 6.0, y, 12.0).end().centred().svg(c));
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
            s.push_str(
                &label(x + cell / 2.0, y0 + cell / 2.0, 15.0)
                    .fill(on(fill))
                    .middle()
                    .centred()
                    .svg(&n.to_string()),
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
    let mut s = svg_open(
        w,
        h,
        &format!("Reclassification of best-response classes from {a} to {b}"),
        Some(&format!("Reclassification {a} → {b}")),
    );
    s.push_str(
        &label(x0 + node_w / 2.0, 46.0, 13.0)
            .muted()
            .middle()
            .svg(&a),
    );
    s.push_str(
        &label(x1 - node_w / 2.0, 46.0, 13.0)
            .muted()
            .middle()
            .svg(&b),
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
            s.push_str(
                &label(tx, ys[i] + hgt / 2.0, 13.0)
                    .anchor(anchor)
                    .centred()
                    .svg(&format!("{c} {u}")),
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
    let mut s = svg_open(
        w,
        h,
        "Objective response rate and disease control rate with exact 95 % confidence intervals",
        None,
    );
    for (pi, name) in ["ORR", "DCR"].iter().enumerate() {
        let px = left + pi as f64 * (panel + gap);
        s.push_str(
            &label(px + panel / 2.0, 24.0, 15.0)
                .middle()
                .svg(&format!("{name} (95 % CI)")),
        );
        for tick in 0..=5 {
            let x = px + panel * tick as f64 / 5.0;
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#DDDDDD"/>"##,
                top - 10.0,
                top + k as f64 * row
            );
            s.push_str(
                &label(x, top + k as f64 * row + 18.0, 12.0)
                    .muted()
                    .middle()
                    .svg(&format!("{}%", tick * 20)),
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
        s.push_str(&label(left - 12.0, y, 14.0).end().centred().svg(&letter(i)));
    }
    s.push_str("</svg>");
    s
}
