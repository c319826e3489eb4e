//! Lesion data: reading tables, and binding them to a ruleset's declared inputs.
pub mod bind;
pub mod model;
pub mod sdtm;
mod sdtm_csv;
pub mod sdtm_result;
pub mod table;
pub mod xpt;

pub use model::{DataError, RawCohort, Subject};
