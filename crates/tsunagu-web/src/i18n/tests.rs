//! The words' files against the code: every file parses, both languages
//! have the same keys, every key used exists and every key is used.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::*;

const LANGS: [Lang; 2] = [Lang::Ja, Lang::En];

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` whose name ends with one of `exts`, with its text.
fn files_under(dir: &Path, exts: &[&str]) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if exts.iter().any(|ext| path.extension().is_some_and(|e| e == *ext)) {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path, text));
            }
        }
    }
    assert!(!found.is_empty(), "nothing found under {}", dir.display());
    found
}

/// The web crate's Rust sources, without this module's (the words are not
/// used by being listed here).
fn web_sources() -> Vec<(PathBuf, String)> {
    let i18n = crate_dir().join("src/i18n");
    files_under(&crate_dir().join("src"), &["rs"])
        .into_iter()
        .filter(|(path, _)| path != &crate_dir().join("src/i18n.rs") && !path.starts_with(&i18n))
        .collect()
}

fn templates() -> Vec<(PathBuf, String)> {
    files_under(&crate_dir().join("templates"), &["html"])
}

/// What stands between two double quotes (and between the quotes around
/// them, which is code): enough to find the literals shaped like keys.
fn quoted(text: &str) -> impl Iterator<Item = &str> {
    text.split('"')
}

fn key_shaped(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.contains('.')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

fn loaded() -> Words {
    load(&SOURCES)
}

fn key_set(words: &Words, lang: Lang) -> BTreeSet<String> {
    words.keys(lang).map(str::to_owned).collect()
}

#[test]
fn every_file_parses_and_holds_only_plain_messages() {
    let words = loaded();
    assert!(words.problems.is_empty(), "problems in the words' files:\n{}", words.problems.join("\n"));
    for lang in LANGS {
        assert!(words.keys(lang).count() > 500, "{} has too few words", lang.code());
    }
}

#[test]
fn every_file_on_disk_is_embedded_and_every_part_has_both_languages() {
    let on_disk: BTreeSet<String> = files_under(&crate_dir().join("locales"), &["ftl"])
        .into_iter()
        .map(|(path, _)| path.strip_prefix(crate_dir()).unwrap().to_string_lossy().into_owned())
        .collect();
    let embedded: BTreeSet<String> =
        SOURCES.iter().map(|s| format!("locales/{}/{}.ftl", s.lang.code(), s.part)).collect();
    assert_eq!(on_disk, embedded, "a .ftl file that is not embedded in SOURCES (or one missing)");
    let parts: BTreeSet<&str> = SOURCES.iter().map(|s| s.part).collect();
    assert_eq!(SOURCES.len(), parts.len() * LANGS.len(), "every part in both languages, once");
}

#[test]
fn both_languages_have_the_same_keys_and_no_empty_words() {
    let words = loaded();
    let ja = key_set(&words, Lang::Ja);
    let en = key_set(&words, Lang::En);
    assert_eq!(ja.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "only in Japanese");
    assert_eq!(en.difference(&ja).collect::<Vec<_>>(), Vec::<&String>::new(), "only in English");
    for lang in LANGS {
        for key in &ja {
            let text = words.get(lang, key).unwrap();
            assert!(!text.trim().is_empty(), "{key} is empty in {}", lang.code());
        }
    }
}

#[test]
fn every_key_used_by_a_template_or_the_code_exists() {
    let words = loaded();
    let exists = |key: &str| words.get(Lang::Ja, key).is_some() && words.get(Lang::En, key).is_some();
    // The templates' lookups: `tr.t("key")`, and `tr.tk("prefix.", suffix)`
    // whose prefix must begin some key.
    let mut checked = 0;
    for (path, text) in templates() {
        for part in text.split("tr.t(\"").skip(1) {
            let key = part.split('"').next().unwrap();
            assert!(exists(key), "{} uses missing key {key}", path.display());
            checked += 1;
        }
        for part in text.split("tr.tk(\"").skip(1) {
            let prefix = part.split('"').next().unwrap();
            assert!(words.keys(Lang::Ja).any(|k| k.starts_with(prefix)), "{} uses no key {prefix}…", path.display());
        }
    }
    assert!(checked > 500, "only {checked} keys found in templates");
    // The code's: every literal shaped like a key in one of the words'
    // namespaces (`"scr.item"`, `"err.invalid_input"`), file names aside.
    let namespaces: HashSet<&str> = words.keys(Lang::Ja).filter_map(|k| k.split('.').next()).collect();
    let mut checked = 0;
    for (path, text) in web_sources() {
        for literal in quoted(&text).filter(|s| key_shaped(s)) {
            let namespace = literal.split('.').next().unwrap_or_default();
            if !namespaces.contains(namespace) || [".html", ".css", ".json"].iter().any(|e| literal.ends_with(e)) {
                continue;
            }
            if literal.ends_with('.') {
                // A prefix the code completes (`for prefix in ["pp.why.", …]`).
                assert!(
                    words.keys(Lang::Ja).any(|k| k.starts_with(literal)),
                    "{} uses no key {literal}…",
                    path.display()
                );
            } else {
                assert!(exists(literal), "{} uses missing key {literal}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} keys found in the code");
}

/// A key is used when a template or the web code names it, or when the code
/// builds it from a prefix it names (`tr.tk("role.", …)`,
/// `format!("err.{code}")`) and a suffix that is a literal of the sources
/// the suffixes come from (the domain's and the store's codes, the web's).
#[test]
fn no_key_is_unused() {
    let words = loaded();
    let mut named: HashSet<String> = HashSet::new();
    let mut prefixes: BTreeSet<String> = BTreeSet::new();
    for (_, text) in templates().into_iter().chain(web_sources()) {
        for s in quoted(&text) {
            named.insert(s.to_owned());
            let before_brace = s.split('{').next().unwrap_or_default();
            for candidate in [s, before_brace] {
                if candidate.ends_with('.') && key_shaped(candidate) {
                    prefixes.insert(candidate.to_owned());
                }
            }
        }
    }
    let mut suffixes: HashSet<String> = HashSet::new();
    let other_crates = [
        "../tsunagu-domain/src",
        "../tsunagu-store/src",
        "../tsunagu-store-sqlite/src",
        "../tsunagu-store-postgres/src",
    ];
    let sources = other_crates.iter().flat_map(|dir| files_under(&crate_dir().join(dir), &["rs"])).chain(web_sources());
    // Codes in tests are not codes the pages are shown.
    let in_tests = |path: &Path| path.ends_with("tests.rs") || path.components().any(|c| c.as_os_str() == "tests");
    for (_, text) in sources.filter(|(path, _)| !in_tests(path)) {
        suffixes.extend(quoted(&text).map(str::to_owned));
    }
    let used = |key: &str| {
        named.contains(key)
            || prefixes.iter().any(|p| key.strip_prefix(p.as_str()).is_some_and(|suffix| suffixes.contains(suffix)))
    };
    let unused: BTreeSet<&str> = words.keys(Lang::Ja).filter(|k| !used(k)).collect();
    assert!(unused.is_empty(), "keys no template or code uses (remove them from both languages): {unused:?}");
}

#[test]
fn a_broken_file_is_reported_and_the_rest_of_it_still_loads() {
    let broken = Source {
        lang: Lang::En,
        part: "broken",
        text: "good-one = Fine\nbroken = { $count ->\nnot a message\ngood-two = Also fine\nvariable = { $n } days\n\
               term-user = { -brand }\n-brand = tsunagu\ngood-one = Again\n",
    };
    let words = load(&[broken]);
    assert_eq!(words.get(Lang::En, "good.one"), Some("Fine"), "the first definition stays");
    assert_eq!(words.get(Lang::En, "good.two"), Some("Also fine"));
    assert_eq!(words.get(Lang::En, "variable"), None);
    assert_eq!(words.get(Lang::En, "term.user"), None);
    let problems = words.problems.join("\n");
    assert!(
        problems.contains("locales/en/broken.ftl:3: The select expression must have a default variant"),
        "{problems}"
    );
    assert!(problems.contains("variable uses a variable"), "{problems}");
    assert!(problems.contains("term-user uses a placeable"), "{problems}");
    assert!(problems.contains("-brand is a term"), "{problems}");
    assert!(problems.contains("good-one is defined twice"), "{problems}");
}

#[test]
fn literals_keep_spaces_and_escapes_and_lines_join() {
    let source = Source {
        lang: Lang::Ja,
        part: "test",
        text: "suffix = {\" \"}families\nsep = ,{\" \"}\nescaped = {\"\\u0041\\\"\"}b\nlines =\n    first\n    second\nnumber = {7}日\n",
    };
    let words = load(&[source]);
    assert!(words.problems.is_empty(), "{:?}", words.problems);
    assert_eq!(words.get(Lang::Ja, "suffix"), Some(" families"));
    assert_eq!(words.get(Lang::Ja, "sep"), Some(", "));
    assert_eq!(words.get(Lang::Ja, "escaped"), Some("A\"b"));
    assert_eq!(words.get(Lang::Ja, "lines"), Some("first\nsecond"));
    assert_eq!(words.get(Lang::Ja, "number"), Some("7日"));
}

#[test]
fn a_missing_key_shows_the_key() {
    assert_eq!(t(Lang::Ja, "nav.home"), "ホーム");
    assert_eq!(t(Lang::En, "nav.home"), "Home");
    assert_eq!(t(Lang::En, "no.such.key"), "no.such.key");
    assert_eq!(Tr(Lang::Ja).tk("no.such.", "key"), "no.such.key");
    assert!(!has("no.such.key"));
    assert_eq!(t(Lang::Ja, &"long.".repeat(30)), "?", "a long key is not kept");
}

#[test]
fn every_error_code_has_words() {
    use tsunagu_domain::records::FeeBracket;
    use tsunagu_domain::roles::Role;
    for code in [
        "required",
        "too_long",
        "invalid",
        "not_kana",
        "invalid_date",
        "date_in_future",
        "date_too_early",
        "edd_too_early",
        "edd_too_late",
        "out_of_range",
        "invalid_choice",
        "mother_too_young",
        "birth_before_pregnancy",
        "birth_too_late",
        "more_than_foetuses",
        "births_too_far_apart",
        "not_ongoing",
        "unknown_reference",
        "password_too_short",
        "password_too_long",
        "password_too_common",
        "invalid_month",
        "meeting_too_early",
        "too_many",
        "not_proposed",
        "duplicate",
        "not_a_member",
        "too_many_attempts",
        "code_locked",
        "too_many_codes",
        "busy",
    ] {
        assert!(has(&format!("err.{code}")), "{code}");
    }
    for r in Role::ALL {
        assert!(has(&format!("role.{}", r.as_str())));
    }
    for b in FeeBracket::ALL {
        assert!(has(&format!("bracket.{}", b.as_str())));
    }
}

#[test]
fn every_code_the_edge_answers_with_has_words() {
    for status in 400..600 {
        let status = axum::http::StatusCode::from_u16(status).unwrap();
        let code = crate::base::error::framework_error_code(status);
        assert!(has(&format!("err.{code}")), "{status}: {code}");
    }
    for code in ["date_too_late", "date_too_early"] {
        assert!(has(&format!("err.{code}")), "{code}");
    }
}

/// Every audit action has a label in both languages (#10): the audit log
/// page and its CSV show `audit.act.<code>` (`accounts::pages::action_label`).
#[test]
fn every_audit_action_has_a_label_in_both_languages() {
    let words = loaded();
    let mut missing = Vec::new();
    for action in tsunagu_domain::audit::AuditAction::ALL {
        let key = format!("audit.act.{}", action.as_str());
        for lang in LANGS {
            if words.get(lang, &key).is_none_or(str::is_empty) {
                missing.push(format!("{} ({})", key, lang.code()));
            }
        }
    }
    assert!(missing.is_empty(), "audit actions without a label: {missing:?}");
}

/// Japanese pages speak Japanese (#10: no 「根拠: national … 1st interview」):
/// a Japanese message holds no English word beyond names, standards and
/// formats a Japanese reader sees in English too (LINE, EPDS, an example
/// address), listed here so that a new one is a decision.
#[test]
fn japanese_words_hold_no_english_beyond_names_and_formats() {
    const NAMES: &[&str] = &[
        // Names of services, standards and units (coe: seed 003's own).
        "LINE",
        "Developers",
        "Webhook",
        "EPDS",
        "FHIR",
        "R4",
        "JSON",
        "API",
        "PUT",
        "CSV",
        "ID",
        "URL",
        "URI",
        "NPO",
        "ics",
        "mm",
        "A4",
        "coe",
        "English",
        "Content",
        "Type",
        "application",
        "json",
        // Formats and examples a reader types after.
        "YYYY",
        "MM",
        "DD",
        "HH",
        "FY2022",
        "ABCD",
        "EFGH",
        "JKMN",
    ];
    let words = loaded();
    let mut english = Vec::new();
    for key in key_set(&words, Lang::Ja) {
        let text = words.get(Lang::Ja, &key).unwrap_or_default();
        // Placeables (`{ $name }`) are filled by the code, not read as words.
        let mut shown = String::new();
        let mut depth = 0usize;
        for c in text.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                _ if depth == 0 => shown.push(c),
                _ => {}
            }
        }
        // A path or an address is shown as it is typed, not read as words.
        let shown: String =
            shown.split_whitespace().map(|w| if w.contains('@') { "" } else { w }).collect::<Vec<_>>().join(" ");
        let shown: String = shown
            .split(|c: char| c.is_whitespace() || "（）()、。".contains(c))
            .filter(|w| !w.starts_with('/'))
            .collect::<Vec<_>>()
            .join(" ");
        for word in shown.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| w.len() >= 2) {
            if word.chars().any(|c| c.is_ascii_alphabetic()) && !NAMES.contains(&word) {
                english.push(format!("{key}: {word}"));
            }
        }
    }
    assert!(english.is_empty(), "English in Japanese words:\n{}", english.join("\n"));
}
