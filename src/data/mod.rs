//! Lesion data: reading tables, and binding them to a ruleset's declared inputs.
pub mod bind;
pub mod model;
pub mod table;

pub use model::{DataError, RawCohort, Subject};
