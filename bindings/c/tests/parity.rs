//! Parity between the core and its faces: every public operation of the core
//! is listed in `parity.toml` (with its C and Python names) or explicitly not
//! exposed, no entry names an operation the core no longer has, and every C
//! name listed is declared in `include/agentsession.h`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Types whose `pub fn`s (in inherent `impl` blocks) are operations.
const TYPES: [&str; 11] = [
    "Store",
    "Recorder",
    "Player",
    "Lock",
    "Queue",
    "ActionButtonsStore",
    "Search",
    "Follow",
    "FollowStopper",
    "AuxiliarySession",
    "TitleWorker",
];

/// Modules whose top-level `pub fn`s are operations: (file, or directory
/// ending in `/`, under src/; module name).
const MODULES: [(&str, &str); 5] = [
    ("player.rs", "player"),
    ("migrate.rs", "migrate"),
    ("runtime.rs", "runtime"),
    ("auxiliary/mod.rs", "auxiliary"),
    ("acp/", "acp"),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Parity {
    op: Vec<Op>,
    not_exposed: Vec<NotExposed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Op {
    rust: String,
    c: String,
    python: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotExposed {
    rust: String,
    reason: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The name a `pub fn` line declares.
fn fn_name(rest: &str) -> &str {
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The type an inherent `impl` header line names (`impl Store {`,
/// `impl<T> Registry<T> {`); `None` for trait impls and other lines.
fn impl_type(line: &str) -> Option<&str> {
    let head = line.strip_prefix("impl")?.strip_suffix('{')?.trim_end();
    if head.contains(" for ") {
        return None;
    }
    let mut head = head.trim_start();
    if head.starts_with('<') {
        let close = head.find("> ")?;
        head = &head[close + 2..];
    }
    let name = head.split('<').next()?.rsplit("::").next()?.trim();
    Some(name)
}

/// Every public operation of the core, as `Type::method` or `module::function`.
fn core_operations() -> BTreeSet<String> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut ops = BTreeSet::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let module = MODULES
            .iter()
            .find(|(f, _)| *f == rel || (f.ends_with('/') && rel.starts_with(f)))
            .map(|(_, m)| *m);
        let mut current: Option<&str> = None;
        let text = fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            if let Some(ty) = impl_type(line) {
                current = TYPES.iter().copied().find(|t| *t == ty);
            } else if line == "}" {
                current = None;
            } else if let (Some(ty), Some(rest)) = (current, line.strip_prefix("    pub fn ")) {
                ops.insert(format!("{ty}::{}", fn_name(rest)));
            } else if let (Some(m), Some(rest)) = (module, line.strip_prefix("pub fn ")) {
                ops.insert(format!("{m}::{}", fn_name(rest)));
            }
        }
    }
    ops
}

fn parity() -> Parity {
    let text = fs::read_to_string(root().join("parity.toml")).unwrap();
    toml::from_str(&text).expect("parity.toml parses")
}

#[test]
fn the_scan_finds_the_known_operations() {
    let ops = core_operations();
    for op in [
        "Store::append_event",
        "Recorder::record_plan",
        "Player::seek",
        "Queue::pop",
        "ActionButtonsStore::set",
        "player::last_agent_message",
        "auxiliary::prompt",
        "migrate::migrate",
    ] {
        assert!(ops.contains(op), "{op} not found by the scan");
    }
    assert!(!ops.contains("Store::with_session"), "pub(crate) counted");
    assert_eq!(impl_type("impl Iterator for Search {"), None);
    assert_eq!(
        impl_type("impl<T: Default> Registry<T> {"),
        Some("Registry")
    );
}

#[test]
fn every_core_operation_is_listed() {
    let ops = core_operations();
    let parity = parity();
    let mut listed = BTreeSet::new();
    for name in parity
        .op
        .iter()
        .map(|o| &o.rust)
        .chain(parity.not_exposed.iter().map(|n| &n.rust))
    {
        assert!(listed.insert(name.clone()), "{name} is listed twice");
    }
    let missing: Vec<_> = ops.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "public core operations missing from parity.toml (add a C function, or a \
         [[not_exposed]] entry with the reason): {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&ops).collect();
    assert!(
        stale.is_empty(),
        "parity.toml names operations the core does not have: {stale:?}"
    );
    for n in &parity.not_exposed {
        assert!(!n.reason.trim().is_empty(), "{} has no reason", n.rust);
    }
    for o in &parity.op {
        assert!(!o.python.is_empty(), "{} has no Python name", o.rust);
    }
}

#[test]
fn every_c_name_is_in_the_header() {
    let header = fs::read_to_string(root().join("include/agentsession.h")).unwrap();
    let missing: Vec<_> = parity()
        .op
        .iter()
        .filter(|o| !header.contains(&format!(" {}(", o.c)))
        .map(|o| format!("{} -> {}", o.rust, o.c))
        .collect();
    assert!(
        missing.is_empty(),
        "C functions missing from the header: {missing:?}"
    );
}
