//! CSV records as bytes, one at a time, each with the line it starts on (counted on `\n`, so
//! CRLF files number their lines like any editor). Nothing is copied per cell. A record that
//! cannot be read whole — a quote that is never closed, which would make the rest of the file
//! one cell — is cut at the end of its first line and marked broken, and reading goes on with
//! the next line: one bad row fails only its own subject.

use std::io::Read;

use csv_core::{ReadRecordResult, ReaderBuilder};

/// A record longer than this (bytes of input) is taken for an unclosed quote.
const MAX_RECORD: usize = 1 << 20;
const BLOCK: usize = 1 << 16;

/// Reads records from a byte source; `next_record` lends each record until the next call.
pub struct Records<R> {
    src: R,
    rdr: csv_core::Reader,
    /// Reads a broken record's first line again, without quoting.
    plain: csv_core::Reader,
    /// Input not yet consumed is `buf[pos..len]`; `base` is the source offset of `buf[0]`.
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    base: u64,
    eof: bool,
    started: bool,
    /// Line of `buf[pos]`.
    line: u64,
    fields: Vec<u8>,
    ends: Vec<usize>,
    nfields: usize,
    /// Cells of the first record (the header): a record spanning lines with another count is
    /// broken.
    width: Option<usize>,
    /// A read error of the source.
    pub error: Option<std::io::Error>,
}

/// One record: its cells (bytes, untrimmed) and where it starts.
pub struct Record<'a> {
    pub line: u64,
    /// Byte offset of the record in the source.
    pub offset: u64,
    /// Cut at the end of its first line (an unclosed quote); the cells are that line's, read
    /// without quoting.
    pub broken: bool,
    fields: &'a [u8],
    ends: &'a [usize],
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.fields[start..end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

/// Parses `input` as (the start of) one record into `fields`/`ends`, growing them as needed;
/// `finish` ends the record at the end of the input. Returns (result, input read, cells).
fn parse(
    rdr: &mut csv_core::Reader,
    mut input: &[u8],
    finish: bool,
    fields: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    nout: &mut usize,
    nfields: &mut usize,
) -> (ReadRecordResult, usize) {
    let mut read = 0;
    loop {
        let (res, nin, o, e) = rdr.read_record(input, &mut fields[*nout..], &mut ends[*nfields..]);
        input = &input[nin..];
        read += nin;
        *nout += o;
        *nfields += e;
        match res {
            ReadRecordResult::OutputFull => {
                let n = fields.len();
                fields.resize(n * 2, 0);
            }
            ReadRecordResult::OutputEndsFull => {
                let n = ends.len();
                ends.resize(n * 2, 0);
            }
            ReadRecordResult::InputEmpty if finish && input.is_empty() => {
                // An empty input ends the last record.
                let (res, _, o, e) = loop {
                    let r = rdr.read_record(&[], &mut fields[*nout..], &mut ends[*nfields..]);
                    if r.0 == ReadRecordResult::OutputEndsFull {
                        let n = ends.len();
                        ends.resize(n * 2, 0);
                        continue;
                    }
                    break r;
                };
                *nout += o;
                *nfields += e;
                return (res, read);
            }
            ReadRecordResult::InputEmpty if !input.is_empty() => {}
            other => return (other, read),
        }
    }
}

impl<R: Read> Records<R> {
    pub fn new(src: R) -> Self {
        Records {
            src,
            rdr: ReaderBuilder::new().build(),
            plain: ReaderBuilder::new().quoting(false).build(),
            buf: vec![0; BLOCK],
            pos: 0,
            len: 0,
            base: 0,
            eof: false,
            started: false,
            line: 1,
            fields: vec![0; 1024],
            ends: vec![0; 64],
            nfields: 0,
            width: None,
            error: None,
        }
    }

    /// Drops `buf[..keep]` and reads more; false when the source has nothing more.
    fn refill(&mut self, keep: usize) -> bool {
        if keep > 0 {
            self.buf.copy_within(keep..self.len, 0);
            self.len -= keep;
            self.pos -= keep;
            self.base += keep as u64;
        }
        if self.eof {
            return false;
        }
        if self.buf.len() - self.len < BLOCK / 2 {
            let n = self.buf.len();
            self.buf.resize(n * 2, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return false;
                }
                Ok(n) => {
                    self.len += n;
                    return true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.error = Some(e);
                    self.eof = true;
                    return false;
                }
            }
        }
    }

    /// Skips line ends (and a byte-order mark at the start); false at the end of the input.
    fn skip_blank(&mut self) -> bool {
        loop {
            if self.pos == self.len && !self.refill(self.pos) {
                return false;
            }
            if !self.started {
                while self.len - self.pos < 3 && self.refill(self.pos) {}
                if self.buf[self.pos..self.len].starts_with(b"\xef\xbb\xbf") {
                    self.pos += 3;
                }
                self.started = true;
                continue;
            }
            match self.buf[self.pos] {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b'\r' => self.pos += 1,
                _ => return true,
            }
        }
    }

    /// The next record, or `None` at the end of the input.
    pub fn next_record(&mut self) -> Option<Record<'_>> {
        if !self.skip_blank() {
            return None;
        }
        // The record's input stays in the buffer until it is read whole, so that a broken one
        // can be read again.
        let mut start = self.pos;
        let line = self.line;
        self.nfields = 0;
        let mut nout = 0;
        let mut broken = false;
        loop {
            let (res, nin) = parse(
                &mut self.rdr,
                &self.buf[self.pos..self.len],
                false,
                &mut self.fields,
                &mut self.ends,
                &mut nout,
                &mut self.nfields,
            );
            self.pos += nin;
            if res != ReadRecordResult::InputEmpty {
                break;
            }
            if self.pos - start > MAX_RECORD {
                broken = true;
                break;
            }
            let more = self.refill(start);
            start = 0;
            if !more && self.pos == self.len {
                parse(
                    &mut self.rdr,
                    &[],
                    true,
                    &mut self.fields,
                    &mut self.ends,
                    &mut nout,
                    &mut self.nfields,
                );
                break;
            }
        }
        let span = &self.buf[start..self.pos];
        let newlines = span.iter().filter(|&&b| b == b'\n').count() as u64;
        // Line ends inside quotes (the record's own terminator does not count).
        let inner = newlines - u64::from(span.last() == Some(&b'\n'));
        // A quoted cell may hold line ends, but a record over several lines is taken for a
        // stray quote when it has the wrong number of cells, or when its first line alone,
        // read without quoting, is already a whole row.
        if !broken && inner > 0 {
            if let Some(w) = self.width {
                let first = span
                    .split(|&b| b == b'\n' || b == b'\r')
                    .next()
                    .unwrap_or(span);
                let alone = first.iter().filter(|&&b| b == b',').count() + 1;
                broken = w != self.nfields || alone == w;
            }
        }
        if broken {
            let end = span
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .map(|i| start + i)
                .unwrap_or(self.pos);
            self.pos = end;
            self.rdr.reset();
            self.plain.reset();
            self.nfields = 0;
            let mut nout = 0;
            parse(
                &mut self.plain,
                &self.buf[start..end],
                true,
                &mut self.fields,
                &mut self.ends,
                &mut nout,
                &mut self.nfields,
            );
        } else {
            self.line += newlines;
        }
        if self.width.is_none() {
            self.width = Some(self.nfields);
        }
        Some(Record {
            line,
            offset: self.base + start as u64,
            broken,
            fields: &self.fields,
            ends: &self.ends[..self.nfields],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives one byte per read, so records are split across refills.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(o)) => {
                    *o = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn all(text: &[u8]) -> Vec<(u64, bool, Vec<String>)> {
        let mut r = Records::new(Trickle(text));
        let mut out = vec![];
        while let Some(rec) = r.next_record() {
            out.push((
                rec.line,
                rec.broken,
                rec.iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect(),
            ));
        }
        out
    }

    #[test]
    fn lines_are_counted_on_newlines_whatever_the_line_ends() {
        let lf = all(b"a,b\n1,2\n\n3,4\n");
        let crlf = all(b"\xef\xbb\xbfa,b\r\n1,2\r\n\r\n3,4");
        assert_eq!(lf, crlf);
        assert_eq!(lf[2].0, 4);
    }

    #[test]
    fn an_unclosed_quote_breaks_only_its_line() {
        let r = all(b"a,b,c\n1,\"x,3\n4,5,6\n7,8,9\n");
        assert_eq!(r.len(), 4);
        assert!(r[1].1);
        assert_eq!(r[1].2, vec!["1", "\"x", "3"]);
        assert_eq!(r[2], (3, false, vec!["4".into(), "5".into(), "6".into()]));
    }

    #[test]
    fn a_stray_quote_in_a_whole_row_breaks_only_its_line() {
        let r = all(b"a,b,c\n1,2,\"3\n4,5,6\n7,\"8,9\n");
        assert_eq!(r.len(), 4);
        assert!(r[1].1 && !r[2].1);
        assert_eq!(r[2].2, vec!["4", "5", "6"]);
    }

    #[test]
    fn quoted_line_ends_are_kept_when_the_record_is_whole() {
        let r = all(b"a,b\n\"x\ny\",2\n3,4\n");
        assert_eq!(r[1].2, vec!["x\ny", "2"]);
        assert_eq!(r[2].0, 4);
    }
}
