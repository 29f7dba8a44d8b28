//! Storage stories of the peer-support chat [003]: invitations and rooms,
//! messages in a total order stored once per client id, read state, teams
//! checked against the composition rule and capacity, escalation into the
//! nurse's referrals. Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use std::sync::Arc;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::chat::invitations::{code_hash, supporter_view, EscalationStatus};
use tsunagu_domain::chat::messages::{ClientId, MessageText};
use tsunagu_domain::chat::supporters::{Attributes, Capacity, Profession, SupporterState};
use tsunagu_domain::chat::teams::{suggest, Team};
use tsunagu_domain::referrals::{apply, ConcernSource, ReferralAction, ReferralStatus};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, MunicipalityId, RoomId};
use tsunagu_store::{ReferralFilter, StoreError};

fn as_account(m: MunicipalityId, role: Role, account: AccountId, when: &str) -> AuditContext {
    as_staff(m, role, account.0, when)
}

fn parent_account(m: MunicipalityId, username: &str, display: &str) -> tsunagu_store::NewAccount {
    tsunagu_store::NewAccount { display_name: display.into(), ..new_account(m, username, Role::ChatParent) }
}

/// A family, an invitation for it, and a parent who joined with it.
async fn joined(s: &Db, m: MunicipalityId, area: tsunagu_domain::AreaId, name: &str) -> (AccountId, RoomId) {
    let kana = match name {
        "a" => "アイ",
        "b" => "ベニ",
        "c" => "チカ",
        _ => "ハナコ",
    };
    let f = family(s, m, area, kana).await;
    let hash = code_hash(&format!("{name:X<12}").to_uppercase());
    s.issue_invitation(&ctx(m, Role::Nurse), f, &hash, at("2027-11-22T00:00:00Z")).await.unwrap();
    s.join_chat(m, &hash, &parent_account(m, name, name), at("2026-11-23T00:00:00Z")).await.unwrap()
}

async fn supporter(s: &Db, m: MunicipalityId, name: &str, attrs: (Option<Profession>, bool, bool)) -> AccountId {
    let a = s.create_account(None, &new_account(m, name, Role::PeerSupporter)).await.unwrap().id;
    let attributes = Attributes::new(attrs.0, attrs.1, attrs.2).unwrap();
    s.register_supporter(
        &as_account(m, Role::PeerSupporter, a, "2026-11-22T00:00:00Z"),
        attributes,
        Capacity::new(2).unwrap(),
    )
    .await
    .unwrap();
    s.set_supporter_state(&ctx(m, Role::Admin), a, SupporterState::Active).await.unwrap();
    a
}

async fn story_a_parent_joins_once_with_an_invitation(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, _, _) = town(&s, "082350").await;
    let f = family(&s, m, north, "ハナコ").await;
    let hash = code_hash("ABCDEFGHJKMN");
    let nurse = ctx(m, Role::Nurse);
    s.issue_invitation(&nurse, f, &hash, at("2027-01-01T00:00:00Z")).await.unwrap();
    assert_eq!(last_line(&s, m).await.1, Some(f), "the invitation is audited with the family");
    assert!(matches!(
        s.issue_invitation(&nurse, f, &hash, at("2027-01-01T00:00:00Z")).await,
        Err(StoreError::Conflict("code_taken"))
    ));

    // Another municipality's code, an unknown code, an expired code: not found.
    let when = at("2026-11-23T00:00:00Z");
    let new = parent_account(m, "hiyoko", "ひよこ");
    assert!(matches!(s.join_chat(other, &hash, &new, when).await, Err(StoreError::NotFound)));
    assert!(matches!(s.join_chat(m, &code_hash("ZZZZZZZZZZZZ"), &new, when).await, Err(StoreError::NotFound)));
    assert!(matches!(s.join_chat(m, &hash, &new, at("2027-01-01T00:00:00Z")).await, Err(StoreError::NotFound)));

    let (parent, room) = s.join_chat(m, &hash, &new, when).await.unwrap();
    let account = s.account(m, parent).await.unwrap().unwrap();
    assert_eq!((account.role, account.display_name.as_str(), account.family_id), (Role::ChatParent, "ひよこ", None));
    assert!(account.totp_secret.is_none());
    // Once only.
    let again = parent_account(m, "hiyoko2", "ひよこ2");
    assert!(matches!(s.join_chat(m, &hash, &again, when).await, Err(StoreError::Conflict("invitation_used"))));

    let access = s.room_access(m, room).await.unwrap().unwrap();
    assert_eq!((access.parent, access.team.clone(), access.escalated), (parent, vec![], false));
    assert_eq!(s.room_access(other, room).await.unwrap(), None);
    assert_eq!(s.room_of_parent(m, parent).await.unwrap(), Some(room));
    assert_eq!(s.room_of_parent(other, parent).await.unwrap(), None);
    let summary = s.room_summary(m, room).await.unwrap().unwrap();
    assert_eq!((summary.display_name.as_str(), summary.last_seq, summary.awaiting_answer), ("ひよこ", 0, false));

    // A taken username leaves the invitation unused.
    let g = family(&s, m, north, "ミカ").await;
    let hash2 = code_hash("ABCDEFGHJKMP");
    s.issue_invitation(&nurse, g, &hash2, at("2027-01-01T00:00:00Z")).await.unwrap();
    let taken = parent_account(m, "hiyoko", "別の人");
    assert!(matches!(s.join_chat(m, &hash2, &taken, when).await, Err(StoreError::Conflict("username_taken"))));
    s.join_chat(m, &hash2, &parent_account(m, "mika", "みか"), when).await.unwrap();
    finish(s, db).await;
}

async fn story_messages_are_ordered_stored_once_and_read(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let (parent, room) = joined(&s, m, north, "hiyoko").await;
    let (_, foreign_room) = joined(&s, other, other_area, "kotori").await;
    let helper = supporter(&s, m, "sup", (Some(Profession::Medical), false, false)).await;
    let p = |when: &str| as_account(m, Role::ChatParent, parent, when);
    let text = |t: &str| MessageText::parse(t).unwrap();
    let id = |t: &str| ClientId::parse(t).unwrap();

    // A room's last number (what a node's sockets compare with): 0 before the first message.
    assert_eq!(s.room_last_seq(m, room).await.unwrap(), Some(0));
    // An instant finer than the microsecond the column keeps: the answer
    // is the message as stored (the resend below reads it back).
    let first = s
        .post_message(&p("2026-11-23T01:00:00.123456789Z"), room, &id("c1"), &text("はじめまして"), false)
        .await
        .unwrap();
    assert_eq!((first.message.seq, first.duplicate, first.message.author_name.as_str()), (1, false, "hiyoko"));
    assert_eq!(last_line(&s, m).await, line("chat.post", None, format!("room={room} seq=1")));
    let second = s.post_message(&p("2026-11-23T01:01:00Z"), room, &id("c2"), &text("夜泣きが…"), false).await.unwrap();
    assert_eq!(second.message.seq, 2);
    // A resend after a dropped connection: the first, stored once.
    let resent =
        s.post_message(&p("2026-11-23T01:05:00Z"), room, &id("c1"), &text("はじめまして"), false).await.unwrap();
    assert!(resent.duplicate);
    assert_eq!(resent.message, first.message);
    let answer = s
        .post_message(
            &as_account(m, Role::PeerSupporter, helper, "2026-11-23T01:10:00Z"),
            room,
            &id("s1"),
            &text("こんばんは"),
            false,
        )
        .await
        .unwrap();
    assert_eq!((answer.message.seq, answer.message.author_role), (3, Role::PeerSupporter));
    assert_eq!(s.room_last_seq(m, room).await.unwrap(), Some(3));
    assert_eq!(s.room_last_seq(m, foreign_room).await.unwrap(), None);
    assert_eq!(s.room_last_seq(other, room).await.unwrap(), None);

    // Another municipality's room is not reached through this one.
    assert!(matches!(
        s.post_message(&p("2026-11-23T01:11:00Z"), foreign_room, &id("x"), &text("x"), false).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.messages_after(&p("2026-11-23T01:11:00Z"), foreign_room, 0, 10).await.unwrap().is_empty());

    // What a reconnecting client missed, and history pages.
    let after: Vec<i64> =
        s.messages_after(&p("2026-11-23T02:00:00Z"), room, 1, 100).await.unwrap().iter().map(|x| x.seq).collect();
    assert_eq!(after, vec![2, 3]);
    let latest: Vec<i64> =
        s.history(&p("2026-11-23T02:00:00Z"), room, None, 2).await.unwrap().iter().map(|x| x.seq).collect();
    assert_eq!(latest, vec![2, 3]);
    assert_eq!(last_line(&s, m).await, line("chat.read", None, format!("room={room} count=2")));
    let older: Vec<i64> =
        s.history(&p("2026-11-23T02:00:00Z"), room, Some(2), 2).await.unwrap().iter().map(|x| x.seq).collect();
    assert_eq!(older, vec![1]);

    // Read state: the author has read what they wrote; it never goes back, nor past the end.
    let state = s.read_state(m, room).await.unwrap();
    assert_eq!(state, vec![(parent, 2), (helper, 3)]);
    s.mark_read(&p("2026-11-23T02:01:00Z"), room, 99).await.unwrap();
    s.mark_read(&p("2026-11-23T02:01:00Z"), room, 1).await.unwrap();
    assert_eq!(s.read_state(m, room).await.unwrap()[0], (parent, 3));

    // Words of self-harm flag the room.
    assert!(!s.room_access(m, room).await.unwrap().unwrap().escalated);
    s.post_message(&p("2026-11-23T03:00:00Z"), room, &id("c3"), &text("消えたい"), true).await.unwrap();
    let summary = s.room_summary(m, room).await.unwrap().unwrap();
    assert!(summary.urgent && summary.awaiting_answer);
    assert!(s.room_access(m, room).await.unwrap().unwrap().escalated);
    finish(s, db).await;
}

async fn story_concurrent_posts_get_every_number_once(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (parent, room) = joined(&s, m, north, "hiyoko").await;
    let mut tasks = vec![];
    for i in 0..12 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let c = as_account(m, Role::ChatParent, parent, "2026-11-23T01:00:00Z");
            // Every client id twice: a resend racing its first.
            let id = ClientId::parse(&format!("c{}", i / 2)).unwrap();
            s.post_message(&c, room, &id, &MessageText::parse("おはよう").unwrap(), false).await.unwrap()
        }));
    }
    let mut fresh_seqs = vec![];
    for t in tasks {
        let p = t.await.unwrap();
        if !p.duplicate {
            fresh_seqs.push(p.message.seq);
        }
    }
    fresh_seqs.sort();
    assert_eq!(fresh_seqs, (1..=6).collect::<Vec<_>>());
    let c = as_account(m, Role::ChatParent, parent, "2026-11-23T01:00:00Z");
    assert_eq!(s.messages_after(&c, room, 0, 100).await.unwrap().len(), 6);
    finish(s, db).await;
}

async fn story_teams_keep_the_rule_and_suggestions_fill_rooms(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let (_, r1) = joined(&s, m, north, "a").await;
    let (_, r2) = joined(&s, m, north, "b").await;
    let (_, r3) = joined(&s, m, north, "c").await;
    let pro = supporter(&s, m, "pro", (Some(Profession::Childcare), false, false)).await;
    let tod = supporter(&s, m, "tod", (None, true, false)).await;
    let new = supporter(&s, m, "new", (None, false, true)).await;
    let admin = ctx(m, Role::Admin);

    let wrong = Team { professional: tod, raising_toddler: pro, no_parenting_experience: new };
    assert!(matches!(s.set_team(&admin, r1, &wrong).await, Err(StoreError::Conflict("supporter_does_not_fit"))));
    let team = Team { professional: pro, raising_toddler: tod, no_parenting_experience: new };
    s.set_team(&admin, r1, &team).await.unwrap();
    assert_eq!(s.room_access(m, r1).await.unwrap().unwrap().team.len(), 3);
    s.set_team(&admin, r2, &team).await.unwrap();
    // Capacity 2: a third room is refused; setting the same room again is not.
    assert!(matches!(s.set_team(&admin, r3, &team).await, Err(StoreError::Conflict("supporter_over_capacity"))));
    s.set_team(&admin, r1, &team).await.unwrap();
    assert_eq!(s.supporter(m, pro).await.unwrap().unwrap().load, 2);

    // Suspending a supporter takes them off their rooms' access, and the room needs a new member.
    s.set_supporter_state(&admin, tod, SupporterState::Suspended).await.unwrap();
    assert_eq!(s.room_access(m, r1).await.unwrap().unwrap().team, {
        let mut t = vec![pro, new];
        t.sort();
        t
    });
    let (needs, candidates) = s.team_needs(m).await.unwrap();
    assert_eq!(needs.iter().map(|n| n.room).collect::<Vec<_>>(), vec![r1, r2, r3]);
    let tod2 = supporter(&s, m, "tod2", (None, true, false)).await;
    let (needs, candidates2) = s.team_needs(m).await.unwrap();
    assert!(candidates2.len() > candidates.len());
    let suggestion = suggest(&needs, &candidates2);
    // r1 and r2 keep pro and new and take tod2; r3 has nobody left with capacity.
    assert_eq!(suggestion.unfilled, vec![r3]);
    for t in &suggestion.teams {
        assert_eq!(t.team, Team { professional: pro, raising_toddler: tod2, no_parenting_experience: new });
        s.set_team(&admin, t.room, &t.team).await.unwrap();
    }
    // Registering again puts a supporter back to be vetted.
    s.register_supporter(
        &as_account(m, Role::PeerSupporter, tod2, "2026-11-24T00:00:00Z"),
        Attributes::new(Some(Profession::Education), true, false).unwrap(),
        Capacity::new(3).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(s.supporter(m, tod2).await.unwrap().unwrap().state, SupporterState::Registered);
    // Only a peer supporter's own account registers.
    assert!(matches!(
        s.register_supporter(
            &as_staff(m, Role::Admin, 999, "2026-11-24T00:00:00Z"),
            Attributes::new(None, true, false).unwrap(),
            Capacity::new(1).unwrap()
        )
        .await,
        Err(StoreError::InvalidReference("account"))
    ));

    let health = s.team_health(&admin).await.unwrap();
    assert_eq!(health.len(), 3);
    assert_eq!(last_line(&s, m).await, line("chat.health", None, "rooms=3"));
    finish(s, db).await;
}

async fn story_an_escalation_becomes_the_nurses_referral(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, _) = town(&s, "131121").await;
    let f = family(&s, m, north, "ハナコ").await;
    let hash = code_hash("ABCDEFGHJKMN");
    s.issue_invitation(&ctx(m, Role::Nurse), f, &hash, at("2027-11-22T00:00:00Z")).await.unwrap();
    let (parent, room) =
        s.join_chat(m, &hash, &parent_account(m, "hiyoko", "ひよこ"), at("2026-11-23T00:00:00Z")).await.unwrap();
    let helper = supporter(&s, m, "sup", (Some(Profession::Medical), false, false)).await;
    let p = as_account(m, Role::ChatParent, parent, "2026-11-23T01:00:00Z");
    s.post_message(&p, room, &ClientId::parse("c1").unwrap(), &MessageText::parse("眠れない").unwrap(), false)
        .await
        .unwrap();
    let sup = as_account(m, Role::PeerSupporter, helper, "2026-11-23T02:00:00Z");
    assert!(matches!(
        s.escalate(&sup, room, Some(9), "", false).await,
        Err(StoreError::InvalidReference("message_seq"))
    ));
    let e = s.escalate(&sup, room, Some(1), "眠れない日が続いている", true).await.unwrap();
    assert_eq!((e.room, e.message_seq, e.status), (room, Some(1), ReferralStatus::Raised));
    assert_eq!(last_line(&s, m).await, line("chat.escalate", None, format!("room={room} escalation={}", e.id)));
    assert!(lines_of(&s, m, "referral.raise").await.contains(&(Some(f), format!("referral={}", e.referral))));
    assert!(s.room_access(m, room).await.unwrap().unwrap().escalated);

    // The nurse sees it as a referral about the family from the chat.
    let nurse = ctx(m, Role::Nurse);
    let list = s.referrals(&nurse, &ReferralFilter { open_only: true, limit: 10, ..Default::default() }).await.unwrap();
    let r = list.iter().find(|r| r.id == e.referral).unwrap();
    assert_eq!((r.referral.family, r.referral.source, r.referral.urgent), (f, ConcernSource::ChatEscalation, true));
    let next = apply(&r.referral, Role::Nurse, ReferralAction::Receive).unwrap();
    s.update_referral(&nurse, e.referral, &r.referral, &next, ReferralAction::Receive, "").await.unwrap();

    // The supporter sees how far it got, only.
    let mine = s.escalations_by(&sup, helper).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(supporter_view(mine[0].status), EscalationStatus::TakenUp);
    finish(s, db).await;
}

on_both!(
    a_parent_joins_once_with_an_invitation => story_a_parent_joins_once_with_an_invitation,
    messages_are_ordered_stored_once_and_read => story_messages_are_ordered_stored_once_and_read,
    teams_keep_the_rule_and_suggestions_fill_rooms => story_teams_keep_the_rule_and_suggestions_fill_rooms,
    an_escalation_becomes_the_nurses_referral => story_an_escalation_becomes_the_nurses_referral,
);
on_both!(multi_thread: concurrent_posts_get_every_number_once => story_concurrent_posts_get_every_number_once);
