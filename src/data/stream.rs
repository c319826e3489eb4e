//! A lesion table read subject by subject. When the rows of each subject are together (the
//! usual layout), the table streams: a subject's rows are handed on as soon as the next subject
//! starts, so memory holds a few subjects, not the cohort. When they are not, that is said once
//! and the table is read whole first; the results are the same either way, because both modes
//! hand on the same units in the same order (a subject where its first row is).

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::io::Read;

use rayon::prelude::*;

use super::model::*;
use super::records::{Record, Records};
use super::schema::{Cells, Schema};

/// The rows of one subject id as read, not yet parsed: the worker that evaluates the subject
/// parses them, so reading stays cheap.
#[derive(Debug, Default)]
pub struct Chunk {
    cells: Vec<u8>,
    ends: Vec<u32>,
    rows: Vec<ChunkRow>,
}

#[derive(Debug, Clone, Copy)]
struct ChunkRow {
    line: usize,
    first: usize,
    len: usize,
    broken: bool,
}

/// A row of a chunk.
pub struct RowRef<'a> {
    chunk: &'a Chunk,
    row: ChunkRow,
}

impl Cells for RowRef<'_> {
    fn line(&self) -> usize {
        self.row.line
    }
    fn broken(&self) -> bool {
        self.row.broken
    }
    fn count(&self) -> usize {
        self.row.len
    }
    fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.row.len {
            return None;
        }
        let k = self.row.first + i;
        let start = if k == 0 {
            0
        } else {
            self.chunk.ends[k - 1] as usize
        };
        self.chunk.cells.get(start..self.chunk.ends[k] as usize)
    }
}

impl Cells for Record<'_> {
    fn line(&self) -> usize {
        self.line as usize
    }
    fn broken(&self) -> bool {
        self.broken
    }
    fn count(&self) -> usize {
        self.len()
    }
    fn get(&self, i: usize) -> Option<&[u8]> {
        Record::get(self, i)
    }
}

impl Chunk {
    fn push(&mut self, rec: &Record) {
        let first = self.ends.len();
        for c in rec.iter() {
            self.cells.extend_from_slice(c);
            // A chunk over 4 GiB keeps its rows' count but not their cells.
            self.ends
                .push(u32::try_from(self.cells.len()).unwrap_or(u32::MAX));
        }
        self.rows.push(ChunkRow {
            line: rec.line as usize,
            first,
            len: rec.len(),
            broken: rec.broken,
        });
    }

    fn rows(&self) -> impl Iterator<Item = RowRef<'_>> {
        self.rows.iter().map(|&row| RowRef { chunk: self, row })
    }

    pub fn bytes(&self) -> usize {
        self.cells.len() + self.ends.len() * 4 + self.rows.len() * 32
    }
}

/// What a table hands on, in the table's order.
#[derive(Debug)]
pub enum Unit {
    /// The rows of one subject id (every reader), to be parsed.
    Rows(Chunk),
    /// Subjects already read (JSON).
    Subjects(Vec<RawSubject>),
    /// A row that belongs to no subject, or a problem with the file after its start.
    Error(DataError),
}

impl Unit {
    /// The unit's subjects (one per reader), or its error.
    pub fn into_subjects(self, schema: &Schema) -> Result<Vec<RawSubject>, DataError> {
        match self {
            Unit::Rows(chunk) => {
                let rows: Vec<RowRef> = chunk.rows().collect();
                Ok(schema.subjects(&rows))
            }
            Unit::Subjects(s) => Ok(s),
            Unit::Error(e) => Err(e),
        }
    }
}

type Source = Records<Box<dyn Read + Send>>;

/// Groups records into units while reading.
struct Grouper {
    records: Source,
    schema: Schema,
    current: Option<(Vec<u8>, Chunk)>,
    /// Rows without a subject met while a subject was open: handed on after it.
    orphans: Vec<DataError>,
    ready: VecDeque<Unit>,
    done: bool,
}

impl Grouper {
    fn next_unit(&mut self) -> Option<Unit> {
        loop {
            if let Some(u) = self.ready.pop_front() {
                return Some(u);
            }
            if self.done {
                return None;
            }
            let Some(rec) = self.records.next_record() else {
                self.done = true;
                if let Some((_, c)) = self.current.take() {
                    self.ready.push_back(Unit::Rows(c));
                }
                self.ready.extend(self.orphans.drain(..).map(Unit::Error));
                if let Some(e) = self.records.error.take() {
                    self.ready
                        .push_back(Unit::Error(read_error(&self.schema.file, &e)));
                }
                continue;
            };
            match self.schema.subject_of(&rec) {
                None => {
                    let e = self.schema.orphan(&rec);
                    if self.current.is_some() {
                        self.orphans.push(e);
                    } else {
                        self.ready.push_back(Unit::Error(e));
                    }
                }
                Some(key) => match &mut self.current {
                    Some((k, chunk)) if k.as_slice() == key => chunk.push(&rec),
                    _ => {
                        let mut chunk = Chunk::default();
                        chunk.push(&rec);
                        let next = (key.to_vec(), chunk);
                        if let Some((_, c)) = self.current.replace(next) {
                            self.ready.push_back(Unit::Rows(c));
                            self.ready.extend(self.orphans.drain(..).map(Unit::Error));
                        }
                    }
                },
            }
        }
    }
}

fn read_error(file: &str, e: &std::io::Error) -> DataError {
    DataError {
        file: file.into(),
        line: None,
        column: None,
        message: format!("cannot read the file: {e}"),
        help: None,
    }
}

enum Units {
    Stream(Box<Grouper>),
    Loaded(std::vec::IntoIter<Unit>),
}

/// A lesion table, open for reading subject by subject.
pub struct Table {
    pub schema: Schema,
    /// Things said once about the table (rows of a subject not together).
    pub notes: Vec<String>,
    /// Subject ids in the table, when counted before reading.
    pub subjects: Option<usize>,
    /// Each subject id is in one unit (every reader's rows together), so a subject id seen
    /// once is never met again: true for CSV tables, streamed or read whole.
    pub one_unit_per_subject: bool,
    units: Units,
}

impl Iterator for Table {
    type Item = Unit;
    fn next(&mut self) -> Option<Unit> {
        match &mut self.units {
            Units::Stream(g) => g.next_unit(),
            Units::Loaded(it) => it.next(),
        }
    }
}

/// Reads the header; an empty table or a missing required column is an error of the file.
fn header(file: &str, records: &mut Source) -> Result<Schema, DataError> {
    let Some(rec) = records.next_record() else {
        let message = match records.error.take() {
            Some(e) => format!("cannot read the file: {e}"),
            None => "the table is empty: no header".into(),
        };
        return Err(DataError {
            file: file.into(),
            line: Some(1),
            column: None,
            message,
            help: Some(
                "a lesion table starts with a header: subject,visit,date,lesion,role,...".into(),
            ),
        });
    };
    let names: Vec<String> = rec
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    Schema::new(file, &names)
}

/// Whether every subject's rows are together: the number of subject ids, or the line where a
/// subject's rows start again after another subject's.
fn scan(schema: &Schema, records: &mut Source) -> Result<usize, (String, usize)> {
    let hasher = RandomState::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut current: Option<Vec<u8>> = None;
    while let Some(rec) = records.next_record() {
        let Some(key) = schema.subject_of(&rec) else {
            continue;
        };
        if current.as_deref() == Some(key) {
            continue;
        }
        if !seen.insert(hasher.hash_one(key)) {
            return Err((String::from_utf8_lossy(key).into_owned(), rec.line as usize));
        }
        current = Some(key.to_vec());
    }
    Ok(seen.len())
}

/// A line of a table without quotes: its cells are what lies between commas.
struct PlainLine<'a> {
    line: usize,
    text: &'a [u8],
}

impl Cells for PlainLine<'_> {
    fn line(&self) -> usize {
        self.line
    }
    fn count(&self) -> usize {
        memchr::memchr_iter(b',', self.text).count() + 1
    }
    fn get(&self, i: usize) -> Option<&[u8]> {
        self.text.split(|&b| b == b',').nth(i)
    }
}

/// [`scan`] straight from the bytes of a table that has no quote character, several times
/// faster than reading it as CSV: without quotes, a record is a line (ended by `\n` or `\r`,
/// as the CSV reader ends records; lines counted on `\n`) and its cells lie between commas.
/// `None` when a quote appears (or the source cannot be read): the CSV reader scans it then.
fn scan_plain(schema: &Schema, mut src: impl Read) -> Option<Result<usize, (String, usize)>> {
    let hasher = RandomState::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut current: Vec<u8> = vec![];
    let mut buf = vec![0u8; 1 << 20];
    let (mut len, mut line, mut header_read, mut started, mut eof) = (0, 1, false, false, false);
    loop {
        if !eof {
            if len == buf.len() {
                buf.resize(len * 2, 0);
            }
            match src.read(&mut buf[len..]) {
                Ok(0) => eof = true,
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
        if !started {
            if len < 3 && !eof {
                continue;
            }
            if buf[..len].starts_with(b"\xef\xbb\xbf") {
                buf.copy_within(3..len, 0);
                len -= 3;
            }
            started = true;
        }
        // Whole lines only, until the end of the input.
        let end = if eof {
            len
        } else {
            match memchr::memrchr2(b'\n', b'\r', &buf[..len]) {
                Some(i) => i + 1,
                None => continue,
            }
        };
        let part = &buf[..end];
        if memchr::memchr(b'"', part).is_some() {
            return None;
        }
        let mut s = 0;
        let ends =
            memchr::memchr2_iter(b'\n', b'\r', part).chain((eof && end > 0).then_some(part.len()));
        for i in ends {
            let text = &part[s..i];
            let here = line;
            if part.get(i) == Some(&b'\n') {
                line += 1;
            }
            s = i + 1;
            if text.is_empty() {
                continue;
            }
            if !header_read {
                header_read = true;
                continue;
            }
            let row = PlainLine { line: here, text };
            let Some(key) = schema.subject_of(&row) else {
                continue;
            };
            if current.as_slice() == key {
                continue;
            }
            if !seen.insert(hasher.hash_one(key)) {
                return Some(Err((String::from_utf8_lossy(key).into_owned(), here)));
            }
            current.clear();
            current.extend_from_slice(key);
        }
        if eof {
            return Some(Ok(seen.len()));
        }
        buf.copy_within(end..len, 0);
        len -= end;
    }
}

/// Reads the whole table into units, each subject where its first row is.
fn load(grouper: &mut Grouper) -> Vec<Unit> {
    let mut units: Vec<Unit> = vec![];
    let mut at: HashMap<Vec<u8>, usize> = HashMap::new();
    let schema = grouper.schema.clone();
    while let Some(rec) = grouper.records.next_record() {
        match schema.subject_of(&rec) {
            None => units.push(Unit::Error(schema.orphan(&rec))),
            Some(key) => match at.get(key) {
                Some(&i) => {
                    if let Unit::Rows(c) = &mut units[i] {
                        c.push(&rec);
                    }
                }
                None => {
                    let mut chunk = Chunk::default();
                    chunk.push(&rec);
                    at.insert(key.to_vec(), units.len());
                    units.push(Unit::Rows(chunk));
                }
            },
        }
    }
    if let Some(e) = grouper.records.error.take() {
        units.push(Unit::Error(read_error(&schema.file, &e)));
    }
    units
}

impl Table {
    /// Opens a CSV lesion table: streamed when each subject's rows are together, read whole
    /// (said in `notes`) when they are not.
    pub fn open_csv(path: &str) -> Result<Table, DataError> {
        let open = || -> Result<Source, DataError> {
            let f = std::fs::File::open(path).map_err(|e| read_error(path, &e))?;
            Ok(Records::new(Box::new(f) as Box<dyn Read + Send>))
        };
        let mut first = open()?;
        let schema = header(path, &mut first)?;
        let plain = std::fs::File::open(path)
            .ok()
            .and_then(|f| scan_plain(&schema, f));
        match plain.unwrap_or_else(|| scan(&schema, &mut first)) {
            Ok(n) => {
                let mut records = open()?;
                header(path, &mut records)?;
                Ok(Table::streaming(schema, records, Some(n)))
            }
            Err((subject, line)) => {
                let mut records = open()?;
                header(path, &mut records)?;
                Ok(Table::loaded(schema, records, scattered(&subject, line)))
            }
        }
    }

    /// A CSV lesion table in memory (as `open_csv`, for tests and small inputs).
    pub fn csv_text(file: &str, text: &[u8]) -> Result<Table, DataError> {
        let source =
            || Records::new(Box::new(std::io::Cursor::new(text.to_vec())) as Box<dyn Read + Send>);
        let mut records = source();
        let schema = header(file, &mut records)?;
        let note = scan_plain(&schema, text)
            .unwrap_or_else(|| scan(&schema, &mut records))
            .err();
        let mut records = source();
        header(file, &mut records)?;
        Ok(match note {
            None => Table::streaming(schema, records, None),
            Some((subject, line)) => Table::loaded(schema, records, scattered(&subject, line)),
        })
    }

    fn streaming(schema: Schema, records: Source, subjects: Option<usize>) -> Table {
        Table {
            units: Units::Stream(Box::new(Grouper {
                records,
                schema: schema.clone(),
                current: None,
                orphans: vec![],
                ready: VecDeque::new(),
                done: false,
            })),
            schema,
            notes: vec![],
            subjects,
            one_unit_per_subject: true,
        }
    }

    fn loaded(schema: Schema, records: Source, note: String) -> Table {
        let mut g = Grouper {
            records,
            schema: schema.clone(),
            current: None,
            orphans: vec![],
            ready: VecDeque::new(),
            done: true,
        };
        let units = load(&mut g);
        let subjects = units.iter().filter(|u| matches!(u, Unit::Rows(_))).count();
        Table {
            units: Units::Loaded(units.into_iter()),
            schema,
            notes: vec![note],
            subjects: Some(subjects),
            one_unit_per_subject: true,
        }
    }

    /// A table whose units are already read (JSON).
    pub fn from_units(schema: Schema, units: Vec<Unit>, notes: Vec<String>) -> Table {
        let subjects = units
            .iter()
            .filter(|u| !matches!(u, Unit::Error(_)))
            .count();
        Table {
            units: Units::Loaded(units.into_iter()),
            schema,
            notes,
            subjects: Some(subjects),
            one_unit_per_subject: false,
        }
    }

    /// A cohort already read (SDTM) handed on subject by subject: its file-level errors first.
    pub fn from_cohort(cohort: RawCohort) -> Table {
        let schema = Schema::of_columns(
            &cohort.file,
            &cohort.columns,
            cohort.has_reader,
            &cohort.duplicates,
        );
        let units: Vec<Unit> = cohort
            .errors
            .into_iter()
            .map(Unit::Error)
            .chain(cohort.subjects.into_iter().map(|s| Unit::Subjects(vec![s])))
            .collect();
        Table::from_units(schema, units, vec![])
    }

    /// Reads every subject: the whole table in memory, parsed in parallel, in the table's order.
    pub fn load(mut self) -> RawCohort {
        let units: Vec<Unit> = self.by_ref().collect();
        let schema = &self.schema;
        let parsed: Vec<Result<Vec<RawSubject>, DataError>> = units
            .into_par_iter()
            .map(|u| u.into_subjects(schema))
            .collect();
        let mut cohort = RawCohort {
            file: schema.file.clone(),
            columns: schema.columns.clone(),
            has_reader: schema.has_reader(),
            duplicates: schema.duplicates.clone(),
            ..Default::default()
        };
        for p in parsed {
            match p {
                Ok(s) => cohort.subjects.extend(s),
                Err(e) => cohort.errors.push(e),
            }
        }
        cohort
    }
}

fn scattered(subject: &str, line: usize) -> String {
    format!(
        "the rows of subject {subject} are not together (they start again at line {line}): the whole table is read before evaluating; group each subject's rows to stream it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The scan of the CSV reader, for comparison.
    fn scan_csv(text: &[u8]) -> Result<usize, (String, usize)> {
        let mut records =
            Records::new(Box::new(std::io::Cursor::new(text.to_vec())) as Box<dyn Read + Send>);
        let schema = header("t.csv", &mut records).unwrap_or_else(|e| panic!("{e}"));
        scan(&schema, &mut records)
    }

    /// Gives a few bytes per read, so that lines are split across reads.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(out.len()).min(3);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// The fast scan, reading the text whole and a few bytes at a time (both must agree).
    fn scan_fast(text: &[u8]) -> Option<Result<usize, (String, usize)>> {
        let mut records =
            Records::new(Box::new(std::io::Cursor::new(text.to_vec())) as Box<dyn Read + Send>);
        let schema = header("t.csv", &mut records).unwrap_or_else(|e| panic!("{e}"));
        let whole = scan_plain(&schema, std::io::Cursor::new(text));
        assert_eq!(whole, scan_plain(&schema, Trickle(text)));
        whole
    }

    #[test]
    fn a_quote_leaves_the_scan_to_the_csv_reader() {
        assert_eq!(
            scan_fast(b"visit,subject,date,lesion,role\nv,A,\"x\",l,r\nv,B,d,l,r\n"),
            None
        );
        assert_eq!(
            scan_fast(b"visit,subject,date,lesion,role\nv,A,d,l,r\nv,B,d,l,r\nv,A,d,l,r\n"),
            Some(Err(("A".into(), 4)))
        );
        assert_eq!(
            scan_fast(b"\xef\xbb\xbfvisit,subject,date,lesion,role\r\nv,A,d,l,r\r\n\r\nv,B,d,l,r"),
            Some(Ok(2))
        );
    }

    proptest! {
        /// Without quotes, the fast scan finds what the CSV reader finds: the same number of
        /// subjects, or the same subject and line where rows start again.
        #[test]
        fn the_fast_scan_agrees_with_the_csv_reader(
            bom in any::<bool>(),
            rows in proptest::collection::vec(
                (prop::sample::select(vec!["A", "B", " A ", "", "C,x", "  "]),
                 prop::sample::select(vec!["\n", "\r\n", "\r", "\n\n", "\r\r\n"])),
                0..12),
        ) {
            let mut text: Vec<u8> = if bom { b"\xef\xbb\xbf".to_vec() } else { vec![] };
            text.extend_from_slice(b"visit,subject,date,lesion,role\n");
            for (s, end) in &rows {
                text.extend_from_slice(b"v,");
                text.extend_from_slice(s.as_bytes());
                text.extend_from_slice(b",d,l,r");
                text.extend_from_slice(end.as_bytes());
            }
            prop_assert_eq!(scan_fast(&text), Some(scan_csv(&text)));
        }
    }
}
