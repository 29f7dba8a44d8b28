//! Peer-support chat [003]: supporters, invitations, rooms, teams, messages,
//! read state, escalations, help lines (migration 0012). A message takes
//! its sequence number under the room's row lock, so a room's order is
//! total and without gaps, and a resend waits for the first and finds it.

use crate::audit::{append_audit, append_audit_batch};
use crate::care::insert_referral;
use crate::{corrupt, db_err, get, in_municipality, is_unique_violation, ts, ts_param, PgStore, Table};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::chat::helplines::HelpLine;
use tsunagu_domain::chat::messages::{ClientId, MessageText};
use tsunagu_domain::chat::supporters::{Attributes, Capacity, Profession, Slot, SupporterState};
use tsunagu_domain::chat::teams::{check_team, Candidate, RoomNeed, Team};
use tsunagu_domain::policy::RoomAccess;
use tsunagu_domain::referrals::{raise, ConcernSource, ReferralStatus};
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId, ReferralId, RoomId};
use tsunagu_store::group_commit::{Batcher, PendingLine};
use tsunagu_store::{
    answer_posts, author_role, new_posts, plan_posts, submit_post, ChatMessage, ChatStore, EscalationRecord,
    NewAccount, PendingPost, Posted, Result, RoomHealth, RoomSummary, StoreError, SupporterRecord,
};

const SUPPORTER_COLUMNS: &str = "s.account_id, a.display_name, s.profession, s.raising_toddler, \
     s.no_parenting_experience, s.capacity, s.state, \
     (SELECT COUNT(*) FROM chat_team_members t WHERE t.supporter_account = s.account_id) AS load";

fn supporter_row(r: &PgRow) -> Result<SupporterRecord> {
    let profession: Option<String> = get(r, "profession")?;
    let state: String = get(r, "state")?;
    let capacity: i16 = get(r, "capacity")?;
    let load: i64 = get(r, "load")?;
    Ok(SupporterRecord {
        account: AccountId(get(r, "account_id")?),
        display_name: get(r, "display_name")?,
        attributes: Attributes::new(
            profession.as_deref().map(|p| Profession::parse(p).ok_or_else(|| corrupt("profession"))).transpose()?,
            get(r, "raising_toddler")?,
            get(r, "no_parenting_experience")?,
        )
        .map_err(|_| corrupt("supporter attributes"))?,
        capacity: Capacity::new(i64::from(capacity)).map_err(|_| corrupt("capacity"))?,
        state: SupporterState::parse(&state).ok_or_else(|| corrupt("supporter state"))?,
        load: u32::try_from(load).map_err(|_| corrupt("load"))?,
    })
}

macro_rules! message_columns {
    () => {
        concat!(
            "m.room_id, m.seq, m.author_account, m.author_role, a.display_name AS author_name, m.client_id, m.body, ",
            ts_col!("m.sent_at"),
            " AS sent_at"
        )
    };
}

fn message_row(r: &PgRow) -> Result<ChatMessage> {
    let role: String = get(r, "author_role")?;
    let sent_at: String = get(r, "sent_at")?;
    Ok(ChatMessage {
        room: RoomId(get(r, "room_id")?),
        seq: get(r, "seq")?,
        author: AccountId(get(r, "author_account")?),
        author_role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
        author_name: get(r, "author_name")?,
        client_id: get(r, "client_id")?,
        body: get(r, "body")?,
        sent_at: ts(&sent_at)?,
    })
}

macro_rules! summary_columns {
    () => {
        concat!(
            "r.id, a.display_name, r.last_seq, ",
            ts_col!("r.created_at"),
            " AS created_at, r.urgent_at IS NOT NULL AS urgent, r.escalated_at IS NOT NULL AS escalated, ",
            "(SELECT ",
            ts_col!("m.sent_at"),
            " FROM chat_messages m WHERE m.room_id = r.id ORDER BY m.seq DESC LIMIT 1) AS last_at, ",
            "(SELECT m.author_role FROM chat_messages m WHERE m.room_id = r.id ORDER BY m.seq DESC LIMIT 1) AS last_role"
        )
    };
}

async fn summary_row(c: &mut PgConnection, m: MunicipalityId, r: &PgRow) -> Result<RoomSummary> {
    let room = RoomId(get(r, "id")?);
    let created: String = get(r, "created_at")?;
    let last_at: Option<String> = get(r, "last_at")?;
    let last_role: Option<String> = get(r, "last_role")?;
    Ok(RoomSummary {
        room,
        display_name: get(r, "display_name")?,
        last_seq: get(r, "last_seq")?,
        last_message_at: last_at.as_deref().map(ts).transpose()?,
        awaiting_answer: last_role.as_deref() == Some(Role::ChatParent.as_str()),
        urgent: get(r, "urgent")?,
        escalated: get(r, "escalated")?,
        team: team_of(c, m, room).await?,
        created_at: ts(&created)?,
    })
}

async fn team_of(c: &mut PgConnection, m: MunicipalityId, room: RoomId) -> Result<Vec<(Slot, AccountId)>> {
    let rows = sqlx::query("SELECT slot, supporter_account FROM chat_team_members WHERE room_id = $1 AND municipality_id = $2 ORDER BY slot")
        .bind(room.0)
        .bind(m.0)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let slot: String = get(r, "slot")?;
            Ok((Slot::parse(&slot).ok_or_else(|| corrupt("slot"))?, AccountId(get(r, "supporter_account")?)))
        })
        .collect()
}

/// Rooms of `m` (all, one, or a supporter's), by id.
enum Which {
    All,
    One(RoomId),
    OfSupporter(AccountId),
}

async fn summaries(c: &mut PgConnection, m: MunicipalityId, which: Which) -> Result<Vec<RoomSummary>> {
    let (extra, bind) = match which {
        Which::All => ("", None),
        Which::One(r) => ("AND r.id = $2", Some(r.0)),
        Which::OfSupporter(s) => {
            ("AND r.id IN (SELECT room_id FROM chat_team_members WHERE supporter_account = $2)", Some(s.0))
        }
    };
    let sql = format!(
        "SELECT {} FROM chat_rooms r JOIN accounts a ON a.id = r.parent_account \
         WHERE r.municipality_id = $1 {extra} ORDER BY r.id",
        summary_columns!()
    );
    let mut q = sqlx::query(&sql).bind(m.0);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&mut *c).await.map_err(db_err)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(summary_row(c, m, r).await?);
    }
    Ok(out)
}

/// The room in `m` (locked for the transaction when `lock`), or `NotFound`.
async fn room_in(c: &mut PgConnection, m: MunicipalityId, room: RoomId, lock: bool) -> Result<i64> {
    let sql = if lock {
        "SELECT last_seq FROM chat_rooms WHERE id = $1 AND municipality_id = $2 FOR UPDATE"
    } else {
        "SELECT last_seq FROM chat_rooms WHERE id = $1 AND municipality_id = $2"
    };
    let found: Option<i64> =
        sqlx::query_scalar(sql).bind(room.0).bind(m.0).fetch_optional(&mut *c).await.map_err(db_err)?;
    found.ok_or(StoreError::NotFound)
}

async fn candidates(c: &mut PgConnection, m: MunicipalityId) -> Result<Vec<SupporterRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {SUPPORTER_COLUMNS} FROM chat_supporters s JOIN accounts a ON a.id = s.account_id \
         WHERE s.municipality_id = $1 ORDER BY s.account_id"
    ))
    .bind(m.0)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    rows.iter().map(supporter_row).collect()
}

fn escalation_row(r: &PgRow) -> Result<EscalationRecord> {
    let at: String = get(r, "raised_at")?;
    let status: String = get(r, "status")?;
    Ok(EscalationRecord {
        id: get(r, "id")?,
        room: RoomId(get(r, "room_id")?),
        message_seq: get(r, "message_seq")?,
        raised_by: AccountId(get(r, "raised_by")?),
        raised_at: ts(&at)?,
        referral: ReferralId(get(r, "referral_id")?),
        status: ReferralStatus::parse(&status).ok_or_else(|| corrupt("referral status"))?,
    })
}

impl PgStore {
    async fn audit_alone(&self, ctx: &AuditContext, action: AuditAction, detail: &str) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        append_audit(&mut tx, &self.keys.chain, ctx, action, None, detail).await?;
        tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl ChatStore for PgStore {
    async fn register_supporter(&self, ctx: &AuditContext, attributes: Attributes, capacity: Capacity) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM accounts WHERE id = $1 AND municipality_id = $2 AND NOT disabled")
                .bind(ctx.actor.0)
                .bind(m.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if role.as_deref() != Some(Role::PeerSupporter.as_str()) {
            return Err(StoreError::InvalidReference("account"));
        }
        sqlx::query(
            "INSERT INTO chat_supporters (account_id, municipality_id, profession, raising_toddler, \
             no_parenting_experience, capacity, state, registered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'registered', $7::timestamptz) \
             ON CONFLICT (account_id, municipality_id) DO UPDATE SET profession = excluded.profession, \
             raising_toddler = excluded.raising_toddler, no_parenting_experience = excluded.no_parenting_experience, \
             capacity = excluded.capacity, state = 'registered'",
        )
        .bind(ctx.actor.0)
        .bind(m.0)
        .bind(attributes.profession.map(Profession::as_str))
        .bind(attributes.raising_toddler)
        .bind(attributes.no_parenting_experience)
        .bind(i16::from(capacity.get()))
        .bind(ts_param(ctx.at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ChatSupporter, None, "registered").await?;
        tx.commit().await.map_err(db_err)
    }

    async fn supporter(&self, m: MunicipalityId, account: AccountId) -> Result<Option<SupporterRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {SUPPORTER_COLUMNS} FROM chat_supporters s JOIN accounts a ON a.id = s.account_id \
             WHERE s.municipality_id = $1 AND s.account_id = $2"
        ))
        .bind(m.0)
        .bind(account.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        r.as_ref().map(supporter_row).transpose()
    }

    async fn supporters(&self, m: MunicipalityId) -> Result<Vec<SupporterRecord>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        candidates(&mut c, m).await
    }

    async fn set_supporter_state(&self, ctx: &AuditContext, account: AccountId, state: SupporterState) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let n = sqlx::query("UPDATE chat_supporters SET state = $1 WHERE account_id = $2 AND municipality_id = $3")
            .bind(state.as_str())
            .bind(account.0)
            .bind(ctx.municipality_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = format!("supporter={account} state={}", state.as_str());
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ChatSupporter, None, &detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn issue_invitation(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        code_hash: &str,
        expires_at: Timestamp,
    ) -> Result<i64> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if !in_municipality(&mut tx, Table::Families, family.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO chat_invitations (municipality_id, code_hash, issued_by, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz) RETURNING id",
        )
        .bind(m.0)
        .bind(code_hash)
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .bind(ts_param(expires_at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("code_taken") } else { db_err(e) })?;
        sqlx::query(
            "INSERT INTO chat_invitation_families (invitation_id, municipality_id, family_id) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(m.0)
        .bind(family.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ChatInvite,
            Some(family),
            &format!("invitation={id}"),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn join_chat(
        &self,
        m: MunicipalityId,
        code_hash: &str,
        account: &NewAccount,
        at: Timestamp,
    ) -> Result<(AccountId, RoomId)> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let joined = join_in(&mut tx, m, code_hash, account, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(joined)
    }

    async fn room_access(&self, m: MunicipalityId, room: RoomId) -> Result<Option<RoomAccess>> {
        // One statement: the room and its active team.
        let r = sqlx::query(
            "SELECT r.parent_account, (r.escalated_at IS NOT NULL OR r.urgent_at IS NOT NULL) AS escalated, \
             COALESCE((SELECT array_agg(t.supporter_account ORDER BY t.supporter_account) \
             FROM chat_team_members t JOIN chat_supporters s ON s.account_id = t.supporter_account \
             JOIN accounts a ON a.id = s.account_id \
             WHERE t.room_id = r.id AND s.state = 'active' AND NOT a.disabled), '{}') AS team \
             FROM chat_rooms r WHERE r.id = $1 AND r.municipality_id = $2",
        )
        .bind(room.0)
        .bind(m.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let team: Vec<i64> = get(&r, "team")?;
        Ok(Some(RoomAccess {
            municipality_id: m,
            room_id: room,
            parent: AccountId(get(&r, "parent_account")?),
            team: team.into_iter().map(AccountId).collect(),
            escalated: get(&r, "escalated")?,
        }))
    }

    async fn room_of_parent(&self, m: MunicipalityId, parent: AccountId) -> Result<Option<RoomId>> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM chat_rooms WHERE parent_account = $1 AND municipality_id = $2")
                .bind(parent.0)
                .bind(m.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(id.map(RoomId))
    }

    async fn rooms_of_supporter(&self, m: MunicipalityId, supporter: AccountId) -> Result<Vec<RoomSummary>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        summaries(&mut c, m, Which::OfSupporter(supporter)).await
    }

    async fn room_last_seq(&self, m: MunicipalityId, room: RoomId) -> Result<Option<i64>> {
        sqlx::query_scalar("SELECT last_seq FROM chat_rooms WHERE id = $1 AND municipality_id = $2")
            .bind(room.0)
            .bind(m.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn room_summary(&self, m: MunicipalityId, room: RoomId) -> Result<Option<RoomSummary>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        Ok(summaries(&mut c, m, Which::One(room)).await?.into_iter().next())
    }

    async fn post_message(
        &self,
        ctx: &AuditContext,
        room: RoomId,
        client_id: &ClientId,
        text: &MessageText,
        self_harm: bool,
    ) -> Result<Posted> {
        // Queued with the node's other posts: one transaction for all that
        // arrive together, answered once it has committed (#13).
        let post = PendingPost {
            ctx: ctx.clone(),
            room,
            author_role: author_role(ctx)?,
            client_id: client_id.as_str().to_owned(),
            body: text.as_str().to_owned(),
            self_harm,
        };
        let store = self.clone();
        submit_post(&self.post_batch, post, move |posts| store.write_posts(posts)).await
    }

    async fn history(
        &self,
        ctx: &AuditContext,
        room: RoomId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        room_in(&mut conn, ctx.municipality_id, room, false).await?;
        let rows = sqlx::query(&format!(
            "SELECT {} FROM chat_messages m JOIN accounts a ON a.id = m.author_account \
             WHERE m.room_id = $1 AND m.seq < $2 AND m.municipality_id = $4 ORDER BY m.seq DESC LIMIT $3",
            message_columns!()
        ))
        .bind(room.0)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .bind(ctx.municipality_id.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
        let mut out = rows.iter().map(message_row).collect::<Result<Vec<_>>>()?;
        out.reverse();
        let detail = format!("room={room} count={}", out.len());
        drop(conn);
        self.audit_read(ctx, AuditAction::ChatRead, None, &detail).await?;
        Ok(out)
    }

    async fn messages_after(
        &self,
        ctx: &AuditContext,
        room: RoomId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM chat_messages m JOIN accounts a ON a.id = m.author_account \
             WHERE m.room_id = $1 AND m.municipality_id = $2 AND m.seq > $3 ORDER BY m.seq LIMIT $4",
            message_columns!()
        ))
        .bind(room.0)
        .bind(ctx.municipality_id.0)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(message_row).collect()
    }

    async fn mark_subscribed(&self, ctx: &AuditContext, room: RoomId, after: i64) -> Result<()> {
        self.audit_alone(ctx, AuditAction::ChatSubscribe, &format!("room={room} after={after}")).await
    }

    async fn mark_read(&self, ctx: &AuditContext, room: RoomId, seq: i64) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let last = room_in(&mut tx, ctx.municipality_id, room, false).await?;
        sqlx::query(
            "INSERT INTO chat_reads (municipality_id, room_id, account_id, last_read_seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room_id, account_id, municipality_id) DO UPDATE \
             SET last_read_seq = GREATEST(chat_reads.last_read_seq, excluded.last_read_seq)",
        )
        .bind(ctx.municipality_id.0)
        .bind(room.0)
        .bind(ctx.actor.0)
        .bind(seq.min(last))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn read_state(&self, m: MunicipalityId, room: RoomId) -> Result<Vec<(AccountId, i64)>> {
        let rows = sqlx::query(
            "SELECT rd.account_id, rd.last_read_seq FROM chat_reads rd JOIN chat_rooms r ON r.id = rd.room_id \
             WHERE rd.room_id = $1 AND r.municipality_id = $2 ORDER BY rd.account_id",
        )
        .bind(room.0)
        .bind(m.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| Ok((AccountId(get(r, "account_id")?), get(r, "last_read_seq")?))).collect()
    }

    async fn set_team(&self, ctx: &AuditContext, room: RoomId, team: &Team) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Teams are set one at a time per municipality, so two rooms cannot
        // both take a supporter's last place.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('chat_teams'), $1)")
            .bind(crate::lock_key(m))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        room_in(&mut tx, m, room, true).await?;
        let on_room: Vec<AccountId> = team_of(&mut tx, m, room).await?.into_iter().map(|(_, a)| a).collect();
        let cands: Vec<Candidate> = candidates(&mut tx, m).await?.iter().map(SupporterRecord::candidate).collect();
        check_team(team, &cands, &on_room).map_err(|e| StoreError::Conflict(e.code()))?;
        sqlx::query("DELETE FROM chat_team_members WHERE room_id = $1 AND municipality_id = $2")
            .bind(room.0)
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for (slot, account) in team.members() {
            sqlx::query(
                "INSERT INTO chat_team_members (municipality_id, room_id, slot, supporter_account, since) \
                 VALUES ($1, $2, $3, $4, $5::timestamptz)",
            )
            .bind(m.0)
            .bind(room.0)
            .bind(slot.as_str())
            .bind(account.0)
            .bind(ts_param(ctx.at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let detail =
            format!("room={room} team={},{},{}", team.professional, team.raising_toddler, team.no_parenting_experience);
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ChatTeam, None, &detail).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn team_needs(&self, m: MunicipalityId) -> Result<(Vec<RoomNeed>, Vec<Candidate>)> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let supporters = candidates(&mut c, m).await?;
        let rooms: Vec<i64> = sqlx::query_scalar("SELECT id FROM chat_rooms WHERE municipality_id = $1 ORDER BY id")
            .bind(m.0)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        let mut needs = vec![];
        for id in rooms {
            let team = team_of(&mut c, m, RoomId(id)).await?;
            let mut current = [None; 3];
            for (i, slot) in Slot::ALL.iter().enumerate() {
                current[i] = team.iter().find(|(s, _)| s == slot).map(|(_, a)| *a);
            }
            let full = current.iter().all(Option::is_some)
                && current
                    .iter()
                    .flatten()
                    .all(|a| supporters.iter().any(|s| s.account == *a && s.state == SupporterState::Active));
            if !full {
                needs.push(RoomNeed { room: RoomId(id), current });
            }
        }
        Ok((needs, supporters.iter().map(SupporterRecord::candidate).collect()))
    }

    async fn team_health(&self, ctx: &AuditContext) -> Result<Vec<RoomHealth>> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rooms = summaries(&mut tx, m, Which::All).await?;
        let mut out = Vec::with_capacity(rooms.len());
        for summary in rooms {
            let secs: Option<i64> = sqlx::query_scalar(
                "SELECT EXTRACT(EPOCH FROM (answered - asked))::bigint FROM (SELECT \
                 (SELECT sent_at FROM chat_messages WHERE room_id = $1 AND municipality_id = $2 \
                  AND author_role = 'chat_parent' ORDER BY seq LIMIT 1) AS asked, \
                 (SELECT sent_at FROM chat_messages WHERE room_id = $1 AND municipality_id = $2 \
                  AND author_role = 'peer_supporter' AND seq > \
                  (SELECT MIN(seq) FROM chat_messages WHERE room_id = $1 AND municipality_id = $2 \
                  AND author_role = 'chat_parent') \
                  ORDER BY seq LIMIT 1) AS answered) t",
            )
            .bind(summary.room.0)
            .bind(m.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            out.push(RoomHealth { summary, first_answer_secs: secs });
        }
        let detail = format!("rooms={}", out.len());
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ChatHealth, None, &detail).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn escalate(
        &self,
        ctx: &AuditContext,
        room: RoomId,
        message_seq: Option<i64>,
        note: &str,
        urgent: bool,
    ) -> Result<EscalationRecord> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let last = room_in(&mut tx, m, room, true).await?;
        if let Some(seq) = message_seq {
            if seq < 1 || seq > last {
                return Err(StoreError::InvalidReference("message_seq"));
            }
        }
        let family: Option<i64> = sqlx::query_scalar(
            "SELECT f.family_id FROM chat_rooms r JOIN chat_invitation_families f \
             ON f.invitation_id = r.invitation_id AND f.municipality_id = r.municipality_id WHERE r.id = $1",
        )
        .bind(room.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let family = FamilyId(family.ok_or(StoreError::Conflict("no_family_link"))?);
        let referral = raise(ctx.role, family, None, ConcernSource::ChatEscalation, urgent)
            .map_err(|_| StoreError::InvalidReference("role"))?;
        let referral_id = insert_referral(&mut tx, &self.keys.chain, ctx, &referral, note, None, None).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO chat_escalations (municipality_id, room_id, message_seq, raised_by, raised_at, referral_id) \
             VALUES ($1, $2, $3, $4, $5::timestamptz, $6) RETURNING id",
        )
        .bind(m.0)
        .bind(room.0)
        .bind(message_seq)
        .bind(ctx.actor.0)
        .bind(ts_param(ctx.at))
        .bind(referral_id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE chat_rooms SET escalated_at = COALESCE(escalated_at, $1::timestamptz) WHERE id = $2 \
             AND municipality_id = $3",
        )
        .bind(ts_param(ctx.at))
        .bind(room.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let detail = format!("room={room} escalation={id}");
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ChatEscalate, None, &detail).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(EscalationRecord {
            id,
            room,
            message_seq,
            raised_by: ctx.actor,
            raised_at: ctx.at,
            referral: referral_id,
            status: referral.status,
        })
    }

    async fn escalations_by(&self, ctx: &AuditContext, supporter: AccountId) -> Result<Vec<EscalationRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT e.id, e.room_id, e.message_seq, e.raised_by, ",
            ts_col!("e.raised_at"),
            " AS raised_at, e.referral_id, r.status FROM chat_escalations e JOIN referrals r ON r.id = e.referral_id \
             WHERE e.municipality_id = $1 AND e.raised_by = $2 ORDER BY e.id DESC LIMIT 200"
        ))
        .bind(ctx.municipality_id.0)
        .bind(supporter.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(escalation_row).collect()
    }

    async fn help_lines(&self, m: MunicipalityId) -> Result<Vec<HelpLine>> {
        let rows = sqlx::query(
            "SELECT name_ja, name_en, number, hours_ja, source FROM chat_help_lines WHERE municipality_id = $1 \
             ORDER BY position",
        )
        .bind(m.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(HelpLine {
                    name_ja: get(r, "name_ja")?,
                    name_en: get(r, "name_en")?,
                    number: get(r, "number")?,
                    hours_ja: get(r, "hours_ja")?,
                    source: get(r, "source")?,
                })
            })
            .collect()
    }

    async fn set_help_lines(&self, ctx: &AuditContext, lines: &[HelpLine]) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM chat_help_lines WHERE municipality_id = $1")
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for (i, l) in lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO chat_help_lines (municipality_id, position, name_ja, name_en, number, hours_ja, source) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(m.0)
            .bind(i32::try_from(i).map_err(|_| corrupt("position"))?)
            .bind(&l.name_ja)
            .bind(&l.name_en)
            .bind(&l.number)
            .bind(&l.hours_ja)
            .bind(&l.source)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let detail = format!("lines={}", lines.len());
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ChatHelpLines, None, &detail).await?;
        tx.commit().await.map_err(db_err)
    }
}

/// The node's queue of posts (#13): one write transaction per turn.
pub(crate) type PostBatch = Batcher<PendingPost, Result<Posted>>;

impl PgStore {
    /// Stores a batch of posts in one transaction (`plan_posts` numbers
    /// them): the rooms' rows locked in the order of their ids (so two
    /// nodes' batches never wait on each other in a circle, and a room's
    /// numbers stay without gap or repeat across nodes) and their counters
    /// read by one statement; then, by one statement each, the client ids
    /// stored before (read under the lock, so a resend on another node
    /// waits for the first and finds it), the new messages, the rooms moved
    /// on and the authors' read marks; the LINE replies; the audit lines
    /// (one per new message, `append_audit_batch`). The new messages are
    /// read back with their authors' chat names by their insert.
    async fn write_posts(self, posts: Vec<PendingPost>) -> Result<Vec<Result<Posted>>> {
        // Each statement's text is the same whatever the batch's size (its
        // rows bound as arrays, `UNNEST`): prepared once per connection and
        // kept, where a `VALUES` list of the batch's length was a new
        // statement to parse and prepare (a round trip more) nearly every turn.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let mut keys: Vec<(i64, i64)> = posts.iter().map(|p| (p.ctx.municipality_id.0, p.room.0)).collect();
        keys.sort_unstable_by_key(|(m, r)| (*r, *m));
        keys.dedup();
        let mut last_seq = HashMap::new();
        let rows = sqlx::query(
            "SELECT r.municipality_id, r.id, r.last_seq FROM UNNEST($1::bigint[], $2::bigint[]) AS v(m, r) \
             JOIN chat_rooms r ON r.municipality_id = v.m AND r.id = v.r ORDER BY r.id FOR UPDATE OF r",
        )
        .bind(keys.iter().map(|k| k.0).collect::<Vec<_>>())
        .bind(keys.iter().map(|k| k.1).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for r in rows {
            let m: i64 = get(&r, "municipality_id")?;
            let id: i64 = get(&r, "id")?;
            let seq: i64 = get(&r, "last_seq")?;
            last_seq.insert((m, id), seq);
        }
        let rows = sqlx::query(&format!(
            "SELECT {} FROM UNNEST($1::bigint[], $2::bigint[], $3::text[]) AS v(m, r, c) \
             JOIN chat_messages m ON m.municipality_id = v.m AND m.room_id = v.r AND m.client_id = v.c \
             JOIN accounts a ON a.id = m.author_account",
            message_columns!()
        ))
        .bind(posts.iter().map(|p| p.ctx.municipality_id.0).collect::<Vec<_>>())
        .bind(posts.iter().map(|p| p.room.0).collect::<Vec<_>>())
        .bind(posts.iter().map(|p| p.client_id.as_str()).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut stored_messages = HashMap::new();
        for r in rows {
            let m = message_row(&r)?;
            stored_messages.insert((m.room.0, m.client_id.clone()), m);
        }
        let stored: HashSet<(i64, String)> = stored_messages.keys().cloned().collect();
        let (plans, rooms) = plan_posts(&posts, &last_seq, &stored);
        let new = new_posts(&posts, &plans);
        let mut fresh = HashMap::new();
        if new.is_empty() {
            // Nothing new: only resends and refusals, nothing to keep.
            tx.rollback().await.map_err(db_err)?;
            return Ok(answer_posts(&posts, &plans, &stored_messages, &fresh));
        }
        // Stored and read back (with the authors' chat names) by one statement.
        let rows = sqlx::query(&format!(
            "WITH m AS (INSERT INTO chat_messages (municipality_id, room_id, seq, author_account, author_role, \
             client_id, body, sent_at, self_harm) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], \
             $7::text[], $8::text[]::timestamptz[], $9::bool[]) RETURNING *) \
             SELECT {} FROM m JOIN accounts a ON a.id = m.author_account",
            message_columns!()
        ))
        .bind(new.iter().map(|(p, _)| p.ctx.municipality_id.0).collect::<Vec<_>>())
        .bind(new.iter().map(|(p, _)| p.room.0).collect::<Vec<_>>())
        .bind(new.iter().map(|(_, seq)| *seq).collect::<Vec<_>>())
        .bind(new.iter().map(|(p, _)| p.ctx.actor.0).collect::<Vec<_>>())
        .bind(new.iter().map(|(p, _)| p.author_role.as_str()).collect::<Vec<_>>())
        .bind(new.iter().map(|(p, _)| p.client_id.as_str()).collect::<Vec<_>>())
        .bind(new.iter().map(|(p, _)| p.body.as_str()).collect::<Vec<_>>())
        .bind(new.iter().map(|(p, _)| ts_param(p.ctx.at)).collect::<Vec<_>>())
        .bind(new.iter().map(|(p, _)| p.self_harm).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for r in rows {
            let m = message_row(&r)?;
            fresh.insert((m.room.0, m.seq), m);
        }
        // Each room's counter moves on to its last new number (and the room
        // is flagged urgent by its first message of self-harm).
        sqlx::query(
            "UPDATE chat_rooms r SET last_seq = v.seq, urgent_at = CASE WHEN v.urgent IS NOT NULL \
             THEN COALESCE(r.urgent_at, v.urgent) ELSE r.urgent_at END \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]::timestamptz[]) AS v(m, id, seq, urgent) \
             WHERE r.municipality_id = v.m AND r.id = v.id",
        )
        .bind(rooms.iter().map(|(m, _, _, _)| m.0).collect::<Vec<_>>())
        .bind(rooms.iter().map(|(_, r, _, _)| r.0).collect::<Vec<_>>())
        .bind(rooms.iter().map(|(_, _, seq, _)| *seq).collect::<Vec<_>>())
        .bind(rooms.iter().map(|(_, _, _, urgent)| urgent.map(ts_param)).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // The authors have read what they wrote (one row per author and room:
        // a row may be changed once per statement).
        let mut reads: HashMap<(i64, i64, i64), i64> = HashMap::new();
        for (p, seq) in &new {
            let e = reads.entry((p.ctx.municipality_id.0, p.room.0, p.ctx.actor.0)).or_default();
            *e = (*e).max(*seq);
        }
        let mut reads: Vec<_> = reads.into_iter().collect();
        reads.sort_unstable();
        sqlx::query(
            "INSERT INTO chat_reads (municipality_id, room_id, account_id, last_read_seq) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) \
             ON CONFLICT (room_id, account_id, municipality_id) DO UPDATE \
             SET last_read_seq = GREATEST(chat_reads.last_read_seq, excluded.last_read_seq)",
        )
        .bind(reads.iter().map(|((m, _, _), _)| *m).collect::<Vec<_>>())
        .bind(reads.iter().map(|((_, room, _), _)| *room).collect::<Vec<_>>())
        .bind(reads.iter().map(|((_, _, account), _)| *account).collect::<Vec<_>>())
        .bind(reads.iter().map(|(_, seq)| *seq).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        for (p, seq) in &new {
            if p.author_role == Role::PeerSupporter {
                // A reply to a parent on LINE: pushed by the outbox, stored with the message.
                let m = p.ctx.municipality_id;
                crate::line::enqueue_reply(&mut tx, m, p.room, *seq, p.ctx.actor, &p.body, p.ctx.at).await?;
            }
        }
        let lines: Vec<PendingLine> = new
            .iter()
            .map(|(p, seq)| PendingLine {
                ctx: p.ctx.clone(),
                action: AuditAction::ChatPost,
                family: None,
                detail: format!("room={} seq={seq}", p.room),
            })
            .collect();
        append_audit_batch(&mut tx, &self.keys.chain, &lines).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(answer_posts(&posts, &plans, &stored_messages, &fresh))
    }
}

/// A parent joins with an invitation, inside the caller's transaction
/// (`join_chat`, and a LINE user's link in `line.rs`).
pub(crate) async fn join_in(
    tx: &mut PgConnection,
    m: MunicipalityId,
    code_hash: &str,
    account: &NewAccount,
    at: Timestamp,
) -> Result<(AccountId, RoomId)> {
    // The row lock makes two joins with one code wait on each other: the second finds it used.
    let row = sqlx::query(
        "SELECT id, expires_at <= $3::timestamptz AS expired, used_at IS NOT NULL AS used FROM chat_invitations \
         WHERE code_hash = $1 AND municipality_id = $2 FOR UPDATE",
    )
    .bind(code_hash)
    .bind(m.0)
    .bind(ts_param(at))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound)?;
    let invitation: i64 = get(&row, "id")?;
    if get::<bool>(&row, "used")? {
        return Err(StoreError::Conflict("invitation_used"));
    }
    if get::<bool>(&row, "expired")? {
        return Err(StoreError::NotFound);
    }
    let parent: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (municipality_id, username, display_name, role, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6::timestamptz) RETURNING id",
    )
    .bind(m.0)
    .bind(&account.username)
    .bind(&account.display_name)
    .bind(Role::ChatParent.as_str())
    .bind(account.password_hash.expose())
    .bind(ts_param(at))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("username_taken") } else { db_err(e) })?;
    let room: i64 = sqlx::query_scalar(
        "INSERT INTO chat_rooms (municipality_id, parent_account, invitation_id, consent_at, created_at) \
         VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz) RETURNING id",
    )
    .bind(m.0)
    .bind(parent)
    .bind(invitation)
    .bind(ts_param(at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query("UPDATE chat_invitations SET used_at = $1::timestamptz WHERE id = $2 AND municipality_id = $3")
        .bind(ts_param(at))
        .bind(invitation)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok((AccountId(parent), RoomId(room)))
}
