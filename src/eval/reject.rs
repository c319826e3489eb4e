//! `reject`: lesions a ruleset cannot judge (e.g. a target lesion of 0 mm at baseline). A
//! subject with one of them becomes a data error that names the lesion and its row, so the
//! problem is fixed in the data instead of being scored.

use super::engine::Evaluation;
use super::value::Tri;
use crate::data::model::{format_date, DataError};

impl Evaluation<'_> {
    /// The first `reject` that some lesion of the subject meets, as a data error.
    pub fn rejection(&self, file: &str) -> Option<DataError> {
        let rs = self.rs();
        let subj = self.subj;
        for r in &rs.rejects {
            let last = if r.at_baseline {
                1
            } else {
                subj.assessments.len()
            };
            for t in 0..last.min(subj.assessments.len()) {
                let hits: Vec<usize> = self
                    .members(t, &r.group)
                    .into_iter()
                    .filter(|(_, m)| *m == Tri::True)
                    .map(|(l, _)| l)
                    .collect();
                let Some(&first) = hits.first() else {
                    continue;
                };
                let a = &subj.assessments[t];
                let ids: Vec<&str> = hits.iter().map(|&l| &*subj.lesions[l].id).collect();
                let which = if ids.len() == 1 {
                    format!("lesion {}", ids[0])
                } else {
                    format!("lesions {}", ids.join(", "))
                };
                let cite = r
                    .cite
                    .as_deref()
                    .map(|c| format!(", {c}"))
                    .unwrap_or_default();
                return Some(DataError {
                    file: file.into(),
                    line: subj.slot(t, first).and_then(|s| s.line),
                    column: None,
                    message: format!(
                        "{which} at {} {}: {}",
                        a.visit,
                        format_date(a.date),
                        r.message
                    ),
                    help: Some(format!(
                        "correct the row (ruleset `{}` rejects such lesions: `reject {}`, {}:{}{cite})",
                        rs.id,
                        r.name,
                        rs.source_name(r.src),
                        r.line
                    )),
                });
            }
        }
        None
    }
}
