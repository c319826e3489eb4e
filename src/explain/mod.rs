//! Results for people and for scripts: text explanations, JSON and CSV (DATA.md contracts).
pub mod detail;
pub mod format;
pub mod output;
pub mod text;
pub mod trace;
