//! The CSV forms of a comparison: one row per subject, and `--subject` (one row per visit).

use super::model::{aligned_visits, response_at, Report};
use crate::data::model::format_date;

/// CSV: one row per subject: subject, reader, best response per label, first progression date
/// per label, differs.
pub fn to_csv(r: &Report) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut header = vec!["subject".to_string(), "reader".to_string()];
    header.extend(r.criteria.iter().map(|c| format!("best:{}", c.label)));
    header.extend(
        r.criteria
            .iter()
            .map(|c| format!("first_progression:{}", c.label)),
    );
    header.push("differs".into());
    let _ = w.write_record(&header);
    for s in &r.subjects {
        let mut row = vec![s.subject.clone(), s.reader.clone().unwrap_or_default()];
        row.extend(s.per.iter().map(|o| match o {
            Ok(o) => o.best.as_deref().unwrap_or_default().to_string(),
            Err(_) => "error".into(),
        }));
        row.extend(s.per.iter().map(|o| {
            match o {
                Ok(o) => o
                    .first_progression
                    .as_ref()
                    .map(|(_, d)| format_date(*d))
                    .unwrap_or_default(),
                Err(_) => String::new(),
            }
        }));
        row.push((s.included() && s.differs()).to_string());
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `--subject` as CSV: one row per visit: subject, reader, visit, date, then the response
/// under each label.
pub fn subject_csv(r: &Report) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut header = vec![
        "subject".to_string(),
        "reader".into(),
        "visit".into(),
        "date".into(),
    ];
    header.extend(r.criteria.iter().map(|c| c.label.clone()));
    let _ = w.write_record(&header);
    for s in &r.subjects {
        for (v, d) in aligned_visits(s) {
            let mut row = vec![
                s.subject.clone(),
                s.reader.clone().unwrap_or_default(),
                v,
                format_date(d),
            ];
            row.extend(
                (0..r.criteria.len())
                    .map(|i| response_at(s, i, d).flatten().unwrap_or("").to_string()),
            );
            let _ = w.write_record(&row);
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
