//! Web push (#10): a family member's browser subscriptions (`tsunagu_store::PushStore`).

use super::{db_err, Result};
use crate::audit::append_audit;
use crate::PgStore;
use async_trait::async_trait;
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::push::Subscription;
use tsunagu_domain::{AccountId, FamilyId, MunicipalityId};
use tsunagu_store::{PushStore, PushTarget};

#[async_trait]
impl PushStore for PgStore {
    async fn add_push_subscription(&self, ctx: &AuditContext, family: FamilyId, s: &Subscription) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO push_subscriptions (municipality_id, account_id, family_id, endpoint, p256dh, auth, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz) \
             ON CONFLICT (endpoint, municipality_id) DO UPDATE SET account_id = excluded.account_id, family_id = excluded.family_id, \
             p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at \
             WHERE push_subscriptions.municipality_id = excluded.municipality_id",
        )
        .bind(ctx.municipality_id.0)
        .bind(ctx.actor.0)
        .bind(family.0)
        .bind(&s.endpoint)
        .bind(&s.p256dh)
        .bind(&s.auth)
        .bind(ctx.at.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO reminder_settings (account_id, municipality_id, family_id, updated_at) VALUES ($1, $2, $3, $4::timestamptz) \
             ON CONFLICT (account_id, municipality_id) DO NOTHING",
        )
        .bind(ctx.actor.0)
        .bind(ctx.municipality_id.0)
        .bind(family.0)
        .bind(ctx.at.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::PushSubscribe, Some(family), "").await?;
        tx.commit().await.map_err(db_err)
    }

    async fn remove_push_subscription(&self, ctx: &AuditContext, family: FamilyId, endpoint: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let gone = sqlx::query(
            "DELETE FROM push_subscriptions WHERE endpoint = $1 AND account_id = $2 AND family_id = $3 AND municipality_id = $4",
        )
        .bind(endpoint)
        .bind(ctx.actor.0)
        .bind(family.0)
        .bind(ctx.municipality_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        let detail = if gone > 0 { "removed" } else { "none" };
        append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::PushUnsubscribe, Some(family), detail).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(gone > 0)
    }

    async fn push_targets(&self, m: MunicipalityId, account: AccountId) -> Result<Vec<PushTarget>> {
        let rows: Vec<(i64, String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT id, endpoint, p256dh, auth FROM push_subscriptions \
             WHERE municipality_id = $1 AND account_id = $2 ORDER BY id",
        )
        .bind(m.0)
        .bind(account.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(id, endpoint, p256dh, auth)| PushTarget {
                id,
                subscription: Subscription { endpoint, p256dh, auth },
            })
            .collect())
    }

    async fn drop_push_subscription(&self, m: MunicipalityId, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM push_subscriptions WHERE id = $1 AND municipality_id = $2")
            .bind(id)
            .bind(m.0)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
