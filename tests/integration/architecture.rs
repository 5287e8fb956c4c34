//! The host's rooms stay untied: within each crate under `host/`, no module
//! imports another in a circle (re-exports and `mod` declarations are not
//! imports; test modules are left out). Crates cannot form cycles at all:
//! cargo refuses them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::workspace;

/// Every module of a crate (`""` for its root), by its file.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut name = rel.to_string_lossy().replace('\\', "/");
            if let Some(parent) = name.strip_suffix("/mod") {
                name = parent.to_string();
            }
            if name == "lib" || name == "main" {
                name.clear();
            }
            found.insert(name, path);
        }
    }
    found
}

/// The module a path names: the longest prefix that is a module.
fn resolve(modules: &BTreeMap<String, PathBuf>, parts: &[&str]) -> Option<String> {
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("/"))
        .find(|candidate| modules.contains_key(candidate))
}

fn is_declaration(line: &str) -> bool {
    let line = line.trim_start();
    let line = line
        .strip_prefix("pub(crate) ")
        .or_else(|| line.strip_prefix("pub "))
        .map(|rest| (rest, true))
        .unwrap_or((line, false));
    match line {
        (rest, _) if rest.starts_with("mod ") => true,
        (rest, public) => public && rest.starts_with("use "),
    }
}

/// Which modules each module imports.
fn imports(modules: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (module, path) in modules {
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap();
        let parent: Vec<&str> = module.split('/').filter(|p| !p.is_empty()).collect();
        let parent = &parent[..parent.len().saturating_sub(1)];
        let mut targets = BTreeSet::new();
        // One line of code, so that imports wrapped over lines read whole.
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//") && !is_declaration(l))
            .collect::<Vec<_>>()
            .join(" ");
        {
            let line = code.as_str();
            for (root, base) in [("crate::", &[][..]), ("super::", parent)] {
                for (at, _) in line.match_indices(root) {
                    let rest = &line[at + root.len()..];
                    // `a::b::{c, d::e}` names `a::b::c` and `a::b::d::e`.
                    let prefix_len = rest
                        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                        .unwrap_or(rest.len());
                    let (prefix, after) = rest.split_at(prefix_len);
                    let paths: Vec<String> = match after.strip_prefix('{') {
                        Some(group) => group
                            .split('}')
                            .next()
                            .unwrap_or_default()
                            .split(',')
                            .map(|item| format!("{prefix}{}", item.trim()))
                            .collect(),
                        None => vec![prefix.to_string()],
                    };
                    for path in &paths {
                        let parts: Vec<&str> = path
                            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                            .next()
                            .unwrap_or_default()
                            .split("::")
                            .filter(|p| !p.is_empty() && *p != "self")
                            .collect();
                        let full: Vec<&str> = base.iter().copied().chain(parts).collect();
                        if let Some(target) = resolve(modules, &full)
                            && target != *module
                            && !module.starts_with(&format!("{target}/"))
                        {
                            targets.insert(target);
                        }
                    }
                }
            }
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

/// A cycle through `start`, if there is one.
fn cycle_from(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in &edges[&node] {
            if next == start {
                return Some([path.clone(), vec![start.to_string()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn no_module_of_a_host_crate_imports_another_in_a_circle() {
    let host = workspace().join("host");
    let mut cycles = Vec::new();
    let mut crates = 0;
    for entry in std::fs::read_dir(&host).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        crates += 1;
        let modules = modules(&src);
        let edges = imports(&modules);
        for module in modules.keys() {
            if let Some(cycle) = cycle_from(&edges, module) {
                cycles.push(format!("{}: {}", src.display(), cycle.join(" -> ")));
            }
        }
    }
    assert!(crates >= 8, "the host's crates were not found under {}", host.display());
    assert!(
        cycles.is_empty(),
        "modules that import each other in a circle:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("room")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod room;\npub use a::A;\n").unwrap();
    std::fs::write(
        src.join("a.rs"),
        "use crate::room::{door::Door, self};\npub struct A;\n",
    )
    .unwrap();
    std::fs::write(src.join("room/mod.rs"), "pub(crate) mod door;\n").unwrap();
    std::fs::write(src.join("room/door.rs"), "use crate::a::A;\npub struct Door;\n").unwrap();
    let modules = modules(&src);
    let edges = imports(&modules);
    assert_eq!(
        edges["a"],
        BTreeSet::from(["room".to_string(), "room/door".to_string()]),
        "a group wrapped over lines, `self` included"
    );
    assert!(cycle_from(&edges, "a").is_some(), "{edges:?}");
    assert!(edges[""].is_empty(), "declarations and re-exports are not imports");
}
