//! A short run of the money simulation on the test backend (SQLite, or PostgreSQL when
//! `XIAOWAI_TEST_DATABASE_URL` is set), over a few fixed seeds. The long run is `cargo run -p sim`.

#[tokio::test(flavor = "current_thread")]
async fn money_invariants_hold_under_random_interleavings_and_a_faulty_bank() {
    let postgres = std::env::var(store::testing::TEST_DATABASE_URL_ENV)
        .ok()
        .filter(|u| !u.is_empty());
    for seed in [1, 2, 3] {
        let mut config = sim::Config::new(seed, 400);
        config.postgres = postgres.clone();
        config.full_check_every = 100;
        match sim::run(&config).await {
            Ok(report) => {
                assert!(report.orders_placed > 10, "{report}");
                assert!(report.races > 20, "{report}");
                let paid = report
                    .outcomes
                    .get("bank.payment")
                    .and_then(|a| a.get("ok"));
                assert!(paid.is_some_and(|n| *n > 5), "{report}");
                println!("{report}");
            }
            Err(failure) => panic!("{failure}"),
        }
    }
}
