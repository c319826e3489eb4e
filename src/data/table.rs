//! Reading a lesion table: CSV (streamed subject by subject when each subject's rows are
//! together) or JSON of the same model. Problems are located (file, line, column) and attached
//! to their subject; only a table that cannot be read at all is an error of the file.

use super::json;
use super::model::{DataError, RawCohort};
pub use super::schema::split_header;
use super::stream::Table;

fn is_json(path: &str) -> bool {
    path.to_lowercase().ends_with(".json")
}

/// Opens a lesion table from a path; `.json` files as JSON, anything else as CSV.
pub fn open(path: &str) -> Result<Table, DataError> {
    if is_json(path) {
        let text = std::fs::read_to_string(path).map_err(|e| DataError {
            file: path.into(),
            line: None,
            column: None,
            message: format!("cannot read the file: {e}"),
            help: Some("JSON input is read as UTF-8 text".into()),
        })?;
        json::read(path, &text)
    } else {
        Table::open_csv(path)
    }
}

/// Reads a whole lesion table from a path.
pub fn read_path(path: &str) -> Result<RawCohort, DataError> {
    open(path).map(Table::load)
}

/// Reads a whole CSV lesion table given as text (`file` names it in messages).
pub fn read_csv(file: &str, text: &str) -> Result<RawCohort, DataError> {
    Table::csv_text(file, text.as_bytes()).map(Table::load)
}

/// Reads a whole JSON lesion table given as text.
pub fn read_json(file: &str, text: &str) -> Result<RawCohort, DataError> {
    json::read(file, text).map(Table::load)
}
