//! `tsunagu import` (#15, #16): families from a CSV file, checked row by row
//! as the notification form checks them, the good rows stored through the
//! bulk path. On both databases (`on_both!`), and the binary's exit code.

use crate::store_support::*;
use crate::support::Backend;
use sqlx::Connection;
use tsunagu::import::{import_csv, operator_context, ImportReport};
use tsunagu_domain::MunicipalityId;
use tsunagu_web::i18n::Lang;

const ENGLISH: &str = "area,fee_bracket,edd,notified_on,foetuses,first_child,handbook_number,\
mother_family_name,mother_given_name,mother_family_name_kana,mother_given_name_kana,mother_birth_date,\
partner_family_name,partner_given_name,partner_family_name_kana,partner_given_name_kana\n\
North,taxed,2027-05-20,,1,yes,H-10,山田,花子,ヤマダ,ハナコ,1994-05-01,山田,太郎,ヤマダ,タロウ\n\
North,taxed,2027-13-01,,1,,,佐藤,美香,サトウ,ミカ,,,,,\n\
\"South\",non_taxed,2027-04-01,2026-11-01,2,no,,\"鈴木, 愛\",愛,スズキ,アイ,,,,,\n\
East,taxed,2027-04-01,,1,,,田中,結衣,タナカ,ユイ,,,,,\n\
North,taxed,2027-03-03,,1\n\
South,課税,2027-02-02,,1,,H-10,伊藤,奈々,イトウ,ナナ,,,,,\n\
North,public_assistance,2027-06-06,,1,,,木村,咲,kimura,サキ,,,,,\n";

const JAPANESE: &str = "\u{feff}地区,所得区分,出産予定日,妊婦氏,妊婦名,妊婦氏（かな）,妊婦名（かな）,第一子\r\n\
南,非課税,2027-01-15,森,葵,モリ,アオイ,はい\r\n\
北,生活保護,2027-02-15,林,凛,ハヤシ,リン,\r\n";

async fn import(s: &Db, m: MunicipalityId, text: &str, lang: Lang) -> (ImportReport, String) {
    let mut errors = Vec::new();
    let ctx = operator_context(m, at("2026-11-22T01:02:03Z"));
    let report = import_csv(s.as_ref(), &ctx, text, lang, false, &mut errors).await.unwrap();
    (report, String::from_utf8(errors).unwrap())
}

async fn story_a_csv_stores_its_good_rows_and_reports_the_bad_by_line(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, _, _) = town(&s, "131121").await;
    let families = || scalar::<i64>(&db, "SELECT COUNT(*) FROM families");

    let (report, errors) = import(&s, m, ENGLISH, Lang::En).await;
    assert_eq!((report.rows, report.stored), (7, 2), "{errors}");
    let lines: Vec<usize> = report.refused.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 5, 6, 7, 8], "{errors}");
    let reasons = |line: usize| report.refused.iter().find(|r| r.line == line).unwrap().reasons.join("; ");
    assert_eq!(reasons(3), "edd: Enter a real date as YYYY-MM-DD");
    assert_eq!(reasons(5), "area: The chosen item does not exist");
    assert_eq!(reasons(6), "the row has 5 fields, the header 16");
    assert!(reasons(7).contains("handbook"), "{}", reasons(7));
    assert!(reasons(8).starts_with("mother_family_name_kana: "), "{}", reasons(8));
    assert!(errors.contains("line 3: edd: Enter a real date"), "{errors}");
    // Reasons name columns and codes, never a person.
    for name in ["佐藤", "田中", "伊藤", "木村", "kimura"] {
        assert!(!errors.contains(name), "{errors}");
    }
    assert_eq!(families().await, 2);
    // The stored rows are the form's: the partner, the quoted comma, the Japanese fee bracket.
    let names = scalar::<String>(&db, "SELECT family_name FROM people WHERE given_name = '愛'").await;
    assert_eq!(names, "鈴木, 愛");
    assert_eq!(scalar::<i64>(&db, "SELECT COUNT(*) FROM people WHERE relation = 'partner'").await, 1);

    // Again: the good rows are duplicates now, refused; nothing is stored twice.
    let (again, _) = import(&s, m, ENGLISH, Lang::Ja).await;
    assert_eq!(again.stored, 0);
    assert_eq!(again.refused.len(), 7);
    assert_eq!(again.refused[0].reasons, ["同じ妊娠の届出が既に登録されています"]);
    assert_eq!(families().await, 2);

    // A BOM, a Japanese header, Japanese area names and fee brackets, CRLF.
    let (ja, errors) = import(&s, m, JAPANESE, Lang::Ja).await;
    assert_eq!((ja.rows, ja.stored, ja.refused.len()), (2, 2, 0), "{errors}");
    assert_eq!(families().await, 4);
    let (ja, _) = import(&s, m, JAPANESE, Lang::Ja).await;
    assert_eq!((ja.stored, ja.refused.len()), (0, 2));
    assert_eq!(families().await, 4);

    // A header it cannot read stores nothing.
    let ctx = operator_context(m, at("2026-11-22T01:02:03Z"));
    let err = import_csv(s.as_ref(), &ctx, "地区,住所\n北,x\n", Lang::Ja, false, &mut Vec::new()).await.unwrap_err();
    assert!(err.to_string().contains("住所"), "{err}");
    assert_eq!(families().await, 4);
    // Every stored family has its one line, and the chain holds.
    assert_eq!(lines_of(&s, m, "family.create").await.len(), 4);
    assert!(verify_chain(&s, m).await.is_ok());
    finish(s, db).await;
}

on_both!(
    a_csv_stores_its_good_rows_and_reports_the_bad_by_line => story_a_csv_stores_its_good_rows_and_reports_the_bad_by_line,
);

/// The command as an operator runs it: the exit code says whether a row was
/// refused; `audit verify` passes after it; `demo-load` prints its rate.
#[tokio::test]
async fn the_import_command_exits_3_when_a_row_is_refused() {
    let dir = std::env::temp_dir().join(format!("tsunagu-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/import.sqlite3", dir.display());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .args(args)
            .env_remove("TSUNAGU_KEY")
            .env("TSUNAGU_LOG", "warn")
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let out = run(&["demo-load", "--db", &db, "--families", "3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("families/s"));
    let mut c = sqlx::SqliteConnection::connect(&db).await.unwrap();
    let (code, area): (String, i64) = sqlx::query_as(
        "SELECT m.code, a.id FROM municipalities m JOIN areas a ON a.municipality_id = m.id ORDER BY a.id LIMIT 1",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    let file = dir.join("families.csv");
    let csv = format!(
        "地区,所得区分,出産予定日,妊婦氏,妊婦名,妊婦氏かな,妊婦名かな\n\
         {area},課税,2027-05-20,小林,舞,コバヤシ,マイ\n\
         {area},課税,2027-05-20,小林,舞,コバヤシ,マイ\n\
         {area},課税,someday,中村,陽,ナカムラ,ヒナタ\n"
    );
    std::fs::write(&file, csv).unwrap();
    let file = file.to_string_lossy().into_owned();
    let out = run(&["import", "--db", &db, "--municipality", &code, "--lang", "en", &file]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stdout} {stderr}");
    assert!(stdout.contains("3 rows: 1 stored, 2 refused"), "{stdout}");
    assert!(stderr.contains("line 3: ") && stderr.contains("line 4: 出産予定日: "), "{stderr}");
    let out = run(&["audit", "verify", "--db", &db]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let ok = std::fs::write(dir.join("ok.csv"), "地区,所得区分,出産予定日,妊婦氏,妊婦名,妊婦氏かな,妊婦名かな\n");
    ok.unwrap();
    let out = run(&["import", "--db", &db, "--municipality", &code, &dir.join("ok.csv").to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
