//! SAS transport (XPORT) files, version 5 and 8, through the `sas_xport` crate (pinned in
//! Cargo.toml): read into rows of text cells, the same shape as a CSV file, and written from
//! them (used by tests and for converting CSV to XPT).
//!
//! Character values are trimmed; numbers are written in the shortest form that reads back to
//! the same `f64` (`21`, `32.32`), and SAS missing numbers become empty cells.

use std::fs::File;

use sas_xport::sas::xport::{
    XportDataset, XportDatasetVersion, XportFileVersion, XportMetadata, XportReader, XportSchema,
    XportValue, XportVariable, XportWriter,
};
use sas_xport::sas::SasVariableType;

/// The first dataset of a transport file: upper-case variable names and one row of cells per
/// observation.
pub struct XptTable {
    pub dataset: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub layout: Layout,
}

/// Where the records of a dataset lie in its file: one after the other, each as long as the sum
/// of its variables' lengths, from the card after the OBS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub data_start: u64,
    pub record_length: u64,
}

impl Layout {
    /// Byte offset of record `n` (from 1).
    pub fn offset(&self, record: usize) -> u64 {
        self.data_start + (record.max(1) as u64 - 1) * self.record_length
    }
}

/// Text of a numeric value; empty for SAS missing values.
pub fn number_text(n: f64) -> String {
    if n.is_nan() || n.is_infinite() {
        String::new()
    } else {
        format!("{n}")
    }
}

/// A transport file is a sequence of 80-byte cards; each header is one card.
const CARD: usize = 80;
const OBS_HEADER: &[u8] = b"HEADER RECORD*******OBS";
const MEMBER_HEADER: &[u8] = b"HEADER RECORD*******MEMB";

/// The card-aligned offset of the first header starting with `prefix` at or after `from`.
fn find_card(bytes: &[u8], prefix: &[u8], from: usize) -> Option<usize> {
    let first = from.div_ceil(CARD) * CARD;
    (first..bytes.len())
        .step_by(CARD)
        .find(|&at| bytes[at..].starts_with(prefix))
}

/// Where the records of the first dataset start and how long each is, read from the file's
/// headers; `None` when the file has no OBS header.
fn layout(bytes: &[u8], record_length: u64) -> Option<Layout> {
    find_card(bytes, OBS_HEADER, 0).map(|at| Layout {
        data_start: (at + CARD) as u64,
        record_length,
    })
}

/// "record 17 (byte 3280)": where a record of a transport file starts, for messages. The
/// layout is read again from the file (only errors need it, once per file); without it, the
/// record alone.
pub fn locate(path: &str, record: usize) -> String {
    use std::sync::{Mutex, OnceLock};
    type Cache = std::collections::HashMap<(String, u64), Option<Layout>>;
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let layout = {
        let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
        *c.entry((path.to_string(), len)).or_insert_with(|| {
            let bytes = std::fs::read(path).ok()?;
            open(&bytes).ok().map(|(_, l)| l)
        })
    };
    match layout {
        Some(l) => format!("record {record} (byte {})", l.offset(record)),
        None => format!("record {record}"),
    }
}

/// Why a transport file could not be read: a message for people (the caller adds the file
/// name), the record it concerns, and a help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub message: String,
    pub record: Option<usize>,
    pub help: &'static str,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

const NOT_XPORT: &str = "SDTM files are CSV (.csv) or SAS transport v5/v8 (.xpt)";
const CUT_SHORT: &str =
    "the file was cut short (an interrupted copy or download?): copy or export it again";

fn error(message: String, help: &'static str) -> ReadError {
    ReadError {
        message,
        record: None,
        help,
    }
}

/// Reads the first dataset of a transport file. A file cut short is an error that says where,
/// never a shorter table: the records of a transport file fill whole 80-byte cards, a v8 header
/// states how many records follow, and whatever follows the last record is blank padding.
pub fn read(path: &str) -> Result<XptTable, ReadError> {
    let bytes =
        std::fs::read(path).map_err(|e| error(format!("cannot open the file: {e}"), NOT_XPORT))?;
    read_bytes(&bytes)
}

/// Reads transport bytes. The `sas_xport` crate panics on some damaged headers (a date field
/// that is not ASCII): such a panic is caught and reported as a damaged file, never passed on.
pub fn read_bytes(bytes: &[u8]) -> Result<XptTable, ReadError> {
    quiet_panics();
    QUIET.with(|q| q.set(true));
    let r = std::panic::catch_unwind(|| read_checked(bytes));
    QUIET.with(|q| q.set(false));
    r.unwrap_or_else(|_| {
        Err(error(
            "the transport file is damaged: it cannot be read".into(),
            NOT_XPORT,
        ))
    })
}

thread_local! {
    /// Set while the transport reader runs: a panic there is caught, so it is not printed.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs (once) a panic hook that stays silent for panics caught in [`read_bytes`] and
/// passes every other panic to the hook that was there.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
}

fn read_checked(bytes: &[u8]) -> Result<XptTable, ReadError> {
    let (mut dataset, layout) = open(bytes)?;
    let schema = dataset.schema();
    let name = schema.dataset_name().trim().to_string();
    let columns: Vec<String> = schema
        .variables()
        .iter()
        .map(|v| v.full_name().trim().to_uppercase())
        .collect();
    let announced = schema.record_count();
    let mut rows = vec![];
    for (i, rec) in dataset.records().enumerate() {
        let rec = rec.map_err(|e| ReadError {
            message: format!("cannot read the record: {e}"),
            record: Some(i + 1),
            help: CUT_SHORT,
        })?;
        rows.push(
            rec.iter()
                .map(|v| match v {
                    XportValue::Character(s) => s.trim().to_string(),
                    XportValue::Number(n) => number_text(*n),
                })
                .collect(),
        );
    }
    check_complete(bytes, layout, rows.len(), announced)?;
    Ok(XptTable {
        dataset: name,
        columns,
        rows,
        layout,
    })
}

type Dataset<'a> = XportDataset<std::io::Cursor<&'a [u8]>>;

/// The first dataset of a transport file, ready to read its records, and where they lie.
fn open(bytes: &[u8]) -> Result<(Dataset<'_>, Layout), ReadError> {
    let reader = XportReader::from_reader(std::io::Cursor::new(bytes)).map_err(|e| {
        error(
            format!("not a SAS transport (XPORT v5/v8) file: {e}"),
            NOT_XPORT,
        )
    })?;
    let cut = !bytes.len().is_multiple_of(CARD);
    let header = |what: String| {
        if cut {
            error(
                format!("the file ends at byte {} inside its header", bytes.len()),
                CUT_SHORT,
            )
        } else {
            error(what, NOT_XPORT)
        }
    };
    let Some(dataset) = reader
        .next_dataset()
        .map_err(|e| header(format!("cannot read the dataset header: {e}")))?
    else {
        return Err(header("the transport file holds no dataset".into()));
    };
    let record_length: u64 = dataset
        .schema()
        .variables()
        .iter()
        .map(|v| u64::from(v.value_length()))
        .sum();
    let layout = layout(bytes, record_length).unwrap_or(Layout {
        data_start: bytes.len() as u64,
        record_length,
    });
    Ok((dataset, layout))
}

/// The checks that find a file cut short (the reader itself stops quietly at a partial record).
fn check_complete(
    bytes: &[u8],
    layout: Layout,
    read: usize,
    announced: Option<u64>,
) -> Result<(), ReadError> {
    let start = layout.data_start as usize;
    let end = find_card(bytes, MEMBER_HEADER, start).unwrap_or(bytes.len());
    let after = start + read * layout.record_length as usize;
    // Whatever follows the last complete record is blank padding.
    if after < end && bytes[after..end].iter().any(|&b| b != b' ') {
        let rest = (end - after) as u64;
        return Err(error(
            if rest < layout.record_length {
                format!(
                    "record {} is incomplete: it starts at byte {after} and needs {} bytes, but the file ends at byte {end}",
                    read + 1,
                    layout.record_length,
                )
            } else {
                format!("the bytes after record {read} (from byte {after}) are not records")
            },
            CUT_SHORT,
        ));
    }
    if let Some(n) = announced.filter(|&n| n > 0 && n != read as u64) {
        return Err(error(
            format!("the header announces {n} records, but the file ends after {read} (at byte {after})"),
            CUT_SHORT,
        ));
    }
    if !bytes.len().is_multiple_of(CARD) {
        return Err(error(
            format!(
                "the file ends at byte {}, not on an 80-byte card: records after record {read} may be missing",
                bytes.len()
            ),
            CUT_SHORT,
        ));
    }
    Ok(())
}

/// Transport format version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V5,
    V8,
}

/// Writes one dataset. A column is numeric when `numeric(name)` says so and every non-empty
/// cell (other than `NA`) parses as a number; otherwise it is character, as long as its longest
/// value (at most 200 bytes in v5).
pub fn write(
    path: &str,
    dataset: &str,
    columns: &[String],
    rows: &[Vec<String>],
    version: Version,
    numeric: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let missing = |s: &str| s.is_empty() || s == "NA";
    let is_num: Vec<bool> = columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            numeric(name)
                && rows.iter().all(|r| {
                    r.get(c)
                        .is_none_or(|s| missing(s) || s.parse::<f64>().is_ok())
                })
        })
        .collect();
    let (file_version, ds_version) = match version {
        Version::V5 => (XportFileVersion::V5, XportDatasetVersion::V5),
        Version::V8 => (XportFileVersion::V8, XportDatasetVersion::V8),
    };
    let mut schema = XportSchema::builder();
    schema
        .xport_dataset_version(ds_version)
        .dataset_name(dataset);
    for (c, name) in columns.iter().enumerate() {
        let mut v = XportVariable::builder();
        if version == Version::V8 {
            v.full_name(name.as_str());
        } else {
            v.short_name(name.as_str());
        }
        if is_num[c] {
            v.value_type(SasVariableType::Numeric).value_length(8);
        } else {
            let len = rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.len())
                .max()
                .unwrap_or(1)
                .clamp(1, 200);
            v.value_type(SasVariableType::Character)
                .value_length(len as u16);
        }
        schema.add_variable(v);
    }
    let schema = schema.try_build().map_err(|e| e.to_string())?;
    let metadata = XportMetadata::builder()
        .xport_file_version(file_version)
        .build();
    let file = File::create(path).map_err(|e| format!("cannot create {path}: {e}"))?;
    let writer = XportWriter::from_file(file, metadata).map_err(|e| e.to_string())?;
    let mut writer = writer.write_schema(schema).map_err(|e| e.to_string())?;
    for r in rows {
        let values: Vec<XportValue> = (0..columns.len())
            .map(|c| {
                let s = r.get(c).map(|s| s.as_str()).unwrap_or("");
                if is_num[c] {
                    XportValue::Number(if missing(s) {
                        f64::NAN
                    } else {
                        s.parse().unwrap_or(f64::NAN)
                    })
                } else {
                    XportValue::from(s)
                }
            })
            .collect();
        writer.write_record(&values).map_err(|e| e.to_string())?;
    }
    writer.set_count_and_finish().map_err(|e| e.to_string())?;
    Ok(())
}
