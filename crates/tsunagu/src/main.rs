//! `tsunagu`: run the service, verify the audit log, load demo data.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tsunagu::checkpoints::{read_checkpoints, Checkpointer, DEFAULT_CHECKPOINT_FILE};
use tsunagu::daily::DailyRun;
use tsunagu::keyfile::{load_key, KeySource, DEFAULT_KEY_FILE, KEY_ENV};
use tsunagu_domain::clock::{Clock, SystemClock};
use tsunagu_domain::keys::MasterKey;
use tsunagu_store::{Store, StoreKeys};
use tsunagu_web::{AppState, WebConfig};

#[derive(Parser)]
#[command(name = "tsunagu", version, about = "つなぐ — seamless support from pregnancy through child-rearing")]
struct Cli {
    /// How log lines are written: `text` for people, `json` (one object a
    /// line, the request's id in its span) for a log collector.
    #[arg(long, global = true, env = "TSUNAGU_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct DbArg {
    /// Database URL: sqlite://PATH (embedded default) or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "TSUNAGU_DB", default_value = "sqlite://tsunagu-data/tsunagu.sqlite3")]
    db: String,
    /// File holding the key (hex or base64, at least 32 bytes) that links the
    /// audit chain, signs its checkpoints and seals TOTP secrets; kept outside
    /// the database. The key may instead be given itself in TSUNAGU_KEY.
    /// Without either, tsunagu-data/tsunagu.key is used (created on first start).
    #[arg(long, env = "TSUNAGU_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// File the signed checkpoints of the audit chains are appended to
    /// (outside the database; `audit verify` reads it).
    #[arg(long, env = "TSUNAGU_CHECKPOINT_FILE", default_value = DEFAULT_CHECKPOINT_FILE)]
    checkpoint_file: PathBuf,
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
        /// Seconds between checkpoints of the audit chains (also written at
        /// start and on shutdown).
        #[arg(long, env = "TSUNAGU_CHECKPOINT_INTERVAL_SECS", default_value_t = 300)]
        checkpoint_interval_secs: u64,
        /// Address to serve Prometheus metrics on (`GET /metrics`); never the
        /// public address. Without it, no metrics are served.
        #[arg(long, env = "TSUNAGU_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
        /// Seconds to finish the requests in flight after SIGTERM or Ctrl-C
        /// (no new connection is taken meanwhile); then the node exits anyway.
        #[arg(long, env = "TSUNAGU_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
        shutdown_grace: u64,
        /// Chat on LINE: where pushes to LINE's Messaging API go. Plain HTTP:
        /// an egress proxy that forwards to https://api.line.me over TLS.
        #[arg(long, env = "TSUNAGU_LINE_API_BASE", default_value = "http://127.0.0.1:8081")]
        line_api_base: String,
        /// Chat on LINE: webhook events older than this are refused as replays.
        #[arg(long, env = "TSUNAGU_LINE_REPLAY_WINDOW_SECS", default_value_t = 600)]
        line_replay_window_secs: u64,
        /// Reminders by e-mail (#10): the SMTP relay, host:port, that takes
        /// plain SMTP from this node (no STARTTLS: a relay on the host or its
        /// network that carries the mail on; docs/DEPLOY.md). Without it no
        /// mail is sent and the reminders page says so.
        #[arg(long, env = "TSUNAGU_SMTP_RELAY")]
        smtp_relay: Option<String>,
        /// Reminders by e-mail: the sender's address.
        #[arg(long, env = "TSUNAGU_MAIL_FROM", default_value = "tsunagu@localhost")]
        mail_from: String,
        /// Where families reach the service (the link in a reminder: <URL>/me).
        #[arg(long, env = "TSUNAGU_PUBLIC_URL", default_value = "http://localhost:8080")]
        public_url: String,
        /// Reminders by web push (#10): the forward proxy, host:port, that
        /// takes requests in absolute form (`POST https://push-service/…`)
        /// and originates TLS to the browsers' push services (tsunagu has no
        /// TLS client; docs/DEPLOY.md). Without it the reminders page offers
        /// no push. The VAPID key is derived from the operator's key.
        #[arg(long, env = "TSUNAGU_PUSH_PROXY")]
        push_proxy: Option<String>,
        /// Reminders by web push: the operator's contact the push services
        /// see in the VAPID token (`mailto:` or `https:`).
        #[arg(long, env = "TSUNAGU_PUSH_SUBJECT", default_value = "mailto:tsunagu@localhost")]
        push_subject: String,
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
    /// Import families from a CSV file of pregnancy notifications (UTF-8,
    /// BOM or not; a header line naming the notification form's columns in
    /// Japanese or English, see docs/DEPLOY.md). A bad row is reported on
    /// stderr with its line number and nothing of it is stored; the good rows
    /// are stored in batches. Exit code 0: every row stored; 3: some rows
    /// refused; 1: the import failed (the file unreadable, the store down).
    Import {
        #[command(flatten)]
        db: DbArg,
        /// The municipality's code (6 digits, e.g. 131121).
        #[arg(long)]
        municipality: String,
        /// Language of the messages, `ja` or `en` (default: English when LANG says so, else Japanese).
        #[arg(long)]
        lang: Option<String>,
        /// The CSV file.
        file: PathBuf,
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
    /// Copy the SQLite database to a new file while the service runs: one
    /// consistent instant (VACUUM INTO), then an integrity check of the copy.
    /// (PostgreSQL: pg_dump, see docs/DEPLOY.md.)
    Backup {
        #[arg(long, env = "TSUNAGU_DB", default_value = "sqlite://tsunagu-data/tsunagu.sqlite3")]
        db: String,
        /// The file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Replace the SQLite database with a backup: checks the backup's
    /// integrity and migrations first, and refuses while a service runs on
    /// the file unless --force.
    Restore {
        #[arg(long, env = "TSUNAGU_DB", default_value = "sqlite://tsunagu-data/tsunagu.sqlite3")]
        db: String,
        /// The backup to restore.
        #[arg(long)]
        from: PathBuf,
        /// Replace the file even though a service said it runs on it (one
        /// that died without saying it stopped).
        #[arg(long)]
        force: bool,
    },
    /// Print the current TOTP code of a base32 secret (for the demo accounts).
    Totp { secret: String },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every municipality's keyed chain against the signed checkpoints;
    /// exits 1 if any line was edited, removed or inserted, a chain was cut
    /// short or removed, or the checkpoint file was tampered with.
    Verify {
        #[command(flatten)]
        db: DbArg,
        /// Check the chains alone, without a checkpoint file (cannot see a
        /// chain cut short with its head moved back, nor a chain removed).
        #[arg(long)]
        no_checkpoints: bool,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TSUNAGU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    match format {
        LogFormat::Text => {
            // Colour codes only on a terminal: a log file or a pipe gets plain text.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
            tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).init();
        }
        // One JSON object a line; the request's span (its id) as `span`.
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_target(false)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
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
            checkpoint_interval_secs,
            metrics_listen,
            shutdown_grace,
            line_api_base,
            line_replay_window_secs,
            smtp_relay,
            mail_from,
            public_url,
            push_proxy,
            push_subject,
        } => {
            let (store, checkpointer, master) = open_for_serving(&db, clock.as_ref()).await?;
            let pusher = match push_proxy {
                Some(proxy) => Some(tsunagu::push::Pusher {
                    proxy,
                    vapid: master.vapid_key().map_err(|e| anyhow::anyhow!("the VAPID key: {e}"))?,
                    subject: push_subject,
                    timeout: Duration::from_secs(10),
                }),
                None => None,
            };
            drop(master);
            if demo {
                load_demo(store.as_ref(), clock.as_ref(), families).await?;
            }
            let checkpointer = Arc::new(tokio::sync::Mutex::new(checkpointer));
            write_checkpoints(&checkpointer, store.as_ref(), clock.as_ref()).await;
            tokio::spawn(checkpoint_job(
                checkpointer.clone(),
                store.clone(),
                clock.clone(),
                Duration::from_secs(checkpoint_interval_secs.max(1)),
            ));
            let config = WebConfig {
                secure_cookies,
                trust_forwarded_for,
                trusted_proxies: trusted_proxies.map(usize::from).unwrap_or(0),
                idle_timeout: Duration::from_secs(idle_timeout_minutes * 60),
                absolute_timeout: Duration::from_secs(absolute_timeout_hours * 3600),
                line_api_base,
                line_replay_window: Duration::from_secs(line_replay_window_secs),
                email_reminders: smtp_relay.is_some(),
                push_public_key: pusher.as_ref().map(|p| p.vapid.public_b64()),
                ..WebConfig::default()
            };
            let state = AppState::new(store.clone(), clock.clone(), config);
            let node = tsunagu::daily::node_name();
            tokio::spawn(heartbeat_job(store.clone(), clock.clone(), node.clone()));
            tokio::spawn(daily_timeline_job(store.clone(), clock.clone(), state.metrics.clone(), node.clone()));
            tokio::spawn(tsunagu_web::chat::line::outbox_job(state.clone()));
            let mailer = smtp_relay.map(|addr| tsunagu::reminders::Mailer {
                relay: tsunagu::smtp::SmtpRelay { addr, helo: "tsunagu".into(), timeout: Duration::from_secs(10) },
                from: mail_from,
                link: format!("{}/me", public_url.trim_end_matches('/')),
            });
            if mailer.is_some() || pusher.is_some() {
                tokio::spawn(reminders_job(store.clone(), clock.clone(), mailer, pusher, node.clone()));
            }
            let app = tsunagu_web::router(state.clone());
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
            let local = listener.local_addr()?;
            println!("tsunagu is listening on http://{local}/");
            if let Some(metrics_addr) = metrics_listen {
                let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
                    .await
                    .with_context(|| format!("binding {metrics_addr} for metrics"))?;
                println!("metrics on http://{}/metrics", metrics_listener.local_addr()?);
                let metrics_app = tsunagu_web::base::metrics::router(state.clone());
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(metrics_listener, metrics_app).await {
                        tracing::error!(error = %e, "the metrics listener stopped");
                    }
                });
            }
            if demo {
                print_demo_signins();
            }
            serve_until_stopped(listener, app, &state, Duration::from_secs(shutdown_grace)).await?;
            write_checkpoints(&checkpointer, store.as_ref(), clock.as_ref()).await;
            if let Err(e) = store.leave(&node).await {
                tracing::warn!(error = %e, "could not record that this node stopped");
            }
            tracing::info!("stopped");
        }
        Command::Migrate { db } => {
            let (store, mut checkpointer) = open_for_writing(&db, clock.as_ref()).await?;
            checkpointer.write(store.as_ref(), clock.now()).await?;
            println!("migrations applied");
        }
        Command::Audit { command: AuditCommand::Verify { db, no_checkpoints } } => {
            let (store, master) = open(&db, false).await?;
            let checkpoints = if no_checkpoints {
                println!("checkpoints: not checked (--no-checkpoints)");
                Vec::new()
            } else {
                match read_checkpoints(&db.checkpoint_file, &master.checkpoint_key()) {
                    Ok(Some(c)) => {
                        println!("checkpoints: {} read from {}", c.len(), db.checkpoint_file.display());
                        c
                    }
                    Ok(None) => {
                        println!(
                            "checkpoints: FAILED: there is no checkpoint file at {} (`serve` writes it; \
                             --no-checkpoints checks the chains alone)",
                            db.checkpoint_file.display()
                        );
                        std::process::exit(1);
                    }
                    Err(e) => {
                        println!("checkpoints: TAMPERED: {e:#}");
                        std::process::exit(1);
                    }
                }
            };
            let mut failed = false;
            for r in tsunagu::verify_audit(store.as_ref(), &master.chain_key(), &checkpoints).await? {
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
            let (store, mut checkpointer) = open_for_writing(&db, clock.as_ref()).await?;
            load_demo(store.as_ref(), clock.as_ref(), families).await?;
            checkpointer.write(store.as_ref(), clock.now()).await?;
        }
        Command::Import { db, municipality, lang, file } => {
            let lang = tsunagu::import::reader_lang(lang.as_deref());
            let text = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let text = String::from_utf8(text).map_err(|e| {
                anyhow::anyhow!("{}: {}", file.display(), tsunagu::import::not_utf8(lang, e.utf8_error().valid_up_to()))
            })?;
            let (store, mut checkpointer) = open_for_writing(&db, clock.as_ref()).await?;
            let code = tsunagu_domain::municipality::MunicipalityCode::parse(&municipality)
                .map_err(|_| anyhow::anyhow!("--municipality {municipality}: not a municipality code"))?;
            let m = store
                .municipality_by_code(code)
                .await?
                .with_context(|| format!("no municipality {municipality} in the database"))?;
            let ctx = tsunagu::import::operator_context(m.id, clock.now());
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let report =
                tsunagu::import::import_csv(store.as_ref(), &ctx, &text, lang, progress, &mut std::io::stderr()).await;
            checkpointer.write(store.as_ref(), clock.now()).await?;
            let report = report?;
            println!("{}", tsunagu::import::summary(lang, &report));
            if !report.refused.is_empty() {
                std::process::exit(3);
            }
        }
        Command::TimelineJob { db, today } => {
            let (store, mut checkpointer) = open_for_writing(&db, clock.as_ref()).await?;
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
            checkpointer.write(store.as_ref(), clock.now()).await?;
        }
        Command::Backup { db, to } => {
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let check = tsunagu::backup::backup(&db, &to, progress).await?;
            println!(
                "backup written to {} (integrity ok; migrations pending for this build: {:?})",
                to.display(),
                check.schema.pending
            );
        }
        Command::Restore { db, from, force } => {
            let check = tsunagu::backup::restore(&db, &from, force, clock.now()).await?;
            println!("restored {} (integrity ok)", from.display());
            if !check.schema.pending.is_empty() {
                println!("migrations {:?} are applied at the next start", check.schema.pending);
            }
            println!(
                "the audit checkpoint file may hold checkpoints newer than the backup, which `audit verify` reports \
                 as a chain cut short: keep the file as it was when the backup was taken, or move it aside \
                 (docs/DEPLOY.md)"
            );
        }
        Command::Totp { secret } => match tsunagu_web::base::auth::current_totp(&secret, clock.now()) {
            Some(code) => println!("{code}"),
            None => anyhow::bail!("not a base32 secret"),
        },
    }
    Ok(())
}

/// Loads the key (creating the default key file if `create` and no key is
/// given) and opens the store with it.
async fn open(db: &DbArg, create: bool) -> anyhow::Result<(Arc<dyn Store>, MasterKey)> {
    let env_key = std::env::var(KEY_ENV).ok().filter(|k| !k.trim().is_empty());
    let (master, source) = load_key(env_key.as_deref(), db.key_file.as_deref(), Path::new(DEFAULT_KEY_FILE), create)?;
    match &source {
        KeySource::Created(path) => tracing::warn!(
            path = %path.display(),
            "created a new key file: the audit chain and the TOTP secrets depend on it; \
             back it up, apart from the database's backups"
        ),
        source => tracing::info!(from = %source, "key loaded"),
    }
    let store = tsunagu::open_store(&db.db, StoreKeys::derive(&master)).await?;
    Ok((store, master))
}

/// Opens the store for a command that writes: seals the chains written
/// before the key (or refuses a chain not linked with it) and returns the
/// checkpointer the command writes to when it is done.
async fn open_for_writing(db: &DbArg, clock: &dyn Clock) -> anyhow::Result<(Arc<dyn Store>, Checkpointer)> {
    let (store, checkpointer, _) = open_for_serving(db, clock).await?;
    Ok((store, checkpointer))
}

/// `open_for_writing`, and the operator's key for what `serve` derives of it (the VAPID key).
async fn open_for_serving(db: &DbArg, clock: &dyn Clock) -> anyhow::Result<(Arc<dyn Store>, Checkpointer, MasterKey)> {
    let (store, master) = open(db, true).await?;
    let (checkpointer, existing) = Checkpointer::open(&db.checkpoint_file, master.checkpoint_key()).context(
        "the checkpoint file does not verify with this key: start with the key it was written with; if that \
             is this key, someone wrote in the file: `tsunagu audit verify` tells more, then move the file aside",
    )?;
    tsunagu::prepare_audit(store.as_ref(), &master.chain_key(), &existing, clock.now()).await?;
    Ok((store, checkpointer, master))
}

async fn write_checkpoints(checkpointer: &tokio::sync::Mutex<Checkpointer>, store: &dyn Store, clock: &dyn Clock) {
    match checkpointer.lock().await.write(store, clock.now()).await {
        Ok(n) => tracing::debug!(written = n, "audit checkpoints"),
        Err(e) => tracing::error!(error = %format!("{e:#}"), "writing audit checkpoints failed; will retry"),
    }
}

/// Writes checkpoints of the chains that grew, every `interval`.
async fn checkpoint_job(
    checkpointer: Arc<tokio::sync::Mutex<Checkpointer>>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    interval: Duration,
) {
    loop {
        tokio::time::sleep(interval).await;
        write_checkpoints(&checkpointer, store.as_ref(), clock.as_ref()).await;
    }
}

/// Serves `app` until SIGTERM or Ctrl-C, then stops taking connections,
/// lets the requests in flight finish (`/readyz` answers 503 meanwhile), closes
/// the WebSockets with a reconnect hint (1012), and
/// returns when they have — or when `grace` has passed, cutting what is left.
async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    state: &AppState,
    grace: Duration,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let draining = state.draining.clone();
    let metrics = state.metrics.clone();
    let events = state.events.clone();
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown({
            let rx = stop_rx.clone();
            async move {
                stopped(rx).await;
                draining.store(true, std::sync::atomic::Ordering::Relaxed);
                // WebSockets are upgraded connections the server no longer
                // waits for: each is told to reconnect (close code 1012).
                events.stop();
                tracing::info!(
                    in_flight = metrics.in_flight(),
                    "shutting down: no new connections; finishing the requests in flight"
                );
            }
        })
        .into_future();
    let mut server = tokio::spawn(server);
    tokio::select! {
        ended = &mut server => return Ok(ended??),
        () = stopped(stop_rx) => {}
    }
    let deadline = tokio::time::Instant::now() + grace;
    match tokio::time::timeout_at(deadline, &mut server).await {
        Ok(ended) => {
            // The close frames are on their way; let them go out (bounded).
            while state.metrics.sockets() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(ended??)
        }
        Err(_) => {
            tracing::warn!(
                in_flight = state.metrics.in_flight(),
                grace_secs = grace.as_secs(),
                "the shutdown grace ran out: requests still in flight are cut"
            );
            server.abort();
            Ok(())
        }
    }
}

/// Says every 30 seconds that this node serves the database (for 90), so
/// that `tsunagu restore` does not replace the file under it.
async fn heartbeat_job(store: Arc<dyn Store>, clock: Arc<dyn Clock>, node: String) {
    loop {
        let until = clock.now().checked_add(jiff::SignedDuration::from_secs(90));
        if let Ok(until) = until {
            if let Err(e) = store.heartbeat(&node, until).await {
                tracing::warn!(error = %e, "could not record that this node runs");
            }
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
}

/// Ctrl-C, or SIGTERM (what a service manager sends) on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the timeline job at start-up and then whenever the date in Japan
/// changes (checked every ten minutes) — on one node of however many serve
/// the database: the one that takes the day's lease (`tsunagu::daily`).
/// Failures are logged and retried at the next check; the lists never
/// depend on the job (they read the dates). Every node refreshes its
/// work-list gauges once the day is done.
async fn daily_timeline_job(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    metrics: Arc<tsunagu_web::base::metrics::Metrics>,
    holder: String,
) {
    let mut last_done = None;
    loop {
        let today = clock.today();
        if last_done != Some(today) {
            match tsunagu::daily::run_timeline_once(store.as_ref(), today, &holder, clock.now()).await {
                Ok(DailyRun::HeldElsewhere { by, until }) => {
                    tracing::info!(holder = %by, until = %until, "timeline job running on another node")
                }
                Ok(run) => {
                    if let DailyRun::Ran(reports) = run {
                        for r in reports {
                            tracing::info!(
                                municipality = r.municipality_code,
                                rebuilt = r.rebuilt,
                                newly_missed = r.missed.marked,
                                "timeline job done"
                            );
                        }
                    }
                    match tsunagu::daily::work_counts(store.as_ref(), today).await {
                        Ok(counts) => counts.into_iter().for_each(|(code, c)| metrics.set_work_counts(&code, c)),
                        Err(e) => tracing::warn!(error = %e, "work-list counts for the metrics failed"),
                    }
                    metrics.timeline_job_done(clock.now().as_second());
                    last_done = Some(today);
                }
                Err(e) => tracing::warn!(error = %e, "timeline job failed; will retry"),
            }
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
}

/// Sends the reminders that are due every five minutes (`tsunagu::reminders`):
/// off the request path; a failed send is tried again at the next run; logs
/// carry counts only.
async fn reminders_job(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    mailer: Option<tsunagu::reminders::Mailer>,
    pusher: Option<tsunagu::push::Pusher>,
    holder: String,
) {
    loop {
        if let Some(mailer) = &mailer {
            match tsunagu::reminders::run_reminders(store.as_ref(), mailer, clock.today(), clock.now(), &holder).await {
                Ok(run) if run.sent + run.failed > 0 => {
                    tracing::info!(sent = run.sent, failed = run.failed, "reminders sent")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reminders job failed; will retry"),
            }
        }
        if let Some(pusher) = &pusher {
            let (today, now) = (clock.today(), clock.now());
            match tsunagu::reminders::run_push_reminders(store.as_ref(), pusher, today, now, &holder).await {
                Ok(run) if run.sent + run.failed + run.gone > 0 => {
                    tracing::info!(sent = run.sent, failed = run.failed, gone = run.gone, "push reminders sent")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "push reminders job failed; will retry"),
            }
        }
        tokio::time::sleep(Duration::from_secs(300)).await;
    }
}

async fn load_demo(store: &dyn tsunagu_store::Store, clock: &dyn Clock, families: usize) -> anyhow::Result<()> {
    let opts = tsunagu_demo::DemoOptions {
        families_per_municipality: families,
        seed: 20261122,
        today: clock.today(),
        now: clock.now(),
        bulk_from: tsunagu_demo::BULK_LOAD_FROM,
    };
    // One working memory for every demo password: argon2's 19 MiB allocated
    // afresh per hash on whichever thread runs it stays behind per allocator arena.
    let scratch = std::sync::Mutex::new(tsunagu_web::base::auth::Scratch::default());
    let hash = |p: &str| {
        let mut scratch = scratch.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tsunagu_web::base::auth::hash_password_in(p, &mut scratch)
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
    if !summary.already_loaded {
        println!(
            "{} families stored in {:.1} s ({} families/s); all demo data in {:.1} s",
            summary.families,
            summary.families_time.as_secs_f64(),
            tsunagu::import::rate(summary.families, summary.families_time),
            started.elapsed().as_secs_f64()
        );
    }
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
