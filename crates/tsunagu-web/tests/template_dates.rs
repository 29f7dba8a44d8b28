//! No template prints a date or an instant raw: a reader is shown a day with
//! its weekday (and the era in Japanese) and a moment in Japan time, through
//! the page frame's formatter (`chrome.date`, `chrome.day`, `chrome.range`,
//! `chrome.stamp`, `chrome.age`, `chrome.gestation`; see `src/base/dates.rs`).
//!
//! The test reads every template and looks at each `{{ … }}` whose last name
//! says it holds a date or an instant (`…_at`, `…_on`, `edd`, `day`, `d`, `due()`,
//! `closes()`, `first()`, …). Such an expression must be one of the
//! formatter's calls, unless it is the value of a form field or a link's
//! query (`value="…"`, `min=`, `max=`, `href`): forms and URLs keep ISO dates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

const FORMATTERS: [&str; 6] =
    ["chrome.date(", "chrome.day(", "chrome.range(", "chrome.stamp(", "chrome.age(", "chrome.gestation("];

fn templates() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("templates folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "html") {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            out.push((name, std::fs::read_to_string(&path).expect("template text")));
        }
    }
    out.sort();
    out
}

/// Does the expression's last name look like a date or an instant?
fn looks_like_a_date(expr: &str) -> bool {
    let last = expr.rsplit('.').next().unwrap_or(expr).trim();
    let bare = last.trim_end_matches("()");
    bare.ends_with("_at")
        || bare.ends_with("_on")
        || bare.ends_with("_date")
        || matches!(
            bare,
            "d" | "edd" | "day" | "today" | "due" | "opens" | "closes" | "first" | "last" | "date" | "start" | "starts"
        )
}

/// Is the expression at `at` inside an attribute whose value a machine reads?
fn in_machine_attribute(text: &str, at: usize) -> bool {
    let before = &without_tags(&text[..at]);
    let Some(quote) = before.rfind('"') else { return false };
    let Some(eq) = before[..quote].rfind('=') else { return false };
    if eq + 1 != quote {
        return false;
    }
    // The attribute's name: the word before `=`.
    let name: String = before[..eq]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .chars()
        .rev()
        .collect();
    // Still inside that attribute's quotes?
    let open = !before[quote + 1..].contains('"');
    open && matches!(name.as_str(), "value" | "min" | "max" | "href" | "action" | "id" | "datetime")
}

/// The text with the template's own `{% … %}` and `{{ … }}` taken out (their
/// quotes are not the HTML's).
fn without_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = [rest.find("{%"), rest.find("{{")].into_iter().flatten().min();
        let Some(start) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..start]);
        let close = if rest[start..].starts_with("{%") { "%}" } else { "}}" };
        match rest[start..].find(close) {
            Some(end) => rest = &rest[start + end + 2..],
            None => return out,
        }
    }
}

fn raw_dates(name: &str, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("{{") {
        let open = from + start;
        let Some(len) = text[open..].find("}}") else { break };
        let expr = text[open + 2..open + len].trim();
        from = open + len + 2;
        if FORMATTERS.iter().any(|f| expr.starts_with(f)) || expr.starts_with("self.v(") {
            continue;
        }
        if looks_like_a_date(expr) && !in_machine_attribute(text, open) {
            let line = text[..open].matches('\n').count() + 1;
            found.push(format!("{name}:{line}: {{{{ {expr} }}}}"));
        }
    }
    found
}

#[test]
fn no_template_prints_a_date_raw() {
    let mut failures = Vec::new();
    for (name, text) in templates() {
        failures.extend(raw_dates(&name, &text));
    }
    assert!(failures.is_empty(), "print dates through chrome.date/day/range/stamp:\n{}", failures.join("\n"));
}

#[test]
fn the_check_sees_a_raw_date_and_lets_forms_keep_iso() {
    let text = r#"<p>{{ p.edd }}</p><p>{{ chrome.date(p.edd) }}</p><input value="{{ today }}"><input value="{% if self.v("d").is_empty() %}{{ today }}{% endif %}"><a href="/x?d={{ s.day }}">{{ chrome.stamp(r.raised_at) }}</a><td>{{ r.raised_at }}</td>"#;
    let found = raw_dates("t.html", text);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("p.edd"));
    assert!(found[1].contains("r.raised_at"));
}
