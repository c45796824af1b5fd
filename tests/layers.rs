//! The library's modules form layers: no import cycle between its top-level modules (`config`,
//! `data`, `models`, `run`, `eval`, `train`, ...), so each can be read, tested and replaced from the
//! bottom up. Read from the source text: every `crate::MODULE` a file names outside its tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level module a file under src/ belongs to (`src/models/vae/step.rs` -> `models`).
fn module_of(path: &Path, src: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules `text` names as `crate::NAME`, comments and the test module left out.
fn imports(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            found.insert(name);
        }
    }
    found
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_library_has_no_import_cycle_between_its_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    // The command line (the binary) sits on top of everything; lib.rs only declares modules.
    let skip = ["cli", "main", "lib", "testing"];
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &all {
        let from = module_of(path, &src);
        if skip.contains(&from.as_str()) {
            continue;
        }
        let deps = imports(&std::fs::read_to_string(path).unwrap());
        graph.entry(from.clone()).or_default().extend(deps.into_iter().filter(|d| *d != from));
    }
    // Depth-first search for a back edge; the path to it is the cycle.
    fn visit(m: &str, graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle between modules: {}", cycle.join(" -> "));
        }
    }
    assert!(graph.len() > 10, "read {} modules: the walk found the source", graph.len());
    // What depends on what, for the record: the run directory sits below evaluation and training.
    assert!(!graph["run"].contains("train") && !graph["eval"].contains("train") && !graph["eval"].contains("models") && !graph["config"].contains("models"), "{graph:?}");
}
