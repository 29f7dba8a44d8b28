//! Group commit of audit lines (#16): many reads at once, each answered
//! only once its line is committed, and the chain stays a chain.

use crate::support::*;
use tsunagu_domain::roles::Role;

async fn story_concurrent_reads_keep_the_chain(backend: Backend) {
    crate::statements::install();
    let app = TestApp::start(backend).await;
    app.account(&app.fx.setagaya, "nurse", Role::Nurse, Scope::None).await;
    let nurse = app.token(&app.fx.setagaya, "nurse").await;
    let family = app.register(&nurse, &notification(app.fx.setagaya_area.id, "やまだ", "はな", "2027-03-01")).await;
    let m = app.fx.setagaya.id;
    let before = app.store.audit_lines(m, 0, 100_000).await.unwrap().len();

    // 48 clients at once, each opening the record, searching and reading a
    // work list: 144 reads, 144 lines.
    const CLIENTS: usize = 48;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (http, nurse) = (app.http.clone(), nurse.clone());
        let urls = [
            app.url(&format!("/api/v1/families/{}", family.0)),
            app.url("/api/v1/families?q=%E3%82%84%E3%81%BE"),
            app.url("/api/v1/worklist?list=overdue&whose=all"),
        ];
        tasks.spawn(async move {
            for url in urls {
                let resp = http.get(&url).bearer_auth(&nurse).send().await.unwrap();
                let status = resp.status().as_u16();
                let body = resp.text().await.unwrap_or_default();
                assert_eq!(status, 200, "{url}: {body}");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }

    let lines = app.store.audit_lines(m, 0, 100_000).await.unwrap();
    assert_eq!(lines.len() - before, CLIENTS * 3, "one line per read, none lost, none doubled");
    let reads = lines[before..]
        .iter()
        .filter(|l| l.action == "family.view" || l.action == "family.search" || l.action == "timeline.worklist");
    assert_eq!(reads.count(), CLIENTS * 3);
    // A chain: sequence numbers without a gap, each line linked to the one before.
    for (i, pair) in lines.windows(2).enumerate() {
        assert_eq!(pair[1].seq, pair[0].seq + 1, "line {i}");
        assert_eq!(pair[1].prev_hash, pair[0].hash, "line {i}");
    }
    let (ok, printed) = app.verify_command(&["--no-checkpoints"]);
    assert!(ok, "{printed}");
}

on_both! {
    multi_thread:
    concurrent_reads_keep_the_chain => story_concurrent_reads_keep_the_chain,
}
