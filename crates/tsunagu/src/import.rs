//! `tsunagu import`: families from a CSV file of pregnancy notifications
//! (#15, #16), through the bulk path of `RecordStore::import_families`.
//!
//! The file is UTF-8, with or without a BOM, comma-separated with RFC 4180
//! quoting; its first line names the columns, in Japanese or in English
//! ([`COLUMNS`]), the fields of the notification form. Every row is read
//! into the form's own input (`NotificationInput`) and checked by its own
//! `check`, so a row is refused for exactly what the form refuses. A bad
//! row is reported with its line number and the reasons in the reader's
//! language, and nothing of it is stored; the good rows are stored a
//! batch at a time, each batch one transaction. A duplicate (the same
//! pregnancy on record, or a handbook number taken) is refused by the
//! store, row by row, as the form would be. Counts only on the progress
//! line, never a name.

use anyhow::{bail, Context};
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::places::Area;
use tsunagu_domain::records::{NotificationInput, PersonInput};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_store::{ImportFamily, Store};
use tsunagu_web::i18n::{t, Lang};

/// Rows per `import_families` call (one transaction each).
pub const BATCH: usize = 1_000;

/// The columns a file may have: the key, then the header names accepted
/// for it (compared after [`normalise`]). `*` marks a required column.
pub const COLUMNS: &[(&str, &[&str])] = &[
    ("*area", &["area", "地区", "area_id", "地区id", "担当地区"]),
    ("*fee_bracket", &["fee_bracket", "所得区分", "課税区分"]),
    ("consent_coordinators", &["consent_coordinators", "コーディネーター連携同意", "支援コーディネーター同意"]),
    ("consent_hubs", &["consent_hubs", "拠点連携同意", "こども家庭センター同意"]),
    ("notified_on", &["notified_on", "届出日"]),
    ("*edd", &["edd", "出産予定日"]),
    ("foetuses", &["foetuses", "胎児数"]),
    ("first_child", &["first_child", "第一子", "初産"]),
    ("handbook_number", &["handbook_number", "母子健康手帳番号", "母子手帳番号"]),
    ("*mother.family_name", &["mother_family_name", "妊婦氏", "妊婦の氏"]),
    ("*mother.given_name", &["mother_given_name", "妊婦名", "妊婦の名"]),
    ("*mother.family_name_kana", &["mother_family_name_kana", "妊婦氏かな", "妊婦氏カナ", "妊婦の氏かな"]),
    ("*mother.given_name_kana", &["mother_given_name_kana", "妊婦名かな", "妊婦名カナ", "妊婦の名かな"]),
    ("mother.birth_date", &["mother_birth_date", "妊婦生年月日", "妊婦の生年月日"]),
    ("partner.family_name", &["partner_family_name", "パートナー氏", "パートナーの氏"]),
    ("partner.given_name", &["partner_given_name", "パートナー名", "パートナーの名"]),
    ("partner.family_name_kana", &["partner_family_name_kana", "パートナー氏かな", "パートナー氏カナ"]),
    ("partner.given_name_kana", &["partner_given_name_kana", "パートナー名かな", "パートナー名カナ"]),
    ("partner.birth_date", &["partner_birth_date", "パートナー生年月日", "パートナーの生年月日"]),
];

/// A header as compared: lower case, without spaces, brackets, `_`, `・`.
fn normalise(s: &str) -> String {
    s.trim().chars().filter(|c| !c.is_whitespace() && !"()（）_・-".contains(*c)).flat_map(char::to_lowercase).collect()
}

/// One record of the file and the line it starts on (1-based; the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Splits CSV text (RFC 4180: `"` quotes a field, `""` is a quote in it, a
/// quoted field may hold commas and line breaks; CRLF or LF) into records,
/// after a UTF-8 BOM if there is one. Blank lines are skipped.
pub fn parse_csv(text: &str) -> Result<Vec<Record>, usize> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut line, mut start) = (1usize, 1usize);
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            '"' => return Err(line),
            ',' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
                if !(fields.len() == 1 && fields[0].is_empty()) {
                    out.push(Record { line: start, fields: std::mem::take(&mut fields) });
                }
                fields.clear();
                line += 1;
                start = line;
            }
            _ if was_quoted => return Err(line),
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(start);
    }
    if !field.is_empty() || !fields.is_empty() || was_quoted {
        fields.push(field);
        out.push(Record { line: start, fields });
    }
    Ok(out)
}

/// Which column of the file holds each key, and the file's own header names.
#[derive(Debug)]
pub struct Header {
    index: HashMap<&'static str, usize>,
    names: Vec<String>,
}

impl Header {
    /// Reads the header line: every column must be known, none twice, every
    /// required one present. The error is in the reader's language.
    pub fn read(names: &[String], lang: Lang) -> Result<Header, String> {
        let mut index = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            let n = normalise(name);
            let Some((key, _)) = COLUMNS.iter().find(|(_, accepted)| accepted.iter().any(|a| normalise(a) == n)) else {
                return Err(words(lang, Word::UnknownColumn).replace("{}", name.trim()));
            };
            let key = key.trim_start_matches('*');
            if index.insert(key, i).is_some() {
                return Err(words(lang, Word::ColumnTwice).replace("{}", name.trim()));
            }
        }
        for (key, accepted) in COLUMNS {
            if let Some(key) = key.strip_prefix('*') {
                if !index.contains_key(key) {
                    let shown =
                        if lang == Lang::Ja { accepted.get(1) } else { accepted.first() }.copied().unwrap_or(key);
                    return Err(words(lang, Word::ColumnMissing).replace("{}", shown));
                }
            }
        }
        Ok(Header { index, names: names.iter().map(|n| n.trim().to_owned()).collect() })
    }

    fn get<'r>(&self, r: &'r Record, key: &str) -> &'r str {
        self.index.get(key).and_then(|&i| r.fields.get(i)).map_or("", |s| s.trim())
    }

    /// The file's name for the column of a form field (`mother.edd` → `出産予定日`).
    fn shown(&self, field: &str) -> String {
        let key = if field == "area_id" { "area" } else { field };
        self.index.get(key).and_then(|&i| self.names.get(i)).cloned().unwrap_or_else(|| field.to_owned())
    }
}

/// A yes/no cell: empty is no.
fn yes_no(s: &str) -> Option<bool> {
    match normalise(s).as_str() {
        "" | "0" | "false" | "no" | "n" | "いいえ" | "無" | "なし" | "否" | "×" => Some(false),
        "1" | "true" | "yes" | "y" | "はい" | "有" | "あり" | "同意" | "○" | "〇" => Some(true),
        _ => None,
    }
}

/// The fee bracket as the form takes it; Japanese names too.
fn fee_bracket(s: &str) -> String {
    match s.trim() {
        "課税" | "課税世帯" => "taxed".into(),
        "非課税" | "住民税非課税" | "非課税世帯" => "non_taxed".into(),
        "生活保護" | "生活保護世帯" => "public_assistance".into(),
        other => other.to_owned(),
    }
}

/// A row read into the notification form's input, and the fields it could
/// not even fill (a yes/no or a number that is neither, an unknown area).
pub fn row_input(h: &Header, r: &Record, areas: &[Area]) -> (NotificationInput, FieldErrors) {
    let mut errors = FieldErrors::default();
    let area = h.get(r, "area");
    let area_id = areas
        .iter()
        .find(|a| a.name_ja == area || a.name_en.eq_ignore_ascii_case(area) || a.id.0.to_string() == area)
        .map(|a| a.id.0);
    if area_id.is_none() {
        errors.add("area_id", if area.is_empty() { "required" } else { "unknown_reference" });
    }
    let mut flag = |key: &'static str| {
        yes_no(h.get(r, key)).unwrap_or_else(|| {
            errors.add(key, "invalid_choice");
            false
        })
    };
    let (consent_coordinators, consent_hubs, first_child) =
        (flag("consent_coordinators"), flag("consent_hubs"), flag("first_child"));
    let foetuses = match h.get(r, "foetuses") {
        "" => 1,
        s => s.parse().unwrap_or_else(|_| {
            errors.add("foetuses", "out_of_range");
            1
        }),
    };
    let person = |p: &str| PersonInput {
        family_name: h.get(r, &format!("{p}.family_name")).to_owned(),
        given_name: h.get(r, &format!("{p}.given_name")).to_owned(),
        family_name_kana: h.get(r, &format!("{p}.family_name_kana")).to_owned(),
        given_name_kana: h.get(r, &format!("{p}.given_name_kana")).to_owned(),
        birth_date: Some(h.get(r, &format!("{p}.birth_date")).to_owned()).filter(|s| !s.is_empty()),
    };
    let partner = person("partner");
    let has_partner = [&partner.family_name, &partner.given_name, &partner.family_name_kana, &partner.given_name_kana]
        .iter()
        .any(|s| !s.is_empty())
        || partner.birth_date.is_some();
    let input = NotificationInput {
        area_id: area_id.unwrap_or(0),
        fee_bracket: fee_bracket(h.get(r, "fee_bracket")),
        consent_coordinators,
        consent_hubs,
        notified_on: Some(h.get(r, "notified_on").to_owned()).filter(|s| !s.is_empty()),
        edd: h.get(r, "edd").to_owned(),
        foetuses,
        first_child,
        handbook_number: Some(h.get(r, "handbook_number").to_owned()).filter(|s| !s.is_empty()),
        mother: person("mother"),
        partner: has_partner.then_some(partner),
    };
    (input, errors)
}

/// A row checked as the form checks it: the notification, or every error of the row.
pub fn check_row(
    h: &Header,
    r: &Record,
    areas: &[Area],
    today: jiff::civil::Date,
) -> Result<tsunagu_domain::records::Notification, FieldErrors> {
    let (input, mut errors) = row_input(h, r, areas);
    match input.check(today) {
        Ok(n) if errors.is_empty() => Ok(n),
        Ok(_) => Err(errors),
        Err(found) => {
            for e in found.0 {
                // An area the file named but this municipality lacks is reported once.
                if errors.for_field(&e.field).is_none() {
                    errors.0.push(e);
                }
            }
            Err(errors)
        }
    }
}

/// One refused row: its line and the reasons, in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub line: usize,
    pub reasons: Vec<String>,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub rows: usize,
    pub stored: usize,
    pub refused: Vec<Refused>,
    pub took: Duration,
}

/// The reasons for a row's field errors, each naming the file's column.
fn reasons(h: &Header, errors: &FieldErrors, lang: Lang) -> Vec<String> {
    errors.0.iter().map(|e| format!("{}: {}", h.shown(&e.field), message(lang, e.code))).collect()
}

fn message(lang: Lang, code: &str) -> &'static str {
    t(lang, &format!("err.{code}"))
}

/// Imports the file's families into the municipality of `ctx`, writing a
/// refused row's line to `errors` as soon as it is known and a progress
/// line to stderr when `progress`. Fails (nothing stored of the batch in
/// hand) only when the file cannot be read as CSV with a known header, or
/// the store fails.
pub async fn import_csv(
    store: &dyn Store,
    ctx: &AuditContext,
    text: &str,
    lang: Lang,
    progress: bool,
    errors: &mut dyn Write,
) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    let records = parse_csv(text)
        .map_err(|line| anyhow::anyhow!(words(lang, Word::BadQuote).replace("{}", &line.to_string())))?;
    let Some((head, rows)) = records.split_first() else { bail!("{}", words(lang, Word::Empty)) };
    let header = Header::read(&head.fields, lang).map_err(anyhow::Error::msg)?;
    let areas = store.areas(ctx.municipality_id).await.context("reading the municipality's areas")?;
    let today = tsunagu_domain::clock::japan_date(ctx.at);
    let mut report = ImportReport { rows: rows.len(), ..ImportReport::default() };
    let mut bar = Bar::new(progress, rows.len());
    for chunk in rows.chunks(BATCH) {
        let mut families = Vec::with_capacity(chunk.len());
        let mut lines = Vec::with_capacity(chunk.len());
        for r in chunk {
            let checked = if r.fields.len() != header.names.len() {
                Err(vec![words(lang, Word::FieldCount).replacen("{}", &r.fields.len().to_string(), 1).replacen(
                    "{}",
                    &header.names.len().to_string(),
                    1,
                )])
            } else {
                check_row(&header, r, &areas, today).map_err(|e| reasons(&header, &e, lang))
            };
            match checked {
                Ok(notification) => {
                    families.push(ImportFamily { notification, babies: vec![], settled_through: None });
                    lines.push(r.line);
                }
                Err(reasons) => refuse(&mut report, errors, (lang, r.line), reasons, &mut bar)?,
            }
        }
        let answers = store.import_families(ctx, &families).await.context("storing the families")?;
        for (line, answer) in lines.into_iter().zip(answers) {
            match answer {
                Ok(_) => report.stored += 1,
                Err(code) => refuse(&mut report, errors, (lang, line), vec![message(lang, code).to_owned()], &mut bar)?,
            }
        }
        bar.show(report.stored, report.refused.len());
    }
    bar.finish(report.stored, report.refused.len());
    report.refused.sort_by_key(|r| r.line);
    report.took = started.elapsed();
    Ok(report)
}

fn refuse(
    report: &mut ImportReport,
    out: &mut dyn Write,
    (lang, line): (Lang, usize),
    reasons: Vec<String>,
    bar: &mut Bar,
) -> anyhow::Result<()> {
    bar.clear();
    let at = words(lang, Word::Line).replace("{}", &line.to_string());
    writeln!(out, "{at}: {}", reasons.join("; ")).context("writing the refused rows")?;
    report.refused.push(Refused { line, reasons });
    Ok(())
}

/// Families a second, rounded (a rate shown: precision loss is irrelevant).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
pub fn rate(n: usize, took: Duration) -> u64 {
    let secs = took.as_secs_f64();
    if secs > 0.0 {
        (n as f64 / secs).round() as u64
    } else {
        0
    }
}

/// The progress line on a terminal: rows done of the total, stored, refused. Counts only.
struct Bar {
    on: bool,
    total: usize,
    done: usize,
    shown: Option<Instant>,
}

impl Bar {
    fn new(on: bool, total: usize) -> Bar {
        Bar { on, total, done: 0, shown: None }
    }

    fn show(&mut self, stored: usize, refused: usize) {
        self.done = stored + refused;
        if !self.on || self.shown.is_some_and(|s| s.elapsed() < Duration::from_millis(200)) {
            return;
        }
        self.shown = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        // A progress line that cannot be written is not worth failing the import.
        let _ = write!(err, "\r{} / {} rows: {stored} stored, {refused} refused   ", self.done, self.total);
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.on && self.shown.is_some() {
            let _ = write!(std::io::stderr().lock(), "\r{:60}\r", "");
            self.shown = None;
        }
    }

    fn finish(&mut self, stored: usize, refused: usize) {
        if self.on {
            self.shown = None;
            self.show(stored, refused);
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}

/// The command's own words (the field errors and conflicts are the pages' words).
#[derive(Clone, Copy)]
pub enum Word {
    UnknownColumn,
    ColumnTwice,
    ColumnMissing,
    BadQuote,
    Empty,
    FieldCount,
    Summary,
    Line,
    NotUtf8,
}

pub fn words(lang: Lang, w: Word) -> &'static str {
    match (lang, w) {
        (Lang::Ja, Word::UnknownColumn) => "見出しの列「{}」は取り込めません",
        (Lang::En, Word::UnknownColumn) => "the header names an unknown column \"{}\"",
        (Lang::Ja, Word::ColumnTwice) => "見出しの列「{}」が二度あります",
        (Lang::En, Word::ColumnTwice) => "the header names the column \"{}\" twice",
        (Lang::Ja, Word::ColumnMissing) => "必須の列「{}」が見出しにありません",
        (Lang::En, Word::ColumnMissing) => "the header lacks the required column \"{}\"",
        (Lang::Ja, Word::BadQuote) => "{}行目: 引用符（\"）の使い方が CSV として読めません",
        (Lang::En, Word::BadQuote) => "line {}: the quotes (\") do not read as CSV",
        (Lang::Ja, Word::Empty) => "ファイルに見出し行がありません",
        (Lang::En, Word::Empty) => "the file has no header line",
        (Lang::Ja, Word::FieldCount) => "列の数が {} で、見出しの {} と合いません",
        (Lang::En, Word::FieldCount) => "the row has {} fields, the header {}",
        (Lang::Ja, Word::Summary) => "{} 行: {} 件登録、{} 件取り込まず（{} 件/秒）",
        (Lang::En, Word::Summary) => "{} rows: {} stored, {} refused ({} families/s)",
        (Lang::Ja, Word::Line) => "{}行目",
        (Lang::En, Word::Line) => "line {}",
        (Lang::Ja, Word::NotUtf8) => "UTF-8 として読めません（{} バイト目から）",
        (Lang::En, Word::NotUtf8) => "not UTF-8 (from byte {})",
    }
}

/// A file that is not UTF-8, where it stops being so.
pub fn not_utf8(lang: Lang, valid_up_to: usize) -> String {
    words(lang, Word::NotUtf8).replace("{}", &(valid_up_to + 1).to_string())
}

/// Who an import is by: the service itself (account 0) on the operator's
/// command, as the other operator commands write; each family's audit line
/// says `import`.
pub fn operator_context(m: tsunagu_domain::MunicipalityId, at: jiff::Timestamp) -> AuditContext {
    tsunagu_domain::audit::Requester {
        municipality_id: m,
        actor: tsunagu_domain::AccountId(0),
        role: tsunagu_domain::roles::Role::Admin,
        remote_addr: String::new(),
        reason: "csv import".into(),
        at,
    }
    .without_a_policy_decision()
}

/// The last line of the command, in the reader's language.
pub fn summary(lang: Lang, r: &ImportReport) -> String {
    let mut s = words(lang, Word::Summary).to_owned();
    for v in [r.rows, r.stored, r.refused.len(), usize::try_from(rate(r.stored, r.took)).unwrap_or(usize::MAX)] {
        s = s.replacen("{}", &v.to_string(), 1);
    }
    s
}

/// The reader's language: `--lang`, else `LC_ALL`/`LANG` starting with `en`, else Japanese.
pub fn reader_lang(flag: Option<&str>) -> Lang {
    if let Some(l) = flag.and_then(Lang::parse) {
        return l;
    }
    let env = std::env::var("LC_ALL").ok().filter(|v| !v.is_empty()).or_else(|| std::env::var("LANG").ok());
    match env {
        Some(v) if v.starts_with("en") => Lang::En,
        _ => Lang::Ja,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_quotes_line_breaks_crlf_and_a_bom() {
        let text = "\u{feff}a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\r\n\r\n\"two\nlines\",z\nlast,";
        let r = parse_csv(text).unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(r[0], Record { line: 1, fields: vec!["a".into(), "b".into()] });
        assert_eq!(r[1], Record { line: 2, fields: vec!["x,1".into(), "say \"hi\"".into()] });
        assert_eq!(r[2], Record { line: 4, fields: vec!["two\nlines".into(), "z".into()] });
        assert_eq!(r[3], Record { line: 6, fields: vec!["last".into(), String::new()] });
        assert_eq!(parse_csv("a,\"b\nc"), Err(1));
        assert_eq!(parse_csv("a,b\nx\"y,z"), Err(2));
    }

    #[test]
    fn headers_in_japanese_and_english_name_the_same_columns() {
        let ja: Vec<String> = ["地区", "所得区分", "出産予定日", "妊婦氏", "妊婦名", "妊婦氏（かな）", "妊婦名かな"]
            .map(Into::into)
            .to_vec();
        let en: Vec<String> = [
            "Area",
            "fee_bracket",
            "EDD",
            "mother_family_name",
            "Mother given name",
            "mother_family_name_kana",
            "mother_given_name_kana",
        ]
        .map(Into::into)
        .to_vec();
        for names in [ja, en] {
            let h = Header::read(&names, Lang::En).unwrap();
            assert_eq!(h.index.get("edd"), Some(&2));
            assert_eq!(h.index.get("mother.family_name_kana"), Some(&5));
        }
        let missing = Header::read(&["地区".to_owned()], Lang::Ja).unwrap_err();
        assert!(missing.contains("所得区分"), "{missing}");
        let unknown = Header::read(&["住所".to_owned()], Lang::En).unwrap_err();
        assert!(unknown.contains("住所"), "{unknown}");
    }
}
