//! Data errors rendered like ruleset errors: the file, the offending cell underlined (the row
//! when the error is not about one column) with the lines around it, the column, and a help.
//! Only the lines shown are read, moving forward through the file, so errors in a table of
//! millions of rows cost neither memory nor a read per error.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader};

use super::model::DataError;
use super::schema::split_header;
use crate::diag::{self, Diag};
use crate::syntax::ast::Span;

/// Reads a file's lines forward, keeping the last few.
struct Cursor {
    reader: BufReader<std::fs::File>,
    /// Number of the next line to read.
    next: usize,
    window: VecDeque<(usize, String)>,
    header: Vec<String>,
}

const WINDOW: usize = 3;

impl Cursor {
    fn open(path: &str) -> Option<Cursor> {
        let reader = BufReader::new(std::fs::File::open(path).ok()?);
        let mut c = Cursor {
            reader,
            next: 1,
            window: VecDeque::new(),
            header: vec![],
        };
        // The header names the columns, to find a cell in its row.
        c.read_to(1);
        c.header = c
            .window
            .front()
            .map(|(_, h)| {
                cells(h)
                    .iter()
                    .map(|&(a, b)| split_header(&h[a..b]).0)
                    .collect()
            })
            .unwrap_or_default();
        Some(c)
    }

    fn read_to(&mut self, last: usize) {
        let mut buf = vec![];
        while self.next <= last {
            buf.clear();
            match self.reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            let mut text = String::from_utf8_lossy(&buf).into_owned();
            if self.next == 1 {
                text = text.trim_start_matches('\u{feff}').to_string();
            }
            self.window.push_back((self.next, text));
            if self.window.len() > WINDOW {
                self.window.pop_front();
            }
            self.next += 1;
        }
    }

    /// Lines `from..=to` (those that exist), reading on or starting again as needed.
    fn lines(&mut self, path: &str, from: usize, to: usize) -> Vec<(usize, String)> {
        let behind = self.window.front().is_none_or(|(n, _)| *n > from) && self.next > from;
        if behind {
            let header = std::mem::take(&mut self.header);
            let Some(fresh) = Cursor::open(path) else {
                return vec![];
            };
            *self = fresh;
            self.header = header;
        }
        self.read_to(to);
        self.window
            .iter()
            .filter(|(n, _)| (from..=to).contains(n))
            .cloned()
            .collect()
    }
}

/// Byte ranges of the cells of a CSV line (quotes included).
fn cells(line: &str) -> Vec<(usize, usize)> {
    let mut rdr = csv_core::ReaderBuilder::new().build();
    let bytes = line.as_bytes();
    let mut out = vec![];
    let mut field = [0u8; 1024];
    let mut start = 0;
    let mut pos = 0;
    loop {
        let (res, nin, _) = rdr.read_field(&bytes[pos..], &mut field);
        pos += nin;
        match res {
            csv_core::ReadFieldResult::OutputFull => continue,
            csv_core::ReadFieldResult::Field { record_end } => {
                let end = if bytes.get(pos.wrapping_sub(1)) == Some(&b',') && !record_end {
                    pos - 1
                } else {
                    pos
                };
                out.push((start, end.max(start)));
                start = pos;
                if record_end {
                    break;
                }
            }
            csv_core::ReadFieldResult::InputEmpty => {
                if pos >= bytes.len() {
                    let (res, _, _) = rdr.read_field(&[], &mut field);
                    if matches!(res, csv_core::ReadFieldResult::Field { .. }) {
                        out.push((start, bytes.len()));
                    }
                    break;
                }
            }
            csv_core::ReadFieldResult::End => break,
        }
    }
    out
}

/// Where to underline in a line: the cell of `column` (trimmed), else the whole line.
fn target(line: &str, column: Option<&str>, header: &[String], json: bool) -> (usize, usize) {
    let whole = {
        let start = line.len() - line.trim_start().len();
        (start, line.trim_end().len().max(start))
    };
    let Some(column) = column else { return whole };
    if json {
        let key = format!("\"{column}\"");
        return match line.to_lowercase().find(&key.to_lowercase()) {
            Some(i) => {
                let end = line.trim_end().trim_end_matches(',').len();
                (i, end.max(i))
            }
            None => whole,
        };
    }
    let Some(k) = header.iter().position(|h| h == column) else {
        return whole;
    };
    match cells(line).get(k) {
        Some(&(a, b)) => {
            let cell = &line[a..b];
            let a2 = a + (cell.len() - cell.trim_start().len());
            (a2, (a + cell.trim_end().len()).max(a2))
        }
        None => whole,
    }
}

thread_local! {
    static CURSORS: std::cell::RefCell<HashMap<String, Option<Cursor>>> = Default::default();
}

/// A data error (or warning) as a diagnostic; `who` prefixes the message (e.g. the subject).
pub fn diag(e: &DataError, who: Option<&str>, warning: bool) -> Diag {
    let message = match who {
        Some(w) => format!("{w}: {}", e.message),
        None => e.message.clone(),
    };
    let mut d = if warning {
        Diag::warning("crit::data", message)
    } else {
        Diag::error("crit::data", message)
    };
    if let Some(h) = &e.help {
        d = d.help(h.clone());
    }
    let lower = e.file.to_lowercase();
    let json = lower.ends_with(".json");
    let shown = match e.line {
        Some(line) if !lower.ends_with(".xpt") => CURSORS.with(|c| {
            let mut c = c.borrow_mut();
            let cursor = c
                .entry(e.file.clone())
                .or_insert_with(|| Cursor::open(&e.file));
            let cursor = cursor.as_mut()?;
            let lines = cursor.lines(&e.file, line.saturating_sub(1).max(1), line + 1);
            let at = lines.iter().position(|(n, _)| *n == line)?;
            let first = lines[0].0;
            let offset: usize = lines[..at].iter().map(|(_, l)| l.len() + 1).sum();
            let (a, b) = target(&lines[at].1, e.column.as_deref(), &cursor.header, json);
            let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
            Some((text.join("\n"), first, offset + a, offset + b))
        }),
        _ => None,
    };
    match shown {
        Some((text, first, a, b)) => {
            let label = e
                .column
                .as_deref()
                .map(|c| format!("column {c}"))
                .unwrap_or_else(|| "here".into());
            d.label(Span::new(a, b), label)
                .with_src(&diag::excerpt(&e.file, &text, first - 1))
        }
        None => {
            let place = match &e.column {
                Some(c) if e.line.is_some() => format!(" ({}, column {c})", e.place()),
                _ => format!(" ({})", e.place()),
            };
            d.message.push_str(&place);
            d
        }
    }
}

/// Renders a data error for the terminal.
pub fn render(e: &DataError, who: Option<&str>) -> String {
    diag::render_terminal(&[diag(e, who, false)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_found_with_their_quotes() {
        let line = r#"a,"b,c", ,d"#;
        let c = cells(line);
        let texts: Vec<&str> = c.iter().map(|&(a, b)| &line[a..b]).collect();
        assert_eq!(texts, vec!["a", "\"b,c\"", " ", "d"]);
        let header = vec!["x".to_string(), "y".into(), "z".into(), "w".into()];
        assert_eq!(target(line, Some("y"), &header, false), (2, 7));
        assert_eq!(target(line, Some("w"), &header, false), (10, 11));
        assert_eq!(target(line, None, &header, false), (0, 11));
    }
}
