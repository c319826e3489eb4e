//! Kaplan–Meier curves on one plot, with the numbers at risk under the time axis.

use std::fmt::Write;

use super::{esc, label, svg_open};
use crate::survival::KaplanMeier;

/// Colour-blind-safe line colours (Okabe–Ito), one per curve in order.
pub const CURVE_COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

/// A tick step giving about six ticks up to `max` days: multiples of 4 weeks, else of 7 days.
fn step(max: f64) -> f64 {
    let want = max / 6.0;
    [
        7.0, 14.0, 28.0, 56.0, 84.0, 112.0, 168.0, 182.0, 364.0, 728.0,
    ]
    .into_iter()
    .find(|s| *s >= want)
    .unwrap_or(((want / 364.0).ceil()) * 364.0)
}

/// The curves (name, fit) on one plot of survival against days, censorings marked, and the
/// numbers at risk of each curve at every tick under the axis.
pub fn km_plot(title: &str, x_title: &str, curves: &[(String, &KaplanMeier)]) -> String {
    let max = curves
        .iter()
        .map(|(_, k)| k.max_time())
        .fold(0.0, f64::max)
        .max(1.0);
    let dx = step(max);
    let x_max = (max / dx).ceil() * dx;
    let (left, plot_w, plot_h) = (150.0, 560.0, 280.0);
    // Legend entries wrap onto further rows rather than run off the plot.
    let mut entries = vec![];
    let (mut lx, mut ly) = (left, 44.0);
    for (name, _) in curves {
        let width = 28.0 + 7.5 * name.chars().count() as f64 + 24.0;
        if lx > left && lx + width > left + plot_w + 30.0 {
            lx = left;
            ly += 20.0;
        }
        entries.push((lx, ly));
        lx += width;
    }
    let top = ly + 20.0;
    let risk_top = top + plot_h + 58.0;
    let row = 20.0;
    let w = left + plot_w + 40.0;
    let h = risk_top + 22.0 + curves.len() as f64 * row + 10.0;
    let x = |t: f64| left + plot_w * t / x_max;
    let y = |s: f64| top + plot_h * (1.0 - s);
    let mut s = svg_open(w, h, title, Some(title));
    // Legend.
    for (i, ((name, _), (lx, ly))) in curves.iter().zip(&entries).enumerate() {
        let c = CURVE_COLOURS[i % CURVE_COLOURS.len()];
        let _ = write!(
            s,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{c}" stroke-width="3"/>"#,
            lx + 22.0
        );
        s.push_str(&label(lx + 28.0, ly + 4.0, 13.0).svg(name));
    }
    // Axes and grid.
    for i in 0..=5 {
        let v = i as f64 / 5.0;
        let _ = write!(
            s,
            r##"<line x1="{left:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#E3E3E3"/>"##,
            left + plot_w,
            yy = y(v)
        );
        s.push_str(
            &label(left - 8.0, y(v), 12.0)
                .end()
                .centred()
                .svg(&format!("{:.0}%", v * 100.0)),
        );
    }
    let ticks: Vec<f64> = (0..)
        .map(|i| i as f64 * dx)
        .take_while(|t| *t <= x_max + 1e-9)
        .collect();
    for &t in &ticks {
        let _ = write!(
            s,
            r##"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="#999999"/>"##,
            top + plot_h,
            top + plot_h + 5.0,
            xx = x(t)
        );
        s.push_str(
            &label(x(t), top + plot_h + 20.0, 12.0)
                .middle()
                .svg(&format!("{t:.0}")),
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{left:.1}" y="{top:.1}" width="{plot_w:.1}" height="{plot_h:.1}" fill="none" stroke="#999999"/>"##
    );
    s.push_str(
        &label(left + plot_w / 2.0, top + plot_h + 40.0, 13.0)
            .middle()
            .svg(x_title),
    );
    // Curves: steps at events, a tick at each censoring.
    for (i, (name, km)) in curves.iter().enumerate() {
        let c = CURVE_COLOURS[i % CURVE_COLOURS.len()];
        let mut d = format!("M{:.1},{:.1}", x(0.0), y(1.0));
        let mut level = 1.0;
        for st in &km.steps {
            let _ = write!(d, " H{:.1} V{:.1}", x(st.time), y(st.surv));
            level = st.surv;
        }
        let _ = write!(d, " H{:.1}", x(km.max_time()));
        let _ = write!(
            s,
            r#"<path d="{d}" fill="none" stroke="{c}" stroke-width="2.2"><title>{}</title></path>"#,
            esc(name)
        );
        for &t in &km.censored {
            let sv = km.rate_at(t).map(|r| r.surv).unwrap_or(level);
            let _ = write!(
                s,
                r#"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="{c}" stroke-width="1.5"/>"#,
                y(sv) - 4.0,
                y(sv) + 4.0,
                xx = x(t)
            );
        }
    }
    // Numbers at risk.
    s.push_str(&label(10.0, risk_top, 13.0).svg("Number at risk"));
    for (i, (name, km)) in curves.iter().enumerate() {
        let yy = risk_top + 22.0 + i as f64 * row;
        let c = CURVE_COLOURS[i % CURVE_COLOURS.len()];
        let short: String = name.chars().take(22).collect();
        s.push_str(&label(10.0, yy, 12.0).fill(c).svg(&short));
        for &t in &ticks {
            s.push_str(
                &label(x(t), yy, 12.0)
                    .middle()
                    .svg(&km.at_risk(t).to_string()),
            );
        }
    }
    s.push_str("</svg>");
    s
}
