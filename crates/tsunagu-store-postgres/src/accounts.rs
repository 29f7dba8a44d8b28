//! Accounts, their second factor, and sessions.

use crate::audit::append_audit;
use crate::records::{family_access_row, family_access_select};
use crate::{corrupt, db_err, get, in_municipality, is_unique_violation, ts, ts_param, PgStore, Table};
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::postgres::PgRow;
use tsunagu_domain::admins::{keeps_an_administrator, AdminChange, LastAdministrator};
use tsunagu_domain::audit::{AuditAction, AuditContext};
use tsunagu_domain::policy::FamilyAccess;
use tsunagu_domain::roles::{FamilyRelation, Role};
use tsunagu_domain::{AccountId, AreaId, FamilyId, MunicipalityId, RoomId, VenueId};
use tsunagu_store::{Account, AccountStore, NewAccount, Result, Secret, Session, SessionStage, StoreError};

/// An account's columns, with its scopes in the same statement (`kind:id`
/// joined by commas, in the order of kind then id), qualified so that they
/// can be read beside a session's.
macro_rules! account_columns {
    () => {
        concat!(
            "accounts.id AS id, accounts.municipality_id AS municipality_id, accounts.username AS username, ",
            "accounts.display_name AS display_name, accounts.role AS role, accounts.password_hash AS password_hash, ",
            "accounts.totp_secret AS totp_secret, accounts.totp_last_step AS totp_last_step, ",
            "accounts.disabled AS disabled, accounts.family_id AS family_id, ",
            "accounts.family_relation AS family_relation, ",
            ts_col!("accounts.created_at"),
            " AS created_at, ",
            "(SELECT string_agg(sc.kind || ':' || sc.ref_id, ',' ORDER BY sc.kind, sc.ref_id) ",
            "FROM account_scopes sc WHERE sc.account_id = accounts.id) AS scopes"
        )
    };
}

macro_rules! session_columns {
    () => {
        concat!(
            "municipality_id, token_hash, account_id, stage, csrf_token, ",
            ts_col!("created_at"),
            " AS created_at, ",
            ts_col!("last_seen_at"),
            " AS last_seen_at"
        )
    };
}

/// A session's columns, named apart from the account's.
/// A session with its account (`NULL` when it is gone), as
/// `SELECT … FROM sessions s LEFT JOIN accounts`, and the columns given
/// after theirs: the caller adds what they come from, and which session.
macro_rules! session_with_account_select {
    ($($more:expr)?) => {
        concat!(
            "SELECT ",
            prefixed_session_columns!(),
            ", ",
            account_columns!(),
            $($more,)?
            " FROM sessions s LEFT JOIN accounts ON accounts.id = s.account_id ",
            "AND accounts.municipality_id = s.municipality_id"
        )
    };
}

macro_rules! prefixed_session_columns {
    () => {
        concat!(
            "s.municipality_id AS s_municipality_id, s.token_hash AS s_token_hash, s.account_id AS s_account_id, s.stage AS s_stage, ",
            "s.csrf_token AS s_csrf_token, ",
            ts_col!("s.created_at"),
            " AS s_created_at, ",
            ts_col!("s.last_seen_at"),
            " AS s_last_seen_at"
        )
    };
}

/// The scopes as `account_scopes` rows `kind:id`, joined by commas.
fn parse_scopes(text: Option<&str>) -> Result<(Vec<AreaId>, Vec<VenueId>, Vec<RoomId>)> {
    let (mut areas, mut venues, mut rooms) = (vec![], vec![], vec![]);
    for item in text.unwrap_or_default().split(',').filter(|i| !i.is_empty()) {
        let (kind, id) = item.split_once(':').ok_or_else(|| corrupt("scope"))?;
        let id: i64 = id.parse().map_err(|_| corrupt("scope id"))?;
        match kind {
            "area" => areas.push(AreaId(id)),
            "venue" => venues.push(VenueId(id)),
            "room" => rooms.push(RoomId(id)),
            _ => return Err(corrupt("scope kind")),
        }
    }
    Ok((areas, venues, rooms))
}

fn prefixed_session_row(r: &PgRow) -> Result<Session> {
    let stage: String = get(r, "s_stage")?;
    Ok(Session {
        municipality_id: MunicipalityId(get(r, "s_municipality_id")?),
        token_hash: get(r, "s_token_hash")?,
        account_id: AccountId(get(r, "s_account_id")?),
        stage: SessionStage::parse(&stage).ok_or_else(|| corrupt("session stage"))?,
        csrf_token: Secret::new(get::<String>(r, "s_csrf_token")?),
        created_at: ts(&get::<String>(r, "s_created_at")?)?,
        last_seen_at: ts(&get::<String>(r, "s_last_seen_at")?)?,
    })
}

fn session_row(r: &PgRow) -> Result<Session> {
    let stage: String = get(r, "stage")?;
    Ok(Session {
        municipality_id: MunicipalityId(get(r, "municipality_id")?),
        token_hash: get(r, "token_hash")?,
        account_id: AccountId(get(r, "account_id")?),
        stage: SessionStage::parse(&stage).ok_or_else(|| corrupt("session stage"))?,
        csrf_token: Secret::new(get::<String>(r, "csrf_token")?),
        created_at: ts(&get::<String>(r, "created_at")?)?,
        last_seen_at: ts(&get::<String>(r, "last_seen_at")?)?,
    })
}

/// Ends every session of an account (of municipality `m`) inside `tx`.
async fn end_sessions_of(tx: &mut sqlx::PgConnection, m: MunicipalityId, account: AccountId) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND municipality_id = $2")
        .bind(account.0)
        .bind(m.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

impl PgStore {
    /// A row of `prefixed_session_columns!` beside `account_columns!` (the
    /// account's `NULL` when it is gone).
    fn session_and_account(&self, r: &PgRow) -> Result<(Session, Option<Account>)> {
        let session = prefixed_session_row(r)?;
        let account = match get::<Option<i64>>(r, "id")? {
            Some(_) => Some(self.account_from_row(r)?),
            None => None,
        };
        Ok((session, account))
    }

    fn account_from_row(&self, r: &PgRow) -> Result<Account> {
        let id = AccountId(get(r, "id")?);
        let (areas, venues, rooms) = parse_scopes(get::<Option<String>>(r, "scopes")?.as_deref())?;
        let role: String = get(r, "role")?;
        Ok(Account {
            id,
            municipality_id: MunicipalityId(get(r, "municipality_id")?),
            username: get(r, "username")?,
            display_name: get(r, "display_name")?,
            role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
            password_hash: Secret::new(get::<String>(r, "password_hash")?),
            totp_secret: get::<Option<String>>(r, "totp_secret")?.map(|s| self.keys.open_totp(id, &s)).transpose()?,
            totp_last_step: get(r, "totp_last_step")?,
            disabled: get(r, "disabled")?,
            family_id: get::<Option<i64>>(r, "family_id")?.map(FamilyId),
            family_relation: get::<Option<String>>(r, "family_relation")?
                .map(|s| FamilyRelation::parse(&s).ok_or_else(|| corrupt("family relation")))
                .transpose()?,
            areas,
            venues,
            rooms,
            created_at: ts(&get::<String>(r, "created_at")?)?,
        })
    }
}

#[async_trait]
impl AccountStore for PgStore {
    async fn create_account(&self, ctx: Option<&AuditContext>, a: &NewAccount) -> Result<Account> {
        if ctx.is_some_and(|c| c.municipality_id != a.municipality_id) {
            return Err(StoreError::InvalidReference("municipality"));
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let now = a.created_at;
        if let Some(f) = a.family_id {
            if !in_municipality(&mut tx, Table::Families, f.0, a.municipality_id).await? {
                return Err(StoreError::InvalidReference("family_id"));
            }
            if a.family_relation == Some(FamilyRelation::Mother) {
                let taken: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM accounts WHERE family_id = $1 AND municipality_id = $2 \
                         AND family_relation = 'mother'",
                )
                .bind(f.0)
                .bind(a.municipality_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
                if taken.is_some() {
                    return Err(StoreError::Conflict("mother_account_exists"));
                }
            }
        }
        for area in &a.areas {
            if !in_municipality(&mut tx, Table::Areas, area.0, a.municipality_id).await? {
                return Err(StoreError::InvalidReference("areas"));
            }
        }
        for venue in &a.venues {
            if !in_municipality(&mut tx, Table::Venues, venue.0, a.municipality_id).await? {
                return Err(StoreError::InvalidReference("venues"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (municipality_id, username, display_name, role, password_hash, totp_secret, \
             family_id, family_relation, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz) \
             RETURNING id",
        )
        .bind(a.municipality_id.0)
        .bind(&a.username)
        .bind(&a.display_name)
        .bind(a.role.as_str())
        .bind(a.password_hash.expose())
        // Sealed below: the account id is the sealed secret's associated data.
        .bind(None::<String>)
        .bind(a.family_id.map(|f| f.0))
        .bind(a.family_id.and(a.family_relation).map(FamilyRelation::as_str))
        .bind(ts_param(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("username_taken") } else { db_err(e) })?;
        if let Some(secret) = &a.totp_secret {
            sqlx::query("UPDATE accounts SET totp_secret = $1 WHERE id = $2 AND municipality_id = $3")
                .bind(self.keys.seal_totp(AccountId(id), secret)?)
                .bind(id)
                .bind(a.municipality_id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let scopes = a
            .areas
            .iter()
            .map(|x| ("area", x.0))
            .chain(a.venues.iter().map(|x| ("venue", x.0)))
            .chain(a.rooms.iter().map(|x| ("room", x.0)));
        for (kind, ref_id) in scopes {
            sqlx::query(
                "INSERT INTO account_scopes (municipality_id, account_id, kind, ref_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(a.municipality_id.0)
            .bind(id)
            .bind(kind)
            .bind(ref_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        if let Some(ctx) = ctx {
            append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::AccountCreate, None, &format!("account={id}"))
                .await?;
        }
        tx.commit().await.map_err(db_err)?;
        self.account(a.municipality_id, AccountId(id)).await?.ok_or(StoreError::NotFound)
    }

    async fn account(&self, m: MunicipalityId, id: AccountId) -> Result<Option<Account>> {
        let r = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id = $1 AND municipality_id = $2"
        ))
        .bind(id.0)
        .bind(m.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some(self.account_from_row(&r)?)),
            None => Ok(None),
        }
    }

    async fn account_by_username(&self, m: MunicipalityId, username: &str) -> Result<Option<Account>> {
        let r = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE municipality_id = $1 AND username = $2"
        ))
        .bind(m.0)
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match r {
            Some(r) => Ok(Some(self.account_from_row(&r)?)),
            None => Ok(None),
        }
    }

    async fn accounts(&self, m: MunicipalityId) -> Result<Vec<Account>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE municipality_id = $1 ORDER BY id"
        ))
        .bind(m.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.account_from_row(&r)?);
        }
        Ok(out)
    }

    async fn set_password(&self, ctx: Option<&AuditContext>, id: AccountId, hash: &Secret) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // With an administrator's context, only accounts of their municipality.
        let m: Option<i64> = sqlx::query_scalar(
            "UPDATE accounts SET password_hash = $1 WHERE id = $2 AND ($3::bigint IS NULL OR municipality_id = $3) \
             RETURNING municipality_id",
        )
        .bind(hash.expose())
        .bind(id.0)
        .bind(ctx.map(|c| c.municipality_id.0))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let m = MunicipalityId(m.ok_or(StoreError::NotFound)?);
        end_sessions_of(&mut tx, m, id).await?;
        if let Some(ctx) = ctx {
            append_audit(
                &mut tx,
                &self.keys.chain,
                ctx,
                AuditAction::AccountPasswordReset,
                None,
                &format!("account={id}"),
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn set_totp_secret(&self, ctx: Option<&AuditContext>, id: AccountId, secret: Option<&Secret>) -> Result<()> {
        let sealed = secret.map(|s| self.keys.seal_totp(id, s)).transpose()?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let m: Option<i64> = sqlx::query_scalar(
            "UPDATE accounts SET totp_secret = $1, totp_last_step = 0 WHERE id = $2 \
                 AND ($3::bigint IS NULL OR municipality_id = $3) RETURNING municipality_id",
        )
        .bind(sealed)
        .bind(id.0)
        .bind(ctx.map(|c| c.municipality_id.0))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let m = MunicipalityId(m.ok_or(StoreError::NotFound)?);
        if secret.is_none() {
            end_sessions_of(&mut tx, m, id).await?;
        }
        if let Some(ctx) = ctx {
            append_audit(&mut tx, &self.keys.chain, ctx, AuditAction::AccountTotpReset, None, &format!("account={id}"))
                .await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn use_totp_step(&self, m: MunicipalityId, id: AccountId, step: i64) -> Result<bool> {
        // One conditional UPDATE: of two concurrent uses of a step, one wins.
        let n = sqlx::query(
            "UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND municipality_id = $3 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(id.0)
        .bind(m.0)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn set_disabled(&self, ctx: &AuditContext, id: AccountId, disabled: bool) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if disabled {
            // A municipality keeps an administrator (#10): decided on the
            // active administrators as they stand, their rows locked so two
            // administrators disabling each other at once are decided in turn.
            let admins: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM accounts WHERE municipality_id = $1 AND role = 'admin' AND NOT disabled \
                 ORDER BY id FOR UPDATE",
            )
            .bind(ctx.municipality_id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            let admins: Vec<AccountId> = admins.into_iter().map(AccountId).collect();
            keeps_an_administrator(&admins, id, AdminChange::Disable)
                .map_err(|_| StoreError::Conflict(LastAdministrator::CODE))?;
        }
        let n = sqlx::query("UPDATE accounts SET disabled = $1 WHERE id = $2 AND municipality_id = $3")
            .bind(disabled)
            .bind(id.0)
            .bind(ctx.municipality_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            end_sessions_of(&mut tx, ctx.municipality_id, id).await?;
        }
        let action = if disabled { AuditAction::AccountDisable } else { AuditAction::AccountEnable };
        append_audit(&mut tx, &self.keys.chain, ctx, action, None, &format!("account={id}")).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        let done = sqlx::query(
            // The account must be of the session's municipality (migration 0031).
            "INSERT INTO sessions (token_hash, account_id, stage, csrf_token, created_at, last_seen_at, \
             municipality_id) SELECT $1, $2, $3, $4, $5::timestamptz, $6::timestamptz, a.municipality_id \
             FROM accounts a WHERE a.id = $2 AND a.municipality_id = $7",
        )
        .bind(&s.token_hash)
        .bind(s.account_id.0)
        .bind(s.stage.as_str())
        .bind(s.csrf_token.expose())
        .bind(ts_param(s.created_at))
        .bind(ts_param(s.last_seen_at))
        .bind(s.municipality_id.0)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn session(&self, m: MunicipalityId, token_hash: &str) -> Result<Option<Session>> {
        let r = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE token_hash = $1 AND municipality_id = $2"
        ))
        .bind(token_hash)
        .bind(m.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        r.as_ref().map(session_row).transpose()
    }

    async fn session_with_account(
        &self,
        m: MunicipalityId,
        token_hash: &str,
    ) -> Result<Option<(Session, Option<Account>)>> {
        // On a kept connection (#16): every request makes this read.
        let mut conn = self.hot_conn().await?;
        let r =
            sqlx::query(concat!(session_with_account_select!(), " WHERE s.token_hash = $1 AND s.municipality_id = $2"))
                .bind(token_hash)
                .bind(m.0)
                .fetch_optional(conn.conn()?)
                .await
                .map_err(db_err);
        let Some(r) = conn.done(r)? else { return Ok(None) };
        self.session_and_account(&r).map(Some)
    }

    async fn session_with_family_access(
        &self,
        m: MunicipalityId,
        token_hash: &str,
        family: FamilyId,
    ) -> Result<Option<(Session, Option<Account>, Option<FamilyAccess>)>> {
        // One statement instead of two (#16): the family's access facts
        // (ids and flags) joined beside the session, in the session's
        // municipality. Nothing is decided here: the caller checks the
        // session and asks the policy before anything of the family is read.
        let mut conn = self.hot_conn().await?;
        let r = sqlx::query(concat!(
            session_with_account_select!(", fa.*"),
            " LEFT JOIN LATERAL (",
            family_access_select!(),
            " WHERE f.id = $3 AND f.municipality_id = s.municipality_id) fa ON true \
             WHERE s.token_hash = $1 AND s.municipality_id = $2"
        ))
        .bind(token_hash)
        .bind(m.0)
        .bind(family.0)
        .fetch_optional(conn.conn()?)
        .await
        .map_err(db_err);
        let Some(r) = conn.done(r)? else { return Ok(None) };
        let (session, account) = self.session_and_account(&r)?;
        let access = match get::<Option<i64>>(&r, "fa_id")? {
            Some(_) => Some(family_access_row(&r, m, family)?),
            None => None,
        };
        Ok(Some((session, account, access)))
    }

    async fn touch_session(&self, m: MunicipalityId, token_hash: &str, at: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1::timestamptz WHERE token_hash = $2 AND municipality_id = $3",
        )
        .bind(ts_param(at))
        .bind(token_hash)
        .bind(m.0)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_session(&self, m: MunicipalityId, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 AND municipality_id = $2")
            .bind(token_hash)
            .bind(m.0)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_sessions_of(&self, m: MunicipalityId, account: AccountId) -> Result<()> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        end_sessions_of(&mut c, m, account).await
    }
}
