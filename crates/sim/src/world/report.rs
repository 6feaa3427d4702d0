//! What a run is asked to do and what it reports: its configuration, its figures, and the first invariant it saw broken.

use std::collections::BTreeMap;
use std::fmt;

/// How a run goes.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub steps: u64,
    /// Let the network drop, duplicate, delay and reorder the bank's messages.
    pub faults: bool,
    /// A PostgreSQL server to run on (a fresh database is made there and dropped after); SQLite otherwise.
    pub postgres: Option<String>,
    /// Check the whole database every this many steps (the orders a step touched are checked after each).
    pub full_check_every: u64,
    /// Print every step.
    pub trace: bool,
    /// Print a line every this many steps (0: never).
    pub progress_every: u64,
}

impl Config {
    pub fn new(seed: u64, steps: u64) -> Config {
        Config {
            seed,
            steps,
            faults: true,
            postgres: None,
            full_check_every: 250,
            trace: false,
            progress_every: 0,
        }
    }
}

/// A run that held every invariant.
#[derive(Clone, Debug)]
pub struct Report {
    pub seed: u64,
    pub steps: u64,
    pub backend: &'static str,
    /// `operation → answer → how often` (`ok` or the platform's error code).
    pub outcomes: BTreeMap<&'static str, BTreeMap<String, u64>>,
    pub orders_placed: u64,
    pub restarts: u64,
    pub races: u64,
    pub messages_dropped: u64,
    pub messages_duplicated: u64,
    /// Fen the bank took in and paid out over the run.
    pub bank_in_fen: i64,
    pub bank_out_fen: i64,
    /// Movement reports the platform recorded on the simulated accounts.
    pub movements: u64,
    /// Reconciliation risk events and risk-model warnings raised on the simulated institutions, by kind
    /// (`balance_shortfall`, `large_outflow.red`, …): with no money moved behind the platform's back, every
    /// one of them is a false alarm.
    pub alarms: BTreeMap<String, u64>,
    /// The first alarms' own words (kind and the facts they were raised on), to read what went wrong.
    pub alarm_details: Vec<String>,
    pub seconds: f64,
}

impl Report {
    /// False alarms per 10,000 movements.
    pub fn false_alarm_rate(&self) -> f64 {
        let alarms: u64 = self.alarms.values().sum();
        alarms as f64 * 10_000.0 / self.movements.max(1) as f64
    }

    /// The report as JSON, for scripts.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seed": self.seed, "steps": self.steps, "backend": self.backend, "seconds": self.seconds,
            "orders": self.orders_placed, "races": self.races, "restarts": self.restarts,
            "messages_dropped": self.messages_dropped, "messages_duplicated": self.messages_duplicated,
            "bank_in_fen": self.bank_in_fen, "bank_out_fen": self.bank_out_fen,
            "movements": self.movements, "alarms": self.alarms,
            "false_alarms_per_10000_movements": self.false_alarm_rate(),
            "outcomes": self.outcomes,
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {} · {} steps on {} in {:.1} s · {} orders · {} races · {} restarts · {} messages dropped, {} duplicated",
            self.seed,
            self.steps,
            self.backend,
            self.seconds,
            self.orders_placed,
            self.races,
            self.restarts,
            self.messages_dropped,
            self.messages_duplicated
        )?;
        writeln!(
            f,
            "bank: {} fen in, {} fen out; every invariant held after every step and the books settled",
            self.bank_in_fen, self.bank_out_fen
        )?;
        writeln!(
            f,
            "risk: {} movements, alarms {:?} ({:.2} false alarms per 10,000 movements)",
            self.movements,
            self.alarms,
            self.false_alarm_rate()
        )?;
        for d in &self.alarm_details {
            writeln!(f, "  alarm: {d}")?;
        }
        for (op, answers) in &self.outcomes {
            let answers: Vec<String> = answers.iter().map(|(a, n)| format!("{a} {n}")).collect();
            writeln!(f, "  {op:<22} {}", answers.join(", "))?;
        }
        Ok(())
    }
}

/// A broken invariant (or a harness fault), with the seed that replays it and the steps before it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub seed: u64,
    pub step: u64,
    pub what: Vec<String>,
    pub recent: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "INVARIANT BROKEN at step {} (replay: --seed {})",
            self.step, self.seed
        )?;
        for w in &self.what {
            writeln!(f, "  {w}")?;
        }
        writeln!(f, "the steps before it:")?;
        for r in &self.recent {
            writeln!(f, "  {r}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}
