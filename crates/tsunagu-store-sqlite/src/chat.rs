//! Peer-support chat [003]: supporters, invitations, rooms, teams, messages,
//! read state, escalations, help lines (migration 0012).

use crate::audit::{append_audit, append_audit_batch};
use crate::care::insert_referral;
use crate::{corrupt, db_err, is_unique_violation, ts, ts_text, SqliteStore};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
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

fn supporter_row(r: &SqliteRow) -> Result<SupporterRecord> {
    let profession: Option<String> = r.try_get("profession").map_err(db_err)?;
    let state: String = r.try_get("state").map_err(db_err)?;
    let capacity: i64 = r.try_get("capacity").map_err(db_err)?;
    let load: i64 = r.try_get("load").map_err(db_err)?;
    Ok(SupporterRecord {
        account: AccountId(r.try_get("account_id").map_err(db_err)?),
        display_name: r.try_get("display_name").map_err(db_err)?,
        attributes: Attributes::new(
            profession.as_deref().map(|p| Profession::parse(p).ok_or_else(|| corrupt("profession"))).transpose()?,
            r.try_get("raising_toddler").map_err(db_err)?,
            r.try_get("no_parenting_experience").map_err(db_err)?,
        )
        .map_err(|_| corrupt("supporter attributes"))?,
        capacity: Capacity::new(capacity).map_err(|_| corrupt("capacity"))?,
        state: SupporterState::parse(&state).ok_or_else(|| corrupt("supporter state"))?,
        load: u32::try_from(load).map_err(|_| corrupt("load"))?,
    })
}

const MESSAGE_COLUMNS: &str =
    "m.room_id, m.seq, m.author_account, m.author_role, a.display_name AS author_name, m.client_id, m.body, m.sent_at";

fn message_row(r: &SqliteRow) -> Result<ChatMessage> {
    let role: String = r.try_get("author_role").map_err(db_err)?;
    let sent_at: String = r.try_get("sent_at").map_err(db_err)?;
    Ok(ChatMessage {
        room: RoomId(r.try_get("room_id").map_err(db_err)?),
        seq: r.try_get("seq").map_err(db_err)?,
        author: AccountId(r.try_get("author_account").map_err(db_err)?),
        author_role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
        author_name: r.try_get("author_name").map_err(db_err)?,
        client_id: r.try_get("client_id").map_err(db_err)?,
        body: r.try_get("body").map_err(db_err)?,
        sent_at: ts(&sent_at)?,
    })
}

const SUMMARY_COLUMNS: &str = "r.id, a.display_name, r.last_seq, r.created_at, r.urgent_at, r.escalated_at, \
     (SELECT m.sent_at FROM chat_messages m WHERE m.room_id = r.id ORDER BY m.seq DESC LIMIT 1) AS last_at, \
     (SELECT m.author_role FROM chat_messages m WHERE m.room_id = r.id ORDER BY m.seq DESC LIMIT 1) AS last_role";

async fn summary_row(c: &mut SqliteConnection, m: MunicipalityId, r: &SqliteRow) -> Result<RoomSummary> {
    let room = RoomId(r.try_get("id").map_err(db_err)?);
    let created: String = r.try_get("created_at").map_err(db_err)?;
    let last_at: Option<String> = r.try_get("last_at").map_err(db_err)?;
    let last_role: Option<String> = r.try_get("last_role").map_err(db_err)?;
    let urgent: Option<String> = r.try_get("urgent_at").map_err(db_err)?;
    let escalated: Option<String> = r.try_get("escalated_at").map_err(db_err)?;
    Ok(RoomSummary {
        room,
        display_name: r.try_get("display_name").map_err(db_err)?,
        last_seq: r.try_get("last_seq").map_err(db_err)?,
        last_message_at: last_at.as_deref().map(ts).transpose()?,
        awaiting_answer: last_role.as_deref() == Some(Role::ChatParent.as_str()),
        urgent: urgent.is_some(),
        escalated: escalated.is_some(),
        team: team_of(c, m, room).await?,
        created_at: ts(&created)?,
    })
}

async fn team_of(c: &mut SqliteConnection, m: MunicipalityId, room: RoomId) -> Result<Vec<(Slot, AccountId)>> {
    let rows = sqlx::query(
        "SELECT slot, supporter_account FROM chat_team_members WHERE room_id = ? AND municipality_id = ? ORDER BY slot",
    )
    .bind(room.0)
    .bind(m.0)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let slot: String = r.try_get(0).map_err(db_err)?;
            Ok((Slot::parse(&slot).ok_or_else(|| corrupt("slot"))?, AccountId(r.try_get(1).map_err(db_err)?)))
        })
        .collect()
}

async fn summaries(
    c: &mut SqliteConnection,
    m: MunicipalityId,
    extra: &str,
    bind: Option<i64>,
) -> Result<Vec<RoomSummary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM chat_rooms r JOIN accounts a ON a.id = r.parent_account \
         WHERE r.municipality_id = ? {extra} ORDER BY r.id"
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

/// The room in `m`, or `NotFound`.
async fn room_in(c: &mut SqliteConnection, m: MunicipalityId, room: RoomId) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM chat_rooms WHERE id = ? AND municipality_id = ?")
        .bind(room.0)
        .bind(m.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

async fn candidates(c: &mut SqliteConnection, m: MunicipalityId) -> Result<Vec<SupporterRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {SUPPORTER_COLUMNS} FROM chat_supporters s JOIN accounts a ON a.id = s.account_id \
         WHERE s.municipality_id = ? ORDER BY s.account_id"
    ))
    .bind(m.0)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    rows.iter().map(supporter_row).collect()
}

fn escalation_row(r: &SqliteRow) -> Result<EscalationRecord> {
    let at: String = r.try_get("raised_at").map_err(db_err)?;
    let status: String = r.try_get("status").map_err(db_err)?;
    Ok(EscalationRecord {
        id: r.try_get("id").map_err(db_err)?,
        room: RoomId(r.try_get("room_id").map_err(db_err)?),
        message_seq: r.try_get("message_seq").map_err(db_err)?,
        raised_by: AccountId(r.try_get("raised_by").map_err(db_err)?),
        raised_at: ts(&at)?,
        referral: ReferralId(r.try_get("referral_id").map_err(db_err)?),
        status: ReferralStatus::parse(&status).ok_or_else(|| corrupt("referral status"))?,
    })
}

#[async_trait]
impl ChatStore for SqliteStore {
    async fn register_supporter(&self, ctx: &AuditContext, attributes: Attributes, capacity: Capacity) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM accounts WHERE id = ? AND municipality_id = ? AND disabled = 0")
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
             no_parenting_experience, capacity, state, registered_at) VALUES (?, ?, ?, ?, ?, ?, 'registered', ?) \
             ON CONFLICT (account_id) DO UPDATE SET profession = excluded.profession, \
             raising_toddler = excluded.raising_toddler, no_parenting_experience = excluded.no_parenting_experience, \
             capacity = excluded.capacity, state = 'registered'",
        )
        .bind(ctx.actor.0)
        .bind(m.0)
        .bind(attributes.profession.map(Profession::as_str))
        .bind(attributes.raising_toddler)
        .bind(attributes.no_parenting_experience)
        .bind(i64::from(capacity.get()))
        .bind(ts_text(ctx.at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ChatSupporter, None, "registered").await?;
        tx.commit().await.map_err(db_err)
    }

    async fn supporter(&self, m: MunicipalityId, account: AccountId) -> Result<Option<SupporterRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {SUPPORTER_COLUMNS} FROM chat_supporters s JOIN accounts a ON a.id = s.account_id \
             WHERE s.municipality_id = ? AND s.account_id = ?"
        ))
        .bind(m.0)
        .bind(account.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        r.as_ref().map(supporter_row).transpose()
    }

    async fn supporters(&self, m: MunicipalityId) -> Result<Vec<SupporterRecord>> {
        let mut c = self.reader.acquire().await.map_err(db_err)?;
        candidates(&mut c, m).await
    }

    async fn set_supporter_state(&self, ctx: &AuditContext, account: AccountId, state: SupporterState) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        let n = sqlx::query("UPDATE chat_supporters SET state = ? WHERE account_id = ? AND municipality_id = ?")
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
        let mut tx = self.begin_immediate().await?;
        if !crate::in_municipality(&mut tx, "families", family.0, m).await? {
            return Err(StoreError::InvalidReference("family_id"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO chat_invitations (municipality_id, code_hash, issued_by, issued_at, expires_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(code_hash)
        .bind(ctx.actor.0)
        .bind(ts_text(ctx.at))
        .bind(ts_text(expires_at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("code_taken") } else { db_err(e) })?;
        sqlx::query(
            "INSERT INTO chat_invitation_families (invitation_id, municipality_id, family_id) VALUES (?, ?, ?)",
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
        let mut tx = self.begin_immediate().await?;
        let joined = join_in(&mut tx, m, code_hash, account, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(joined)
    }

    async fn room_access(&self, m: MunicipalityId, room: RoomId) -> Result<Option<RoomAccess>> {
        // One statement: the room and its active team (as "id,id,id").
        let r = sqlx::query(
            "SELECT r.parent_account, r.escalated_at IS NOT NULL OR r.urgent_at IS NOT NULL, \
             (SELECT group_concat(t.supporter_account) FROM chat_team_members t JOIN chat_supporters s \
             ON s.account_id = t.supporter_account JOIN accounts a ON a.id = s.account_id \
             WHERE t.room_id = r.id AND s.state = 'active' AND a.disabled = 0) \
             FROM chat_rooms r WHERE r.id = ? AND r.municipality_id = ?",
        )
        .bind(room.0)
        .bind(m.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        let listed: Option<String> = r.try_get(2).map_err(db_err)?;
        let mut team = listed
            .unwrap_or_default()
            .split(',')
            .filter(|x| !x.is_empty())
            .map(|x| x.parse::<i64>().map(AccountId).map_err(|_| StoreError::InvalidReference("team")))
            .collect::<Result<Vec<_>>>()?;
        team.sort();
        Ok(Some(RoomAccess {
            municipality_id: m,
            room_id: room,
            parent: AccountId(r.try_get(0).map_err(db_err)?),
            team,
            escalated: r.try_get(1).map_err(db_err)?,
        }))
    }

    async fn room_of_parent(&self, m: MunicipalityId, parent: AccountId) -> Result<Option<RoomId>> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM chat_rooms WHERE parent_account = ? AND municipality_id = ?")
                .bind(parent.0)
                .bind(m.0)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
        Ok(id.map(RoomId))
    }

    async fn rooms_of_supporter(&self, m: MunicipalityId, supporter: AccountId) -> Result<Vec<RoomSummary>> {
        let mut c = self.reader.acquire().await.map_err(db_err)?;
        summaries(
            &mut c,
            m,
            "AND r.id IN (SELECT room_id FROM chat_team_members WHERE supporter_account = ?)",
            Some(supporter.0),
        )
        .await
    }

    async fn room_last_seq(&self, m: MunicipalityId, room: RoomId) -> Result<Option<i64>> {
        sqlx::query_scalar("SELECT last_seq FROM chat_rooms WHERE id = ? AND municipality_id = ?")
            .bind(room.0)
            .bind(m.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)
    }

    async fn room_summary(&self, m: MunicipalityId, room: RoomId) -> Result<Option<RoomSummary>> {
        let mut c = self.reader.acquire().await.map_err(db_err)?;
        Ok(summaries(&mut c, m, "AND r.id = ?", Some(room.0)).await?.into_iter().next())
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
        let mut c = self.reader.acquire().await.map_err(db_err)?;
        room_in(&mut c, ctx.municipality_id, room).await?;
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages m JOIN accounts a ON a.id = m.author_account \
             WHERE m.room_id = ?1 AND m.seq < ?2 AND m.municipality_id = ?4 ORDER BY m.seq DESC LIMIT ?3"
        ))
        .bind(room.0)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .bind(ctx.municipality_id.0)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        drop(c);
        let mut out = rows.iter().map(message_row).collect::<Result<Vec<_>>>()?;
        out.reverse();
        self.audit(ctx, AuditAction::ChatRead, None, &format!("room={room} count={}", out.len())).await?;
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
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages m JOIN accounts a ON a.id = m.author_account \
             WHERE m.room_id = ? AND m.municipality_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?"
        ))
        .bind(room.0)
        .bind(ctx.municipality_id.0)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(message_row).collect()
    }

    async fn mark_subscribed(&self, ctx: &AuditContext, room: RoomId, after: i64) -> Result<()> {
        self.audit(ctx, AuditAction::ChatSubscribe, None, &format!("room={room} after={after}")).await
    }

    async fn mark_read(&self, ctx: &AuditContext, room: RoomId, seq: i64) -> Result<()> {
        let mut tx = self.begin_immediate().await?;
        room_in(&mut tx, ctx.municipality_id, room).await?;
        sqlx::query(
            "INSERT INTO chat_reads (municipality_id, room_id, account_id, last_read_seq) \
             VALUES (?1, ?2, ?3, MIN(?4, (SELECT last_seq FROM chat_rooms WHERE municipality_id = ?1 AND id = ?2))) \
             ON CONFLICT (room_id, account_id) DO UPDATE SET last_read_seq = MAX(last_read_seq, excluded.last_read_seq)",
        )
        .bind(ctx.municipality_id.0)
        .bind(room.0)
        .bind(ctx.actor.0)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn read_state(&self, m: MunicipalityId, room: RoomId) -> Result<Vec<(AccountId, i64)>> {
        let rows = sqlx::query(
            "SELECT rd.account_id, rd.last_read_seq FROM chat_reads rd JOIN chat_rooms r ON r.id = rd.room_id \
             WHERE rd.room_id = ? AND r.municipality_id = ? ORDER BY rd.account_id",
        )
        .bind(room.0)
        .bind(m.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| Ok((AccountId(r.try_get(0).map_err(db_err)?), r.try_get(1).map_err(db_err)?))).collect()
    }

    async fn set_team(&self, ctx: &AuditContext, room: RoomId, team: &Team) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        room_in(&mut tx, m, room).await?;
        let on_room: Vec<AccountId> = team_of(&mut tx, m, room).await?.into_iter().map(|(_, a)| a).collect();
        let cands: Vec<Candidate> = candidates(&mut tx, m).await?.iter().map(SupporterRecord::candidate).collect();
        check_team(team, &cands, &on_room).map_err(|e| StoreError::Conflict(e.code()))?;
        sqlx::query("DELETE FROM chat_team_members WHERE room_id = ? AND municipality_id = ?")
            .bind(room.0)
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for (slot, account) in team.members() {
            sqlx::query(
                "INSERT INTO chat_team_members (municipality_id, room_id, slot, supporter_account, since) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(m.0)
            .bind(room.0)
            .bind(slot.as_str())
            .bind(account.0)
            .bind(ts_text(ctx.at))
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
        let mut c = self.reader.acquire().await.map_err(db_err)?;
        let supporters = candidates(&mut c, m).await?;
        let rooms: Vec<i64> = sqlx::query_scalar("SELECT id FROM chat_rooms WHERE municipality_id = ? ORDER BY id")
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
            let full = current
                .iter()
                .flatten()
                .all(|a| supporters.iter().any(|s| s.account == *a && s.state == SupporterState::Active))
                && current.iter().all(Option::is_some);
            if !full {
                needs.push(RoomNeed { room: RoomId(id), current });
            }
        }
        Ok((needs, supporters.iter().map(SupporterRecord::candidate).collect()))
    }

    async fn team_health(&self, ctx: &AuditContext) -> Result<Vec<RoomHealth>> {
        let m = ctx.municipality_id;
        let mut c = self.reader.acquire().await.map_err(db_err)?;
        let rooms = summaries(&mut c, m, "", None).await?;
        let mut out = Vec::with_capacity(rooms.len());
        for summary in rooms {
            let r = sqlx::query(
                "SELECT (SELECT sent_at FROM chat_messages WHERE room_id = ?1 AND municipality_id = ?2 \
                 AND author_role = 'chat_parent' ORDER BY seq LIMIT 1), \
                 (SELECT sent_at FROM chat_messages WHERE room_id = ?1 AND municipality_id = ?2 \
                 AND author_role = 'peer_supporter' AND seq > \
                 (SELECT MIN(seq) FROM chat_messages WHERE room_id = ?1 AND municipality_id = ?2 \
                 AND author_role = 'chat_parent') \
                 ORDER BY seq LIMIT 1)",
            )
            .bind(summary.room.0)
            .bind(m.0)
            .fetch_one(&mut *c)
            .await
            .map_err(db_err)?;
            let asked: Option<String> = r.try_get(0).map_err(db_err)?;
            let answered: Option<String> = r.try_get(1).map_err(db_err)?;
            let first_answer_secs = match (asked, answered) {
                (Some(a), Some(b)) => Some(ts(&b)?.as_second() - ts(&a)?.as_second()),
                _ => None,
            };
            out.push(RoomHealth { summary, first_answer_secs });
        }
        drop(c);
        self.audit(ctx, AuditAction::ChatHealth, None, &format!("rooms={}", out.len())).await?;
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
        let mut tx = self.begin_immediate().await?;
        room_in(&mut tx, m, room).await?;
        if let Some(seq) = message_seq {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM chat_messages WHERE room_id = ? AND seq = ? AND municipality_id = ?",
            )
            .bind(room.0)
            .bind(seq)
            .bind(m.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if found.is_none() {
                return Err(StoreError::InvalidReference("message_seq"));
            }
        }
        let family: Option<i64> = sqlx::query_scalar(
            "SELECT f.family_id FROM chat_rooms r JOIN chat_invitation_families f \
             ON f.invitation_id = r.invitation_id AND f.municipality_id = r.municipality_id WHERE r.id = ?",
        )
        .bind(room.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let family = FamilyId(family.ok_or(StoreError::Conflict("no_family_link"))?);
        let referral = raise(ctx.role, family, None, ConcernSource::ChatEscalation, urgent)
            .map_err(|_| StoreError::InvalidReference("role"))?;
        let referral_id = insert_referral(&mut tx, &self.keys.chain, ctx, &referral, note, None, None).await?;
        let now = ts_text(ctx.at);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO chat_escalations (municipality_id, room_id, message_seq, raised_by, raised_at, referral_id) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(m.0)
        .bind(room.0)
        .bind(message_seq)
        .bind(ctx.actor.0)
        .bind(&now)
        .bind(referral_id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE chat_rooms SET escalated_at = COALESCE(escalated_at, ?) WHERE id = ? AND municipality_id = ?",
        )
        .bind(&now)
        .bind(room.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ChatEscalate,
            None,
            &format!("room={room} escalation={id}"),
        )
        .await?;
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
        let rows = sqlx::query(
            "SELECT e.id, e.room_id, e.message_seq, e.raised_by, e.raised_at, e.referral_id, r.status \
             FROM chat_escalations e JOIN referrals r ON r.id = e.referral_id \
             WHERE e.municipality_id = ? AND e.raised_by = ? ORDER BY e.id DESC LIMIT 200",
        )
        .bind(ctx.municipality_id.0)
        .bind(supporter.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter().map(escalation_row).collect()
    }

    async fn help_lines(&self, m: MunicipalityId) -> Result<Vec<HelpLine>> {
        let rows = sqlx::query(
            "SELECT name_ja, name_en, number, hours_ja, source FROM chat_help_lines WHERE municipality_id = ? \
             ORDER BY position",
        )
        .bind(m.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(HelpLine {
                    name_ja: r.try_get(0).map_err(db_err)?,
                    name_en: r.try_get(1).map_err(db_err)?,
                    number: r.try_get(2).map_err(db_err)?,
                    hours_ja: r.try_get(3).map_err(db_err)?,
                    source: r.try_get(4).map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn set_help_lines(&self, ctx: &AuditContext, lines: &[HelpLine]) -> Result<()> {
        let m = ctx.municipality_id;
        let mut tx = self.begin_immediate().await?;
        sqlx::query("DELETE FROM chat_help_lines WHERE municipality_id = ?")
            .bind(m.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for (i, l) in lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO chat_help_lines (municipality_id, position, name_ja, name_en, number, hours_ja, source) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(m.0)
            .bind(i64::try_from(i).map_err(|_| corrupt("position"))?)
            .bind(&l.name_ja)
            .bind(&l.name_en)
            .bind(&l.number)
            .bind(&l.hours_ja)
            .bind(&l.source)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        append_audit(
            &mut tx,
            &self.keys.chain,
            ctx,
            AuditAction::ChatHelpLines,
            None,
            &format!("lines={}", lines.len()),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }
}

/// A batch's rows as one JSON array (of arrays: each row a tuple), for
/// `json_each(?)`: written straight from the rows, no tree of values.
pub(crate) fn json_rows<T: serde::Serialize>(rows: impl Iterator<Item = T>) -> String {
    // Numbers, strings, booleans and nulls cannot fail to serialise.
    serde_json::to_string(&rows.collect::<Vec<T>>()).unwrap_or_else(|_| "[]".to_owned())
}

/// The node's queue of posts (#13): one write transaction per turn.
pub(crate) type PostBatch = Batcher<PendingPost, Result<Posted>>;

impl SqliteStore {
    /// Stores a batch of posts in one transaction of the single writer
    /// (`plan_posts` numbers them), in four queries whatever its size (#13,
    /// #16): one read (the rooms' counters, the authors' chat names, the
    /// resends already stored); one write (the new messages, the rooms moved
    /// on, the authors' read marks); the audit chain's head, then its lines
    /// (one per new message, `append_audit_batch`) — and the LINE replies
    /// of supporters' posts. The new messages are answered as built from
    /// their posts; a resend is answered with the stored message and writes
    /// nothing.
    async fn write_posts(self, posts: Vec<PendingPost>) -> Result<Vec<Result<Posted>>> {
        // Each statement's text is the same whatever the batch's size (its
        // rows bound as one JSON array that `json_each` reads): prepared once
        // and kept by the writer's connection, where a `VALUES` list of the
        // batch's length was a new statement to parse and prepare nearly
        // every turn (a tenth of a busy node's CPU: BENCHMARKS.md, the chat).
        let mut tx = self.begin_immediate().await?;
        let mut keys: Vec<(i64, i64)> = posts.iter().map(|p| (p.ctx.municipality_id.0, p.room.0)).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut authors: Vec<i64> = posts.iter().map(|p| p.ctx.actor.0).collect();
        authors.sort_unstable();
        authors.dedup();
        // What the turn reads, as one query the connection's thread runs in
        // one turn (each query is a hand-off there and back, a thread switch
        // when the machine is busy: BENCHMARKS.md, the chat): first one row
        // of two JSON arrays — the rooms' counters and the authors' chat
        // names (a new message is built from its post with them, not read
        // back) — then the batch's client ids already stored in their rooms,
        // a row each (told apart by their width).
        let rows = sqlx::query(&format!(
            "SELECT (SELECT json_group_array(json_array(r.municipality_id, r.id, r.last_seq)) FROM json_each(?1) AS v \
             JOIN chat_rooms r ON r.municipality_id = v.value ->> 0 AND r.id = v.value ->> 1), \
             (SELECT json_group_array(json_array(a.id, a.display_name)) FROM json_each(?2) AS v \
             JOIN accounts a ON a.id = v.value); \
             SELECT {MESSAGE_COLUMNS} FROM json_each(?3) AS v \
             JOIN chat_messages m ON m.municipality_id = v.value ->> 0 AND m.room_id = v.value ->> 1 \
             AND m.client_id = v.value ->> 2 JOIN accounts a ON a.id = m.author_account"
        ))
        .bind(json_rows(keys.iter().map(|(m, r)| (m, r))))
        .bind(json_rows(authors.iter()))
        .bind(json_rows(posts.iter().map(|p| (p.ctx.municipality_id.0, p.room.0, &p.client_id))))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let (head, rows): (Vec<SqliteRow>, Vec<SqliteRow>) = rows.into_iter().partition(|r| r.len() == 2);
        let head = head.first().ok_or_else(|| corrupt("last_seq"))?;
        let counters: String = head.try_get(0).map_err(db_err)?;
        let counters: Vec<(i64, i64, i64)> = serde_json::from_str(&counters).map_err(|_| corrupt("last_seq"))?;
        let last_seq: HashMap<(i64, i64), i64> = counters.into_iter().map(|(m, id, seq)| ((m, id), seq)).collect();
        let names: String = head.try_get(1).map_err(db_err)?;
        let names: HashMap<i64, String> = serde_json::from_str::<Vec<(i64, String)>>(&names)
            .map_err(|_| corrupt("display_name"))?
            .into_iter()
            .collect();
        let mut stored_messages = HashMap::new();
        for r in rows {
            let m = message_row(&r)?;
            stored_messages.insert((m.room.0, m.client_id.clone()), m);
        }
        let stored: HashSet<(i64, String)> = stored_messages.keys().cloned().collect();
        let (plans, rooms) = plan_posts(&posts, &last_seq, &stored);
        let new = new_posts(&posts, &plans);
        let mut fresh = HashMap::new();
        if !new.is_empty() {
            // The authors have read what they wrote (one row per author and room).
            let mut reads: HashMap<(i64, i64, i64), i64> = HashMap::new();
            for (p, seq) in &new {
                let e = reads.entry((p.ctx.municipality_id.0, p.room.0, p.ctx.actor.0)).or_default();
                *e = (*e).max(*seq);
            }
            // The turn's writes as one query of three statements: the new
            // messages; each room's counter moved on to its last new number
            // (and the room flagged urgent by its first message of
            // self-harm); the authors' read marks (`WHERE true`: SQLite's
            // reading of an upsert after a SELECT).
            sqlx::query(
                "INSERT INTO chat_messages (municipality_id, room_id, seq, author_account, author_role, client_id, \
                 body, sent_at, self_harm) \
                 SELECT v.value ->> 0, v.value ->> 1, v.value ->> 2, v.value ->> 3, v.value ->> 4, v.value ->> 5, \
                 v.value ->> 6, v.value ->> 7, v.value ->> 8 FROM json_each(?1) AS v; \
                 UPDATE chat_rooms SET last_seq = v.seq, \
                 urgent_at = CASE WHEN v.urgent IS NOT NULL THEN COALESCE(urgent_at, v.urgent) ELSE urgent_at END \
                 FROM (SELECT value ->> 0 AS m, value ->> 1 AS id, value ->> 2 AS seq, value ->> 3 AS urgent \
                 FROM json_each(?2)) AS v WHERE chat_rooms.municipality_id = v.m AND chat_rooms.id = v.id; \
                 INSERT INTO chat_reads (municipality_id, room_id, account_id, last_read_seq) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?3) WHERE true \
                 ON CONFLICT (room_id, account_id) DO UPDATE \
                 SET last_read_seq = MAX(last_read_seq, excluded.last_read_seq)",
            )
            .bind(json_rows(new.iter().map(|(p, seq)| {
                (
                    p.ctx.municipality_id.0,
                    p.room.0,
                    seq,
                    p.ctx.actor.0,
                    p.author_role.as_str(),
                    &p.client_id,
                    &p.body,
                    ts_text(p.ctx.at),
                    p.self_harm,
                )
            })))
            .bind(json_rows(rooms.iter().map(|(m, r, seq, urgent)| (m.0, r.0, seq, urgent.map(ts_text)))))
            .bind(json_rows(reads.iter().map(|((m, room, account), seq)| (m, room, account, seq))))
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
            // Each new message as stored: its post, its number, its author's
            // chat name read above in this transaction, its instant to the
            // microsecond as the column keeps it.
            for (p, seq) in &new {
                let author_name = names.get(&p.ctx.actor.0).cloned().ok_or_else(|| corrupt("display_name"))?;
                let m = ChatMessage {
                    room: p.room,
                    seq: *seq,
                    author: p.ctx.actor,
                    author_role: p.author_role,
                    author_name,
                    client_id: p.client_id.clone(),
                    body: p.body.clone(),
                    sent_at: crate::micros(p.ctx.at),
                };
                fresh.insert((m.room.0, m.seq), m);
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(answer_posts(&posts, &plans, &stored_messages, &fresh))
    }
}

/// A parent joins with an invitation, inside the caller's transaction
/// (`join_chat`, and a LINE user's link in `line.rs`).
pub(crate) async fn join_in(
    tx: &mut SqliteConnection,
    m: MunicipalityId,
    code_hash: &str,
    account: &NewAccount,
    at: Timestamp,
) -> Result<(AccountId, RoomId)> {
    let row =
        sqlx::query("SELECT id, expires_at, used_at FROM chat_invitations WHERE code_hash = ? AND municipality_id = ?")
            .bind(code_hash)
            .bind(m.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
    let invitation: i64 = row.try_get(0).map_err(db_err)?;
    let expires: String = row.try_get(1).map_err(db_err)?;
    let used: Option<String> = row.try_get(2).map_err(db_err)?;
    if used.is_some() {
        return Err(StoreError::Conflict("invitation_used"));
    }
    if ts(&expires)? <= at {
        return Err(StoreError::NotFound);
    }
    let now = ts_text(at);
    let parent: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (municipality_id, username, display_name, role, password_hash, created_at) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.0)
    .bind(&account.username)
    .bind(&account.display_name)
    .bind(Role::ChatParent.as_str())
    .bind(account.password_hash.expose())
    .bind(&now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("username_taken") } else { db_err(e) })?;
    let room: i64 = sqlx::query_scalar(
        "INSERT INTO chat_rooms (municipality_id, parent_account, invitation_id, consent_at, created_at) \
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.0)
    .bind(parent)
    .bind(invitation)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query("UPDATE chat_invitations SET used_at = ? WHERE id = ? AND municipality_id = ?")
        .bind(&now)
        .bind(invitation)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok((AccountId(parent), RoomId(room)))
}
