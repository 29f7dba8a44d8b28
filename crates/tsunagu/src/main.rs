//! `tsunagu`: run the service, verify the audit log, load demo data.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tsunagu_domain::clock::{Clock, SystemClock};
use tsunagu_web::{AppState, WebConfig};

#[derive(Parser)]
#[command(name = "tsunagu", version, about = "つなぐ — seamless support from pregnancy through child-rearing")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct DbArg {
    /// Database URL: sqlite://PATH (embedded default) or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "TSUNAGU_DB", default_value = "sqlite://tsunagu-data/tsunagu.sqlite3")]
    db: String,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web service (pages and JSON API).
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on.
        #[arg(long, env = "TSUNAGU_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Load the demo municipalities, accounts and families if the database has none.
        #[arg(long, env = "TSUNAGU_DEMO")]
        demo: bool,
        /// Families per demo municipality.
        #[arg(long, env = "TSUNAGU_DEMO_FAMILIES", default_value_t = 150)]
        families: usize,
        /// Mark cookies Secure (set when users reach the service over HTTPS).
        #[arg(long, env = "TSUNAGU_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Take the client address from X-Forwarded-For (only behind a trusted proxy);
        /// the same as --trusted-proxies 1.
        #[arg(long, env = "TSUNAGU_TRUST_FORWARDED_FOR")]
        trust_forwarded_for: bool,
        /// How many proxies of ours stand in front of the service, each appending to
        /// X-Forwarded-For: the client address is the entry the outermost one added.
        #[arg(long, env = "TSUNAGU_TRUSTED_PROXIES", value_parser = clap::value_parser!(u8).range(0..=16))]
        trusted_proxies: Option<u8>,
        /// Minutes of inactivity after which a session ends.
        #[arg(long, env = "TSUNAGU_IDLE_TIMEOUT_MINUTES", default_value_t = 30)]
        idle_timeout_minutes: u64,
        /// Hours after sign-in after which a session ends.
        #[arg(long, env = "TSUNAGU_ABSOLUTE_TIMEOUT_HOURS", default_value_t = 12)]
        absolute_timeout_hours: u64,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
    /// Audit log commands.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Load demo data of a given size (for benchmarks) and exit.
    DemoLoad {
        #[command(flatten)]
        db: DbArg,
        #[arg(long, default_value_t = 150)]
        families: usize,
    },
    /// Run the daily timeline job now (the service runs it itself each day):
    /// rebuild contacts built with older rules, stamp newly missed contacts.
    TimelineJob {
        #[command(flatten)]
        db: DbArg,
        /// The day to run for (default: today in Japan).
        #[arg(long)]
        today: Option<jiff::civil::Date>,
    },
    /// Print the current TOTP code of a base32 secret (for the demo accounts).
    Totp { secret: String },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every municipality's hash chain; exits 1 if any line was edited or removed.
    Verify {
        #[command(flatten)]
        db: DbArg,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TSUNAGU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colour codes only on a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Serve {
            db,
            addr,
            demo,
            families,
            secure_cookies,
            trust_forwarded_for,
            trusted_proxies,
            idle_timeout_minutes,
            absolute_timeout_hours,
        } => {
            let store = tsunagu::open_store(&db.db).await?;
            if demo {
                load_demo(store.as_ref(), clock.as_ref(), families).await?;
            }
            let config = WebConfig {
                secure_cookies,
                trust_forwarded_for,
                trusted_proxies: trusted_proxies.map(usize::from).unwrap_or(0),
                idle_timeout: Duration::from_secs(idle_timeout_minutes * 60),
                absolute_timeout: Duration::from_secs(absolute_timeout_hours * 3600),
                ..WebConfig::default()
            };
            tokio::spawn(daily_timeline_job(store.clone(), clock.clone()));
            let app = tsunagu_web::router(AppState::new(store, clock, config));
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
            let local = listener.local_addr()?;
            println!("tsunagu is listening on http://{local}/");
            if demo {
                print_demo_signins();
            }
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
        Command::Migrate { db } => {
            tsunagu::open_store(&db.db).await?;
            println!("migrations applied");
        }
        Command::Audit { command: AuditCommand::Verify { db } } => {
            let store = tsunagu::open_store(&db.db).await?;
            let mut failed = false;
            for r in tsunagu::verify_audit(store.as_ref()).await? {
                match r.result {
                    Ok(n) => println!("{}: ok ({n} lines)", r.municipality_code),
                    Err(e) => {
                        failed = true;
                        println!("{}: TAMPERED: {e}", r.municipality_code);
                    }
                }
            }
            if failed {
                std::process::exit(1);
            }
        }
        Command::DemoLoad { db, families } => {
            let store = tsunagu::open_store(&db.db).await?;
            load_demo(store.as_ref(), clock.as_ref(), families).await?;
        }
        Command::TimelineJob { db, today } => {
            let store = tsunagu::open_store(&db.db).await?;
            let today = today.unwrap_or_else(|| clock.today());
            for r in tsunagu::run_timeline_jobs(store.as_ref(), today).await? {
                println!(
                    "{}: rebuilt {} pregnancies; {} contacts newly missed (windows closed {}..={})",
                    r.municipality_code,
                    r.rebuilt,
                    r.missed.marked,
                    r.missed.from.map(|d| d.to_string()).unwrap_or_else(|| "start".into()),
                    r.missed.through
                );
            }
        }
        Command::Totp { secret } => match tsunagu_web::auth::current_totp(&secret, clock.now()) {
            Some(code) => println!("{code}"),
            None => anyhow::bail!("not a base32 secret"),
        },
    }
    Ok(())
}

/// Runs the timeline job at start-up and then whenever the date in Japan
/// changes (checked every ten minutes). Failures are logged and retried at
/// the next check; the lists never depend on the job (they read the dates).
async fn daily_timeline_job(store: Arc<dyn tsunagu_store::Store>, clock: Arc<dyn Clock>) {
    let mut last_done = None;
    loop {
        let today = clock.today();
        if last_done != Some(today) {
            match tsunagu::run_timeline_jobs(store.as_ref(), today).await {
                Ok(reports) => {
                    for r in reports {
                        tracing::info!(
                            municipality = r.municipality_code,
                            rebuilt = r.rebuilt,
                            newly_missed = r.missed.marked,
                            "timeline job done"
                        );
                    }
                    last_done = Some(today);
                }
                Err(e) => tracing::warn!(error = %e, "timeline job failed; will retry"),
            }
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
}

async fn load_demo(store: &dyn tsunagu_store::Store, clock: &dyn Clock, families: usize) -> anyhow::Result<()> {
    let opts = tsunagu_demo::DemoOptions {
        families_per_municipality: families,
        seed: 20261122,
        today: clock.today(),
        now: clock.now(),
    };
    // One working memory for every demo password: argon2's 19 MiB allocated
    // afresh per hash on whichever thread runs it stays behind per allocator arena.
    let scratch = std::sync::Mutex::new(tsunagu_web::auth::Scratch::default());
    let hash = |p: &str| {
        let mut scratch = scratch.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tsunagu_web::auth::hash_password_in(p, &mut scratch)
            .unwrap_or_else(|_| tsunagu_store::Secret::new(String::new()))
    };
    let started = std::time::Instant::now();
    let summary = tsunagu_demo::load(store, &opts, &hash).await.context("loading demo data")?;
    tracing::info!(
        families = summary.families,
        babies = summary.babies,
        duration_ms = started.elapsed().as_millis() as u64,
        "demo data ready"
    );
    Ok(())
}

fn print_demo_signins() {
    println!("\nDemo sign-ins (staff accounts then ask for a TOTP code: `tsunagu totp SECRET` prints it):");
    println!("{:<8} {:<12} {:<28} {:<16} TOTP secret", "city", "user", "password", "role");
    for a in tsunagu_demo::demo_accounts() {
        println!(
            "{:<8} {:<12} {:<28} {:<16} {}",
            a.municipality_code,
            a.username,
            a.password,
            a.role.as_str(),
            a.totp_secret.unwrap_or("-")
        );
    }
}
