//! Source text to syntax tree.
pub mod ast;
pub mod parse;

pub use parse::parse;
