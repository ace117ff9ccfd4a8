//! The relayer's data flows one way, checked from the source's own `use` lines and `crate::`
//! paths (no build needed to see it):
//!
//! ```text
//! foundation (config, store, ctx, validate, metrics, forms, …)
//!   ← intake ← ingresses (api: HTTP, noise)
//!   ← batcher (batch, claims, tables) ← submit ← reconcile
//!   ← wiring (service, demo, local, main)
//! ```
//!
//! * a module imports only modules of its own layer or below it: no stage imports a later
//!   stage, no stage and no foundation module imports the wiring;
//! * no import cycle spans more than two files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layer of each top-level module of `relayer/src` (higher = later).
fn layer(module: &str) -> Option<u32> {
    Some(match module {
        "addresses" | "arcium" | "breaker" | "chain_rules" | "config" | "ctx" | "error"
        | "fault" | "forms" | "funds" | "logging" | "metrics" | "reads" | "recipients"
        | "refusal" | "store" | "validate" | "watcher" | "now_ms" | "RelayerError" => 0,
        "intake" => 10,
        "api" | "noise" => 11,
        "batch" | "claims" | "tables" => 20,
        "submit" => 30,
        "reconcile" => 40,
        "service" | "demo" | "local" | "main" | "Relayer" | "RelayerHandle" => 100,
        _ => return None,
    })
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every source file of the library (not the benchmark binary, not unit-test folders).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name != "bin" && name != "tests" {
                files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `src/a/b.rs` → `[a, b]`, `src/a/mod.rs` → `[a]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// The file a module path (or a longest prefix of it) lives in.
fn file_of(path: &[String]) -> Option<PathBuf> {
    for n in (1..=path.len()).rev() {
        let base = path[..n].iter().fold(src(), |p, s| p.join(s));
        for f in [base.with_extension("rs"), base.join("mod.rs")] {
            if f.is_file() {
                return Some(f);
            }
        }
    }
    None
}

/// Expands one `use` tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or("").trim().to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |e| format!("{prefix}{e}")))
        .collect()
}

/// The module paths `file` refers to: `use` trees and inline `crate::…` paths, outside
/// comments.
fn imports(file: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let here = module_of(file);
    let mut out = Vec::new();
    let mut push = |path: &str| {
        let segs: Vec<&str> = path.split("::").map(str::trim).collect();
        let resolved: Vec<String> = match segs.first() {
            Some(&"crate") => segs[1..].iter().map(|s| s.to_string()).collect(),
            Some(&"super") => {
                let mut base = here.clone();
                let mut rest = &segs[..];
                while rest.first() == Some(&"super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().map(|s| s.to_string()));
                base
            }
            _ => return,
        };
        let resolved: Vec<String> = resolved
            .into_iter()
            .filter(|s| !s.is_empty() && s != "self" && s != "*")
            .collect();
        if !resolved.is_empty() {
            out.push(resolved);
        }
    };
    for stmt in code.split(';') {
        let stmt = stmt.trim();
        let body = stmt
            .strip_prefix("pub use ")
            .or_else(|| stmt.strip_prefix("pub(crate) use "))
            .or_else(|| stmt.strip_prefix("use "));
        if let Some(body) = body {
            for p in expand(&body.split_whitespace().collect::<Vec<_>>().join(" ")) {
                push(&p);
            }
        }
    }
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        push(tail[..end].trim_end_matches(':'));
        rest = &tail[end..];
    }
    out
}

/// The parser sees what the code imports (so the checks below cannot pass by seeing nothing).
#[test]
fn the_import_reader_sees_use_trees_and_inline_paths() {
    assert_eq!(
        expand("crate::{a::B, c::{d, e as f}}"),
        vec!["crate::a::B", "crate::c::d", "crate::c::e"]
    );
    let submit = imports(&src().join("submit.rs"));
    assert!(submit.iter().any(|p| p[0] == "batch"), "{submit:?}");
    assert!(submit.iter().any(|p| p[0] == "ctx"), "{submit:?}");
    let reconcile = imports(&src().join("reconcile.rs"));
    assert!(reconcile.iter().any(|p| p[0] == "submit"), "{reconcile:?}");
    let writes = imports(&src().join("store/postgres/writes.rs"));
    assert!(
        writes
            .iter()
            .any(|p| p[..2] == ["store".to_string(), "postgres".to_string()]),
        "super:: paths resolve: {writes:?}"
    );
}

#[test]
fn stages_import_only_what_lies_below_them() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    assert!(all.len() > 30, "found only {} files", all.len());
    let mut wrong = Vec::new();
    for file in &all {
        let here = module_of(file);
        let Some(top) = here.first() else { continue };
        let Some(own) = layer(top) else {
            wrong.push(format!("{}: module `{top}` has no layer", file.display()));
            continue;
        };
        for path in imports(file) {
            let Some(layer_of) = layer(&path[0]) else {
                wrong.push(format!(
                    "{}: imports `{}` of no layer",
                    file.display(),
                    path[0]
                ));
                continue;
            };
            if layer_of > own {
                wrong.push(format!(
                    "{} (layer {own}) imports {} (layer {layer_of})",
                    file.display(),
                    path.join("::")
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the flow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_import_cycle_spans_more_than_two_files() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in &all {
        let edges = graph.entry(file.clone()).or_default();
        for path in imports(file) {
            if let Some(to) = file_of(&path) {
                if &to != file && !to.ends_with("lib.rs") {
                    edges.insert(to);
                }
            }
        }
    }
    // Strongly connected components (Tarjan).
    struct T<'a> {
        g: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on: BTreeSet<&'a PathBuf>,
        next: usize,
        out: Vec<Vec<&'a PathBuf>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a PathBuf) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        let g = t.g;
        for w in g.get(v).into_iter().flatten() {
            if !g.contains_key(w) {
                continue;
            }
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            t.out.push(scc);
        }
    }
    let mut t = T {
        g: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    let big: Vec<String> = t
        .out
        .iter()
        .filter(|c| c.len() > 2)
        .map(|c| {
            c.iter()
                .map(|p| p.strip_prefix(src()).unwrap_or(p).display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    assert!(
        big.is_empty(),
        "import cycles of more than two files:\n{}",
        big.join("\n")
    );
}
