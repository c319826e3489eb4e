//! Source text to syntax tree.
pub mod ast;
mod chunks;
pub mod parse;

pub use parse::parse;

/// Brackets and operators nest at most this deep: far beyond any criterion, and shallow enough
/// that parsing, checking, evaluating and explaining never run out of stack.
pub const MAX_DEPTH: usize = 100;
