//! SDTM tables written as CSV, read so that one bad row costs only that row: a row with another
//! number of cells than the header, with bytes that are not UTF-8, or with a quote that is never
//! closed is kept with its problem (its subject fails), and the rows after it are read as usual.
//! Lines are counted from the bytes, so they are right with CRLF line ends too.

use super::model::DataError;
use super::sdtm::{RowProblem, TableRow};

fn error(file: &str, line: Option<usize>, message: String, help: Option<&str>) -> DataError {
    DataError {
        file: file.into(),
        line,
        column: None,
        message,
        help: help.map(str::to_string),
    }
}

/// Line numbers (from 1) of byte offsets, asked for in increasing order.
struct Lines<'a> {
    bytes: &'a [u8],
    counted: usize,
    line: usize,
}

impl Lines<'_> {
    /// The line a record starting at `byte` is on. The reader puts a record's start at the end
    /// of the line before it (its `\r` or `\n`), so line ends there are skipped.
    fn at(&mut self, byte: usize) -> usize {
        let mut byte = byte.min(self.bytes.len());
        while self
            .bytes
            .get(byte)
            .is_some_and(|b| matches!(b, b'\r' | b'\n'))
        {
            byte += 1;
        }
        if byte > self.counted {
            self.line += self.bytes[self.counted..byte]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.counted = byte;
        }
        self.line
    }
}

fn reader(bytes: &[u8], quoting: bool) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .quoting(quoting)
        .from_reader(bytes)
}

/// The cells of a record, trimmed once here (so readers of cells need not), and the index of
/// the first one that is not UTF-8.
fn cells(record: &csv::ByteRecord) -> (Vec<String>, Option<usize>) {
    let mut bad = None;
    let mut cells = Vec::with_capacity(record.len());
    for (i, c) in record.iter().enumerate() {
        let text = String::from_utf8_lossy(c);
        if matches!(text, std::borrow::Cow::Owned(_)) {
            bad.get_or_insert(i);
        }
        cells.push(text.trim().to_string());
    }
    (cells, bad)
}

/// The upper-case column names and the rows of a CSV table.
pub(super) fn read(file: &str, bytes: &[u8]) -> Result<(Vec<String>, Vec<TableRow>), DataError> {
    let mut lines = Lines {
        bytes,
        counted: 0,
        line: 1,
    };
    let mut columns: Option<Vec<String>> = None;
    let mut rows = Vec::with_capacity(bytes.iter().filter(|&&b| b == b'\n').count());
    let mut record = csv::ByteRecord::new();
    // The part of the file still to read: all of it, or what follows an unclosed quote.
    let mut start = 0;
    while start < bytes.len() {
        let mut rdr = reader(&bytes[start..], true);
        let mut restart = None;
        loop {
            match rdr.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map(|p| lines.at(start + p.byte() as usize));
                    return Err(error(file, line, format!("malformed CSV: {e}"), None));
                }
            }
            let at = start + record.position().map_or(0, |p| p.byte() as usize);
            let line = lines.at(at);
            let Some(header) = &columns else {
                let names = cells(&record).0;
                let names = names
                    .iter()
                    .map(|s| s.trim_start_matches('\u{feff}').trim().to_uppercase())
                    .collect();
                columns = Some(names);
                continue;
            };
            let width = header.len();
            let unclosed = record.len() != width && record.iter().any(|c| c.contains(&b'\n'));
            if unclosed {
                // The row ends at its line's end; what the quote swallowed is read again.
                let from = at
                    + bytes[at..]
                        .iter()
                        .take_while(|b| b.is_ascii_whitespace())
                        .count();
                let end = bytes[from..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |i| from + i + 1);
                let cells = reader(&bytes[from..end], false)
                    .byte_records()
                    .next()
                    .and_then(|r| r.ok())
                    .map(|r| cells(&r).0)
                    .unwrap_or_default();
                rows.push(TableRow {
                    line,
                    cells,
                    problem: Some(RowProblem {
                        message: "a quote opened in this row is never closed".into(),
                        help: "close the quote (\"...\") or remove it; the rows after this one are read as they are".into(),
                    }),
                });
                restart = Some(end);
                break;
            }
            let (cells, bad) = cells(&record);
            let problem = if cells.len() != width {
                Some(RowProblem {
                    message: format!("the row has {} cells, the header {width}", cells.len()),
                    help: "every row needs as many cells as the header; quote cells that contain commas".into(),
                })
            } else {
                bad.map(|i| RowProblem {
                    message: format!("the {} cell is not valid UTF-8 text", header[i]),
                    help:
                        "save the file as UTF-8 (a byte of another encoding, e.g. Latin-1, is here)"
                            .into(),
                })
            };
            rows.push(TableRow {
                line,
                cells,
                problem,
            });
        }
        match restart {
            Some(end) => start = end,
            None => break,
        }
    }
    match columns {
        Some(c) if !c.iter().all(|c| c.is_empty()) => Ok((c, rows)),
        _ => Err(error(
            file,
            Some(1),
            "the file is empty or has no header".into(),
            Some("the first line names the columns (USUBJID, ...)"),
        )),
    }
}
