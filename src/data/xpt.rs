//! SAS transport (XPORT) files, version 5 and 8, through the `sas_xport` crate (pinned in
//! Cargo.toml): read into rows of text cells, the same shape as a CSV file, and written from
//! them (used by tests and for converting CSV to XPT).
//!
//! Character values are trimmed; numbers are written in the shortest form that reads back to
//! the same `f64` (`21`, `32.32`), and SAS missing numbers become empty cells.

use std::fs::File;
use std::io::BufReader;

use sas_xport::sas::xport::{
    XportDatasetVersion, XportFileVersion, XportMetadata, XportReader, XportSchema, XportValue,
    XportVariable, XportWriter,
};
use sas_xport::sas::SasVariableType;

/// The first dataset of a transport file: upper-case variable names and one row of cells per
/// observation.
pub struct XptTable {
    pub dataset: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Text of a numeric value; empty for SAS missing values.
pub fn number_text(n: f64) -> String {
    if n.is_nan() || n.is_infinite() {
        String::new()
    } else {
        format!("{n}")
    }
}

/// Reads the first dataset of a transport file. Errors are messages for people (the caller adds
/// the file name).
pub fn read(path: &str) -> Result<XptTable, String> {
    let file = File::open(path).map_err(|e| format!("cannot open the file: {e}"))?;
    let reader = XportReader::from_reader(BufReader::new(file))
        .map_err(|e| format!("not a SAS transport (XPORT v5/v8) file: {e}"))?;
    let Some(mut dataset) = reader
        .next_dataset()
        .map_err(|e| format!("cannot read the dataset header: {e}"))?
    else {
        return Err("the transport file holds no dataset".into());
    };
    let schema = dataset.schema();
    let name = schema.dataset_name().trim().to_string();
    let columns: Vec<String> = schema
        .variables()
        .iter()
        .map(|v| v.full_name().trim().to_uppercase())
        .collect();
    let mut rows = vec![];
    for (i, rec) in dataset.records().enumerate() {
        let rec = rec.map_err(|e| format!("cannot read record {}: {e}", i + 1))?;
        rows.push(
            rec.iter()
                .map(|v| match v {
                    XportValue::Character(s) => s.trim().to_string(),
                    XportValue::Number(n) => number_text(*n),
                })
                .collect(),
        );
    }
    Ok(XptTable {
        dataset: name,
        columns,
        rows,
    })
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
