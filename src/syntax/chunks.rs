//! The source text prepared for the grammar: cut into one chunk per declaration, with runs of
//! blank and comment lines blanked out, and checked for brackets nested beyond what the parser
//! may recurse into. Byte offsets never change, so spans point into the original text.

use super::ast::Span;
use super::MAX_DEPTH;

/// Words that start a declaration (the grammar's `keyword_item`).
const ITEM_WORDS: &[&str] = &[
    "criteria",
    "version",
    "cite",
    "categories",
    "rename",
    "input",
    "param",
    "lesion",
    "organ",
    "group",
    "value",
    "response",
    "table",
    "best",
    "override",
    "event",
    "reject",
    "chart",
];

/// Lines as (start, end of content, end including the line break); a break is `\n`, `\r\n` or
/// a lone `\r`, as in the grammar.
fn lines(src: &str) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let b = src.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= b.len() {
            return None;
        }
        let start = pos;
        let mut i = pos;
        while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
            i += 1;
        }
        let content_end = i;
        if i < b.len() {
            i += if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
        }
        pos = i;
        Some((start, content_end, i))
    })
}

fn is_blank(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#')
}

/// Byte ranges of the declarations: each starts on a line whose first word starts a declaration.
/// Text before the first declaration is a chunk too (so that it is reported) unless it is only
/// blank lines and comments.
pub fn split(src: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![];
    for (s, e, _) in lines(src) {
        let line = &src[s..e];
        let trimmed = line.trim_start();
        let word_len = trimmed
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(trimmed.len());
        if ITEM_WORDS.contains(&&trimmed[..word_len]) {
            starts.push(s + (line.len() - trimmed.len()));
        }
    }
    let mut out = vec![];
    let first = starts.first().copied().unwrap_or(src.len());
    if !lines(&src[..first]).all(|(s, e, _)| is_blank(&src[s..e])) {
        out.push((0, first));
    }
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(src.len());
        out.push((s, e));
    }
    out
}

/// The text with every run of blank and comment lines turned into one line of spaces (its last
/// line break kept). The grammar looks past such runs for a continuation line (`and ...`) at
/// every line break, which made long comment blocks quadratic; one line per run keeps parsing
/// linear. Comments mean nothing to the grammar, so nothing else changes.
pub fn blank_comment_runs(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    // Start of the current run of blank lines, and where its last line break begins.
    let mut run: Option<(usize, usize)> = None;
    let flush = |out: &mut String, run: &mut Option<(usize, usize)>, end: usize| {
        if let Some((s, brk)) = run.take() {
            out.extend(std::iter::repeat_n(' ', brk - s));
            out.push_str(&src[brk..end]);
        }
    };
    let mut last_end = 0;
    for (s, e, next) in lines(src) {
        if is_blank(&src[s..e]) {
            run = Some((run.map_or(s, |(rs, _)| rs), e));
        } else {
            flush(&mut out, &mut run, s);
            out.push_str(&src[s..next]);
        }
        last_end = next;
    }
    flush(&mut out, &mut run, last_end);
    debug_assert_eq!(out.len(), src.len());
    out
}

/// The first bracket nested deeper than [`MAX_DEPTH`], outside strings and comments. The grammar
/// recurses at each bracket, so this is checked before parsing.
pub fn too_deep_bracket(text: &str) -> Option<Span> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && !matches!(b[i], b'"' | b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'#' => {
                while i < b.len() && !matches!(b[i], b'\n' | b'\r') {
                    i += 1;
                }
                continue;
            }
            b'(' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(Span::new(i, i + 1));
                }
            }
            b')' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_comment_lines_become_one_line_in_place() {
        let src = "a\n# one\n\n  # two\r\nb\n# tail";
        let out = blank_comment_runs(src);
        assert_eq!(out.len(), src.len());
        assert_eq!(
            out,
            format!("a\n{}\r\nb\n{}", " ".repeat(14), " ".repeat(6))
        );
    }

    #[test]
    fn lines_end_at_any_line_break() {
        let got: Vec<_> = lines("a\r\nb\rc\n").collect();
        assert_eq!(got, vec![(0, 1, 3), (3, 4, 5), (5, 6, 7)]);
    }

    #[test]
    fn split_starts_at_declarations() {
        let src = "# c\ncriteria x \"X\"\n\nvalue y = 1\r  and 2\rgroup g = lesions\n";
        let got: Vec<&str> = split(src).iter().map(|&(s, e)| &src[s..e]).collect();
        assert_eq!(
            got,
            vec![
                "criteria x \"X\"\n\n",
                "value y = 1\r  and 2\r",
                "group g = lesions\n"
            ]
        );
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let deep = "(".repeat(MAX_DEPTH + 1);
        assert_eq!(too_deep_bracket(&format!("\"{deep}\" # {deep}")), None);
        assert_eq!(
            too_deep_bracket(&format!("x {deep}")),
            Some(Span::new(2 + MAX_DEPTH, 3 + MAX_DEPTH))
        );
    }
}
