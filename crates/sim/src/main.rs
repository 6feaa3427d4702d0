//! `cargo run -p sim -- --seed S --steps N [--postgres URL]`: the long run of the money simulation. Prints
//! the seed first, then what happened; exits 1 with the broken invariant and the steps before it.

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "sim",
    about = "A seeded concurrency simulation of xiaowai's money path"
)]
struct Cli {
    /// The seed (default: from the clock; printed, so a failing run can be replayed).
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long, default_value_t = 10_000)]
    steps: u64,
    /// Run on this PostgreSQL server (a fresh database is made there and dropped after); SQLite otherwise.
    #[arg(long, env = "XIAOWAI_SIM_POSTGRES")]
    postgres: Option<String>,
    /// Keep the bank's messages whole (no drops, duplicates or reordering).
    #[arg(long)]
    no_faults: bool,
    /// Check the whole database every N steps.
    #[arg(long, default_value_t = 250)]
    full_check_every: u64,
    /// Print every step.
    #[arg(long)]
    trace: bool,
    /// Run this many seeds, from --seed on, and stop at the first that breaks an invariant.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Print a progress line every N steps.
    #[arg(long, default_value_t = 10_000)]
    progress_every: u64,
    /// Also write each run's report as JSON lines to this file.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The platform's warnings (a store error's own words among them) go to stderr; RUST_LOG overrides.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let first = cli.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    });
    for seed in first..first.saturating_add(cli.seeds.max(1)) {
        println!("sim: seed {seed}, {} steps", cli.steps);
        let config = sim::Config {
            seed,
            steps: cli.steps,
            faults: !cli.no_faults,
            postgres: cli.postgres.clone(),
            full_check_every: cli.full_check_every.max(1),
            trace: cli.trace,
            progress_every: cli.progress_every,
        };
        match sim::run(&config).await {
            Ok(report) => {
                print!("{report}");
                if let Some(path) = &cli.report {
                    let line = format!("{}\n", report.to_json());
                    let written = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
                    if let Err(e) = written {
                        eprintln!("sim: writing {}: {e}", path.display());
                        return std::process::ExitCode::FAILURE;
                    }
                }
            }
            Err(failure) => {
                eprint!("{failure}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
