//! `xiaowai`: the platform in one binary.
//!
//! Settings come, in order of precedence, from command-line flags, `XIAOWAI_*` environment variables,
//! an optional `xiaowai.toml` (`--config`, or `./xiaowai.toml` when present), and built-in defaults.

use anyhow::{Context, Result, bail};
use app::demo::DEFAULT_SEED;
use app::ledger_check::{ChainReport, verify_audit_chain, verify_money};
use app::parents::{DevSmsSender, HttpSmsSender};
use app::vault::KeyRing;
use app::{App, Clock, OffsetClock, SearchLocation, SystemClock};
use clap::{Args, Parser, Subcommand};
use ledger::{Crypto, SmSuite};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::Store;

mod conformance;

/// mimalloc: under search load the system allocator's bookkeeping took about 8% of the server's time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "xiaowai",
    version,
    about = "全国校外教育培训监管与服务综合平台 — off-campus training supervision platform"
)]
struct Cli {
    /// Settings file (TOML); defaults to ./xiaowai.toml when it exists.
    #[arg(long, env = "XIAOWAI_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the platform (website, API, workers).
    Serve(ServeArgs),
    /// Apply database migrations and load reference data, then exit.
    Migrate(DbArgs),
    /// Seed an empty database with demo data from a fixed seed.
    Demo(DemoArgs),
    /// Evidence checks.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Data-encryption keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Compliance plates (合规码牌).
    Plate {
        #[command(subcommand)]
        command: PlateCommand,
    },
    /// Certify an integrator's adapter: run the published scenario suite (docs/conformance.md) against a
    /// platform (the sandbox) as that integrator; exits non-zero if any requirement fails.
    Conformance(ConformanceArgs),
}

#[derive(Args, Debug)]
struct ConformanceArgs {
    /// The platform, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    base_url: String,
    #[arg(long)]
    key_id: String,
    #[arg(long, env = "XIAOWAI_CONFORMANCE_SECRET")]
    secret: String,
}

#[derive(Subcommand, Debug)]
enum PlateCommand {
    /// Check a plate token offline: is it the platform's signature? (Whether the plate is still current
    /// only the platform can say: /verify/TOKEN.)
    Verify(PlateVerifyArgs),
}

#[derive(Args, Debug)]
struct PlateVerifyArgs {
    /// The token (what the QR code carries after /verify/), or the whole URL.
    token: String,
    /// The platform's public key in hex (GET /api/v1/public/plate-key); without it, the key ring in the
    /// data directory is used.
    #[arg(long)]
    public_key: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Add a new data key, make it current, and re-seal every personal datum with it.
    Rotate(DbArgs),
}

#[derive(Subcommand, Debug)]
enum LedgerCommand {
    /// Recompute the audit log's hash chain and name the first entry that does not verify.
    Verify(DbArgs),
}

#[derive(Args, Debug, Clone, Default)]
struct DbArgs {
    /// Directory for the SQLite database, the search index and other local state.
    #[arg(long, env = "XIAOWAI_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of SQLite in the data directory.
    #[arg(long, env = "XIAOWAI_DATABASE_URL")]
    database_url: Option<String>,
    /// Cryptography: `sm` (SM3, SM4-GCM, HMAC-SM3; the default, per GB/T 39786) or `intl` (SHA-256,
    /// AES-256-GCM, HMAC-SHA-256). Fixed for a database at its first start.
    #[arg(long, env = "XIAOWAI_CRYPTO_SUITE")]
    crypto_suite: Option<String>,
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "XIAOWAI_LISTEN")]
    listen: Option<String>,
    /// Seed demo data when the database is empty.
    #[arg(long, env = "XIAOWAI_DEMO")]
    demo: Option<Option<bool>>,
    /// How many demo institutions `--demo` seeds.
    #[arg(long, env = "XIAOWAI_DEMO_INSTITUTIONS")]
    demo_institutions: Option<usize>,
    /// Log format: json (default) or pretty.
    #[arg(long, env = "XIAOWAI_LOG_FORMAT")]
    log_format: Option<String>,
    /// Sign-in attempts per client address per minute (default 60).
    #[arg(long, env = "XIAOWAI_SIGN_IN_PER_MINUTE")]
    sign_in_per_minute: Option<u32>,
    /// Integration API requests per integrator per minute (default 600).
    #[arg(long, env = "XIAOWAI_INTEGRATION_PER_MINUTE")]
    integration_per_minute: Option<u32>,
    /// Reverse proxies whose X-Forwarded-For is believed, comma-separated IP addresses.
    #[arg(long, env = "XIAOWAI_TRUSTED_PROXIES")]
    trusted_proxies: Option<String>,
    /// A CJK font for server-made PDFs, `PATH` or `PATH#FACE` for a collection (default: Debian's
    /// fonts-noto-cjk Simplified Chinese face, if installed).
    #[arg(long, env = "XIAOWAI_PDF_FONT")]
    pdf_font: Option<String>,
    /// SMS gateway endpoint (http or https); without it, codes go to dev-sms.log in the data directory.
    #[arg(long, env = "XIAOWAI_SMS_GATEWAY_URL")]
    sms_gateway_url: Option<String>,
    /// The SMS gateway's key (prefer the environment or the file to a flag, which others can see).
    #[arg(long, env = "XIAOWAI_SMS_GATEWAY_KEY", hide_env_values = true)]
    sms_gateway_key: Option<String>,
    /// Where filed documents are kept: `s3://bucket` (credentials and endpoint from the usual AWS_*
    /// environment variables, for any S3-compatible store); by default `<data dir>/documents`.
    #[arg(long, env = "XIAOWAI_DOCUMENTS_URL")]
    documents_url: Option<String>,
    /// Days an approved change stays published (变更公示期; default 7).
    #[arg(long, env = "XIAOWAI_CHANGE_NOTICE_DAYS")]
    change_notice_days: Option<u32>,
    /// 接入沙箱 the integrators' sandbox: demo data (as `--demo`), and every response says
    /// `X-Xiaowai-Environment: sandbox` so an adapter can tell it from production.
    #[arg(long, env = "XIAOWAI_SANDBOX")]
    sandbox: bool,
    /// Test deployments only: the clock starts at the wall clock and `POST /test/clock` moves it forward,
    /// so browser tests can pass working-day windows. Never in production.
    #[arg(long, env = "XIAOWAI_TEST_CLOCK")]
    test_clock: bool,
}

#[derive(Args, Debug)]
struct DemoArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Number of institutions to generate.
    #[arg(long, default_value_t = 2_400)]
    institutions: usize,
    /// Random seed (the default gives the standard demo registry).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
}

/// `xiaowai.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    demo: Option<bool>,
    demo_institutions: Option<usize>,
    log_format: Option<String>,
    crypto_suite: Option<String>,
    sign_in_per_minute: Option<u32>,
    integration_per_minute: Option<u32>,
    trusted_proxies: Option<String>,
    pdf_font: Option<String>,
    sms_gateway_url: Option<String>,
    sms_gateway_key: Option<String>,
    documents_url: Option<String>,
    change_notice_days: Option<u32>,
}

impl FileConfig {
    fn load(path: Option<&Path>) -> Result<FileConfig> {
        let (path, required) = match path {
            Some(p) => (p.to_owned(), true),
            None => (PathBuf::from("xiaowai.toml"), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                Ok(FileConfig::default())
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
}

/// Where the data lives, after flags, environment and file are merged.
struct Database {
    data_dir: PathBuf,
    url: String,
    crypto: Arc<dyn Crypto>,
}

fn database(args: &DbArgs, file: &FileConfig) -> Result<Database> {
    let data_dir = args
        .data_dir
        .clone()
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("xiaowai-data"));
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let url = match args
        .database_url
        .clone()
        .or_else(|| file.database_url.clone())
        .filter(|u| !u.is_empty())
    {
        Some(url) => url,
        None => store::sqlite_url_in(&data_dir),
    };
    let suite = args
        .crypto_suite
        .clone()
        .or_else(|| file.crypto_suite.clone())
        .unwrap_or_else(|| "sm".to_owned());
    let crypto: Arc<dyn Crypto> = ledger::suite_by_name(&suite)
        .map(Arc::from)
        .with_context(|| format!("unknown crypto suite {suite:?}: sm or intl"))?;
    Ok(Database {
        data_dir,
        url,
        crypto,
    })
}

async fn open_store(db: &Database) -> Result<Store> {
    let store = Store::connect(&db.url, db.crypto.clone())
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

async fn open_app(db: &Database, clock: Arc<dyn Clock>) -> Result<App> {
    let store = open_store(db).await?;
    // One index directory per database, so switching URLs never serves another database's index.
    let tag = hex_tag(&db.url);
    let search = SearchLocation::Dir(
        db.data_dir
            .join(format!("search-{}-{tag}", store.backend().name())),
    );
    let keys = KeyRing::load_or_create(&db.data_dir, db.crypto.clone())?;
    // Until an SMS gateway is configured, codes are recorded for the developer (number masked).
    let sms = Arc::new(DevSmsSender::recording_to(db.data_dir.join("dev-sms.log")));
    Ok(App::open(store, search, clock, keys).await?.with_sms(sms))
}

/// The SMS gateway, when both its URL and key are set.
fn sms_gateway(args: &ServeArgs, file: &FileConfig) -> Result<Option<Arc<HttpSmsSender>>> {
    let url = args
        .sms_gateway_url
        .clone()
        .or_else(|| file.sms_gateway_url.clone());
    let key = args
        .sms_gateway_key
        .clone()
        .or_else(|| file.sms_gateway_key.clone());
    match (url.filter(|u| !u.is_empty()), key.filter(|k| !k.is_empty())) {
        (Some(url), Some(key)) => Ok(Some(Arc::new(HttpSmsSender::new(&url, &key)?))),
        (None, None) => Ok(None),
        _ => bail!("the SMS gateway needs both sms_gateway_url and sms_gateway_key"),
    }
}

/// The object store for filed documents.
fn documents(
    args: &ServeArgs,
    file: &FileConfig,
    db: &Database,
) -> Result<Arc<dyn object_store::ObjectStore>> {
    match args
        .documents_url
        .clone()
        .or_else(|| file.documents_url.clone())
    {
        Some(url) if url.starts_with("s3://") => Ok(Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(&url)
                .build()
                .with_context(|| format!("documents store {url}"))?,
        )),
        Some(url) => bail!(
            "documents_url {url:?}: only s3://bucket is supported (default: the data directory)"
        ),
        None => {
            let dir = db.data_dir.join("documents");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            Ok(Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .with_context(|| format!("documents store {}", dir.display()))?,
            ))
        }
    }
}

fn web_config(args: &ServeArgs, file: &FileConfig) -> Result<web::WebConfig> {
    let mut config = web::WebConfig {
        test_clock: args.test_clock,
        sandbox: args.sandbox,
        ..web::WebConfig::default()
    };
    if let Some(n) = args.sign_in_per_minute.or(file.sign_in_per_minute) {
        if n == 0 {
            bail!("sign_in_per_minute must be at least 1");
        }
        config.sign_in_per_minute = n;
    }
    if let Some(n) = args.integration_per_minute.or(file.integration_per_minute) {
        if n == 0 {
            bail!("integration_per_minute must be at least 1");
        }
        config.integration_per_minute = n;
    }
    let proxies = args
        .trusted_proxies
        .clone()
        .or_else(|| file.trusted_proxies.clone());
    for p in proxies
        .iter()
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        config.trusted_proxies.push(
            p.parse()
                .with_context(|| format!("trusted proxy {p:?} is not an IP address"))?,
        );
    }
    if let Some(font) = args.pdf_font.as_ref().or(file.pdf_font.as_ref()) {
        let font = web::pdf::FontFile::parse(font);
        if !font.path.is_file() {
            bail!("the PDF font {} is not a file", font.path.display());
        }
        config.pdf_font = Some(font);
    }
    Ok(config)
}

fn hex_tag(s: &str) -> String {
    SmSuite.hash(&[s.as_bytes()])[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("XIAOWAI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tantivy=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "pretty" {
        builder.init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .init()
    }
}

fn progress_bar(total: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} 生成演示数据 {bar:40} {pos}/{len} ({per_sec}, ETA {eta})",
        )
        .expect("static template"),
    );
    bar
}

async fn seed(app: &App, count: usize, seed: u64, show_progress: bool) -> Result<()> {
    let bar = progress_bar(count);
    if !show_progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = std::time::Instant::now();
    let summary = app
        .seed_demo(count, seed, |n| bar.set_position(n as u64))
        .await?;
    bar.finish_and_clear();
    tracing::info!(
        institutions = summary.institutions,
        courses = summary.courses,
        notices = summary.notices,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo data seeded"
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn serve(args: ServeArgs, file: FileConfig) -> Result<()> {
    init_logs(
        args.log_format
            .as_deref()
            .or(file.log_format.as_deref())
            .unwrap_or("json"),
    );
    let db = database(&args.db, &file)?;
    let web_config = web_config(&args, &file)?;
    let notice_days = args
        .change_notice_days
        .or(file.change_notice_days)
        .unwrap_or(app::DEFAULT_CHANGE_NOTICE_DAYS);
    if !(1..=90).contains(&notice_days) {
        bail!("change_notice_days must be between 1 and 90");
    }
    let clock: Arc<dyn Clock> = if args.test_clock {
        tracing::warn!("test clock: POST /test/clock moves this deployment's time");
        Arc::new(OffsetClock::default())
    } else {
        Arc::new(SystemClock)
    };
    let mut app = open_app(&db, clock)
        .await?
        .with_documents(documents(&args, &file, &db)?)
        .with_change_notice_days(notice_days);
    if let Some(gateway) = sms_gateway(&args, &file)? {
        app = app.with_sms(gateway);
    }
    let demo = args.sandbox
        || match args.demo {
            Some(Some(v)) => v,
            Some(None) => true,
            None => file.demo.unwrap_or(false),
        };
    // Loopback and private addresses for webhooks and bank endpoints only in the sandbox, on the test clock and
    // in the local demo (whose simulated bank runs on this machine); never in production.
    app = app.with_local_egress(demo || args.test_clock)?;
    if demo && app.store().read().registry().institution_count().await? == 0 {
        let count = args
            .demo_institutions
            .or(file.demo_institutions)
            .unwrap_or(2_400);
        seed(&app, count, DEFAULT_SEED, false).await?;
    }
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = app.store().backend().name(), "xiaowai is serving");
    println!("xiaowai listening on http://{addr}");
    let store = app.store().clone();
    // Background jobs, each on its own task (deliveries, timers, sweeps, webhooks): `app/src/workers.rs`.
    let _workers = app.spawn_workers();
    axum::serve(
        listener,
        web::router_with(app, &web_config)
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    store.close().await;
    Ok(())
}

fn plate_verify(args: PlateVerifyArgs, file: &FileConfig) -> Result<()> {
    let db = database(&args.db, file)?;
    let public = match &args.public_key {
        Some(hex_key) => hex::decode(hex_key.trim()).context("--public-key is not hex")?,
        None => KeyRing::load_or_create(&db.data_dir, db.crypto.clone())?.signing_public_key(),
    };
    let token = args.token.trim().rsplit('/').next().unwrap_or_default();
    match ledger::plate::verify(&*db.crypto, &public, token) {
        Ok(claim) => {
            let issued =
                chrono::DateTime::from_timestamp(i64::from(claim.issued_on_day) * 86_400, 0)
                    .map(|d| d.date_naive().to_string())
                    .unwrap_or_default();
            println!(
                "genuine plate: institution {}, serial {}, issued {issued}",
                domain::InstitutionId::from_bytes(claim.institution_id),
                claim.serial
            );
            Ok(())
        }
        Err(e) => bail!("invalid plate: {e}"),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let file = FileConfig::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve(args) => serve(args, file).await,
        Command::Migrate(args) => {
            let db = database(&args, &file)?;
            let store = open_store(&db).await?;
            println!(
                "migrated {} database; {} regions loaded",
                store.backend().name(),
                store.read().registry().region_count().await?
            );
            Ok(())
        }
        Command::Demo(args) => {
            init_logs("pretty");
            let db = database(&args.db, &file)?;
            let app = open_app(&db, Arc::new(SystemClock)).await?;
            seed(&app, args.institutions, args.seed, true).await?;
            println!("seeded {} demo institutions", args.institutions);
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate(args),
        } => {
            let db = database(&args, &file)?;
            if std::env::var(app::vault::KEYS_ENV).is_ok_and(|v| !v.trim().is_empty()) {
                bail!(
                    "keys come from {}: rotate them where that variable is kept",
                    app::vault::KEYS_ENV
                );
            }
            // The new ring is saved before any value uses its key, so a failure never strands data.
            let mut ring = KeyRing::load_or_create(&db.data_dir, db.crypto.clone())?;
            let id = ring.rotate();
            ring.save(&db.data_dir.join("keys.toml"))?;
            let app = open_app(&db, Arc::new(SystemClock)).await?;
            let resealed = app.reseal_all(&app::Actor::System { name: "keys" }).await?;
            println!("data key {id} is current; {resealed} values re-sealed");
            Ok(())
        }
        Command::Plate {
            command: PlateCommand::Verify(args),
        } => plate_verify(args, &file),
        Command::Conformance(args) => {
            let outcomes = conformance::run(&args.base_url, &args.key_id, &args.secret).await?;
            for o in &outcomes {
                let mark = if o.passed { "PASS" } else { "FAIL" };
                println!("{mark} {} {} — {}", o.id, o.title, o.detail);
            }
            let failed = outcomes.iter().filter(|o| !o.passed).count();
            println!("{} passed, {failed} failed", outcomes.len() - failed);
            if failed > 0 {
                bail!("{failed} requirement(s) not met");
            }
            Ok(())
        }
        Command::Ledger {
            command: LedgerCommand::Verify(args),
        } => {
            let db = database(&args, &file)?;
            let store = open_store(&db).await?;
            match verify_audit_chain(&store).await? {
                ChainReport::Intact { entries, head_hash } => {
                    println!("audit log intact: {entries} entries verified, head {head_hash}");
                }
                ChainReport::Broken(b) => bail!(
                    "audit log broken at sequence number {}: {}",
                    b.seq,
                    b.reason
                ),
            }
            let recount = store.read().ledger().ledger_recount().await?;
            if !recount.mismatched.is_empty() {
                bail!(
                    "money ledger: these accounts' totals differ from their transfers or overdraw: {}",
                    recount.mismatched.join(", ")
                );
            }
            println!(
                "money ledger balanced: {} transfers ({} fen) over {} accounts, every total equal to its transfers",
                recount.transfers, recount.moved_fen, recount.accounts
            );
            let money = verify_money(&store).await?;
            if !money.violations.is_empty() {
                for v in &money.violations {
                    eprintln!("money: {v}");
                }
                bail!(
                    "money: {} broken invariant(s) over {} orders",
                    money.violations.len(),
                    money.orders
                );
            }
            println!(
                "orders' money holds: {} orders, none instructed beyond what it paid, no escrow negative, every \
                 release a confirmed lesson's, every instruction executed at most once",
                money.orders
            );
            Ok(())
        }
    }
}
