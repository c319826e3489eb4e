//! The HTML report of `crit compare` read as a document: the drill-down (a section per subject
//! with its timeline, divergence and explanations, linked from the subjects table), timepoint
//! disagreements per pair, and the plots (one waterfall per sum with reference lines, the
//! swimmer's progression and ongoing marks, heatmaps naming their criteria, PET criteria's own
//! metric, the bidimensional criteria's sum of products, a stated reason where a criterion has
//! none).

mod common;

use crit::compare::{self, report_html, Explain, Report, DRILL_MAX};
use crit::data::table;
use roxmltree::{Document, Node};

fn report(cohort: &str, criteria: &[&str]) -> Report {
    common::compare_report(cohort, criteria, Explain::Selected(DRILL_MAX))
}

fn parse(html: &str) -> Document<'_> {
    roxmltree::Document::parse_with_options(
        html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("the HTML report is well-formed XML")
}

fn text(n: Node) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

fn has_class(n: &Node, class: &str) -> bool {
    n.attribute("class")
        .is_some_and(|c| c.split(' ').any(|x| x == class))
}

fn all<'a, 'i>(doc: &'a Document<'i>, tag: &'a str, class: &'a str) -> Vec<Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag) && has_class(n, class))
        .collect()
}

fn by_id<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Node<'a, 'i> {
    doc.descendants()
        .find(|n| n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("an element with id {id}"))
}

/// The row of the table under `#subjects` for a subject: its cells' text.
fn subject_row(doc: &Document, subject: &str) -> Vec<String> {
    let heading = by_id(doc, "subjects");
    let table = heading
        .next_siblings()
        .find(|n| n.has_tag_name("table"))
        .expect("the subjects table");
    table
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .map(|tr| {
            tr.children()
                .filter(|c| c.has_tag_name("td"))
                .map(text)
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().map(String::as_str) == Some(subject))
        .unwrap_or_else(|| panic!("a row for {subject}"))
}

/// A waterfall's reference lines: the labels beside its right edge (`-30 %`, `+20 % (A)`),
/// each checked to sit on a dashed line (short segments of the plot's ink at its height).
fn reference_lines(figure: Node) -> Vec<String> {
    let dashes: Vec<i64> = figure
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#222222"))
        .filter_map(|n| {
            let pts: Vec<(i64, i64)> = n
                .attribute("points")?
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            match pts[..] {
                [(x0, y0), (x1, y1)] if y0 == y1 && x1 - x0 <= 6 => Some(y0),
                _ => None,
            }
        })
        .collect();
    figure
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| {
            let t = text(n).trim().to_string();
            let (v, _) = t.split_once(" %")?;
            v.parse::<i64>().ok()?;
            let y: i64 = n.attribute("y")?.parse().ok()?;
            let on_line = dashes.iter().filter(|&&d| d == y).count();
            assert!(
                on_line >= 10,
                "`{t}` is on a dashed line ({on_line} dashes)"
            );
            Some(t)
        })
        .collect()
}

#[test]
fn every_subject_links_to_its_section_with_timeline_divergence_and_explanations() {
    let r = report(
        "examples/immunotherapy-cohort.csv",
        &["recist-1.1", "irecist", "dr-recist"],
    );
    let html = report_html::render(&r);
    let doc = parse(&html);
    let sections = all(&doc, "section", "subject");
    assert_eq!(sections.len(), r.subjects.len(), "a section per subject");
    for (j, s) in r.subjects.iter().enumerate() {
        let id = format!("s{}", j + 1);
        let link = doc
            .descendants()
            .find(|n| n.has_tag_name("a") && n.attribute("href") == Some(&format!("#{id}")))
            .unwrap_or_else(|| panic!("a link to {}'s section", s.subject));
        assert_eq!(text(link), s.subject);
        let section = by_id(&doc, &id);
        assert!(text(section.first_element_child().unwrap()).starts_with(&s.name()));
        // Timeline: header, one row per visit (baseline included), the best response.
        let rows = section
            .descendants()
            .filter(|n| n.has_tag_name("tr"))
            .count();
        assert_eq!(
            rows,
            1 + compare::aligned_visits(s).len() + 1,
            "{}",
            s.subject
        );
        // Each criterion's explanation, folded.
        let details: Vec<_> = section
            .children()
            .filter(|n| n.has_tag_name("details"))
            .collect();
        assert_eq!(details.len(), 3);
        for (d, title) in details.iter().zip(["RECIST 1.1", "iRECIST", "Dissociated"]) {
            let pre = text(d.descendants().find(|n| n.has_tag_name("pre")).unwrap());
            assert!(
                pre.contains(title) && pre.contains(&format!("subject {}", s.subject)),
                "{pre}"
            );
        }
    }
    // P10: reclassified by the dissociated response; its section gives the divergence line
    // with the decisive tests and both lesions' values.
    let p10 = r.subjects.iter().position(|s| s.subject == "P10").unwrap();
    let section = by_id(&doc, &format!("s{}", p10 + 1));
    let why: Vec<String> = section
        .descendants()
        .filter(|n| n.has_tag_name("li"))
        .map(text)
        .collect();
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(
        why[0].starts_with(
            "A–C: WEEK 8 2024-05-06: A SD [table overall row 5 (Table 1)] vs C DR [rule 1 (DR)]"
        ) && why[0].contains("T01 change -40.0 % (40.0 → 24.0 mm)")
            && why[0].contains("T02 change +50.0 % (20.0 → 30.0 mm)"),
        "{}",
        why[0]
    );
    assert_eq!(subject_row(&doc, "P10").last().unwrap(), "reclassified");
    assert_eq!(subject_row(&doc, "P01").last().unwrap(), "no");
    // A timepoint whose classes differ is shaded: WEEK 8 and WEEK 16 (SD vs DR).
    let shaded = section
        .descendants()
        .filter(|n| n.has_tag_name("tr") && has_class(n, "differs"))
        .count();
    assert_eq!(shaded, 3, "two timepoints and the best response");
}

#[test]
fn timepoint_disagreements_are_counted_and_listed_when_best_responses_agree() {
    // At 25 %, P04's week-12 PD (+11 mm over a 55 mm nadir: exactly 20 %) becomes SD; its best
    // response stays SD under both.
    let r = report(
        "examples/recist-cohort.csv",
        &["recist-1.1", "recist-1.1[pd_increase=25%]"],
    );
    let t = r.pairs[0].timepoints;
    assert_eq!((t.compared, t.differ, t.subjects), (15, 1, 1));
    let html = report_html::render(&r);
    let doc = parse(&html);
    assert_eq!(subject_row(&doc, "P04").last().unwrap(), "timepoints only");
    let agreement = doc
        .descendants()
        .find(|n| n.has_tag_name("th") && text(*n) == "timepoints differ")
        .expect("a timepoint column in the agreement table");
    let table = agreement
        .ancestors()
        .find(|n| n.has_tag_name("table"))
        .unwrap();
    let cells: Vec<String> = table
        .descendants()
        .filter(|n| n.has_tag_name("td"))
        .map(text)
        .collect();
    assert_eq!(&cells[cells.len() - 2..], ["1/15", "1"]);
    let json = compare::to_json(&r);
    assert_eq!(json["pairs"][0]["timepoints"]["differ"], 1);
    // The divergence is in the list and P04's section.
    let line = r.subjects[3].divergences[0].line(["A", "B"]);
    assert!(line.contains("A yes, 11.0 mm >= 11.0 mm (pd_increase = 20 %) vs B no, 11.0 mm >= 13.75 mm (pd_increase = 25 %)"), "{line}");
    let listed = all(&doc, "ul", "why")
        .iter()
        .flat_map(|ul| ul.children().filter(|n| n.has_tag_name("li")).map(text))
        .filter(|t| t.contains(&line))
        .count();
    assert_eq!(listed, 2, "in the list of divergences and in P04's section");
}

#[test]
fn one_waterfall_per_sum_with_reference_lines_up_to_progression() {
    let r = report(
        "examples/immunotherapy-cohort.csv",
        &["recist-1.1", "irecist", "dr-recist"],
    );
    // P09 (pseudoprogression): +26.9 % at week 8, then a partial response. RECIST 1.1 stops at
    // its PD, so its best change is the week-8 increase; iRECIST counts on (iUPD, not
    // confirmed) to the later shrinkage.
    let p09 = r.subjects.iter().find(|s| s.subject == "P09").unwrap();
    let (a, b) = (p09.outcome(0).unwrap(), p09.outcome(1).unwrap());
    assert!(a.timepoints[0].ends && !b.timepoints[0].ends);
    assert_eq!(a.best_change, a.timepoints[0].change);
    assert!(a.best_change.unwrap() > 20.0, "{:?}", a.best_change);
    let last = b.timepoints.last().unwrap().change.unwrap();
    assert!(
        last < -30.0 && b.best_change == Some(last),
        "{:?}",
        b.best_change
    );
    assert!(!a.ongoing() && b.ongoing());

    let html = report_html::render(&r);
    let doc = parse(&html);
    let waterfalls = all(&doc, "figure", "waterfall");
    assert_eq!(waterfalls.len(), 1, "the three criteria read one sum");
    assert_eq!(waterfalls[0].attribute("data-criteria"), Some("A B C"));
    let svg = text(waterfalls[0]);
    assert_eq!(reference_lines(waterfalls[0]), ["-30 %", "+20 %"]);
    assert!(
        text(waterfalls[0]).contains("Dashed lines: −30 % (pr_decrease) and +20 % (pd_increase).")
    );
    assert!(svg.contains("Waterfall — A, B, C (one sum; bars left to right)"));
    assert!(all(&doc, "p", "nowaterfall").is_empty());

    // Swimmer: the legend explains the marks.
    let swimmer = text(all(&doc, "figure", "swimmer")[0]);
    for mark in [
        "progression that ends the best response",
        "progression not (yet) confirmed",
        "ongoing: nothing ended the count",
    ] {
        assert!(swimmer.contains(mark), "{mark}");
    }
    // Heatmaps name both criteria.
    let heatmaps = all(&doc, "figure", "heatmap");
    assert_eq!(heatmaps.len(), 3);
    assert!(text(heatmaps[0]).contains("A recist-1.1 (rows) × B irecist (columns)"));
}

#[test]
fn pet_criteria_chart_their_own_metric_and_one_without_says_why() {
    // PERCIST 1.0 charts the hottest SULpeak, imPERCIST5 the sum of the five hottest: each its
    // own waterfall, titled by its metric.
    let r = report(
        "examples/pet-cohort.csv",
        &["recist-1.1", "percist-1.0", "impercist5"],
    );
    assert_eq!(r.criteria[1].charted.as_deref(), Some("hottest"));
    assert_eq!(r.criteria[2].charted.as_deref(), Some("sum5"));
    let html = report_html::render(&r);
    let doc = parse(&html);
    let waterfalls = all(&doc, "figure", "waterfall");
    let groups: Vec<_> = waterfalls
        .iter()
        .map(|w| w.attribute("data-criteria").unwrap())
        .collect();
    assert_eq!(groups, ["A", "B", "C"]);
    assert!(text(waterfalls[1]).contains("Waterfall — B: best change of hottest"));
    assert!(text(waterfalls[2]).contains("Waterfall — C: best change of sum5"));
    assert!(all(&doc, "p", "nowaterfall").is_empty());
    // Each ruleset's own thresholds as reference lines: RECIST 1.1 −30 % / +20 % (Eisenhauer
    // 2009), PERCIST −30 % / +30 % (Wahl 2009), imPERCIST5 the same on its sum (Ito 2019).
    assert_eq!(reference_lines(waterfalls[0]), ["-30 %", "+20 %"]);
    assert_eq!(reference_lines(waterfalls[1]), ["-30 %", "+30 %"]);
    assert!(text(waterfalls[1])
        .contains("Dashed lines: −30 % (pmr_decrease) and +30 % (pmd_increase)."));
    assert_eq!(reference_lines(waterfalls[2]), ["-30 %", "+30 %"]);
    // M03: the hottest lesion rose from 9.1 to 12.6 SUL at week 8 (+38.5 %), a PMD that ends
    // PERCIST's best response.
    let m03 = r.subjects.iter().find(|s| s.subject == "M03").unwrap();
    let o = m03.outcome(1).unwrap();
    let change = o.timepoints[0].change.unwrap();
    assert!((change - 38.46).abs() < 0.01, "{change}");
    assert!(o.timepoints[0].ends);

    // Lugano PET scores lesions on the Deauville scale: no number to chart, and it says so.
    let r = report("examples/library-cohort.csv", &["recist-1.1", "lugano-pet"]);
    let html = report_html::render(&r);
    let doc = parse(&html);
    let waterfalls = all(&doc, "figure", "waterfall");
    assert_eq!(waterfalls.len(), 1);
    assert_eq!(waterfalls[0].attribute("data-criteria"), Some("A"));
    let why = all(&doc, "p", "nowaterfall");
    assert_eq!(why.len(), 1);
    assert!(text(why[0]).starts_with("No waterfall for B lugano-pet"));
}

#[test]
fn large_cohorts_drill_into_the_subjects_that_differ_first() {
    let cohort = table::read_path("examples/recist-cohort.csv").expect("reads");
    let specs: Vec<_> = ["recist-1.1", "recist-1.1[pd_increase=25%]"]
        .iter()
        .map(|c| compare::parse_spec(c).unwrap())
        .collect();
    let opts = compare::Options {
        explain: Explain::Selected(2),
        ..Default::default()
    };
    let r = compare::build_with(&specs, &cohort, &opts).expect("builds");
    // P04 (timepoints differ) first, then P01, the first of the others.
    let explained: Vec<&str> = r
        .subjects
        .iter()
        .filter(|s| s.outcome(0).is_some_and(|o| o.explanation.is_some()))
        .map(|s| s.subject.as_str())
        .collect();
    assert_eq!(explained, ["P01", "P04"]);
    assert_eq!(compare::select(&r.subjects, 2), [0, 3]);
}

#[test]
fn bidimensional_criteria_chart_their_sum_of_products() {
    // WHO, irRC, RANO and Lugano CT name their sum of products with `chart`: each gets a
    // waterfall on the library cohort instead of "nothing to chart".
    let r = report(
        "examples/library-cohort.csv",
        &["who", "irrc", "rano", "lugano-ct"],
    );
    let charted: Vec<_> = r.criteria.iter().map(|c| c.charted.as_deref()).collect();
    assert_eq!(
        charted,
        [Some("spd"), Some("burden"), Some("spd"), Some("spd")]
    );
    let html = report_html::render(&r);
    let doc = parse(&html);
    assert!(all(&doc, "p", "nowaterfall").is_empty());
    let waterfalls = all(&doc, "figure", "waterfall");
    let groups: Vec<_> = waterfalls
        .iter()
        .map(|w| w.attribute("data-criteria").unwrap())
        .collect();
    // WHO, RANO and Lugano CT read one sum of products and share a waterfall; irRC's burden
    // also counts new measurable lesions.
    assert_eq!(groups, ["A C D", "B"]);
    assert!(text(waterfalls[0]).contains("best change of spd"));
    // WHO and RANO: PR −50 %, PD +25 % of the sum of products (Miller 1981, Wen 2010); Lugano
    // CT judges PD lesion by lesion, so only its PR line; irRC the same as WHO on its burden.
    assert_eq!(reference_lines(waterfalls[0]), ["-50 %", "+25 % (A C)"]);
    assert!(text(waterfalls[0]).contains("D −50 % (pr_decrease)."));
    assert_eq!(reference_lines(waterfalls[1]), ["-50 %", "+25 %"]);
    assert!(text(waterfalls[1]).contains("Waterfall — B: best change of burden"));
    // R01: products 40×30 + 30×20 = 1800 mm² at baseline; 24×18 + 18×12 = 648 mm² at week 8
    // (−64 %), 20×15 + 15×10 = 450 mm² at week 16 (−75 %), 18×12 + 12×8 = 312 mm² at week 24.
    let r01 = r.subjects.iter().find(|s| s.subject == "R01").unwrap();
    for i in 0..4 {
        let change: Vec<_> = r01
            .outcome(i)
            .unwrap()
            .timepoints
            .iter()
            .map(|t| t.change.unwrap())
            .collect();
        assert_eq!(change.len(), 3, "criterion {i}");
        assert!((change[0] + 64.0).abs() < 1e-9, "criterion {i}: {change:?}");
        assert!((change[1] + 75.0).abs() < 1e-9, "criterion {i}: {change:?}");
        assert!(
            (change[2] + 82.667).abs() < 1e-3,
            "criterion {i}: {change:?}"
        );
    }
}

#[test]
fn reference_lines_take_the_values_in_effect_and_a_ruleset_without_any_says_so() {
    // `ID[name=value]` (and `--set`, which becomes the same override) moves the line: the two
    // variants share one sum, so one waterfall with both PD lines, each naming its criterion.
    let r = report(
        "examples/recist-cohort.csv",
        &["recist-1.1", "recist-1.1[pd_increase=25%,pr_decrease=35%]"],
    );
    assert_eq!(
        r.criteria[1].lines,
        [
            ("pr_decrease".to_string(), -35.0),
            ("pd_increase".to_string(), 25.0)
        ]
    );
    let html = report_html::render(&r);
    let doc = parse(&html);
    let waterfalls = all(&doc, "figure", "waterfall");
    assert_eq!(waterfalls.len(), 1);
    assert_eq!(
        reference_lines(waterfalls[0]),
        ["-35 % (B)", "-30 % (A)", "+20 % (A)", "+25 % (B)"]
    );
    assert!(text(waterfalls[0]).contains(
        "Dashed lines: A −30 % (pr_decrease) and +20 % (pd_increase); B −35 % (pr_decrease) and +25 % (pd_increase)."
    ));

    // A ruleset whose `chart` names no lines gets none, and the caption says so.
    let r = report(
        "examples/recist-cohort.csv",
        &["tests/data/chart-without-lines.crit"],
    );
    let html = report_html::render(&r);
    let doc = parse(&html);
    let waterfalls = all(&doc, "figure", "waterfall");
    assert_eq!(reference_lines(waterfalls[0]), Vec::<String>::new());
    assert!(
        text(waterfalls[0]).contains("No reference lines: the ruleset names no params for them")
    );
}
