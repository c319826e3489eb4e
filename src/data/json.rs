//! The JSON form of the lesion table: `{"subjects": [{"subject", "reader"?, "start_date"?, ...,
//! "assessments": [{"visit", "date", <scan values>..., "lesions": [{"lesion", "role", ...}]}]}]}`.
//! Each entry is read on its own: a malformed entry fails its subject (or, without a subject
//! id, is reported with its line) and the others are read. Every error names the line of the
//! value at fault. Numbers are taken as written, so they stay exact.

use std::collections::{BTreeMap, HashMap};

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::model::*;
use super::schema::{Cells, Schema, CORE};
use super::stream::{Table, Unit};

const SHAPE: &str = "expected {\"subjects\": [{\"subject\": ..., \"assessments\": [{\"visit\", \"date\", \"lesions\": [{\"lesion\", \"role\", ...}]}]}]}";

/// Line numbers of byte offsets in a text.
struct Lines<'t> {
    text: &'t str,
    newlines: Vec<usize>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Lines { text, newlines }
    }
    /// The line of a value borrowed from the text.
    fn of(&self, raw: &RawValue) -> usize {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        self.newlines.partition_point(|&n| n < offset) + 1
    }
}

/// Collects the entries of the `subjects` array one by one, so those before a syntax error
/// are kept.
struct Entries<'a, 'de>(&'a mut Vec<&'de RawValue>);

impl<'de> Visitor<'de> for Entries<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of subjects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(e) = seq.next_element::<&'de RawValue>()? {
            self.0.push(e);
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Entries<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// The top-level object: finds `subjects`, ignores other keys.
struct Top<'a, 'de>(&'a mut Vec<&'de RawValue>, &'a mut bool);

impl<'de> Visitor<'de> for Top<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with a \"subjects\" array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if k == "subjects" {
                *self.1 = true;
                map.next_value_seed(Entries(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A cell: the text of a scalar value and its line.
type Cell = (String, usize);

struct Row {
    line: usize,
    /// The header's width, once known.
    width: usize,
    /// By key index (the header's order).
    cells: Vec<(usize, Cell)>,
}

impl Cells for Row {
    fn line(&self) -> usize {
        self.line
    }
    fn cell_line(&self, i: usize) -> usize {
        self.cells
            .iter()
            .find(|(k, _)| *k == i)
            .map(|(_, c)| c.1)
            .unwrap_or(self.line)
    }
    fn count(&self) -> usize {
        self.width
    }
    fn get(&self, i: usize) -> Option<&[u8]> {
        Some(
            self.cells
                .iter()
                .rev()
                .find(|(k, _)| *k == i)
                .map(|(_, c)| c.0.as_bytes())
                .unwrap_or_default(),
        )
    }
}

struct Entry {
    subject: String,
    reader: Option<String>,
    rows: Vec<Row>,
    errors: Vec<DataError>,
    line: usize,
}

/// The keys met, in order, starting with the core columns.
struct Keys {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Keys {
    fn id(&mut self, k: &str) -> usize {
        let k = k.to_lowercase();
        if let Some(&i) = self.index.get(&k) {
            return i;
        }
        self.names.push(k.clone());
        self.index.insert(k, self.names.len() - 1);
        self.names.len() - 1
    }
}

struct Reader<'t> {
    file: String,
    lines: Lines<'t>,
    keys: Keys,
}

impl<'t> Reader<'t> {
    fn error(&self, line: usize, column: Option<&str>, message: String, help: &str) -> DataError {
        DataError::at(&self.file, line, column, message, help)
    }

    fn object(&self, raw: &'t RawValue) -> Option<BTreeMap<String, &'t RawValue>> {
        serde_json::from_str(raw.get()).ok()
    }

    fn list(&self, raw: &'t RawValue) -> Option<Vec<&'t RawValue>> {
        serde_json::from_str(raw.get()).ok()
    }

    /// A scalar's text: strings as they are, numbers as written, null as empty.
    fn scalar(&self, key: &str, raw: &RawValue) -> Result<String, DataError> {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') => serde_json::from_str::<String>(text).map_err(|e| {
                self.error(
                    self.lines.of(raw),
                    Some(key),
                    format!("invalid text: {e}"),
                    SHAPE,
                )
            }),
            Some(b'n') => Ok(String::new()),
            Some(b'[' | b'{') => Err(self.error(
                self.lines.of(raw),
                Some(key),
                format!("`{key}` is a list or an object"),
                "give a number or a text",
            )),
            _ => Ok(text.to_string()),
        }
    }

    /// Adds the scalar values of an object (but `skip`) to a row's cells.
    fn cells(
        &mut self,
        obj: &BTreeMap<String, &'t RawValue>,
        skip: &str,
        cells: &mut Vec<(usize, Cell)>,
        errors: &mut Vec<DataError>,
    ) {
        for (k, v) in obj {
            if k == skip {
                continue;
            }
            match self.scalar(k, v) {
                Ok(text) => {
                    let id = self.keys.id(k);
                    cells.push((id, (text, self.lines.of(v))));
                }
                Err(e) => errors.push(e),
            }
        }
    }

    /// One entry of `subjects`; `Err` when it has no subject id to report it under.
    fn entry(&mut self, raw: &'t RawValue) -> Result<Entry, DataError> {
        let line = self.lines.of(raw);
        let Some(obj) = self.object(raw) else {
            return Err(self.error(line, None, "a subject entry is not an object".into(), SHAPE));
        };
        let text_of = |me: &Self, k: &str| obj.get(k).and_then(|v| me.scalar(k, v).ok());
        let subject = text_of(self, "subject")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if subject.is_empty() {
            return Err(self.error(
                line,
                Some("subject"),
                "a subject entry without a subject id".into(),
                "give every entry its \"subject\"",
            ));
        }
        let reader = text_of(self, "reader")
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let mut entry = Entry {
            subject,
            reader,
            rows: vec![],
            errors: vec![],
            line,
        };
        let mut base = vec![];
        self.cells(&obj, "assessments", &mut base, &mut entry.errors);
        let assessments = match obj.get("assessments") {
            None => {
                entry.errors.push(self.error(
                    line,
                    Some("assessments"),
                    "no \"assessments\"".into(),
                    "give the subject's assessments: \"assessments\": [{\"visit\", \"date\", \"lesions\": [...]}]",
                ));
                return Ok(entry);
            }
            Some(a) => a,
        };
        let Some(assessments) = self.list(assessments) else {
            entry.errors.push(self.error(
                self.lines.of(assessments),
                Some("assessments"),
                "\"assessments\" is not a list".into(),
                "write \"assessments\": [{...}, ...]",
            ));
            return Ok(entry);
        };
        if assessments.is_empty() {
            entry.errors.push(self.error(
                line,
                Some("assessments"),
                "no assessments".into(),
                "the subject needs at least a baseline assessment",
            ));
        }
        for a in assessments {
            let at = self.lines.of(a);
            let Some(aobj) = self.object(a) else {
                entry.errors.push(self.error(
                    at,
                    None,
                    "an assessment is not an object".into(),
                    SHAPE,
                ));
                continue;
            };
            let mut scan = base.clone();
            self.cells(&aobj, "lesions", &mut scan, &mut entry.errors);
            let lesions = aobj
                .get("lesions")
                .map(|l| (self.lines.of(l), self.list(l)));
            let lesions = match lesions {
                Some((_, Some(l))) if !l.is_empty() => l,
                Some((_, Some(_))) | None => {
                    entry.errors.push(self.error(
                        at,
                        Some("lesions"),
                        "an assessment without lesions".into(),
                        "list the lesions assessed at this visit; one that was not assessed has the status not-evaluated",
                    ));
                    continue;
                }
                Some((l, None)) => {
                    entry.errors.push(self.error(
                        l,
                        Some("lesions"),
                        "\"lesions\" is not a list".into(),
                        "write \"lesions\": [{\"lesion\", \"role\", ...}, ...]",
                    ));
                    continue;
                }
            };
            for l in lesions {
                let ll = self.lines.of(l);
                let Some(lobj) = self.object(l) else {
                    entry.errors.push(self.error(
                        ll,
                        None,
                        "a lesion is not an object".into(),
                        SHAPE,
                    ));
                    continue;
                };
                let mut cells = scan.clone();
                self.cells(&lobj, "", &mut cells, &mut entry.errors);
                entry.rows.push(Row {
                    line: ll,
                    width: 0,
                    cells,
                });
            }
        }
        Ok(entry)
    }
}

/// Reads a JSON lesion table.
pub fn read(file: &str, text: &str) -> Result<Table, DataError> {
    let text_nobom = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut raws: Vec<&RawValue> = vec![];
    let mut found = false;
    let mut de = serde_json::Deserializer::from_str(text_nobom);
    let parsed = de
        .deserialize_map(Top(&mut raws, &mut found))
        .and_then(|_| de.end());
    let mut r = Reader {
        file: file.into(),
        lines: Lines::new(text_nobom),
        keys: Keys {
            names: vec![],
            index: HashMap::new(),
        },
    };
    let mut tail = vec![];
    if let Err(e) = parsed {
        let err = r.error(e.line(), None, format!("invalid JSON: {e}"), SHAPE);
        if raws.is_empty() {
            return Err(err);
        }
        // The entries before the error are read; the error is reported after them.
        tail.push(Unit::Error(err));
    } else if !found {
        return Err(r.error(1, None, "no \"subjects\" array".into(), SHAPE));
    }
    for c in CORE {
        r.keys.id(c);
    }
    let entries: Vec<Result<Entry, DataError>> = raws.into_iter().map(|e| r.entry(e)).collect();
    let schema = Schema::new(file, &r.keys.names)?;
    // Two entries for one subject (and reader) are one timeline: say so, never merge silently.
    enum Item {
        Subject(usize),
        Error(DataError),
    }
    let mut merged: Vec<Option<Entry>> = vec![];
    let mut order = vec![];
    let mut at: HashMap<(String, Option<String>), usize> = HashMap::new();
    for e in entries {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                order.push(Item::Error(err));
                continue;
            }
        };
        match at.get(&(e.subject.clone(), e.reader.clone())) {
            None => {
                at.insert((e.subject.clone(), e.reader.clone()), merged.len());
                order.push(Item::Subject(merged.len()));
                merged.push(Some(e));
            }
            Some(&j) => {
                let Some(f) = merged[j].as_mut() else {
                    continue;
                };
                let who = match &e.reader {
                    Some(x) => format!("subject {} (reader {x})", e.subject),
                    None => format!("subject {}", e.subject),
                };
                f.errors.push(r.error(
                    e.line,
                    Some("subject"),
                    format!("{who} has a second entry (the first is at line {})", f.line),
                    "give each subject (and reader) one entry, with all its assessments",
                ));
                f.rows.extend(e.rows);
                f.errors.extend(e.errors);
            }
        }
    }
    let mut units = vec![];
    for item in order {
        match item {
            Item::Error(e) => units.push(Unit::Error(e)),
            Item::Subject(j) => {
                let Some(mut e) = merged[j].take() else {
                    continue;
                };
                let mut raw = RawSubject::new(e.subject, e.reader);
                for row in &mut e.rows {
                    row.width = schema.width;
                    schema.read_row(&mut raw, &*row);
                }
                raw.errors.extend(e.errors);
                raw.errors.sort_by_key(|x| x.line);
                units.push(Unit::Subjects(vec![raw]));
            }
        }
    }
    units.extend(tail);
    Ok(Table::from_units(schema, units, vec![]))
}
