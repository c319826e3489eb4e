//! Lesion data: reading tables, and binding them to a ruleset's declared inputs.
pub mod bind;
pub mod model;
pub mod sdtm;
pub mod sdtm_result;
pub mod table;
pub mod xpt;

pub use model::{DataError, RawCohort, Subject};
