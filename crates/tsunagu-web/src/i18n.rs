//! Words of the pages, Japanese first, English available. They live in
//! Fluent files a translator can edit, `locales/<lang>/<part>.ftl` (one part
//! per capability), embedded in the binary and read once at first use. The
//! code calls a message by its dotted key (`nav.home`); the file names it
//! with hyphens (`nav-home`), Fluent's form. Tests (`i18n/tests.rs`) check
//! that every file parses, that both languages have the same keys, that
//! every key the templates and the code use exists and that none is unused.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use fluent_syntax::ast;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }
}

/// A Fluent file as embedded: its language, its part and its text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source {
    pub lang: Lang,
    pub part: &'static str,
    pub text: &'static str,
}

/// One part per capability, in each language: `locales/ja/<part>.ftl` and
/// `locales/en/<part>.ftl`.
macro_rules! sources {
    ($($part:literal),*) => {
        [$(
            Source { lang: Lang::Ja, part: $part, text: include_str!(concat!("../locales/ja/", $part, ".ftl")) },
            Source { lang: Lang::En, part: $part, text: include_str!(concat!("../locales/en/", $part, ".ftl")) },
        )*]
    };
}

/// Every file, embedded (a test checks that every `.ftl` file under `locales/` is here).
pub(crate) const SOURCES: [Source; 26] = sources!(
    "base",
    "signin",
    "accounts",
    "records",
    "timeline",
    "meetings",
    "screening",
    "care",
    "postpartum",
    "classes",
    "chat",
    "reports",
    "reminders"
);

/// The words of both languages, by dotted key, and what was wrong with the files.
pub(crate) struct Words {
    ja: HashMap<String, Cow<'static, str>>,
    en: HashMap<String, Cow<'static, str>>,
    pub problems: Vec<String>,
}

impl Words {
    fn table(&self, lang: Lang) -> &HashMap<String, Cow<'static, str>> {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }

    pub(crate) fn get(&self, lang: Lang, key: &str) -> Option<&str> {
        self.table(lang).get(key).map(|v| &**v)
    }

    #[cfg(test)]
    pub(crate) fn keys(&self, lang: Lang) -> impl Iterator<Item = &str> {
        self.table(lang).keys().map(String::as_str)
    }
}

/// Reads Fluent files into words. Our messages are plain text: a value made
/// of text and string literals (`{" "}` keeps a space Fluent would trim).
/// Anything else — a variable, a selector, a reference, an attribute, a
/// term — and every syntax error is a problem: that message is left out (the
/// page then shows its key) and the rest still loads. A message defined
/// twice in one language keeps its first definition.
pub(crate) fn load(sources: &[Source]) -> Words {
    let mut words = Words { ja: HashMap::new(), en: HashMap::new(), problems: Vec::new() };
    for source in sources {
        let file = format!("locales/{}/{}.ftl", source.lang.code(), source.part);
        let resource = match fluent_syntax::parser::parse(source.text) {
            Ok(resource) => resource,
            Err((resource, errors)) => {
                for error in errors {
                    let line = line_of(source.text, error.pos.start);
                    words.problems.push(format!("{file}:{line}: {}", error.kind));
                }
                resource
            }
        };
        let table = match source.lang {
            Lang::Ja => &mut words.ja,
            Lang::En => &mut words.en,
        };
        for entry in resource.body {
            match entry {
                ast::Entry::Message(message) => {
                    let id = message.id.name;
                    let key = id.replace('-', ".");
                    if table.contains_key(&key) {
                        words.problems.push(format!("{file}: {id} is defined twice"));
                        continue;
                    }
                    match plain_value(&message) {
                        Ok(value) => {
                            table.insert(key, value);
                        }
                        Err(why) => words.problems.push(format!("{file}: {id} {why}")),
                    }
                }
                ast::Entry::Term(term) => {
                    words.problems.push(format!("{file}: -{} is a term; write the words in each message", term.id.name))
                }
                // Parse errors are reported above, with their line.
                ast::Entry::Junk { .. } => {}
                ast::Entry::Comment(_) | ast::Entry::GroupComment(_) | ast::Entry::ResourceComment(_) => {}
            }
        }
    }
    words
}

/// The message's text, or why we cannot show it.
fn plain_value(message: &ast::Message<&'static str>) -> Result<Cow<'static, str>, &'static str> {
    if !message.attributes.is_empty() {
        return Err("has attributes, which the pages do not use");
    }
    let Some(pattern) = &message.value else {
        return Err("has no value");
    };
    let mut parts: Vec<Cow<'static, str>> = Vec::with_capacity(pattern.elements.len());
    for element in &pattern.elements {
        parts.push(match element {
            ast::PatternElement::TextElement { value } => Cow::Borrowed(*value),
            ast::PatternElement::Placeable { expression: ast::Expression::Inline(inline) } => match inline {
                ast::InlineExpression::StringLiteral { value } => {
                    Cow::Owned(fluent_syntax::unicode::unescape_unicode_to_string(value).into_owned())
                }
                ast::InlineExpression::NumberLiteral { value } => Cow::Borrowed(*value),
                ast::InlineExpression::VariableReference { .. } => {
                    return Err("uses a variable ({ $name }), which the pages do not pass")
                }
                _ => return Err("uses a placeable other than a string literal ({ \"…\" })"),
            },
            ast::PatternElement::Placeable { expression: ast::Expression::Select { .. } } => {
                return Err("uses a selector, which the pages do not support")
            }
        });
    }
    Ok(if parts.len() == 1 { parts.pop().unwrap_or_default() } else { Cow::Owned(parts.concat()) })
}

fn line_of(text: &str, byte: usize) -> usize {
    text.bytes().take(byte).filter(|b| *b == b'\n').count() + 1
}

fn words() -> &'static Words {
    static WORDS: OnceLock<Words> = OnceLock::new();
    WORDS.get_or_init(|| {
        let words = load(&SOURCES);
        for problem in &words.problems {
            tracing::warn!(problem, "page words");
        }
        words
    })
}

/// The text for `key`; the key itself when it is missing (tests keep that
/// from happening), so a page shows what to fix instead of failing.
pub fn t(lang: Lang, key: &str) -> &'static str {
    match words().get(lang, key) {
        Some(text) => text,
        None => {
            tracing::warn!(key, lang = lang.code(), "missing message");
            shown_missing(key)
        }
    }
}

/// A missing key as a `&'static str`: kept once per key, at most a few
/// hundred short ones (a key is the code's, though a suffix may come from a
/// request; past the bound, or for a long one, "?").
fn shown_missing(key: &str) -> &'static str {
    const MAX_KEPT: usize = 256;
    const MAX_LEN: usize = 100;
    if key.len() > MAX_LEN {
        return "?";
    }
    static KEPT: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(found) = kept.iter().find(|k| **k == key) {
        return found;
    }
    if kept.len() >= MAX_KEPT {
        return "?";
    }
    let leaked: &'static str = Box::leak(key.to_owned().into_boxed_str());
    kept.push(leaked);
    leaked
}

/// Whether `key` has words (in Japanese; a test keeps both languages' keys equal).
pub fn has(key: &str) -> bool {
    words().get(Lang::Ja, key).is_some()
}

/// What templates hold to look words up: `{{ tr.t("nav.home") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        t(self.0, key)
    }

    /// Looks up `prefix` + `suffix`, e.g. `tr.tk("role.", role)`.
    pub fn tk(&self, prefix: &str, suffix: &str) -> &'static str {
        t(self.0, &format!("{prefix}{suffix}"))
    }

    pub fn lang(&self) -> &'static str {
        self.0.code()
    }
}

#[cfg(test)]
mod tests;
