//! Diagnostics on very long lines. miette prints a label's whole line and pads up to the label's
//! column, which panics past column 65,535; a line of thousands of characters is unreadable
//! anyway. Such a diagnostic is shown with an excerpt of its line starting near the label, and
//! still names the real line and column.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan};

use super::Diag;

/// Lines longer than this (in bytes) are shown as excerpts.
const LONG_LINE: usize = 240;
/// Context kept before a label, and the length of an excerpt.
const BEFORE: usize = 24;
const LENGTH: usize = 80;

/// The line (0-based) and its byte range (without the line break) holding `offset`.
fn line_of(text: &str, offset: usize) -> (usize, usize, usize) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let end = if text[..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    let line = text.as_bytes()[..start]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    (line, start, end)
}

/// The excerpt shown for a label starting at `offset`, when its line is long.
struct Window {
    start: usize,
    end: usize,
    line: usize,
    column: usize,
}

fn window(text: &str, offset: usize) -> Option<Window> {
    let (line, ls, le) = line_of(text, offset);
    if le - ls <= LONG_LINE || offset > le {
        return None;
    }
    let mut start = offset.saturating_sub(BEFORE).max(ls);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let mut end = (offset + LENGTH).min(le).max(start);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(Window {
        start,
        end,
        line,
        column: text[ls..offset.max(ls)].chars().count(),
    })
}

/// A diagnostic whose labels are cut to the excerpts of their long lines.
pub struct Excerpted<'a> {
    diag: &'a Diag,
    source: Source<'a>,
    labels: Vec<LabeledSpan>,
}

struct Source<'a> {
    name: &'a str,
    text: &'a str,
    inner: &'a dyn SourceCode,
}

impl<'a> Excerpted<'a> {
    /// `Some` when a label of the diagnostic lies on a long line.
    pub fn new(diag: &'a Diag) -> Option<Self> {
        let src = diag.src.as_ref()?;
        let text = src.inner().as_str();
        let long = diag
            .labels
            .iter()
            .any(|(s, _)| window(text, s.start).is_some() || window(text, s.end).is_some());
        if !long {
            return None;
        }
        let labels = diag
            .labels
            .iter()
            .map(|(s, t)| {
                let start = s.start.min(text.len());
                let end = match window(text, start) {
                    Some(w) => s.end.min(w.end).max(start),
                    // A label that ends on a long line stops at the end of its first line.
                    None => s.end.min(line_of(text, start).2).max(start),
                };
                let label = (!t.is_empty()).then(|| t.clone());
                LabeledSpan::new(label, start, end - start)
            })
            .collect();
        Some(Excerpted {
            diag,
            source: Source {
                name: src.name(),
                text,
                inner: src.as_ref(),
            },
            labels,
        })
    }
}

impl SourceCode for Source<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, MietteError> {
        let Some(w) = window(self.text, span.offset()) else {
            return self.inner.read_span(span, before, after);
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            &self.text.as_bytes()[w.start..w.end],
            (w.start, w.end - w.start).into(),
            w.line,
            w.column,
            1,
        )))
    }
}

impl fmt::Debug for Excerpted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for Excerpted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.diag, f)
    }
}

impl std::error::Error for Excerpted<'_> {}

impl Diagnostic for Excerpted<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.diag.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.help()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{render_plain, source, Diag};
    use crate::syntax::ast::Span;

    #[test]
    fn a_label_far_along_a_long_line_is_shown_in_an_excerpt() {
        let text = format!("first\nvalue x = {}foo\nlast\n", " ".repeat(70_000));
        let at = text.find("foo").unwrap();
        let d = Diag::error("crit::test", "unexpected `foo`")
            .label(Span::new(at, at + 3), "here")
            .help("remove it")
            .with_src(&source("t.crit", &text));
        let out = render_plain(&[d]);
        assert!(out.contains("[t.crit:2:70011]"), "{out}");
        assert!(out.contains("foo") && out.contains("here") && out.contains("remove it"));
        assert!(out.len() < 2_000, "{out}");
    }
}
