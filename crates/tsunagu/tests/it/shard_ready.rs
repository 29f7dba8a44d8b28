//! Ready to shard by municipality (#15): the schema, on both databases, and
//! the store crates' SQL, against the rule that a municipality's data says
//! whose it is. docs/DEPLOY.md ("Sharding by municipality") has the plan
//! these lists feed: which tables are distributed, which are reference
//! tables, and the key change still to come.
//!
//! 1. Every table holds `municipality_id NOT NULL`, or is a declared
//!    service-wide table ([`SERVICE_WIDE`], with why), or is a declared
//!    child still reaching its municipality through its parent
//!    ([`THROUGH_PARENT`]: the parent must carry the column and the child a
//!    `NOT NULL` reference to it). Both lists must stay true: a listed
//!    table that is gone, or a child that gained the column, fails too.
//! 2. A source-level check of the SQL in the store crates: a statement
//!    that reads or writes a table holding `municipality_id` and does not
//!    name it (nor go through the helpers that add it) is counted per file,
//!    and the count may not grow past [`UNFILTERED_BUDGET`]. Today these
//!    are reads and writes by a row's own id *after* the row was reached
//!    through a filtered query in the same transaction (a child row, a
//!    counter, an audit head); the key change replaces each with the
//!    composite key. [`CROSS_MUNICIPALITY`] names the queries that cross
//!    municipalities by design.

use crate::support::{fresh_db, Backend};
use std::collections::BTreeMap;

/// Tables that are the service's own, not any municipality's (reference
/// or local tables in a sharded cluster).
const SERVICE_WIDE: &[(&str, &str)] = &[
    ("municipalities", "the tenants themselves: a reference table, copied to every shard"),
    ("job_leases", "the daily jobs' leases and the nodes' heartbeats: the service's, no person in it"),
    (
        "signin_attempts",
        "written before any municipality is known (the code as typed, an unknown one too): the \
         sign-in limiter's, kept on the coordinator",
    ),
    ("_sqlx_migrations", "the migrator's own"),
    ("bulk_dropped_indexes", "the definitions of indexes a large load builds after it (#16): schema, no person"),
];

/// A municipality's data in tables that do not carry the column yet: each
/// reaches its municipality through (its column, the parent table).
const THROUGH_PARENT: &[(&str, &str, &str)] = &[
    ("account_scopes", "account_id", "accounts"),
    ("babies", "pregnancy_id", "pregnancies"),
    ("chat_reads", "room_id", "chat_rooms"),
    ("chat_team_members", "room_id", "chat_rooms"),
    ("online_talk_attendees", "talk_id", "online_talks"),
    ("postpartum_facilities", "venue_id", "venues"),
    ("postpartum_places", "venue_id", "postpartum_facilities"),
    ("postpartum_stay_notes", "application_id", "postpartum_applications"),
    ("referral_events", "referral_id", "referrals"),
    ("sessions", "account_id", "accounts"),
];

/// Queries that cross municipalities by design (file, a fragment of the
/// statement, why). They are not counted against the budget.
const CROSS_MUNICIPALITY: &[(&str, &str, &str)] = &[
    ("records.rs", "FROM municipalities", "the tenant list: the daily job and `audit verify` walk every municipality"),
    ("accounts.rs", "FROM sessions", "a session is found by its token's hash before anyone is known"),
    ("signin.rs", "signin_attempts", "the limiter counts attempts by the code as typed"),
    ("ops.rs", "job_leases", "the service's jobs and heartbeats"),
    ("keys.rs", "accounts", "sealing the TOTP secrets of before 0008 at `migrate` walks every account, once"),
];

/// Statements per store file that touch a municipality's table without
/// naming `municipality_id` (see the module's note). A ratchet: lower it
/// when a change removes some; it may not grow.
const UNFILTERED_BUDGET: &[(&str, usize)] = &[
    ("tsunagu-store-postgres/accounts.rs", 2),
    ("tsunagu-store-postgres/chat.rs", 5),
    ("tsunagu-store-postgres/classes.rs", 9),
    ("tsunagu-store-postgres/records.rs", 1),
    ("tsunagu-store-sqlite/accounts.rs", 2),
    ("tsunagu-store-sqlite/chat.rs", 8),
    ("tsunagu-store-sqlite/classes.rs", 9),
    ("tsunagu-store-sqlite/records.rs", 1),
];

/// (column present, NOT NULL) of `municipality_id`, and the NOT NULL columns, by table.
type Columns = BTreeMap<String, (bool, bool, Vec<String>)>;

async fn schema(backend: Backend) -> Columns {
    use sqlx::Connection;
    let url = fresh_db(backend).await;
    let rows: Vec<(String, String, bool)> = match backend {
        Backend::Sqlite => {
            // `fresh_db` names the file; the store makes and migrates it.
            let store = tsunagu::open_store(&url, crate::store_support::test_keys()).await.unwrap();
            drop(store);
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            // An INTEGER PRIMARY KEY alone is the rowid: never NULL.
            sqlx::query_as(
                "SELECT m.name, p.name, p.\"notnull\" OR (p.pk = 1 AND upper(p.type) = 'INTEGER' \
                 AND (SELECT COUNT(*) FROM pragma_table_info(m.name) WHERE pk > 0) = 1) \
                 FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query_as(
                "SELECT table_name::text, column_name::text, is_nullable = 'NO' FROM information_schema.columns \
                 WHERE table_schema = 'public'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap()
        }
    };
    let mut out = Columns::new();
    for (table, column, not_null) in rows {
        let e = out.entry(table).or_default();
        if column == "municipality_id" {
            *e = (true, not_null, std::mem::take(&mut e.2));
        }
        if not_null {
            e.2.push(column);
        }
    }
    out
}

async fn story_every_table_says_whose_it_is(backend: Backend) {
    let tables = schema(backend).await;
    let mut wrong = vec![];
    for (table, (has, not_null, required)) in &tables {
        let service = SERVICE_WIDE.iter().any(|(t, _)| t == table);
        let child = THROUGH_PARENT.iter().find(|(t, _, _)| t == table);
        match (*has && *not_null, service, child) {
            (true, false, None) => {}
            (false, true, None) => {}
            (false, false, Some((_, column, parent))) => {
                let parent_ok = tables.get(*parent).is_some_and(|p| p.0 && p.1)
                    || THROUGH_PARENT.iter().any(|(t, _, _)| t == parent);
                if !parent_ok || !required.iter().any(|c| c == column) {
                    wrong.push(format!("{table}: reaches {parent} by {column}, which must be NOT NULL there"));
                }
            }
            (true, _, Some(_)) => {
                wrong.push(format!("{table} carries municipality_id now: take it off THROUGH_PARENT"))
            }
            (true, true, _) => wrong.push(format!("{table} carries municipality_id: take it off SERVICE_WIDE")),
            _ => wrong.push(format!(
                "{table} holds no `municipality_id NOT NULL`: add it (and to the key) or declare why not"
            )),
        }
    }
    for t in SERVICE_WIDE.iter().map(|(t, _)| *t).chain(THROUGH_PARENT.iter().map(|(t, _, _)| *t)) {
        if !tables.contains_key(t) {
            wrong.push(format!("{t} is declared but is no table"));
        }
    }
    assert!(wrong.is_empty(), "{backend:?}:\n{}", wrong.join("\n"));
}

on_both! {
    every_table_says_whose_it_is => story_every_table_says_whose_it_is,
}

/// The statements of a store file: from each `query…(`/`QueryBuilder::new(`
/// to the call that runs it.
fn statements(src: &str) -> Vec<&str> {
    let starts: Vec<usize> = ["sqlx::query", "QueryBuilder::new("]
        .iter()
        .flat_map(|t| src.match_indices(t).map(|(i, _)| i))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    starts
        .iter()
        .map(|&i| {
            let rest = &src[i..];
            let end = [".execute(", ".fetch", ".build", ";\n"]
                .iter()
                .filter_map(|m| rest.find(m))
                .min()
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

fn touches(stmt: &str, table: &str) -> bool {
    ["FROM ", "JOIN ", "UPDATE ", "INTO "].iter().any(|verb| {
        stmt.match_indices(&format!("{verb}{table}")).any(|(i, m)| {
            let next = stmt[i + m.len()..].chars().next();
            !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

#[tokio::test]
async fn store_queries_of_a_municipality_s_tables_name_it() {
    let tables: Vec<String> =
        schema(Backend::Sqlite).await.into_iter().filter(|(_, (has, _, _))| *has).map(|(t, _)| t).collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    for backend in ["tsunagu-store-sqlite", "tsunagu-store-postgres"] {
        for entry in std::fs::read_dir(root.join(backend).join("src")).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            if file == "tests.rs" {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            for stmt in statements(&src) {
                let named = stmt.contains("municipality_id")
                    || stmt.contains("in_municipality")
                    || stmt.contains("push_filter");
                let crosses = CROSS_MUNICIPALITY.iter().any(|(f, frag, _)| *f == file && stmt.contains(frag));
                if named || crosses || !tables.iter().any(|t| touches(stmt, t)) {
                    continue;
                }
                let key = format!("{backend}/{file}");
                *counts.entry(key.clone()).or_default() += 1;
                examples.entry(key).or_insert_with(|| stmt.chars().take(160).collect());
            }
        }
    }
    let budget: BTreeMap<&str, usize> = UNFILTERED_BUDGET.iter().copied().collect();
    let over: Vec<String> = counts
        .iter()
        .filter(|(k, n)| **n > budget.get(k.as_str()).copied().unwrap_or(0))
        .map(|(k, n)| {
            format!("{k}: {n} (budget {}), e.g. {}", budget.get(k.as_str()).copied().unwrap_or(0), examples[k])
        })
        .collect();
    let total: usize = counts.values().sum();
    eprintln!("statements without municipality_id, by file ({total}): {counts:?}");
    assert!(over.is_empty(), "queries of a municipality's tables that do not name it:\n{}", over.join("\n"));
}
