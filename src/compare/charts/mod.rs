//! Charts of the HTML report, as inline SVG: waterfall, spider and swimmer plots drawn with
//! plotters' SVG backend; cross-tabulation heatmaps, Sankey diagrams and the forest plot of
//! rates written by hand (no crate draws them).
//!
//! Colours come from the Okabe–Ito palette, which stays distinguishable with the common colour
//! vision deficiencies; each chart also labels its colours, so none depends on colour alone.

mod drawn;
mod km;
mod plotted;

pub use drawn::{heatmap, rates_forest, sankey};
pub use km::km_plot;
pub use plotted::{spider, sum_groups, swimmer, waterfall, SPIDER_MAX, SWIMMER_MAX};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Report, COMPLETE, NOT_EVALUABLE, NO_RESPONSE, PARTIAL, PROGRESSIVE, STABLE};

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

pub(super) type Res = Result<(), String>;

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
                .any(|s| s.outcome(i).is_some_and(|o| *o.best_class == **c))
        })
        .cloned()
        .collect()
}

/// The drawing area of a plotters chart.
pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A plotters chart as an SVG string: a white page of `w` × `h` with the title and the class
/// legend at the top; `body` draws on the area below (and, for labels, on the whole page).
/// `None` if drawing fails.
fn page(
    (w, h): (u32, u32),
    title: &str,
    palette: &Palette,
    classes: &[String],
    body: impl FnOnce(&Area, &Area) -> Res,
) -> Option<String> {
    let mut buf = String::new();
    let drawn: Res = (|| {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, below) = root.split_vertically(56);
        header(&top, title, palette, classes)?;
        body(&root, &below)?;
        root.present().map_err(err)
    })();
    drawn.ok().map(|_| buf)
}

/// The common look of a plotters mesh: light grid, no minor lines, readable labels.
fn mesh<'m, 'a, 'b, X, Y, DB>(
    m: &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>
where
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    DB: DrawingBackend,
{
    m.light_line_style(WHITE)
        .bold_line_style(GRID)
        .label_style(text_style(13.0, INK))
        .axis_desc_style(text_style(14.0, INK))
}

/// A `<text>` of a hand-written SVG: at (x, y), left-aligned on its baseline unless told
/// otherwise.
pub(super) struct Label {
    x: f64,
    y: f64,
    size: f64,
    fill: String,
    anchor: &'static str,
    centred: bool,
    rotate: Option<f64>,
}

pub(super) fn label(x: f64, y: f64, size: f64) -> Label {
    Label {
        x,
        y,
        size,
        fill: "#222222".into(),
        anchor: "start",
        centred: false,
        rotate: None,
    }
}

impl Label {
    pub fn fill(mut self, fill: &str) -> Label {
        self.fill = fill.to_string();
        self
    }
    /// Grey, for axis names and ticks.
    pub fn muted(self) -> Label {
        self.fill("#555555")
    }
    pub fn middle(mut self) -> Label {
        self.anchor = "middle";
        self
    }
    pub fn end(mut self) -> Label {
        self.anchor = "end";
        self
    }
    pub fn anchor(mut self, anchor: &'static str) -> Label {
        self.anchor = anchor;
        self
    }
    /// Vertically centred on y.
    pub fn centred(mut self) -> Label {
        self.centred = true;
        self
    }
    /// Turned by `deg` degrees about its position.
    pub fn rotate(mut self, deg: f64) -> Label {
        self.rotate = Some(deg);
        self
    }
    /// The element, with `text` escaped.
    pub fn svg(&self, text: &str) -> String {
        let (x, y) = (self.x, self.y);
        let mut s = format!(
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{}" fill="{}""#,
            self.size, self.fill
        );
        if self.anchor != "start" {
            s.push_str(&format!(r#" text-anchor="{}""#, self.anchor));
        }
        if self.centred {
            s.push_str(r#" dy="0.35em""#);
        }
        if let Some(d) = self.rotate {
            s.push_str(&format!(r#" transform="rotate({d} {x:.1} {y:.1})""#));
        }
        s.push('>');
        s.push_str(&esc(text));
        s.push_str("</text>");
        s
    }
}

/// Opens a hand-written SVG document of the given size with its accessible title and a white
/// background; the caller closes it with `</svg>`.
/// `heading`, when given, is written at the top left.
fn svg_open(w: f64, h: f64, title: &str, heading: Option<&str>) -> String {
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="{FONT}" role="img"><title>{}</title><rect width="100%" height="100%" fill="#FFFFFF"/>"##,
        esc(title)
    );
    if let Some(t) = heading {
        s.push_str(&label(10.0, 22.0, 16.0).svg(t));
    }
    s
}
