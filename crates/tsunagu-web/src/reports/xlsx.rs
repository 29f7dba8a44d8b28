//! The Excel download: an Office Open XML workbook (.xlsx) with one sheet
//! per table — its title, the period with its era label, the day it was
//! made (a typed date), the headers, then counts as typed numbers, rates as
//! typed percentages and a held-back cell as the text `*`.
//!
//! Written here over a small zip writer of our own (entries stored, not
//! compressed; a CRC-32 each) rather than with rust_xlsxwriter: a report
//! is a few small sheets of numbers, which needs six short XML parts, and
//! the crate (with its zip and compression dependencies) would be the
//! largest addition to the build for it. A test reads the workbook back
//! with an independent reader (calamine).

use super::{ReportView, TableView};
use jiff::civil::Date;

// --- a zip archive of stored entries ------------------------------------------

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A zip archive whose entries are stored as they are.
#[derive(Default)]
pub struct Zip {
    out: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

fn u16le(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn u32le(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

impl Zip {
    pub fn add(&mut self, name: &str, data: &[u8]) {
        let crc = crc32(data);
        let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        let offset = u32::try_from(self.out.len()).unwrap_or(u32::MAX);
        // 1980-01-01 00:00, the earliest DOS date: the file says nothing of when.
        let (time, date) = (0u16, 0x0021u16);
        let o = &mut self.out;
        u32le(o, 0x0403_4b50);
        u16le(o, 20);
        u16le(o, 0);
        u16le(o, 0);
        u16le(o, time);
        u16le(o, date);
        u32le(o, crc);
        u32le(o, size);
        u32le(o, size);
        u16le(o, name_len);
        u16le(o, 0);
        o.extend_from_slice(name.as_bytes());
        o.extend_from_slice(data);
        let c = &mut self.central;
        u32le(c, 0x0201_4b50);
        u16le(c, 20);
        u16le(c, 20);
        u16le(c, 0);
        u16le(c, 0);
        u16le(c, time);
        u16le(c, date);
        u32le(c, crc);
        u32le(c, size);
        u32le(c, size);
        u16le(c, name_len);
        u16le(c, 0);
        u16le(c, 0);
        u16le(c, 0);
        u16le(c, 0);
        u32le(c, 0);
        u32le(c, offset);
        c.extend_from_slice(name.as_bytes());
        self.entries = self.entries.saturating_add(1);
    }

    pub fn finish(mut self) -> Vec<u8> {
        let start = u32::try_from(self.out.len()).unwrap_or(u32::MAX);
        let size = u32::try_from(self.central.len()).unwrap_or(u32::MAX);
        self.out.extend_from_slice(&self.central);
        let o = &mut self.out;
        u32le(o, 0x0605_4b50);
        u16le(o, 0);
        u16le(o, 0);
        u16le(o, self.entries);
        u16le(o, self.entries);
        u32le(o, size);
        u32le(o, start);
        u16le(o, 0);
        self.out
    }
}

// --- the workbook ----------------------------------------------------------------

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `A`, `B`, … `Z`, `AA`, … for a 0-based column.
fn column_name(mut c: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(char::from(b'A' + u8::try_from(c % 26).unwrap_or(0)));
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    name.iter().rev().collect()
}

/// Style indexes of `styles.xml`.
const STYLE_DATE: u8 = 1;
const STYLE_PERCENT: u8 = 2;
const STYLE_COUNT: u8 = 3;
const STYLE_BOLD: u8 = 4;

enum Cell {
    Text(String, u8),
    Number(String, u8),
}

fn row_xml(r: usize, cells: &[Cell]) -> String {
    let mut x = format!("<row r=\"{}\">", r + 1);
    for (c, cell) in cells.iter().enumerate() {
        let at = format!("{}{}", column_name(c), r + 1);
        match cell {
            Cell::Text(s, style) => x.push_str(&format!(
                "<c r=\"{at}\" s=\"{style}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                esc(s)
            )),
            Cell::Number(v, style) => x.push_str(&format!("<c r=\"{at}\" s=\"{style}\"><v>{v}</v></c>")),
        }
    }
    x.push_str("</row>");
    x
}

/// Days since 30 December 1899: how a spreadsheet stores a date.
pub fn serial(day: Date) -> i32 {
    tsunagu_domain::dates::days_between(jiff::civil::date(1899, 12, 30), day)
}

fn sheet_xml(heading: &str, made_label: &str, made: Date, t: &TableView) -> String {
    let mut rows = vec![
        row_xml(0, &[Cell::Text(t.title.clone(), STYLE_BOLD)]),
        row_xml(1, &[Cell::Text(heading.to_owned(), 0)]),
        row_xml(
            2,
            &[
                Cell::Text(made_label.to_owned(), 0),
                Cell::Number(serial(made).to_string(), STYLE_DATE),
                Cell::Text(tsunagu_domain::reports::date_ja(made), 0),
            ],
        ),
        row_xml(4, &t.columns.iter().map(|c| Cell::Text(c.clone(), STYLE_BOLD)).collect::<Vec<_>>()),
    ];
    for (i, r) in t.rows.iter().enumerate() {
        let mut cells = vec![Cell::Text(r.label.clone(), if r.total { STYLE_BOLD } else { 0 })];
        for c in &r.cells {
            cells.push(match (c.value, c.rate, c.suppressed) {
                (_, _, true) => Cell::Text("*".into(), 0),
                (Some(v), true, _) => Cell::Number(format!("{}.{:03}", v / 1000, v % 1000), STYLE_PERCENT),
                (Some(v), false, _) => Cell::Number(v.to_string(), STYLE_COUNT),
                (None, _, _) => Cell::Text(c.text.clone(), 0),
            });
        }
        rows.push(row_xml(i + 5, &cells));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
         <cols><col min=\"1\" max=\"1\" width=\"28\" customWidth=\"1\"/><col min=\"2\" max=\"12\" width=\"14\" customWidth=\"1\"/></cols>\
         <sheetData>{}</sheetData></worksheet>",
        rows.join("")
    )
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`,
/// unique in the workbook.
fn sheet_name(wanted: &str, taken: &[String]) -> String {
    let clean: String = wanted.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    let mut name = clean.clone();
    let mut n = 2;
    while taken.contains(&name) {
        let suffix = format!(" ({n})");
        name = clean.chars().take(31 - suffix.chars().count()).collect::<String>() + &suffix;
        n += 1;
    }
    name
}

/// The sheets of a report: (name, heading, table).
pub fn sheets(view: &ReportView) -> Vec<(String, String, &TableView)> {
    let mut out: Vec<(String, String, &TableView)> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    let single = view.years.len() == 1;
    for y in &view.years {
        for t in &y.tables {
            let wanted = if single { t.title.clone() } else { format!("{} {}", y.label_en, t.title) };
            let name = sheet_name(&wanted, &taken);
            taken.push(name.clone());
            out.push((name, format!("{}（{}）", y.label_ja, y.label_en), t));
        }
    }
    if let Some(t) = &view.across_years {
        let name = sheet_name(&t.title, &taken);
        out.push((name, format!("{}（{}）", view.label_ja, view.label_en), t));
    }
    out
}

/// The workbook's bytes. `made` is the day it is made (a typed date in
/// each sheet), `made_label` its words.
pub fn workbook(view: &ReportView, made_label: &str, made: Date) -> Vec<u8> {
    let sheets = sheets(view);
    let mut zip = Zip::default();
    let overrides: String = (1..=sheets.len())
        .map(|i| {
            format!(
                "<Override PartName=\"/xl/worksheets/sheet{i}.xml\" \
                 ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
            )
        })
        .collect();
    zip.add(
        "[Content_Types].xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
             <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>\
             {overrides}</Types>"
        )
        .as_bytes(),
    );
    zip.add(
        "_rels/.rels",
        b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
          <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
          <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>\
          </Relationships>",
    );
    let sheet_list: String = sheets
        .iter()
        .enumerate()
        .map(|(i, (name, _, _))| format!("<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rId{}\"/>", esc(name), i + 1, i + 1))
        .collect();
    zip.add(
        "xl/workbook.xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
             xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
             <sheets>{sheet_list}</sheets></workbook>"
        )
        .as_bytes(),
    );
    let rels: String = (1..=sheets.len())
        .map(|i| {
            format!(
                "<Relationship Id=\"rId{i}\" \
                 Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" \
                 Target=\"worksheets/sheet{i}.xml\"/>"
            )
        })
        .collect();
    let styles_id = sheets.len() + 1;
    zip.add(
        "xl/_rels/workbook.xml.rels",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
             <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}\
             <Relationship Id=\"rId{styles_id}\" \
             Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>\
             </Relationships>"
        )
        .as_bytes(),
    );
    // 0 plain, 1 a date (yyyy-mm-dd), 2 a percentage (0.0%), 3 a count (#,##0), 4 bold.
    zip.add(
        "xl/styles.xml",
        b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
          <styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
          <numFmts count=\"2\"><numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\"/><numFmt numFmtId=\"165\" formatCode=\"0.0%\"/></numFmts>\
          <fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Yu Gothic\"/></font><font><b/><sz val=\"11\"/><name val=\"Yu Gothic\"/></font></fonts>\
          <fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
          <borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
          <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
          <cellXfs count=\"5\">\
          <xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
          <xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>\
          <xf numFmtId=\"165\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>\
          <xf numFmtId=\"3\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>\
          <xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>\
          </cellXfs>\
          <cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
          </styleSheet>",
    );
    for (i, (_, heading, t)) in sheets.iter().enumerate() {
        zip.add(&format!("xl/worksheets/sheet{}.xml", i + 1), sheet_xml(heading, made_label, made, t).as_bytes());
    }
    zip.finish()
}

#[cfg(test)]
mod tests;
