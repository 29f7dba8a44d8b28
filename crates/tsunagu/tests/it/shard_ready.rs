//! Ready to shard by municipality (#15): the schema, on both databases, and
//! the store crates' SQL, against the rule that a municipality's data says
//! whose it is. docs/DEPLOY.md ("Sharding by municipality") has the plan
//! these lists feed: which tables are distributed, which are reference
//! tables, and which queries cross municipalities.
//!
//! 1. Every table holds `municipality_id NOT NULL`, or is a declared
//!    service-wide table ([`SERVICE_WIDE`], with why). A listed table that is
//!    gone, or one that gained the column, fails too.
//! 2. On PostgreSQL (the back end that shards; migration 0031) every primary
//!    and unique key of such a table holds `municipality_id`, and every
//!    foreign key between two such tables names it on both sides — so a
//!    key is unique within a shard and no row can point into another
//!    municipality. SQLite, the single-city embedded back end, keeps its
//!    rowid keys; its triggers hold the child-in-its-parent's-municipality
//!    rule instead, and [`a_child_row_cannot_point_into_another_municipality`]
//!    runs the same refusal on both.
//! 3. A source-level check of the SQL in the store crates: a statement
//!    that reads or writes a table holding `municipality_id` and does not
//!    name it (nor go through the helpers that add it) is counted per file,
//!    and the count may not grow past [`UNFILTERED_BUDGET`].
//!    [`CROSS_MUNICIPALITY`] names the queries that cross municipalities by
//!    design.

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

/// Queries that cross municipalities by design (file, a fragment of the
/// statement, why). They are not counted against the budget.
const CROSS_MUNICIPALITY: &[(&str, &str, &str)] = &[
    ("records.rs", "FROM municipalities", "the tenant list: the daily job and `audit verify` walk every municipality"),
    ("signin.rs", "signin_attempts", "the limiter counts attempts by the code as typed"),
    ("ops.rs", "job_leases", "the service's jobs and heartbeats"),
    ("keys.rs", "accounts", "sealing the TOTP secrets of before 0008 at `migrate` walks every account, once"),
];

/// Statements per store file that touch a municipality's table without
/// naming `municipality_id` (see the module's note). A ratchet that reached
/// zero on 2026-12-06: every statement names it now; keep it so.
const UNFILTERED_BUDGET: &[(&str, usize)] = &[];

/// (column present, NOT NULL) of `municipality_id`, by table.
type Columns = BTreeMap<String, (bool, bool)>;

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
            *e = (true, not_null);
        }
    }
    out
}

async fn story_every_table_says_whose_it_is(backend: Backend) {
    let tables = schema(backend).await;
    let mut wrong = vec![];
    for (table, (has, not_null)) in &tables {
        let service = SERVICE_WIDE.iter().any(|(t, _)| t == table);
        match (*has && *not_null, service) {
            (true, false) | (false, true) => {}
            (true, true) => wrong.push(format!("{table} carries municipality_id: take it off SERVICE_WIDE")),
            (false, false) => wrong.push(format!(
                "{table} holds no `municipality_id NOT NULL`: add it (and to the keys) or declare why not"
            )),
        }
    }
    for t in SERVICE_WIDE.iter().map(|(t, _)| *t) {
        if !tables.contains_key(t) {
            wrong.push(format!("{t} is declared but is no table"));
        }
    }
    if backend == Backend::Postgres {
        wrong.extend(keys_without_municipality().await);
    }
    assert!(wrong.is_empty(), "{backend:?}:\n{}", wrong.join("\n"));
}

/// (table, name, kind p/u/f, referenced table, columns, referenced columns).
type Constraint = (String, String, String, Option<String>, Vec<String>, Vec<String>);

/// PostgreSQL's keys of a municipality's tables that leave the municipality
/// out: a primary or unique key without `municipality_id`, or a foreign key
/// between two such tables that does not name it on both sides.
async fn keys_without_municipality() -> Vec<String> {
    use sqlx::Connection;
    let url = fresh_db(Backend::Postgres).await;
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    let rows: Vec<Constraint> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text, c.contype::text, c.confrelid::regclass::text, \
         ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(att, n) JOIN pg_attribute a \
               ON a.attrelid = c.conrelid AND a.attnum = k.att ORDER BY k.n), \
         ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(att, n) JOIN pg_attribute a \
               ON a.attrelid = c.confrelid AND a.attnum = k.att ORDER BY k.n) \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f')",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let service = |t: &str| SERVICE_WIDE.iter().any(|(s, _)| *s == t);
    let mut wrong = vec![];
    for (table, name, kind, referenced, columns, referenced_columns) in rows {
        if service(&table) {
            continue;
        }
        let names = |cols: &[String]| cols.iter().any(|c| c == "municipality_id");
        match (kind.as_str(), referenced.as_deref()) {
            ("p" | "u", _) if !names(&columns) => {
                wrong.push(format!("{table}: key {name} ({}) lacks municipality_id", columns.join(", ")))
            }
            ("f", Some(parent)) if !service(parent) => {
                let paired = columns
                    .iter()
                    .zip(&referenced_columns)
                    .any(|(a, b)| a == "municipality_id" && b == "municipality_id");
                if !paired {
                    wrong.push(format!(
                        "{table}: foreign key {name} ({}) → {parent} does not pair municipality_id",
                        columns.join(", ")
                    ));
                }
            }
            _ => {}
        }
    }
    wrong
}

/// A row of a child table naming another municipality than its parent's is
/// refused on both back ends: by the composite foreign key on PostgreSQL,
/// by the trigger on SQLite (migration 0031).
async fn story_a_child_row_cannot_point_into_another_municipality(backend: Backend) {
    let url = fresh_db(backend).await;
    let store = tsunagu::open_store(&url, crate::store_support::test_keys()).await.unwrap();
    drop(store);
    // Ids given by hand: PostgreSQL's identity columns want that said.
    let ov = if backend == Backend::Postgres { "OVERRIDING SYSTEM VALUE " } else { "" };
    let sql = [
        format!(
            "INSERT INTO municipalities (id, code, name_ja, name_en) {ov}VALUES (901, '999016', '甲市', 'Kō'), \
             (902, '999024', '乙市', 'Otsu')"
        ),
        format!("INSERT INTO areas (id, municipality_id, name_ja, name_en) {ov}VALUES (9011, 901, '北', 'North')"),
        format!(
            "INSERT INTO venues (id, municipality_id, area_id, kind, name_ja, name_en) \
             {ov}VALUES (90111, 901, 9011, 'postpartum_facility', '産後ケア', 'Postpartum care')"
        ),
    ];
    let facility = |m: i64| {
        format!(
            "INSERT INTO postpartum_facilities (municipality_id, venue_id, operator_ja, operator_en, calendar) \
             VALUES ({m}, 90111, '運営', 'Operator', '{{}}')"
        )
    };
    let run = |statements: Vec<String>| {
        let url = url.clone();
        async move {
            match backend {
                Backend::Sqlite => {
                    use sqlx::Connection;
                    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut c).await.unwrap();
                    for s in &statements {
                        sqlx::query(s).execute(&mut c).await?;
                    }
                    Ok::<(), sqlx::Error>(())
                }
                Backend::Postgres => {
                    use sqlx::Connection;
                    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                    for s in &statements {
                        sqlx::query(s).execute(&mut c).await?;
                    }
                    Ok(())
                }
            }
        }
    };
    run(sql.to_vec()).await.unwrap();
    assert!(run(vec![facility(902)]).await.is_err(), "{backend:?}: a facility of 902 at a venue of 901");
    run(vec![facility(901)]).await.unwrap();
}

on_both! {
    every_table_says_whose_it_is => story_every_table_says_whose_it_is,
    a_child_row_cannot_point_into_another_municipality => story_a_child_row_cannot_point_into_another_municipality,
}

/// The statements of a store file: from each `query…(`/`QueryBuilder::new(`
/// to the call that runs (or builds) it.
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
            // A built statement is everything pushed until it is built (its
            // WHERE may come after a VALUES list).
            let ends: &[&str] =
                if rest.starts_with("QueryBuilder") { &[".build"] } else { &[".execute(", ".fetch", ".build", ";\n"] };
            let end = ends.iter().filter_map(|m| rest.find(m)).min().unwrap_or(rest.len());
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
        schema(Backend::Sqlite).await.into_iter().filter(|(_, (has, _))| *has).map(|(t, _)| t).collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: BTreeMap<String, Vec<String>> = BTreeMap::new();
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
                examples.entry(key).or_default().push(stmt.chars().take(160).collect());
            }
        }
    }
    let budget: BTreeMap<&str, usize> = UNFILTERED_BUDGET.iter().copied().collect();
    let over: Vec<String> = counts
        .iter()
        .filter(|(k, n)| **n > budget.get(k.as_str()).copied().unwrap_or(0))
        .map(|(k, n)| {
            format!(
                "{k}: {n} (budget {}):\n  {}",
                budget.get(k.as_str()).copied().unwrap_or(0),
                examples[k].join("\n  ")
            )
        })
        .collect();
    let total: usize = counts.values().sum();
    eprintln!("statements without municipality_id, by file ({total}): {counts:?}");
    assert!(over.is_empty(), "queries of a municipality's tables that do not name it:\n{}", over.join("\n"));
}
