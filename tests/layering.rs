//! The library's layers, checked against the map in DESIGN.md §7.
//!
//! Every `crate::…` path in `src/` (outside `src/bin/`, comments left out) is an arrow from the
//! file's top-level module to the module it names. Each arrow must point to a lower floor of
//! the table in DESIGN.md §7, which makes cycles between top-level modules impossible, and
//! the files inside one module must not form a circle either (a parent and its own child
//! files excepted: `mod.rs` declares them). The table is read from DESIGN.md, so the map a
//! newcomer reads and the code cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The floors of DESIGN.md §7: the lines of its `floors` block, `N  module module …`.
fn floors() -> BTreeMap<String, usize> {
    let design = std::fs::read_to_string(root().join("DESIGN.md")).expect("DESIGN.md");
    let block = design
        .split("```floors\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("DESIGN.md §7 has a ```floors block");
    let mut floors = BTreeMap::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let floor: usize = words
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("DESIGN.md floors: line {line:?} starts without a number"));
        for module in words.take_while(|w| !w.starts_with('#')) {
            assert!(
                floors.insert(module.to_string(), floor).is_none(),
                "DESIGN.md floors: {module} is on two floors"
            );
        }
    }
    floors
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's text with comments, string and character literals blanked, so doc links and
/// messages are not arrows.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i - 1] == '*' && chars[i] == '/') {
                i += 1;
            }
            i += 1;
        } else if c == 'r'
            && (i == 0 || !ident(chars[i - 1]))
            && matches!(next, Some('"' | '#'))
            && chars[i + 1..].iter().find(|c| **c != '#') == Some(&'"')
        {
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            i += 2 + hashes;
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while i < chars.len() && !chars[i..].starts_with(&close) {
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The paths a piece of code names after `prefix` (`crate::` or `super::`): `a::b::C` gives
/// `["a", "b", "C"]`, and a group `{a::b, c}` gives one path per member.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    fn path(text: &str) -> (Vec<String>, &str) {
        let mut segments = Vec::new();
        let mut rest = text;
        loop {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end == 0 {
                break;
            }
            segments.push(rest[..end].to_string());
            rest = &rest[end..];
            match rest.strip_prefix("::") {
                Some(after) if !after.starts_with('{') => rest = after,
                _ => break,
            }
        }
        (segments, rest)
    }
    fn group(text: &str, base: &[String], out: &mut Vec<Vec<String>>) -> usize {
        // `text` starts just after `{`; returns how many bytes were read up to the `}`.
        let mut at = 0;
        loop {
            let rest = text[at..].trim_start();
            at = text.len() - rest.len();
            if rest.starts_with('}') || rest.is_empty() {
                return at + 1;
            }
            let (segments, after) = path(rest);
            at = text.len() - after.len();
            let mut full = base.to_vec();
            full.extend(segments);
            if let Some(inner) = after.strip_prefix("::{") {
                at += 3 + group(inner, &full, out);
            } else {
                out.push(full);
            }
            let rest = &text[at..];
            let skipped = rest.find([',', '}']).unwrap_or(rest.len());
            at += skipped;
            if text[at..].starts_with(',') {
                at += 1;
            }
        }
    }
    let mut out = Vec::new();
    for (start, _) in code.match_indices(prefix) {
        let before = code[..start].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let after = &code[start + prefix.len()..];
        if let Some(inner) = after.strip_prefix('{') {
            group(inner, &[], &mut out);
        } else {
            let (segments, rest) = path(after);
            if let Some(inner) = rest.strip_prefix("::{") {
                group(inner, &segments, &mut out);
            } else if !segments.is_empty() {
                out.push(segments);
            }
        }
    }
    out
}

/// A module's path as `a` or `a::b`: the top-level module and, below it, the file.
struct Modules {
    /// Every module path that is a file of its own, `a` and `a::b` (deeper files count as
    /// their second-level ancestor).
    known: BTreeSet<String>,
}

impl Modules {
    fn of_file(path: &Path) -> Vec<String> {
        let relative = path.strip_prefix(root().join("src")).unwrap();
        let mut parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        parts
    }

    /// The deepest known module (at most two levels) a path from the crate root names.
    fn resolve(&self, path: &[String]) -> Option<String> {
        let top = path.first()?;
        let two = path.get(1).map(|second| format!("{top}::{second}"));
        match two {
            Some(two) if self.known.contains(&two) => Some(two),
            _ if self.known.contains(top) => Some(top.clone()),
            _ => None,
        }
    }
}

struct Graph {
    /// Arrows between top-level modules, each with a file that draws it.
    top: BTreeMap<(String, String), String>,
    /// Arrows between the files (second-level modules) of one top-level module.
    inner: BTreeMap<(String, String), String>,
}

fn graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files.retain(|f| !f.starts_with(root().join("src/bin")) && !f.ends_with("src/lib.rs"));
    let modules = Modules {
        known: files
            .iter()
            .map(|f| Modules::of_file(f))
            .flat_map(|parts| {
                let top = parts[0].clone();
                let second = parts.get(1).map(|s| format!("{top}::{s}"));
                std::iter::once(top).chain(second)
            })
            .collect(),
    };
    let mut graph = Graph {
        top: BTreeMap::new(),
        inner: BTreeMap::new(),
    };
    for file in &files {
        let parts = Modules::of_file(file);
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        let here = modules.resolve(&parts).unwrap();
        let shown = file.strip_prefix(root()).unwrap().display().to_string();
        let mut targets: Vec<Vec<String>> = paths_after(&code, "crate::");
        // `super::x` from `a/b.rs` is `a::x`; from `a/b/mod.rs` or `a/b/c.rs`, deeper than
        // the files this check compares, it stays inside `a::b`.
        if parts.len() == 2 {
            for path in paths_after(&code, "super::") {
                let mut full = vec![parts[0].clone()];
                full.extend(path);
                targets.push(full);
            }
        }
        for target in targets {
            let Some(there) = modules.resolve(&target) else {
                continue;
            };
            let (from_top, to_top) = (&parts[0], &target[0]);
            if from_top != to_top {
                graph
                    .top
                    .entry((from_top.clone(), to_top.clone()))
                    .or_insert_with(|| shown.clone());
            } else if here.contains("::") && there.contains("::") && here != there {
                graph
                    .inner
                    .entry((here.clone(), there))
                    .or_insert_with(|| shown.clone());
            }
        }
    }
    graph
}

#[test]
fn every_arrow_between_modules_points_to_a_lower_floor() {
    let floors = floors();
    let graph = graph();
    let mut wrong = Vec::new();
    let mut tops: BTreeSet<&String> = BTreeSet::new();
    for ((from, to), file) in &graph.top {
        tops.insert(from);
        tops.insert(to);
        match (floors.get(from), floors.get(to)) {
            (Some(a), Some(b)) if a > b => {}
            (Some(a), Some(b)) => {
                wrong.push(format!("{from} (floor {a}) → {to} (floor {b}), in {file}"))
            }
            _ => wrong.push(format!(
                "{from} → {to} ({file}): a module missing from DESIGN.md's floors"
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows that do not point down:\n{}",
        wrong.join("\n")
    );
    // The check must see the arrows it judges: the store uses records, fetch uses sources.
    assert!(graph.top.contains_key(&("store".into(), "record".into())));
    assert!(graph.top.contains_key(&("fetch".into(), "source".into())));
}

#[test]
fn the_library_docs_put_each_module_on_the_floor_design_md_gives() {
    // lib.rs's `//! - floor N: [`module`] …` lines, a bullet's continuation lines included.
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("src/lib.rs");
    let mut documented = BTreeMap::new();
    let mut floor = None;
    for line in lib.lines().map_while(|line| line.strip_prefix("//!")) {
        if let Some(rest) = line.trim_start().strip_prefix("- floor ") {
            let (number, _) = rest.split_once(':').expect("`- floor N:`");
            floor = Some(number.parse::<usize>().expect("a floor number"));
        } else if !line.starts_with("   ") {
            floor = None;
        }
        let Some(floor) = floor else { continue };
        for module in line.split("[`").skip(1) {
            let module = module.split_once("`]").expect("a [`module`] link").0;
            documented.insert(module.to_string(), floor);
        }
    }
    assert_eq!(
        documented,
        floors(),
        "src/lib.rs's floors against DESIGN.md §7's"
    );
}

#[test]
fn the_lowest_modules_import_nothing_that_reads_judges_or_finds_mail() {
    let graph = graph();
    let low = ["record", "email", "store", "config"];
    let high = ["fetch", "source", "search", "privacy", "thread", "keys"];
    let found: Vec<String> = graph
        .top
        .iter()
        .filter(|((from, to), _)| low.contains(&from.as_str()) && high.contains(&to.as_str()))
        .map(|((from, to), file)| format!("{from} → {to} ({file})"))
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn no_files_of_one_module_import_each_other_in_a_circle() {
    let graph = graph();
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in graph.inner.keys() {
        next.entry(from).or_default().push(to);
    }
    // A depth-first walk from every file; meeting a file on the current path is a circle.
    fn walk<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node);
            return Some(circle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for to in next.get(node).into_iter().flatten() {
            if let Some(circle) = walk(to, next, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in next.keys() {
        if let Some(circle) = walk(node, &next, &mut Vec::new(), &mut done) {
            panic!("a circle of imports: {}", circle.join(" → "));
        }
    }
}

#[test]
fn the_reader_sees_groups_and_skips_comments() {
    let code = code_only(
        "use crate::{a::{b, c::D}, e};\n// crate::f\n/* crate::g */ let s = \"crate::h\"; crate::i::J",
    );
    let found: Vec<String> = paths_after(&code, "crate::")
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(found, ["a::b", "a::c::D", "e", "i::J"]);
}
