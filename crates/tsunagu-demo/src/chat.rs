//! Demo data of the peer-support chat [003]: supporters of the three kinds
//! (the demo's `supporter` account among them), vetted and active; a few
//! parents who joined with a nurse's invitation (the demo mother's family
//! first), each known by a display name only; teams of three from the
//! domain's suggestion; a few messages, one room escalated to the nurse.

use crate::spec;
use jiff::SignedDuration;
use tsunagu_domain::audit::{AuditContext, Requester};
use tsunagu_domain::chat::invitations::{code_from, code_hash, normalise};
use tsunagu_domain::chat::messages::{ClientId, MessageText};
use tsunagu_domain::chat::supporters::{Attributes, Capacity, Profession, SupporterState};
use tsunagu_domain::chat::teams::suggest;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, FamilyId, RoomId};
use tsunagu_store::{NewAccount, Secret, Store};

/// The password of every demo chat parent (`chat_hiyoko`, `chat_kotori`, `chat_papa`).
pub const PW_CHAT_PARENT: &str = "tsunagu-demo-chat-parent";
/// The password of the extra demo supporters (`chat_sup_*`), who share the
/// demo supporter's second factor.
pub const PW_CHAT_SUPPORTER: &str = "tsunagu-demo-chat-supporter";

/// The demo parents: username, display name. The first joins from the demo
/// mother's family, whose real names the demo knows (tests check they
/// never reach a supporter).
pub const PARENTS: [(&str, &str); 3] =
    [("chat_hiyoko", "ひよこ"), ("chat_kotori", "ことり"), ("chat_papa", "パパ見習い")];

fn as_account(ctx: &AuditContext, account: AccountId, role: Role, minutes: i64) -> AuditContext {
    Requester {
        municipality_id: ctx.municipality_id,
        actor: account,
        role,
        remote_addr: "demo-loader".into(),
        reason: "demo data".into(),
        at: ctx.at.checked_add(SignedDuration::from_mins(minutes)).unwrap_or(ctx.at),
    }
    .without_a_policy_decision()
}

fn bad(e: impl std::fmt::Display) -> tsunagu_store::StoreError {
    crate::demo_error(format!("chat demo: {e}"))
}

pub(crate) async fn load(
    store: &dyn Store,
    ctx: &AuditContext,
    hash_password: &(dyn Fn(&str) -> Secret + Send + Sync),
    demo_family: FamilyId,
) -> tsunagu_store::Result<()> {
    let m = ctx.municipality_id;
    // Supporters: the demo's own (a midwife), and five more.
    let main = store.account_by_username(m, "supporter").await?.ok_or_else(|| bad("no supporter account"))?.id;
    let mut supporters = vec![(main, Attributes::new(Some(Profession::Medical), false, false).map_err(bad)?, 3)];
    // username, display name, profession, raising a toddler, no parenting experience, capacity
    type Extra = (&'static str, &'static str, Option<Profession>, bool, bool, i64);
    let extra: [Extra; 5] = [
        ("chat_sup_nursery", "保育士のあや", Some(Profession::Childcare), true, false, 2),
        ("chat_sup_mama", "2歳ママのゆう", None, true, false, 3),
        ("chat_sup_papa", "3歳パパのけん", None, true, false, 2),
        ("chat_sup_student", "学生のみお", None, false, true, 3),
        ("chat_sup_teacher", "先生のまこと", Some(Profession::Education), false, true, 2),
    ];
    for (username, display, profession, toddler, none, capacity) in extra {
        let a = store
            .create_account(
                None,
                &NewAccount {
                    municipality_id: m,
                    username: username.into(),
                    display_name: display.into(),
                    role: Role::PeerSupporter,
                    password_hash: hash_password(PW_CHAT_SUPPORTER),
                    totp_secret: Some(Secret::new(spec::TOTP_SUPPORTER)),
                    family_id: None,
                    family_relation: None,
                    areas: vec![],
                    venues: vec![],
                    rooms: vec![],
                    created_at: ctx.at,
                },
            )
            .await?;
        supporters.push((a.id, Attributes::new(profession, toddler, none).map_err(bad)?, capacity));
    }
    for (account, attributes, capacity) in &supporters {
        let c = Capacity::new(*capacity).map_err(bad)?;
        store.register_supporter(&as_account(ctx, *account, Role::PeerSupporter, 0), *attributes, c).await?;
        store.set_supporter_state(ctx, *account, SupporterState::Active).await?;
    }

    // Parents: the demo mother's family first, then two others.
    let families = store.search_families(ctx, &FamilyFilter::Municipality(m), "", 10).await?;
    let mut invited = vec![demo_family];
    invited.extend(families.iter().map(|f| f.family_id).filter(|f| *f != demo_family).take(PARENTS.len() - 1));
    let mut rooms: Vec<(AccountId, RoomId)> = vec![];
    for (i, (family, (username, display))) in invited.iter().zip(PARENTS).enumerate() {
        let mut random = [0u8; 8];
        random[0] = i as u8;
        random[1..3].copy_from_slice(&(m.0 as u16).to_le_bytes());
        let code = normalise(&code_from(random)).ok_or_else(|| bad("code"))?;
        let hash = code_hash(&code);
        let expires = ctx.at.checked_add(SignedDuration::from_hours(24 * 365)).map_err(bad)?;
        store.issue_invitation(ctx, *family, &hash, expires).await?;
        let account = NewAccount {
            municipality_id: m,
            username: username.into(),
            display_name: display.into(),
            role: Role::ChatParent,
            password_hash: hash_password(PW_CHAT_PARENT),
            totp_secret: None,
            family_id: None,
            family_relation: None,
            areas: vec![],
            venues: vec![],
            rooms: vec![],
            created_at: ctx.at,
        };
        rooms.push(store.join_chat(m, &hash, &account, ctx.at).await?);
    }

    // Teams as the operator would take them from the suggestion.
    let (needs, candidates) = store.team_needs(m).await?;
    for t in suggest(&needs, &candidates).teams {
        store.set_team(ctx, t.room, &t.team).await?;
    }

    // A few messages: the first room a conversation, the second a question not yet answered.
    let say = |who: AccountId, role: Role, minutes: i64| as_account(ctx, who, role, minutes);
    let text = |s: &str| MessageText::parse(s).map_err(bad);
    let id = |s: &str| ClientId::parse(s).map_err(bad);
    if let Some((parent, room)) = rooms.first().copied() {
        let team = store.room_access(m, room).await?.map(|a| a.team).unwrap_or_default();
        store
            .post_message(
                &say(parent, Role::ChatParent, 1),
                room,
                &id("demo-1")?,
                &text("はじめまして。夜泣きで毎晩2時間おきに起きています。")?,
                false,
            )
            .await?;
        if let Some(sup) = team.first() {
            store
                .post_message(
                    &say(*sup, Role::PeerSupporter, 20),
                    room,
                    &id("demo-2")?,
                    &text("はじめまして。毎晩は本当に大変ですね。お昼に少しでも横になれていますか？")?,
                    false,
                )
                .await?;
        }
        store
            .post_message(
                &say(parent, Role::ChatParent, 35),
                room,
                &id("demo-3")?,
                &text("昼も寝られなくて、最近涙が出ます。")?,
                false,
            )
            .await?;
        if let Some(sup) = team.first() {
            store
                .escalate(
                    &say(*sup, Role::PeerSupporter, 40),
                    room,
                    Some(3),
                    "涙が出ると話している。産後うつの兆しが心配。",
                    false,
                )
                .await?;
        }
    }
    if let Some((parent, room)) = rooms.get(1).copied() {
        store
            .post_message(
                &say(parent, Role::ChatParent, 60),
                room,
                &id("demo-1")?,
                &text("離乳食はいつから始めましたか？")?,
                false,
            )
            .await?;
    }
    Ok(())
}
