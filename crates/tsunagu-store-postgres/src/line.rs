//! The chat on LINE [003] (migration 0018): the channel, the links, the
//! webhook events taken, the outbox of pushes.

use crate::audit::append_audit;
use crate::chat::join_in;
use crate::{db_err, get, is_unique_violation, ts_param, PgStore};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::PgConnection;
use tsunagu_domain::audit::{AuditAction, AuditContext, Requester};
use tsunagu_domain::chat::line::LineUserId;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AccountId, MunicipalityId, RoomId};
use tsunagu_store::{LineChannel, LineLink, LinePush, LineStore, NewAccount, Result, StoreError};

/// A supporter's message in a LINE-linked room goes to the outbox in the
/// message's own transaction (`post_message`): nothing for a room without a link.
pub(crate) async fn enqueue_reply(
    tx: &mut PgConnection,
    m: MunicipalityId,
    room: RoomId,
    seq: i64,
    author: AccountId,
    text: &str,
    at: Timestamp,
) -> Result<()> {
    let now = ts_param(at);
    sqlx::query(
        "INSERT INTO line_outbox (municipality_id, room_id, line_user_id, body, dedupe_key, created_at, next_attempt_at) \
         SELECT l.municipality_id, l.room_id, l.line_user_id, a.display_name || ': ' || $1::text, $2, $3::timestamptz, \
         $4::timestamptz FROM line_links l JOIN accounts a ON a.id = $5 AND a.municipality_id = l.municipality_id \
         WHERE l.municipality_id = $6 AND l.room_id = $7 \
         ON CONFLICT (municipality_id, dedupe_key) DO NOTHING",
    )
    .bind(text)
    .bind(format!("message:{}:{seq}", room.0))
    .bind(&now)
    .bind(&now)
    .bind(author.0)
    .bind(m.0)
    .bind(room.0)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl LineStore for PgStore {
    async fn set_line_channel(&self, ctx: &AuditContext, channel: &LineChannel) -> Result<()> {
        let m = ctx.municipality_id;
        let secret = self.keys.seal_line(m.0, "secret", &channel.channel_secret)?;
        let token = self.keys.seal_line(m.0, "token", &channel.access_token)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO line_channels (municipality_id, channel_secret, access_token, updated_at) \
             VALUES ($1, $2, $3, $4::timestamptz) ON CONFLICT (municipality_id) DO UPDATE SET \
             channel_secret = excluded.channel_secret, access_token = excluded.access_token, \
             updated_at = excluded.updated_at",
        )
        .bind(m.0)
        .bind(secret)
        .bind(token)
        .bind(ts_param(ctx.at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::ChatLineChannel, None, "").await?;
        tx.commit().await.map_err(db_err)
    }

    async fn line_channel(&self, m: MunicipalityId) -> Result<Option<LineChannel>> {
        let row = sqlx::query("SELECT channel_secret, access_token FROM line_channels WHERE municipality_id = $1")
            .bind(m.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let secret: String = get(&row, "channel_secret")?;
        let token: String = get(&row, "access_token")?;
        Ok(Some(LineChannel {
            channel_secret: self.keys.open_line(m.0, "secret", &secret)?,
            access_token: self.keys.open_line(m.0, "token", &token)?,
        }))
    }

    async fn line_municipalities(&self) -> Result<Vec<MunicipalityId>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT municipality_id FROM line_channels ORDER BY municipality_id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(ids.into_iter().map(MunicipalityId).collect())
    }

    async fn seen_webhook_events(&self, m: MunicipalityId, ids: &[String]) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        sqlx::query_scalar(
            "SELECT webhook_event_id FROM line_webhook_events WHERE municipality_id = $1 AND webhook_event_id = ANY($2)",
        )
        .bind(m.0)
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn record_webhook_events(&self, m: MunicipalityId, ids: &[String], at: Timestamp) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for id in ids {
            sqlx::query(
                "INSERT INTO line_webhook_events (municipality_id, webhook_event_id, received_at) VALUES ($1, $2, $3::timestamptz) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(m.0)
            .bind(id)
            .bind(ts_param(at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn line_link(&self, m: MunicipalityId, user: &LineUserId) -> Result<Option<LineLink>> {
        let row =
            sqlx::query("SELECT account_id, room_id FROM line_links WHERE municipality_id = $1 AND line_user_id = $2")
                .bind(m.0)
                .bind(user.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(LineLink { account: AccountId(get(&row, "account_id")?), room: RoomId(get(&row, "room_id")?) }))
    }

    async fn link_line_user(
        &self,
        m: MunicipalityId,
        code_hash: &str,
        user: &LineUserId,
        account: &NewAccount,
        at: Timestamp,
    ) -> Result<LineLink> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let linked: Option<i64> =
            sqlx::query_scalar("SELECT account_id FROM line_links WHERE municipality_id = $1 AND line_user_id = $2")
                .bind(m.0)
                .bind(user.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if linked.is_some() {
            return Err(StoreError::Conflict("line_user_linked"));
        }
        let (parent, room) = join_in(&mut tx, m, code_hash, account, at).await?;
        sqlx::query(
            "INSERT INTO line_links (municipality_id, line_user_id, account_id, room_id, linked_at) VALUES ($1, $2, $3, $4, $5::timestamptz)",
        )
        .bind(m.0)
        .bind(user.as_str())
        .bind(parent.0)
        .bind(room.0)
        .bind(ts_param(at))
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("line_user_linked") } else { db_err(e) })?;
        let ctx = linked_parent(m, parent, at);
        append_audit(&mut tx, &self.keys.chain, &ctx, AuditAction::ChatLineLink, None, &format!("room={room}")).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(LineLink { account: parent, room })
    }

    async fn enqueue_line_push(
        &self,
        m: MunicipalityId,
        room: Option<RoomId>,
        to: &LineUserId,
        body: &str,
        dedupe_key: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        let now = ts_param(at);
        sqlx::query(
            "INSERT INTO line_outbox (municipality_id, room_id, line_user_id, body, dedupe_key, created_at, \
             next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz) ON CONFLICT (municipality_id, dedupe_key) DO NOTHING",
        )
        .bind(m.0)
        .bind(room.map(|r| r.0))
        .bind(to.as_str())
        .bind(body)
        .bind(dedupe_key)
        .bind(&now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn due_line_pushes(&self, m: MunicipalityId, now: Timestamp, limit: u32) -> Result<Vec<LinePush>> {
        let rows = sqlx::query(
            "SELECT id, line_user_id, body, attempts FROM line_outbox \
             WHERE municipality_id = $1 AND sent_at IS NULL AND next_attempt_at <= $2::timestamptz ORDER BY id LIMIT $3",
        )
        .bind(m.0)
        .bind(ts_param(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let to: String = get(r, "line_user_id")?;
                let attempts: i32 = get(r, "attempts")?;
                Ok(LinePush {
                    id: get(r, "id")?,
                    municipality: m,
                    to: LineUserId::parse(&to).ok_or_else(|| crate::corrupt("line user id"))?,
                    body: get(r, "body")?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    async fn line_push_sent(&self, m: MunicipalityId, id: i64, at: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE line_outbox SET sent_at = $1::timestamptz, body = '' WHERE id = $2 AND municipality_id = $3",
        )
        .bind(ts_param(at))
        .bind(id)
        .bind(m.0)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn line_push_failed(&self, m: MunicipalityId, id: i64, error: &str, next_at: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE line_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2::timestamptz \
             WHERE id = $3 AND municipality_id = $4 AND sent_at IS NULL",
        )
        .bind(error)
        .bind(ts_param(next_at))
        .bind(id)
        .bind(m.0)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn pending_line_pushes(&self, m: MunicipalityId) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM line_outbox WHERE municipality_id = $1 AND sent_at IS NULL")
                .bind(m.0)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The context of a LINE user's joining: the new parent's own action.
fn linked_parent(m: MunicipalityId, parent: AccountId, at: Timestamp) -> AuditContext {
    Requester {
        municipality_id: m,
        actor: parent,
        role: Role::ChatParent,
        remote_addr: "line".into(),
        reason: "LINE link with an invitation code".into(),
        at,
    }
    .without_a_policy_decision()
}
