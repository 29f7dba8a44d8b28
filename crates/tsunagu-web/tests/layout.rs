//! The web crate's layout is its architecture: one folder per capability
//! under `src/`, each owning its routes, API handlers and pages, and `base/`
//! under them all. These checks read the source tree and hold the
//! invariants `docs/ARCHITECTURE.md` states:
//!
//! - no capability names another (`crate::<other>` anywhere in its folder);
//! - `base` names no capability, nor what `lib.rs` defines;
//! - the words (`i18n*.rs`, `i18n/`) name no capability;
//! - every capability has `routes()` in its `mod.rs`, and `lib.rs` merges it;
//!   likewise `openapi()`, its part of the API's description.
//!
//! So the crate has no import circle: `lib.rs` → capabilities → `base` →
//! words, and nothing points back up.

// A test reading files: a missing file is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Folders under `src/` that are not capabilities: what they all share, and
/// the words (should they grow a folder of their own).
const NOT_CAPABILITIES: [&str; 2] = ["base", "i18n"];

/// The folders under `src/` other than `base` and `i18n`: the capabilities.
fn capabilities() -> Vec<String> {
    let mut caps: Vec<String> = fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| !NOT_CAPABILITIES.contains(&n.as_str()))
        .collect();
    caps.sort();
    caps
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The first path segments a file names after `crate::`, including each
/// name in a `crate::{a, b::c}` group.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // A group: the first segment of each comma-separated entry at depth 0.
            let mut depth = 0;
            let mut entry_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => entry_start = true,
                    c if c.is_whitespace() => {}
                    _ if entry_start => {
                        names.insert(ident(&group[j..]));
                        entry_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            names.insert(ident(rest));
        }
    }
    names.remove("");
    names
}

fn rel(path: &Path) -> String {
    path.strip_prefix(src()).unwrap().display().to_string()
}

#[test]
fn the_scanner_sees_plain_paths_and_groups() {
    let found =
        crate_paths("use crate::base::x;\nuse crate::{timeline, care::y, base::{a, b}};\nfoo(crate::meetings::z)");
    let want: BTreeSet<String> = ["base", "care", "meetings", "timeline"].iter().map(|s| s.to_string()).collect();
    assert_eq!(found, want);
}

#[test]
fn the_capabilities_are_the_folders_the_architecture_names() {
    assert_eq!(
        capabilities(),
        [
            "accounts",
            "care",
            "chat",
            "classes",
            "meetings",
            "postpartum",
            "records",
            "reminders",
            "reports",
            "screening",
            "signin",
            "timeline"
        ],
        "a new capability folder: add it to docs/ARCHITECTURE.md and to this list"
    );
}

#[test]
fn no_capability_names_another() {
    let caps = capabilities();
    let mut failures = Vec::new();
    for cap in &caps {
        for file in rust_files(&src().join(cap)) {
            let text = fs::read_to_string(&file).unwrap();
            for name in crate_paths(&text) {
                if name != *cap && caps.contains(&name) {
                    failures.push(format!("{} names crate::{name}", rel(&file)));
                }
            }
            if text.contains("super::super") || text.contains("#[path") {
                failures.push(format!("{} reaches out of its folder another way", rel(&file)));
            }
        }
    }
    assert!(failures.is_empty(), "a capability imports another:\n{}", failures.join("\n"));
}

#[test]
fn base_names_no_capability_nor_the_crate_root() {
    let caps = capabilities();
    // What lib.rs defines or re-exports; base reaching for it would be a circle.
    let root_items = ["router", "AppState", "WebConfig"];
    let mut failures = Vec::new();
    for file in rust_files(&src().join("base")) {
        let text = fs::read_to_string(&file).unwrap();
        for name in crate_paths(&text) {
            if caps.contains(&name) || root_items.contains(&name.as_str()) {
                failures.push(format!("{} names crate::{name}", rel(&file)));
            }
        }
    }
    assert!(failures.is_empty(), "base must stay under every capability:\n{}", failures.join("\n"));
}

#[test]
fn the_words_name_no_capability() {
    let caps = capabilities();
    let mut failures = Vec::new();
    let mut words: Vec<PathBuf> = fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "rs"))
        .filter(|p| p.file_name().is_some_and(|n| n != "lib.rs"))
        .collect();
    if src().join("i18n").is_dir() {
        words.extend(rust_files(&src().join("i18n")));
    }
    for file in words {
        let text = fs::read_to_string(&file).unwrap();
        for name in crate_paths(&text) {
            if caps.contains(&name) {
                failures.push(format!("{} names crate::{name}", rel(&file)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_capability_has_routes_and_lib_merges_them() {
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    for cap in capabilities() {
        let m = fs::read_to_string(src().join(&cap).join("mod.rs")).unwrap();
        assert!(m.contains("pub fn routes() -> Router<AppState>"), "{cap}/mod.rs has no routes()");
        assert!(lib.contains(&format!("pub mod {cap};")), "lib.rs does not declare {cap}");
        assert!(lib.contains(&format!(".merge({cap}::routes())")), "lib.rs does not merge {cap}::routes()");
        assert!(m.contains("pub fn openapi() -> utoipa::openapi::OpenApi"), "{cap}/mod.rs has no openapi()");
        assert!(lib.contains(&format!("{cap}::openapi(),")), "lib.rs does not merge {cap}::openapi()");
    }
}

/// A caller's request reaches a person's data only through a policy
/// decision (`Requester::allowed`); the bypass for the service's own jobs
/// is used at the edge only for the sign-in line, which is about no person.
#[test]
fn the_bypass_of_the_policy_is_used_only_by_sign_in() {
    let mut found = Vec::new();
    for file in rust_files(&src()) {
        let text = fs::read_to_string(&file).unwrap();
        if text.contains("without_a_policy_decision") {
            found.push(file.strip_prefix(src()).unwrap().to_string_lossy().into_owned());
        }
    }
    assert_eq!(found, vec!["signin/mod.rs".to_owned()], "the bypass is used in {found:?}");
}

/// What a role may do is the policy's: the edge asks `authorize`/`permit`
/// (or a `Chrome::can_*` that asks it) rather than matching on a role. The
/// files below name `Role::` for what is not an access, each saying why
/// beside it: the landing page per role, the role a questionnaire's
/// definition says fills it in, and the role of an account being made
/// (checked as input, offered as the form's choices; a chat parent's account
/// made when an invitation is taken up); and the words' test, which wants a label for every role.
#[test]
fn roles_are_named_only_where_they_are_not_an_access() {
    const ALLOWED: [&str; 6] = [
        "accounts/mod.rs",
        "accounts/pages.rs",
        "chat/mod.rs",
        "i18n/tests.rs",
        "records/pages.rs",
        "screening/mod.rs",
    ];
    let mut found = Vec::new();
    for file in rust_files(&src()) {
        let text = fs::read_to_string(&file).unwrap();
        if text.contains("Role::") {
            found.push(rel(&file));
        }
    }
    found.sort();
    let strays: Vec<&String> = found.iter().filter(|f| !ALLOWED.contains(&f.as_str())).collect();
    assert!(strays.is_empty(), "`Role::` decides something in {strays:?}: ask the policy instead");
}

/// No page decides what to show by a role's name: a template asks the
/// handler's flags or a `Chrome::can_*` (the policy), never `chrome.is(..)`
/// or a role compared as text (#9).
#[test]
fn no_template_tests_a_role_by_name() {
    let dir = src().parent().map(|p| p.join("templates")).unwrap_or_default();
    let mut found = vec![];
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            let by_name = line.contains("chrome.is(")
                || line.contains("chrome.role")
                || ["\"nurse\"", "\"family_member\"", "\"admin\"", "\"analyst\"", "\"coordinator\""]
                    .iter()
                    .any(|r| line.contains(&format!("== {r}")) || line.contains(&format!("({r})")));
            if by_name {
                found.push(format!("{}:{}", path.display(), i + 1));
            }
        }
    }
    assert!(!dir.as_os_str().is_empty() && found.is_empty(), "a template tests a role by name: {found:#?}");
}
