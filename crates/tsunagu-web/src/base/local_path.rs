//! Where a page may send the reader back to (`?next=` of the language
//! switch, `back` of the contact and concern forms): a path of this
//! service's own pages, and nothing a browser could read as another site.
//!
//! Browsers strip tabs and newlines from a `Location` and read `\` as `/`,
//! so `/\t/evil.example` and `/\evil.example` leave the site although they
//! start with a single `/`. Rather than list what is dangerous, the path is
//! held to what our own links look like: a single `/`, then a known first
//! segment, then only unreserved URL characters and the few delimiters our
//! query strings and fragments use.

/// The first path segments of the service's pages (see the `routes()` of
/// each capability's `pages.rs`).
const PAGE_PREFIXES: &[&str] = &[
    "admin",
    "contacts",
    "families",
    "group-sessions",
    "handbook-meetings",
    "me",
    "postpartum",
    "referrals",
    "screenings",
    "signin",
    "worklist",
];

/// Longest path accepted; our own links are far shorter.
const MAX_LEN: usize = 512;

fn safe_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~' | '?' | '=' | '&' | '%' | '#' | '+' | ',')
}

/// `path` if it is a local page of ours to go back to, else `None`.
pub fn safe_local_path(path: &str) -> Option<&str> {
    if path.len() > MAX_LEN || !path.chars().all(safe_char) {
        return None;
    }
    let rest = path.strip_prefix('/')?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (first, after) = rest.split_at(end);
    let known = if first.is_empty() {
        // The home page itself: `/`, `/?…`, `/#…` — never `//…`.
        !after.starts_with('/')
    } else {
        PAGE_PREFIXES.contains(&first)
    };
    known.then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_pages_pass() {
        for p in [
            "/",
            "/?done=1",
            "/worklist",
            "/worklist?list=overdue&whose=mine&page=2",
            "/families/12#timeline",
            "/families/12?saved=birth",
            "/postpartum/applications/3",
            "/group-sessions/4",
            "/me/screenings",
            "/signin",
            "/admin/accounts?done=created",
        ] {
            assert_eq!(safe_local_path(p), Some(p), "{p}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for p in [
            "",
            "worklist",
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "/%09/evil.example",
            "https://evil.example/",
            "/ /evil.example",
            "/@evil.example",
            "/evil.example",
            "/api/v1/families",
            "/lang/en",
            "/static/app.css",
            "/worklist\r\nSet-Cookie: x=1",
            "/families/１",
            "//",
        ] {
            assert_eq!(safe_local_path(p), None, "{p:?}");
        }
        assert_eq!(safe_local_path(&format!("/worklist?{}", "a".repeat(600))), None);
    }
}
