//! pest pairs -> AST. The source is cut into one chunk per declaration and each chunk is parsed
//! on its own, so one broken declaration does not hide the errors of the others.

use std::str::FromStr;

use pest::iterators::Pair;
use pest::Parser;
use rust_decimal::Decimal;

use super::ast::*;
use super::{chunks, MAX_DEPTH};
use crate::diag::{Diag, Source};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/crit.pest"]
struct CritParser;

/// Parses a whole file. Returns the ruleset (possibly partial) and every syntax error.
pub fn parse(src: &Source) -> (Ruleset, Vec<Diag>) {
    // The grammar and the tree builder recurse at each bracket, up to MAX_DEPTH deep; an
    // unoptimised build needs more stack for that than a spawned thread's 2 MiB, so the parse
    // gets a stack of its own when less than that is left.
    stacker::maybe_grow(PARSE_STACK, 2 * PARSE_STACK, || parse_on_stack(src))
}

const PARSE_STACK: usize = 4 << 20;

fn parse_on_stack(src: &Source) -> (Ruleset, Vec<Diag>) {
    let text = src.inner().as_str();
    let mut rs = Ruleset::default();
    let mut diags = vec![];
    let mut seen_header = false;
    let mut missing_header_reported = false;
    let prepared = chunks::blank_comment_runs(text);
    for (start, end) in chunks::split(&prepared) {
        let piece = &prepared[start..end];
        if let Some(at) = chunks::too_deep_bracket(piece) {
            diags.push(too_deep(
                Span::new(start + at.start, start + at.end),
                "brackets",
            ));
            continue;
        }
        match CritParser::parse(Rule::chunk, piece) {
            Ok(mut pairs) => {
                let chunk = pairs.next().unwrap();
                for pair in chunk.into_inner() {
                    if pair.as_rule() == Rule::EOI {
                        continue;
                    }
                    let mut b = Builder {
                        offset: start,
                        diags: &mut diags,
                        too_deep: false,
                    };
                    if pair.as_rule() == Rule::header {
                        if seen_header {
                            b.diags.push(
                                Diag::error("crit::syntax", "a second `criteria` header")
                                    .label(b.span(&pair), "the ruleset was already named above")
                                    .help("a file holds one ruleset; put this one in its own file"),
                            );
                            continue;
                        }
                        seen_header = true;
                        b.header(pair, &mut rs);
                    } else {
                        if !seen_header && !missing_header_reported {
                            b.diags.push(
                                Diag::error("crit::syntax", "the file must start with a `criteria` header")
                                    .label(b.span(&pair), "declaration before the header")
                                    .help("start the file with `criteria ID \"Name\"`, e.g. `criteria my-rule \"My rule\"`"),
                            );
                            missing_header_reported = true;
                        }
                        b.item(pair, &mut rs);
                    }
                }
            }
            Err(e) => diags.push(syntax_error(e, start, &text[start..end])),
        }
    }
    if !seen_header && !missing_header_reported && diags.is_empty() {
        diags.push(
            Diag::error("crit::syntax", "empty ruleset: no `criteria` header")
                .label(Span::new(0, 0), "")
                .help("start the file with `criteria ID \"Name\"`"),
        );
    }
    let diags = diags.into_iter().map(|d| d.with_src(src)).collect();
    (rs, diags)
}

/// An expression nested past [`MAX_DEPTH`].
fn too_deep(at: Span, what: &str) -> Diag {
    Diag::error(
        "crit::too-deep",
        format!("expression nested more than {MAX_DEPTH} levels deep"),
    )
    .label(at, format!("{what} nested past level {MAX_DEPTH} here"))
    .help(
        "give inner parts a name of their own (`value part = ...`, `lesion part = ...`) and use \
         that name; a sum over many lesions is `sum(x of GROUP)`",
    )
}

/// The grammar's layers of an expression, loosest first; one with a single part is just that part.
const EXPRESSION_LAYERS: [Rule; 10] = [
    Rule::expr,
    Rule::expr_nowhen,
    Rule::or_expr,
    Rule::and_expr,
    Rule::not_expr,
    Rule::cmp,
    Rule::add,
    Rule::mul,
    Rule::unary,
    Rule::postfix,
];

fn friendly(r: &Rule) -> Option<&'static str> {
    Some(match r {
        r if EXPRESSION_LAYERS.contains(r) => "an expression",
        Rule::ident | Rule::name | Rule::cat_name => "a name",
        Rule::string => "a quoted string",
        Rule::number | Rule::number_lit => "a number",
        Rule::unit => "a unit",
        Rule::EOI => "end of input",
        Rule::header => "`criteria ID \"Name\"`",
        Rule::ruleset_id => "a ruleset id",
        Rule::rule => "a rule (`CATEGORY when CONDITION` or `CATEGORY otherwise`)",
        Rule::rule_block => "rules on the following lines",
        Rule::otherwise_kw => "`otherwise`",
        Rule::cmp_op => "a comparison",
        Rule::and_op => "`and`",
        Rule::or_op => "`or`",
        Rule::add_op | Rule::mul_op => "an operator",
        Rule::in_op => "`in`",
        Rule::if_kw => "`if`",
        Rule::at_clause => "`at`",
        Rule::cite => "`cite`",
        Rule::level => "`lesion`, `scan` or `subject`",
        Rule::param_value => "a number, `true`/`false` or `none`",
        Rule::table_row => "a table row `| ... | => CATEGORY |`",
        Rule::cell | Rule::cell_list | Rule::cell_value | Rule::any_cell | Rule::neg_cell => {
            "a cell value"
        }
        Rule::hit_decl => "`hit unique|any|first`",
        Rule::group_expr | Rule::where_clause | Rule::except_clause => "a lesion group",
        Rule::category_line => {
            "a category line `NAME [CLASS] [\"description\"] [counts as response and disease control]`"
        }
        Rule::count_item => "`response`, `disease control` or `nothing`",
        Rule::reference => "`baseline`, `previous`, `start of CATEGORY` or `last NAME`",
        Rule::set => "a set `{a, b}`",
        Rule::optional => "`optional`",
        Rule::guard => "`when` or `unless`",
        Rule::chart_line => "a param in percent, `-` before a decrease",
        _ => return None,
    })
}

fn syntax_error(e: pest::error::Error<Rule>, offset: usize, piece: &str) -> Diag {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let at = offset + pos;
    let found: String = piece[pos..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(20)
        .collect();
    let mut expected: Vec<&str> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(friendly).collect()
        }
        ErrorVariant::CustomError { .. } => vec![],
    };
    // The parser's own limits (e.g. "stack limit reached") say what stopped it.
    let limit = match &e.variant {
        ErrorVariant::CustomError { message } => Some(message.as_str()),
        _ => None,
    };
    expected.sort();
    expected.dedup();
    let what = if found.is_empty() {
        "end of line".to_string()
    } else {
        format!("`{found}`")
    };
    let msg = format!("unexpected {what}");
    let label = if let Some(m) = limit {
        format!("not understood here: {m}")
    } else if expected.is_empty() {
        "not understood here".to_string()
    } else {
        format!("expected {}", join_or(&expected))
    };
    let mut help = "each declaration is one line (continue a long condition on a line starting with `and`/`or`); rules read `CATEGORY when CONDITION`".to_string();
    if found.starts_with('"') && !piece[pos + 1..].lines().next().unwrap_or("").contains('"') {
        help = "a quoted text ends with `\"` on the same line".into();
    } else if piece.trim_start().starts_with("chart") {
        help = "write `chart NAME` or `chart NAME lines -P, +Q`: the charted value, then the params in percent drawn as the waterfall's reference lines, separated by commas".into();
    } else if found.contains('-') || found.contains('/') {
        help = "names may contain `-` and `/` (non-CR/non-PD), so put spaces around `-` and `/` when you mean minus or division".into();
    }
    Diag::error("crit::syntax", msg)
        .label(
            Span::new(at, at + found.len().max(1).min(piece.len() - pos)),
            label,
        )
        .help(help)
}

fn join_or(items: &[&str]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].to_string(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

struct Builder<'d> {
    offset: usize,
    diags: &'d mut Vec<Diag>,
    /// The declaration was reported as nested too deeply (reported once).
    too_deep: bool,
}

/// An expression and its depth: the nodes on its longest path from the top.
type Built = (Expr, usize);

/// The text of a string literal: `\"` is a quote, `\\` a backslash.
fn unquote(p: &Pair<Rule>) -> String {
    let s = p.as_str();
    let inner = &s[1..s.len() - 1];
    if !inner.contains('\\') {
        return inner.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

impl Builder<'_> {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn name(&self, p: &Pair<Rule>) -> Name {
        Spanned {
            node: p.as_str().trim().to_string(),
            span: self.span(p),
        }
    }

    fn header(&mut self, pair: Pair<Rule>, rs: &mut Ruleset) {
        let mut it = pair.into_inner();
        let id = it.next().unwrap();
        rs.id = self.name(&id);
        rs.title = unquote(&it.next().unwrap());
        if let Some(ext) = it.next() {
            let target = ext.into_inner().next().unwrap();
            let mut name = self.name(&target);
            if target.as_rule() == Rule::string {
                name.node = unquote(&target);
            }
            rs.extends = Some(name);
        }
    }

    fn item(&mut self, pair: Pair<Rule>, rs: &mut Ruleset) {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::version_decl => rs.version = Some(unquote(&pair.into_inner().next().unwrap())),
            Rule::cite_decl => rs.cites.push(unquote(&pair.into_inner().next().unwrap())),
            Rule::chart_decl => {
                let mut it = pair.into_inner();
                let value = self.name(&it.next().unwrap());
                let lines = it
                    .next()
                    .map(|ls| {
                        ls.into_inner()
                            .map(|l| {
                                let mut parts: Vec<_> = l.into_inner().collect();
                                let name = self.name(&parts.pop().unwrap());
                                let down = parts.first().is_some_and(|s| s.as_str() == "-");
                                (name, down)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                rs.chart = Some(Chart { value, lines });
            }
            Rule::categories_decl => {
                for line in pair.into_inner() {
                    let mut decl = CategoryDecl {
                        name: Name::default(),
                        class: None,
                        description: None,
                        counts: None,
                    };
                    for p in line.into_inner() {
                        match p.as_rule() {
                            Rule::cat_name => decl.name = self.name(&p),
                            Rule::class_name => decl.class = Some(self.name(&p)),
                            Rule::string => decl.description = Some(unquote(&p)),
                            Rule::counts => {
                                let (mut response, mut control) = (false, false);
                                for item in p.into_inner() {
                                    match item.as_str() {
                                        "response" => response = true,
                                        "nothing" => {}
                                        _ => control = true,
                                    }
                                }
                                decl.counts = Some((response, control));
                            }
                            _ => {}
                        }
                    }
                    rs.categories.push(decl);
                }
            }
            Rule::rename_decl => {
                for p in pair.into_inner() {
                    let mut it = p.into_inner();
                    let a = self.name(&it.next().unwrap());
                    let b = self.name(&it.next().unwrap());
                    rs.renames.push((a, b));
                }
            }
            _ => {
                if let Some(item) = self.decl(pair, span) {
                    rs.items.push(item);
                }
            }
        }
    }

    fn decl(&mut self, pair: Pair<Rule>, span: Span) -> Option<Item> {
        let kind = pair.as_rule();
        let mut it = pair.into_inner().peekable();
        let is_override = it.peek().is_some_and(|p| p.as_rule() == Rule::override_kw);
        if is_override {
            it.next();
        }
        let mut item = Item {
            name: Name::default(),
            is_override,
            description: None,
            cite: None,
            kind: ItemKind::Best(vec![]),
            span,
        };
        match kind {
            Rule::input_decl => {
                let level = match it.next().unwrap().as_str() {
                    "lesion" => Level::Lesion,
                    "scan" => Level::Scan,
                    _ => Level::Subject,
                };
                item.name = self.name(&it.next().unwrap());
                let ty = it.next().unwrap();
                let ty = if ty.as_rule() == Rule::choice_set {
                    InputType::Choice(ty.into_inner().map(|v| self.name(&v)).collect())
                } else {
                    InputType::Unit(self.name(&ty))
                };
                let mut optional = false;
                for p in it {
                    match p.as_rule() {
                        Rule::optional => optional = true,
                        Rule::string => item.description = Some(unquote(&p)),
                        _ => {}
                    }
                }
                item.kind = ItemKind::Input {
                    level,
                    ty,
                    optional,
                };
            }
            Rule::param_decl => {
                item.name = self.name(&it.next().unwrap());
                let v = it.next().unwrap().into_inner().next().unwrap();
                let value = match v.as_rule() {
                    Rule::bool_lit => ParamValue::Bool(v.as_str() == "true"),
                    Rule::none_lit => {
                        ParamValue::None(v.into_inner().next().map(|u| self.name(&u)))
                    }
                    _ => {
                        let (d, u) = self.number_lit(v);
                        ParamValue::Number(d, u)
                    }
                };
                if let Some(s) = it.next() {
                    item.description = Some(unquote(&s));
                }
                item.kind = ItemKind::Param { value };
            }
            Rule::lesion_decl | Rule::organ_decl | Rule::value_decl => {
                item.name = self.name(&it.next().unwrap());
                let mut body = None;
                for p in it {
                    match p.as_rule() {
                        Rule::string => item.description = Some(unquote(&p)),
                        Rule::cite => item.cite = Some(unquote(&p.into_inner().next().unwrap())),
                        Rule::expr => body = Some(Body::Expr(self.expr(p))),
                        Rule::rule_block => body = Some(Body::Rules(self.rules(p))),
                        _ => {}
                    }
                }
                let body = body?;
                item.kind = if kind == Rule::organ_decl {
                    ItemKind::Organ(body)
                } else if kind == Rule::lesion_decl {
                    ItemKind::Lesion(body)
                } else {
                    ItemKind::Value(body)
                };
            }
            Rule::group_decl => {
                item.name = self.name(&it.next().unwrap());
                let g = self.group(it.next().unwrap());
                if let Some(s) = it.next() {
                    item.description = Some(unquote(&s));
                }
                item.kind = ItemKind::Group(g);
            }
            Rule::response_decl => {
                item.name = self.name(&it.next().unwrap());
                let mut rules = vec![];
                for p in it {
                    match p.as_rule() {
                        Rule::string => item.description = Some(unquote(&p)),
                        Rule::cite => item.cite = Some(unquote(&p.into_inner().next().unwrap())),
                        Rule::rule_block => rules = self.rules(p),
                        _ => {}
                    }
                }
                item.kind = ItemKind::Response(rules);
            }
            Rule::table_decl => {
                let name_pair = it.next().unwrap();
                item.name = self.name(&name_pair);
                let mut table = Table {
                    columns: vec![],
                    hit: HitPolicy::Unique,
                    rows: vec![],
                    header_span: span,
                };
                let mut header_end = name_pair.as_span().end();
                for p in it {
                    match p.as_rule() {
                        Rule::expr_list => {
                            header_end = p.as_span().end() + 1;
                            table.columns = p.into_inner().map(|e| self.expr(e)).collect();
                        }
                        Rule::string => item.description = Some(unquote(&p)),
                        Rule::cite => item.cite = Some(unquote(&p.into_inner().next().unwrap())),
                        Rule::hit_decl => {
                            table.hit = match p.into_inner().next().unwrap().as_str() {
                                "any" => HitPolicy::Any,
                                "first" => HitPolicy::First,
                                _ => HitPolicy::Unique,
                            }
                        }
                        Rule::table_row => table.rows.push(self.row(p)),
                        _ => {}
                    }
                }
                table.header_span = Span::new(span.start, self.offset + header_end);
                item.kind = ItemKind::Table(table);
            }
            Rule::event_decl => {
                item.name = self.name(&it.next().unwrap());
                let mut lines = vec![];
                for p in it {
                    match p.as_rule() {
                        Rule::string => item.description = Some(unquote(&p)),
                        Rule::cite => item.cite = Some(unquote(&p.into_inner().next().unwrap())),
                        Rule::event_line => lines.push(self.event_line(p)),
                        _ => {}
                    }
                }
                item.kind = ItemKind::Event(lines);
            }
            Rule::reject_decl => {
                item.name = self.name(&it.next().unwrap());
                let mut at_baseline = false;
                let mut group = None;
                for p in it {
                    match p.as_rule() {
                        Rule::string => item.description = Some(unquote(&p)),
                        Rule::cite => item.cite = Some(unquote(&p.into_inner().next().unwrap())),
                        Rule::at_baseline => at_baseline = true,
                        Rule::group_expr => group = Some(self.group(p)),
                        _ => {}
                    }
                }
                item.kind = ItemKind::Reject {
                    group: group?,
                    at_baseline,
                };
            }
            Rule::best_decl => {
                item.name = Spanned {
                    node: "best response".into(),
                    span: Span::new(span.start, span.start + if is_override { 22 } else { 13 }),
                };
                item.kind = ItemKind::Best(it.map(|p| self.best_line(p)).collect());
            }
            _ => return None,
        }
        Some(item)
    }

    fn rules(&mut self, block: Pair<Rule>) -> Vec<Rule_> {
        block
            .into_inner()
            .map(|r| {
                let span = self.span(&r);
                let mut it = r.into_inner();
                let head = self.expr(it.next().unwrap());
                let mut rule = Rule_ {
                    head,
                    cond: None,
                    reason: None,
                    cite: None,
                    span,
                };
                for p in it {
                    match p.as_rule() {
                        Rule::expr => rule.cond = Some(self.expr(p)),
                        Rule::string => rule.reason = Some(unquote(&p)),
                        Rule::cite => rule.cite = Some(unquote(&p.into_inner().next().unwrap())),
                        _ => {}
                    }
                }
                rule
            })
            .collect()
    }

    fn row(&mut self, p: Pair<Rule>) -> TableRow {
        let span = self.span(&p);
        let mut row = TableRow {
            cells: vec![],
            output: Name::default(),
            label: None,
            span,
        };
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::cell => {
                    let inner = c.into_inner().next().unwrap();
                    row.cells.push(match inner.as_rule() {
                        Rule::any_cell => Cell::Any(self.span(&inner)),
                        Rule::neg_cell => {
                            Cell::Not(self.cell_list(inner.into_inner().next().unwrap()))
                        }
                        _ => Cell::Is(self.cell_list(inner)),
                    });
                }
                Rule::cat_name => row.output = self.name(&c),
                Rule::string => row.label = Some(unquote(&c)),
                Rule::cite => row.label = Some(unquote(&c.into_inner().next().unwrap())),
                _ => {}
            }
        }
        row
    }

    fn cell_list(&self, p: Pair<Rule>) -> Vec<Name> {
        p.into_inner().map(|v| self.name(&v)).collect()
    }

    fn cat_list(&self, p: Pair<Rule>) -> Vec<Name> {
        p.into_inner().map(|v| self.name(&v)).collect()
    }

    fn guard(&mut self, p: Pair<Rule>) -> Guard {
        let mut it = p.into_inner();
        let kw = it.next().unwrap();
        let e = self.expr(it.next().unwrap());
        if kw.as_rule() == Rule::when_kw {
            Guard::When(e)
        } else {
            Guard::Unless(e)
        }
    }

    fn event_line(&mut self, p: Pair<Rule>) -> EventLine {
        let span = self.span(&p);
        let mut line = EventLine {
            cats: vec![],
            confirmed: false,
            then: EventThen::Now,
            guard: None,
            span,
        };
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::cat_list => line.cats = self.cat_list(q),
                Rule::followed_clause => {
                    line.then = EventThen::FollowedBy(self.cat_list(q.into_inner().next().unwrap()))
                }
                Rule::pending_clause => line.then = EventThen::PendingAtEnd,
                Rule::confirmed_kw => line.confirmed = true,
                Rule::unless_next => {
                    let cats = q.into_inner().find(|r| r.as_rule() == Rule::cat_list);
                    line.then =
                        EventThen::UnlessNext(cats.map(|c| self.cat_list(c)).unwrap_or_default())
                }
                Rule::guard => line.guard = Some(self.guard(q)),
                _ => {}
            }
        }
        line
    }

    fn best_line(&mut self, p: Pair<Rule>) -> BestLine {
        let span = self.span(&p);
        let kind = p.as_rule();
        let parts: Vec<Pair<Rule>> = p.into_inner().collect();
        match kind {
            Rule::rank_line => BestLine::Rank(parts.iter().map(|c| self.name(c)).collect(), span),
            Rule::stop_line => {
                let confirmed = parts[0].as_rule() == Rule::confirmed_kw;
                let cats = parts[usize::from(confirmed)].clone();
                BestLine::StopAfter(self.cat_list(cats), confirmed, span)
            }
            Rule::require_line => {
                let cats = self.cat_list(parts[0].clone());
                let min = self.expr(parts[1].clone());
                let anchor = if parts[2].as_str() == "baseline" {
                    Anchor::Baseline
                } else {
                    Anchor::Start
                };
                let fallback = self.name(&parts[3]);
                let guard = parts.get(4).map(|g| self.guard(g.clone()));
                BestLine::Require {
                    cats,
                    min,
                    anchor,
                    fallback,
                    guard,
                    span,
                }
            }
            Rule::confirm_line => {
                let cats = self.cat_list(parts[0].clone());
                let by = self.cat_list(parts[1].clone());
                let min = self.expr(parts[2].clone());
                let mut rest = parts[3..].iter().peekable();
                let max = rest
                    .next_if(|p| p.as_rule() == Rule::confirm_max)
                    .map(|p| self.expr(p.clone().into_inner().next().unwrap()));
                let fallback = self.name(rest.next().unwrap());
                let guard = rest.next().map(|g| self.guard(g.clone()));
                BestLine::Confirm {
                    cats,
                    by,
                    min,
                    max,
                    fallback,
                    guard,
                    span,
                }
            }
            Rule::between_line => {
                let mut rest = parts.iter().peekable();
                let of = rest
                    .next_if(|p| p.as_rule() == Rule::between_of)
                    .map(|p| self.cat_list(p.clone().into_inner().next().unwrap()))
                    .unwrap_or_default();
                let inner = rest.next().unwrap().clone();
                let guard = rest.next().map(|g| self.guard(g.clone()));
                match inner.as_rule() {
                    Rule::allow_ne => {
                        let mut it = inner.into_inner();
                        let max = it.next().unwrap();
                        let max = if max.as_rule() == Rule::count_lit {
                            Expr {
                                kind: ExprKind::Number(
                                    max.as_str().parse().unwrap_or_default(),
                                    None,
                                ),
                                span: self.span(&max),
                            }
                        } else {
                            self.expr(max)
                        };
                        let cats = vec![self.name(&it.next().unwrap())];
                        BestLine::Allow {
                            of,
                            cats,
                            max: Some(max),
                            guard,
                            span,
                        }
                    }
                    Rule::forbid => {
                        let mut it = inner.into_inner();
                        let cats = self.cat_list(it.next().unwrap());
                        let after = self.cat_list(it.next().unwrap());
                        BestLine::Forbid {
                            of,
                            cats,
                            after,
                            guard,
                            span,
                        }
                    }
                    _ => BestLine::Allow {
                        of,
                        cats: self.cat_list(inner.into_inner().next().unwrap()),
                        max: None,
                        guard,
                        span,
                    },
                }
            }
            _ => BestLine::Relabel {
                from: self.name(&parts[0]),
                to: self.name(&parts[1]),
                followed_by: self.name(&parts[2]),
                span,
            },
        }
    }

    fn number_lit(&mut self, p: Pair<Rule>) -> (Decimal, Option<Name>) {
        let mut it = p.into_inner();
        let num = it.next().unwrap();
        let d = match Decimal::from_str(num.as_str()) {
            Ok(d) => d,
            Err(_) => {
                self.diags.push(
                    Diag::error(
                        "crit::syntax",
                        format!("number `{}` is out of range", num.as_str()),
                    )
                    .label(self.span(&num), "too many digits")
                    .help("numbers have at most 28 significant digits"),
                );
                Decimal::ZERO
            }
        };
        (d, it.next().map(|u| self.name(&u)))
    }

    fn group(&mut self, p: Pair<Rule>) -> GroupExpr {
        self.build_group(p).0
    }

    fn build_group(&mut self, p: Pair<Rule>) -> (GroupExpr, usize) {
        let mut it = p.into_inner();
        let base = it.next().unwrap();
        let (mut g, mut depth) = match base.as_rule() {
            Rule::top_group => {
                let span = self.span(&base);
                let mut bi = base.into_inner();
                let (n, dn) = self.build(bi.next().unwrap());
                let of = self.name(&bi.next().unwrap());
                let (key, dk) = self.build(bi.next().unwrap());
                let (per_organ, dp) = match bi.next() {
                    Some(po) => {
                        let (e, d) = self.build(po.into_inner().next().unwrap());
                        (Some(Box::new(e)), d)
                    }
                    None => (None, 0),
                };
                let g = GroupExpr::Top {
                    n: Box::new(n),
                    of,
                    key: Box::new(key),
                    per_organ,
                    span,
                };
                (g, 1 + dn.max(dk).max(dp))
            }
            _ => (GroupExpr::Named(self.name(&base)), 1),
        };
        for clause in it {
            let at = self.span(&clause);
            match clause.as_rule() {
                Rule::where_clause => {
                    let (e, d) = self.build(clause.into_inner().next().unwrap());
                    depth = 1 + depth.max(d);
                    if self.past_limit(depth, at, "`where` clauses") {
                        break;
                    }
                    g = GroupExpr::Where(Box::new(g), Box::new(e));
                }
                Rule::except_clause => {
                    let n = self.name(&clause.into_inner().next().unwrap());
                    depth += 1;
                    if self.past_limit(depth, at, "`except` clauses") {
                        break;
                    }
                    g = GroupExpr::Except(Box::new(g), n);
                }
                _ => {}
            }
        }
        (g, depth)
    }

    fn reference(&self, p: Pair<Rule>) -> Reference {
        let inner = p.into_inner().next().unwrap();
        match inner.as_rule() {
            Rule::ref_baseline => Reference::Baseline,
            Rule::ref_previous => Reference::Previous,
            Rule::ref_start => Reference::StartOf(self.name(&inner.into_inner().next().unwrap())),
            _ => Reference::Last(self.name(&inner.into_inner().next().unwrap())),
        }
    }

    fn expr(&mut self, p: Pair<Rule>) -> Expr {
        self.build(p).0
    }

    /// True when `depth` is past [`MAX_DEPTH`]; the first time, it is reported at `at`. The
    /// caller then stops building, so no tree deeper than the limit ever exists (not even to be
    /// dropped).
    fn past_limit(&mut self, depth: usize, at: Span, what: &str) -> bool {
        if depth <= MAX_DEPTH {
            return false;
        }
        if !self.too_deep {
            self.too_deep = true;
            self.diags.push(too_deep(at, what));
        }
        true
    }

    /// Builds any expression-level pair. Layers with a single part (an `or` without `or`, a
    /// bracketed expression) are passed through in a loop, so neither they nor brackets cost
    /// stack here; every recursion below builds a node, and depth is bounded by [`MAX_DEPTH`].
    fn build(&mut self, p: Pair<Rule>) -> Built {
        let mut p = p;
        let mut bracket = None;
        loop {
            match p.as_rule() {
                Rule::paren => {
                    bracket.get_or_insert(self.span(&p));
                    p = p.into_inner().next().unwrap();
                }
                r if EXPRESSION_LAYERS.contains(&r) => {
                    let mut inner = p.clone().into_inner();
                    let first = inner.next().unwrap();
                    if inner.next().is_some() {
                        break;
                    }
                    p = first;
                }
                _ => break,
            }
        }
        let (mut e, d) = self.node(p);
        if let Some(span) = bracket {
            e.span = span;
        }
        (e, d)
    }

    /// A stand-in for an expression that was not built (already reported).
    fn placeholder(span: Span) -> Built {
        (
            Expr {
                kind: ExprKind::Bool(false),
                span,
            },
            1,
        )
    }

    /// One node. Each kind is built by its own function, so that the frames on the recursion
    /// stay small (an unoptimised build gives a large function one frame holding every arm's
    /// locals).
    fn node(&mut self, p: Pair<Rule>) -> Built {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::expr => self.conditional(p, span),
            Rule::or_expr | Rule::and_expr => self.junction(p, span),
            Rule::not_expr | Rule::unary => self.prefixed(p, span),
            Rule::cmp => self.comparison(p, span),
            Rule::add | Rule::mul => self.chain(p, span),
            Rule::postfix => self.references(p, span),
            Rule::aggregate => self.aggregate(p, span),
            Rule::call | Rule::super_call => self.call(p, span),
            kind => {
                let mk = |k| Expr { kind: k, span };
                let e = match kind {
                    Rule::number_lit => {
                        let (d, u) = self.number_lit(p);
                        mk(ExprKind::Number(d, u))
                    }
                    Rule::bool_lit => mk(ExprKind::Bool(p.as_str() == "true")),
                    Rule::unknown_lit => mk(ExprKind::Unknown),
                    Rule::string => mk(ExprKind::Str(unquote(&p))),
                    Rule::super_kw => mk(ExprKind::Super),
                    Rule::days_since => mk(ExprKind::DaysSince(
                        self.reference(p.into_inner().next().unwrap()),
                    )),
                    Rule::name | Rule::ident => mk(ExprKind::Name(p.as_str().to_string())),
                    _ => mk(ExprKind::Bool(false)),
                };
                (e, 1)
            }
        }
    }

    /// `a if c else b if d else e`: the first `if` is the outermost.
    fn conditional(&mut self, p: Pair<Rule>, span: Span) -> Built {
        let mut it = p.into_inner();
        let mut values = vec![self.build(it.next().unwrap())];
        let mut conds = vec![];
        while it.next().is_some() {
            conds.push(self.build(it.next().unwrap()));
            values.push(self.build(it.next().unwrap()));
        }
        let (mut acc, mut depth) = values.pop().unwrap();
        while let (Some((c, dc)), Some((v, dv))) = (conds.pop(), values.pop()) {
            depth = 1 + depth.max(dc).max(dv);
            let s = Span::new(v.span.start, span.end);
            if self.past_limit(depth, v.span, "`if ... else`") {
                return Self::placeholder(span);
            }
            acc = Expr {
                kind: ExprKind::If(Box::new(c), Box::new(v), Box::new(acc)),
                span: s,
            };
        }
        (acc, depth)
    }

    /// `a and b and c`, `a or b`: one node with a list.
    fn junction(&mut self, p: Pair<Rule>, span: Span) -> Built {
        let or = p.as_rule() == Rule::or_expr;
        let mut depth = 0;
        let parts: Vec<Expr> = p
            .into_inner()
            .filter(|x| !matches!(x.as_rule(), Rule::or_op | Rule::and_op))
            .map(|x| {
                let (e, d) = self.build(x);
                depth = depth.max(d);
                e
            })
            .collect();
        let kind = if or {
            ExprKind::Or(parts)
        } else {
            ExprKind::And(parts)
        };
        (Expr { kind, span }, depth + 1)
    }

    /// `not not x`, `- - x`: operators in front of an operand.
    fn prefixed(&mut self, p: Pair<Rule>, span: Span) -> Built {
        let neg = p.as_rule() == Rule::unary;
        let parts: Vec<Pair<Rule>> = p.into_inner().collect();
        let (ops, operand) = parts.split_at(parts.len() - 1);
        let (mut e, d) = self.build(operand[0].clone());
        let depth = d + ops.len();
        if depth > MAX_DEPTH {
            // The operator that crosses the limit, counting from the operand outwards.
            let at = self.span(&ops[ops.len() - 1 - (MAX_DEPTH - d.min(MAX_DEPTH))]);
            self.past_limit(depth, at, if neg { "`-`" } else { "`not`" });
            return Self::placeholder(span);
        }
        for _ in ops {
            let inner = Box::new(e);
            let kind = if neg {
                ExprKind::Neg(inner)
            } else {
                ExprKind::Not(inner)
            };
            e = Expr { kind, span };
        }
        (e, depth)
    }

    fn comparison(&mut self, p: Pair<Rule>, span: Span) -> Built {
        let mut it = p.into_inner();
        let (lhs, dl) = self.build(it.next().unwrap());
        let op = it.next().unwrap();
        let rhs = it.next().unwrap();
        if op.as_rule() == Rule::in_op {
            let negated = op.as_str().starts_with("not");
            let items = rhs
                .into_inner()
                .map(|i| {
                    let n = self.name(&i);
                    if i.as_rule() == Rule::string {
                        Spanned {
                            node: unquote(&i),
                            span: n.span,
                        }
                    } else {
                        n
                    }
                })
                .collect();
            let kind = ExprKind::In(Box::new(lhs), items, negated);
            return (Expr { kind, span }, dl + 1);
        }
        let op = match op.as_str() {
            "<=" => CmpOp::Le,
            ">=" => CmpOp::Ge,
            "!=" => CmpOp::Ne,
            "=" => CmpOp::Eq,
            "<" => CmpOp::Lt,
            _ => CmpOp::Gt,
        };
        let (rhs, dr) = self.build(rhs);
        let kind = ExprKind::Cmp(op, Box::new(lhs), Box::new(rhs));
        (Expr { kind, span }, 1 + dl.max(dr))
    }

    /// `a + b - c`, `a * b / c`: left to right.
    fn chain(&mut self, p: Pair<Rule>, span: Span) -> Built {
        let what = if p.as_rule() == Rule::add {
            "terms of `+`/`-`"
        } else {
            "factors of `*`/`/`"
        };
        let mut it = p.into_inner();
        let (mut acc, mut depth) = self.build(it.next().unwrap());
        while let Some(op) = it.next() {
            let (rhs, d) = self.build(it.next().unwrap());
            depth = 1 + depth.max(d);
            if self.past_limit(depth, self.span(&op), what) {
                return Self::placeholder(span);
            }
            let op = match op.as_str() {
                "+" => BinOp::Add,
                "-" => BinOp::Sub,
                "*" => BinOp::Mul,
                _ => BinOp::Div,
            };
            let s = Span::new(acc.span.start, rhs.span.end);
            acc = Expr {
                kind: ExprKind::Bin(op, Box::new(acc), Box::new(rhs)),
                span: s,
            };
        }
        (acc, depth)
    }

    /// `x at baseline at previous`.
    fn references(&mut self, p: Pair<Rule>, span: Span) -> Built {
        let mut it = p.into_inner();
        let (mut e, mut depth) = self.build(it.next().unwrap());
        for at in it {
            depth += 1;
            if self.past_limit(depth, self.span(&at), "`at` references") {
                return Self::placeholder(span);
            }
            let r = self.reference(at.into_inner().next().unwrap());
            let s = Span::new(e.span.start, span.end);
            e = Expr {
                kind: ExprKind::At(Box::new(e), r),
                span: s,
            };
        }
        (e, depth)
    }

    fn aggregate(&mut self, p: Pair<Rule>, span: Span) -> Built {
        let mut it = p.into_inner();
        let f = match it.next().unwrap().as_str() {
            "sum" => AggFn::Sum,
            "max" => AggFn::Max,
            "min" => AggFn::Min,
            "count" => AggFn::Count,
            "all" => AggFn::All,
            _ => AggFn::Any,
        };
        let body = it.next().unwrap();
        let body_rule = body.as_rule();
        let mut bi = body.into_inner();
        let (elem, g, depth) = match body_rule {
            Rule::agg_of => {
                let (e, de) = self.build(bi.next().unwrap());
                let (g, dg) = self.build_group(bi.next().unwrap());
                (Some(Box::new(e)), g, de.max(dg))
            }
            Rule::agg_quant => {
                let (g, dg) = self.build_group(bi.next().unwrap());
                let (e, de) = self.build(bi.next().unwrap());
                (Some(Box::new(e)), g, de.max(dg))
            }
            _ => {
                let (g, dg) = self.build_group(bi.next().unwrap());
                (None, g, dg)
            }
        };
        let kind = ExprKind::Agg(f, elem, g);
        (Expr { kind, span }, depth + 1)
    }

    /// `name(args [since REF])`, `super(args)`.
    fn call(&mut self, p: Pair<Rule>, span: Span) -> Built {
        let is_super = p.as_rule() == Rule::super_call;
        let mut it = p.into_inner();
        let name = (!is_super).then(|| self.name(&it.next().unwrap()));
        let mut args = vec![];
        let mut since = None;
        for a in it.next().unwrap().into_inner() {
            if a.as_rule() == Rule::since_clause {
                since = Some(self.reference(a.into_inner().next().unwrap()));
            } else {
                args.push(a);
            }
        }
        let (args, depth) = self.build_all(args.into_iter());
        let kind = match name {
            Some(name) => ExprKind::Call(name, args, since),
            None => ExprKind::SuperCall(args),
        };
        (Expr { kind, span }, depth + 1)
    }

    /// Builds a list of expressions; the depth is the deepest one's.
    fn build_all<'i>(&mut self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> (Vec<Expr>, usize) {
        let mut depth = 0;
        let list = pairs
            .map(|a| {
                let (e, d) = self.build(a);
                depth = depth.max(d);
                e
            })
            .collect();
        (list, depth)
    }
}

type Rule_ = super::ast::Rule;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_small_ruleset() {
        let src = crate::diag::source(
            "t.crit",
            "criteria t \"T\"\ncategories\n  A complete\n  B\nvalue x = 1 mm + 2 mm\nresponse overall\n  A when x >= 3 mm\n    and x < 5 mm\n  B otherwise\n",
        );
        let (rs, diags) = parse(&src);
        assert!(diags.is_empty(), "{}", crate::diag::render_plain(&diags));
        assert_eq!(rs.items.len(), 2);
        assert_eq!(rs.categories.len(), 2);
    }
}
