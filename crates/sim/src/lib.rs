//! 资金模拟 a seeded, reproducible simulation of the money path, in the spirit of TigerBeetle's VOPR: many
//! parents and orders at a few institutions, random interleavings of payment, attendance, confirmation,
//! dispute, refund request and answer, leave, class transfer, run-off and black-listing, with a bank whose
//! messages are duplicated, reordered, delayed and dropped, and server restarts — against the real `app`
//! and a real database (SQLite, or PostgreSQL where commands started side by side truly race).
//!
//! After every step the orders it touched are checked (`app::ledger_check`: nothing instructed beyond what
//! was paid, escrow never negative, every release a confirmed lesson's) together with the bank's own books
//! (it never paid an order out beyond what it took in for it); every few hundred steps and at the end, the
//! whole database. At the end the network is healed and the bank and the platform must settle: every
//! instruction finished, every payment the bank took known to the platform, and each account's balance at
//! the bank equal to what the platform says it holds.
//!
//! The seed fixes every choice the simulator makes: which commands, on what, which run side by side, which
//! messages the network loses. On SQLite (one writer) a seed replays exactly; on PostgreSQL the database
//! decides which of two racing commands wins, which is the point.

pub mod bank;
mod world;

pub use world::{Config, Failure, Report, run};
