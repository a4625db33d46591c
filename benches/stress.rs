//! Book stress with a liquidation cascade on the bundled Deribit chain of 2026-08-22: 100,000
//! synthetic accounts × 20 positions (`margin_opt::synthetic`, seed 1), 20 scenarios (joint
//! BTC/ETH moves from −40 % to +40 %), impact 1e-10 per USD of net dollar delta closed on both coins (1 % per
//! USD 100 million).
//! Target: under 2 s on 2 cores.
//!
//! `cargo bench -p margin-benches --bench stress -- --warm-up-time 1 --measurement-time 10 --sample-size 10`
//! (`STRESS_ACCOUNTS=N` for a smaller book).

use criterion::{Criterion, criterion_group, criterion_main};
use margin_core::io::matrix::RiskMatrix;
use margin_core::io::{read_market, write_portfolio_json_line};
use margin_core::model::Model;
use margin_core::scenario::VolShock;
use margin_core::spec::{Covariance, JointSource, Method};
use margin_core::stats::monte_carlo::Dist;
use margin_opt::stress::StressScenario;
use margin_opt::stress::book::{BookStress, read_accounts};
use margin_opt::synthetic::Generator;
use std::hint::black_box;
use std::path::Path;

const CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
);

fn bench_stress(c: &mut Criterion) {
    let n: usize = std::env::var("STRESS_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let market = read_market(Path::new(CHAIN)).expect("bundled chain");
    let matrices: Vec<RiskMatrix> = ["deribit-btc", "deribit-eth"]
        .iter()
        .map(|p| RiskMatrix::new(market.clone(), Model::preset(p).unwrap(), &[]).unwrap())
        .collect();
    let text: String = Generator::new(&market, matrices[0].universe(), 20, 1)
        .expect("20-position accounts")
        .take(n)
        .map(|p| write_portfolio_json_line(&p) + "\n")
        .collect();
    let pick = |c: margin_core::Asset| usize::from(c.as_str() == "ETH");
    let accounts = read_accounts(text.as_bytes(), &matrices, &pick).unwrap();
    let scenarios: Vec<StressScenario> = (0..20)
        .map(|i| {
            let x = -0.4 + 0.8 * i as f64 / 19.0;
            StressScenario {
                label: format!("{x}"),
                date: None,
                moves: vec![x, 1.2 * x],
                vol_shift: 0.0,
            }
        })
        .collect();
    let stress = BookStress {
        matrices: &matrices,
        accounts: &accounts,
        source: JointSource {
            method: Method::Historical,
            horizon_days: 1,
            overlapping: true,
            lambda: 0.94,
            covariance: Covariance::Ewma,
            dist: Dist::Normal,
            scenarios: 0,
            seed: 0,
            vol: VolShock::None,
            time_decay: false,
        },
        impact: &[1e-10, 1e-10],
    };
    let rounds: usize = scenarios
        .iter()
        .map(|s| stress.run(s).unwrap().rounds.len())
        .sum();
    eprintln!("{n} accounts x 20 positions, 20 scenarios: {rounds} cascade rounds in all");
    let mut group = c.benchmark_group("book_stress");
    group.sample_size(10);
    group.bench_function(
        format!("{n}_accounts_x_20_positions_20_scenarios_cascade"),
        |b| {
            b.iter(|| {
                for s in &scenarios {
                    black_box(stress.run(s).unwrap());
                }
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench_stress);
criterion_main!(benches);
