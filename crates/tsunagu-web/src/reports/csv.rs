//! The CSV download: every table of the report, one after another, each
//! under its title and the period's era label, in a file Excel opens with
//! its Japanese headers intact — UTF-8 with a byte-order mark by default,
//! Shift_JIS (Windows-31J, what older Excel expects) on request.
//! Counts are written as plain numbers (no thousands separators, so Excel
//! reads them as numbers); a held-back cell is `*`, never 0.

use super::{ReportView, TableView};

/// The file's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8Bom,
    ShiftJis,
}

impl Encoding {
    /// `utf8` (or nothing) and `sjis` / `shift_jis`.
    pub fn parse(s: Option<&str>) -> Option<Self> {
        match s.map(str::trim).unwrap_or("") {
            "" | "utf8" | "utf-8" => Some(Encoding::Utf8Bom),
            "sjis" | "shift_jis" | "cp932" => Some(Encoding::ShiftJis),
            _ => None,
        }
    }

    /// The `Content-Type` of a CSV file in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Utf8Bom => "text/csv; charset=utf-8",
            Encoding::ShiftJis => "text/csv; charset=shift_jis",
        }
    }
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn line(out: &mut String, fields: &[String]) {
    out.push_str(&fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
}

/// A cell as the CSV writes it: a count as digits, a rate as `82.4%`, `*`.
fn cell(c: &super::CellView) -> String {
    match (c.value, c.rate, c.suppressed) {
        (_, _, true) => "*".to_owned(),
        (Some(v), false, _) => v.to_string(),
        _ => c.text.clone(),
    }
}

fn table(out: &mut String, heading: &str, t: &TableView) {
    line(out, &[format!("{}　{heading}", t.title)]);
    line(out, &t.columns);
    for r in &t.rows {
        let mut fields = vec![r.label.clone()];
        fields.extend(r.cells.iter().map(cell));
        line(out, &fields);
    }
    out.push_str("\r\n");
}

/// The report as CSV text.
pub fn text(view: &ReportView, note: &str) -> String {
    let mut out = String::new();
    line(&mut out, &[format!("{}（{}）", view.label_ja, view.label_en)]);
    if view.suppressed {
        line(&mut out, &[note.to_owned()]);
    }
    out.push_str("\r\n");
    for y in &view.years {
        let heading = format!("{}（{}）", y.label_ja, y.label_en);
        for t in &y.tables {
            table(&mut out, &heading, t);
        }
    }
    if let Some(t) = &view.across_years {
        table(&mut out, &format!("{}（{}）", view.label_ja, view.label_en), t);
    }
    out
}

/// The bytes of the file in `encoding`.
pub fn encode(text: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Utf8Bom => {
            let mut bytes = vec![0xEF, 0xBB, 0xBF];
            bytes.extend_from_slice(text.as_bytes());
            bytes
        }
        Encoding::ShiftJis => encoding_rs::SHIFT_JIS.encode(text).0.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_when_they_must_be() {
        assert_eq!(field("世田谷"), "世田谷");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn encodings() {
        assert_eq!(Encoding::parse(None), Some(Encoding::Utf8Bom));
        assert_eq!(Encoding::parse(Some("sjis")), Some(Encoding::ShiftJis));
        assert_eq!(Encoding::parse(Some("latin1")), None);
        let utf8 = encode("令和4年度", Encoding::Utf8Bom);
        assert_eq!(&utf8[..3], &[0xEF, 0xBB, 0xBF]);
        let sjis = encode("令和4年度", Encoding::ShiftJis);
        // 令 is 0x97DF in Shift_JIS.
        assert_eq!(&sjis[..2], &[0x97, 0xDF]);
        assert_eq!(encoding_rs::SHIFT_JIS.decode(&sjis).0, "令和4年度");
    }
}
