//! Diagnostics shared by every stage: a message, labelled spans in one source, and a help line.
//! They render through miette.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode};

use crate::syntax::ast::Span;

mod excerpt;

/// One source text with its display name (a path, or `recist-1.1.crit` for shipped rulesets).
pub type Source = Arc<NamedSource<Text>>;

/// A source text, or a few lines of a larger file (`first_line` lines further on), so that an
/// error in a large data file shows its lines without the file being held in memory.
#[derive(Debug, Clone)]
pub struct Text {
    text: String,
    first_line: usize,
}

impl std::ops::Deref for Text {
    type Target = String;
    fn deref(&self) -> &String {
        &self.text
    }
}

impl SourceCode for Text {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let c = self.text.as_str().read_span(span, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new(
            c.data(),
            *c.span(),
            c.line() + self.first_line,
            c.column(),
            c.line_count(),
        )))
    }
}

pub fn source(name: &str, text: &str) -> Source {
    // Editors on some systems start files with a byte-order mark; it is not part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    excerpt(name, text, 0)
}

/// Lines of a file that start at line `first_line + 1`.
pub fn excerpt(name: &str, text: &str, first_line: usize) -> Source {
    Arc::new(NamedSource::new(
        name,
        Text {
            text: text.to_string(),
            first_line,
        },
    ))
}

#[derive(Debug, Clone)]
pub struct Diag {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub labels: Vec<(Span, String)>,
    pub help: Option<String>,
    pub src: Option<Source>,
}

impl Diag {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diag {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: vec![],
            help: None,
            src: None,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(code, message)
        }
    }
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push((span, text.into()));
        self
    }
    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }
    pub fn with_src(mut self, src: &Source) -> Self {
        if self.src.is_none() {
            self.src = Some(src.clone());
        }
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.src.as_ref().map(|s| s.as_ref() as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.src.is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|(s, t)| {
            LabeledSpan::new_with_span(if t.is_empty() { None } else { Some(t.clone()) }, *s)
        })))
    }
}

/// Renders diagnostics without colour, for snapshots and for output that is not a terminal.
pub fn render_plain(diags: &[Diag]) -> String {
    render(diags, miette::GraphicalTheme::unicode_nocolor())
}

/// Renders for a terminal (colour when stderr is one).
pub fn render_terminal(diags: &[Diag]) -> String {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return render_plain(diags);
    }
    render(diags, miette::GraphicalTheme::unicode())
}

fn render(diags: &[Diag], theme: miette::GraphicalTheme) -> String {
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for d in diags {
        let _ = match excerpt::Excerpted::new(d) {
            Some(e) => handler.render_report(&mut out, &e),
            None => handler.render_report(&mut out, d),
        };
    }
    out
}

/// A help line for a name that is not among `candidates`: "did you mean `X`?" with the
/// closest one, else `otherwise` (what the names are, or how to declare one).
pub fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    otherwise: impl FnOnce() -> String,
) -> String {
    match did_you_mean(name, candidates) {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise(),
    }
}

/// The closest candidate by edit distance, for "did you mean".
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&name.to_lowercase(), &c.to_lowercase());
        if score > 0.8 && best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}
