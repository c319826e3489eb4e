//! Lesion data: reading tables, and binding them to a ruleset's declared inputs.
pub mod bind;
pub mod json;
pub mod model;
pub mod pipeline;
pub mod records;
pub mod report;
pub mod schema;
pub mod sdtm;
mod sdtm_csv;
pub mod sdtm_result;
pub mod stream;
pub mod table;
pub mod xpt;

pub use model::{DataError, RawCohort, Subject};
pub use stream::{Table, Unit};
