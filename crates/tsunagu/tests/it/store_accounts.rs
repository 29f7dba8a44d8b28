//! Storage stories about accounts: their scopes, sessions, second factors and
//! sign-in attempts.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use jiff::Timestamp;
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, FamilyId, RoomId};
use tsunagu_store::{token_hash, NewVenue, Secret, StoreError};

async fn story_accounts_scopes_sessions_and_second_factor(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, foreign_area, _) = town(&s, "082350").await;
    let venue = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: None,
            kind: VenueKind::SupportRoom,
            name_ja: "室".into(),
            name_en: "Room".into(),
        })
        .await
        .unwrap();
    let admin = ctx(m, Role::Admin);

    let mut na = new_account(m, "coord", Role::Coordinator);
    na.areas = vec![south, north, north];
    na.venues = vec![venue.id];
    na.rooms = vec![RoomId(3)];
    na.totp_secret = Some(Secret::new("JBSWY3DPEHPK3PXP"));
    na.created_at = admin.at;
    let acc = s.create_account(Some(&admin), &na).await.unwrap();
    assert_eq!(acc.username, "coord");
    assert_eq!(acc.role, Role::Coordinator);
    assert_eq!(acc.areas, vec![north, south]);
    assert_eq!(acc.venues, vec![venue.id]);
    assert_eq!(acc.rooms, vec![RoomId(3)]);
    assert_eq!(acc.totp_secret, Some(Secret::new("JBSWY3DPEHPK3PXP")));
    assert_eq!(acc.created_at, admin.at);
    assert!(!acc.disabled);
    assert_eq!(s.account(m, acc.id).await.unwrap(), Some(acc.clone()));
    assert_eq!(s.account_by_username(m, "coord").await.unwrap(), Some(acc.clone()));
    assert_eq!(s.account_by_username(other, "coord").await.unwrap(), None);

    assert!(matches!(
        s.create_account(Some(&admin), &new_account(m, "coord", Role::Nurse)).await,
        Err(StoreError::Conflict("username_taken"))
    ));
    // The same name in another municipality is another account; bootstrap has no context.
    let elsewhere = s.create_account(None, &new_account(other, "coord", Role::Nurse)).await.unwrap();
    assert_eq!(elsewhere.created_at, Timestamp::UNIX_EPOCH);
    let mut bad = new_account(m, "x", Role::Coordinator);
    bad.areas = vec![foreign_area];
    assert!(matches!(s.create_account(None, &bad).await, Err(StoreError::InvalidReference("areas"))));
    let mut bad = new_account(m, "y", Role::FamilyMember);
    bad.family_id = Some(FamilyId(12345));
    assert!(matches!(s.create_account(None, &bad).await, Err(StoreError::InvalidReference("family_id"))));
    assert_eq!(s.accounts(m).await.unwrap(), vec![acc.clone()]);

    // Sessions.
    s.create_session(&session("t1", m, acc.id, "2026-11-22T00:00:00.000001Z")).await.unwrap();
    s.create_session(&session("t2", m, acc.id, "2026-11-22T00:00:00Z")).await.unwrap();
    let got = s.session(m, &token_hash("t1")).await.unwrap().unwrap();
    assert_eq!(got, session("t1", m, acc.id, "2026-11-22T00:00:00.000001Z"));
    // A session is found within its municipality only (the token names it),
    // and cannot be made for an account of another.
    assert_eq!(s.session(other, &token_hash("t1")).await.unwrap(), None);
    assert_eq!(s.account(other, acc.id).await.unwrap(), None);
    assert!(matches!(
        s.create_session(&session("tx", other, acc.id, "2026-11-22T00:00:00Z")).await,
        Err(StoreError::NotFound)
    ));
    s.delete_session(other, &token_hash("t1")).await.unwrap();
    assert!(s.session(m, &token_hash("t1")).await.unwrap().is_some());
    s.touch_session(m, &token_hash("t1"), at("2026-11-22T00:10:00.5Z")).await.unwrap();
    assert_eq!(s.session(m, &token_hash("t1")).await.unwrap().unwrap().last_seen_at, at("2026-11-22T00:10:00.5Z"));
    s.delete_session(m, &token_hash("t2")).await.unwrap();
    assert_eq!(s.session(m, &token_hash("t2")).await.unwrap(), None);

    // Disabling ends the sessions; it is bounded by the actor's municipality.
    assert!(matches!(s.set_disabled(&ctx(other, Role::Admin), acc.id, true).await, Err(StoreError::NotFound)));
    s.set_disabled(&admin, acc.id, true).await.unwrap();
    assert!(s.account(m, acc.id).await.unwrap().unwrap().disabled);
    assert_eq!(s.session(m, &token_hash("t1")).await.unwrap(), None);
    s.set_disabled(&admin, acc.id, false).await.unwrap();
    assert!(!s.account(m, acc.id).await.unwrap().unwrap().disabled);

    // A new password ends the sessions too.
    s.create_session(&session("t3", m, acc.id, "2026-11-22T01:00:00Z")).await.unwrap();
    s.set_password(Some(&admin), acc.id, &Secret::new("$argon2id$new")).await.unwrap();
    assert_eq!(s.session(m, &token_hash("t3")).await.unwrap(), None);
    assert_eq!(s.account(m, acc.id).await.unwrap().unwrap().password_hash, Secret::new("$argon2id$new"));
    assert!(matches!(s.set_password(None, AccountId(999), &Secret::new("h")).await, Err(StoreError::NotFound)));

    // TOTP steps are never accepted twice, even by racing requests.
    assert!(s.use_totp_step(m, acc.id, 100).await.unwrap());
    assert!(!s.use_totp_step(m, acc.id, 100).await.unwrap());
    assert!(!s.use_totp_step(m, acc.id, 99).await.unwrap());
    let racers: Vec<_> = (0..10)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.use_totp_step(m, acc.id, 101).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for r in racers {
        won += usize::from(r.await.unwrap());
    }
    assert_eq!(won, 1);
    assert_eq!(s.account(m, acc.id).await.unwrap().unwrap().totp_last_step, 101);

    // Enrolling keeps the sessions; a reset ends them and clears the last step.
    s.create_session(&session("t4", m, acc.id, "2026-11-22T01:00:00Z")).await.unwrap();
    s.set_totp_secret(None, acc.id, Some(&Secret::new("NEWSECRET"))).await.unwrap();
    assert!(s.session(m, &token_hash("t4")).await.unwrap().is_some());
    s.set_totp_secret(Some(&admin), acc.id, None).await.unwrap();
    assert_eq!(s.session(m, &token_hash("t4")).await.unwrap(), None);
    let acc2 = s.account(m, acc.id).await.unwrap().unwrap();
    assert_eq!((acc2.totp_secret, acc2.totp_last_step), (None, 0));
    s.create_session(&session("t5", m, acc.id, "2026-11-22T01:00:00Z")).await.unwrap();
    s.delete_sessions_of(m, acc.id).await.unwrap();
    assert_eq!(s.session(m, &token_hash("t5")).await.unwrap(), None);

    assert_eq!(
        actions(&s, m).await,
        ["account.create", "account.disable", "account.enable", "account.password_reset", "account.totp_reset",]
    );
    assert_eq!(s.audit_lines(m, 0, 1).await.unwrap()[0].detail, format!("account={}", acc.id));
    assert_eq!(verify_chain(&s, m).await, Ok(5));
    assert_eq!(verify_chain(&s, other).await, Ok(0));
    finish(s, db).await;
}

/// Sign-in attempts are forgotten once the window has passed them (#9):
/// counting a new attempt deletes every one older than the window, and
/// what is still within it keeps counting.
async fn story_signin_attempts_older_than_the_window_are_forgotten(backend: Backend) {
    use jiff::SignedDuration;
    use tsunagu_store::{SigninRequest, SigninReservation};
    let (s, db) = fresh(backend).await;
    let window = SignedDuration::from_mins(15);
    let req = |user: &str, at: Timestamp| SigninRequest {
        municipality_code: "131121".into(),
        username: user.into(),
        remote_addr: "192.0.2.1".into(),
        at,
        window,
        max_failures_per_user: 3,
        max_failures_per_addr: 100,
        session: None,
    };
    let start = at("2026-11-22T01:00:00Z");
    for (user, minutes) in [("old", 0), ("old", 1), ("old", 2), ("recent", 10), ("recent", 11)] {
        let r = s.reserve_signin_attempt(&req(user, start + SignedDuration::from_mins(minutes))).await.unwrap();
        assert!(matches!(r, SigninReservation::Granted { .. }), "{r:?}");
    }
    let rows = || scalar::<i64>(&db, "SELECT COUNT(*) FROM signin_attempts");
    assert_eq!(rows().await, 5, "all within the window");
    // 01:16: the window (15 minutes) reaches back to 01:01, so the first goes.
    let now = start + SignedDuration::from_mins(16);
    assert!(matches!(s.reserve_signin_attempt(&req("recent", now)).await.unwrap(), SigninReservation::Granted { .. }));
    assert_eq!(rows().await, 5, "the 01:00 attempt is forgotten, this one counted");
    // What is within the window still counts: `recent` has 3 failures now.
    let locked = s.reserve_signin_attempt(&req("recent", now)).await.unwrap();
    assert!(matches!(locked, SigninReservation::Locked { .. }), "{locked:?}");
    // An hour on, one attempt leaves only itself.
    let later = start + SignedDuration::from_mins(60);
    assert!(matches!(s.reserve_signin_attempt(&req("old", later)).await.unwrap(), SigninReservation::Granted { .. }));
    assert_eq!(rows().await, 1);
    finish(s, db).await;
}

on_both!(multi_thread:
    accounts_scopes_sessions_and_second_factor => story_accounts_scopes_sessions_and_second_factor,
);

on_both! {
    signin_attempts_older_than_the_window_are_forgotten => story_signin_attempts_older_than_the_window_are_forgotten,
}
