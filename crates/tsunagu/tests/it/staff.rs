//! Staff screens that hold what a decision needs (#10), over HTTP on both
//! back ends: work lists whose chips count what their lists show and that
//! open on a list with work.

use crate::support::*;
use serde_json::Value;

/// Every row of a list, page after page (the API's pages of 50).
async fn all_rows(app: &TestApp, token: &str, list: &str, whose: &str) -> usize {
    let mut n = 0;
    for page in 1..=40 {
        let (s, v) = app.get(token, &format!("/api/v1/worklist?list={list}&whose={whose}&page={page}")).await;
        assert_eq!(s, 200, "{list} page {page}: {v}");
        let key = if list == "urgent" { "followups" } else { "items" };
        n += v[key].as_array().unwrap().len();
        if !v["has_more"].as_bool().unwrap() {
            return n;
        }
    }
    panic!("{list} has more than 40 pages");
}

const CHIPS: [&str; 5] = ["overdue", "due_this_week", "missed", "check_non_attendees", "urgent"];

/// Each chip's count against the rows its list shows, in one scope; answers
/// the counts.
async fn chips_agree(app: &TestApp, token: &str, whose: &str) -> Value {
    let (s, first) = app.get(token, &format!("/api/v1/worklist?list=overdue&whose={whose}")).await;
    assert_eq!(s, 200, "{first}");
    let counts = first["counts"].clone();
    for chip in CHIPS {
        let Some(count) = counts[chip].as_u64() else { continue };
        let rows = all_rows(app, token, chip, whose).await;
        assert_eq!(rows as u64, count, "{whose}: the {chip} chip says {count}, its list shows {rows}");
    }
    counts
}

/// #10: 至急・要フォロー counted the urgent referrals (4) beside a list of
/// every open one (10); each chip now counts its list, for the nurse (her
/// own and the whole municipality) and the coordinator, on the demo data.
/// Then, as the next story, where the work list opens.
async fn each_chip_counts_what_its_list_shows(backend: Backend) {
    // The demo as `serve --demo` loads it (150 families a municipality).
    let app = TestApp::start_demo(backend, 150).await;
    let nurse = app.demo_token("nurse").await;
    let mine = chips_agree(&app, &nurse, "mine").await;
    let all = chips_agree(&app, &nurse, "all").await;
    assert!(all["urgent"].as_u64().unwrap() > 0, "the demo has open referrals: {all}");
    assert!(
        CHIPS.iter().filter(|c| all[**c].as_u64().unwrap_or(0) > 0).count() >= 3,
        "the demo gives most chips work: {all}"
    );
    assert!(mine["overdue"].is_u64());
    let coordinator = app.demo_token("coordinator").await;
    let counts = chips_agree(&app, &coordinator, "mine").await;
    // The follow-ups are not the coordinator's chip.
    assert!(counts.get("urgent").is_none() || counts["urgent"] == 0, "{counts}");
    the_work_list_opens_where_the_work_is(&app).await;
}

/// A work list asked for without a list opens on the first chip with work,
/// never on an empty list while another holds work; the nurse is told how
/// many postpartum applications wait, the coordinator is not.
async fn the_work_list_opens_where_the_work_is(app: &TestApp) {
    for who in ["coordinator", "nurse"] {
        let token = app.demo_token(who).await;
        let (s, v) = app.get(&token, "/api/v1/worklist").await;
        assert_eq!(s, 200, "{v}");
        let list = v["list"].as_str().unwrap();
        let counts = &v["counts"];
        match CHIPS.iter().find(|c| counts[**c].as_u64().unwrap_or(0) > 0) {
            // The first chip, in order, that has work.
            Some(first) => assert_eq!(list, *first, "{who}: {counts}"),
            // No chip has work (the demo's coordinator): every open contact,
            // which has some (#10: she landed on an empty list with 15 here).
            None => {
                assert_eq!(list, "open", "{who}: {counts}");
                assert!(!v["items"].as_array().unwrap().is_empty(), "{who}: {v}");
            }
        }
        let waiting = &counts["applications_waiting"];
        if who == "nurse" {
            let (_, apps) = app.get(&token, "/api/v1/postpartum/applications?status=applied").await;
            let n = apps["applications"].as_array().map_or(0, Vec::len) as u64;
            assert_eq!(waiting.as_u64(), Some(n), "{apps}");
        } else {
            assert!(waiting.is_null(), "{who} does not review applications: {counts}");
        }
    }
}

on_both! {
    each_chip_counts_what_its_list_shows => each_chip_counts_what_its_list_shows,
}
