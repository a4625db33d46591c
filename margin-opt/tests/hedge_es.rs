//! The ES hedge LP against independent routes: the cutting-plane method against the full LP,
//! both against a brute-force grid search of the core's ES margin over one hedge, and the
//! optimum never above the unhedged margin.

use margin_core::Instrument;
use margin_core::io::matrix::RiskMatrix;
use margin_core::io::{Portfolio, PortfolioDefaults, PriceHistory, read_market, read_portfolio};
use margin_core::model::Model;
use margin_core::risk::Position;
use margin_opt::hedge::Candidate;
use margin_opt::hedge::es::{EsAccount, Method, minimise};
use margin_opt::joint::{JointEngine, lookup_model};
use std::path::Path;

fn file(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(p)
        .display()
        .to_string()
}

fn setup(preset: &str, hedges: &[&str]) -> (Portfolio, RiskMatrix, JointEngine) {
    let p = read_portfolio(
        Path::new(&file("examples/portfolio-btc.json")),
        &PortfolioDefaults::default(),
    )
    .unwrap();
    let market = read_market(Path::new(&file(
        "data/deribit/deribit_options_snapshot_20260822T153351Z.csv",
    )))
    .unwrap();
    let mut extra: Vec<Instrument> = p.positions.iter().map(|p| p.instrument).collect();
    extra.extend(hedges.iter().map(|h| Instrument::parse(h).unwrap()));
    let matrix = RiskMatrix::new(market, lookup_model().unwrap(), &extra).unwrap();
    let history =
        PriceHistory::load(&[file("data/btc-eth-daily/btc_eth_daily_close_aligned.csv")]).unwrap();
    let engine = JointEngine::new(Model::preset(preset).unwrap(), &history).unwrap();
    (p, matrix, engine)
}

fn cand(name: &str, bound: f64, half_spread: f64) -> Candidate {
    Candidate {
        instrument: Instrument::parse(name).unwrap(),
        lo: -bound,
        hi: bound,
        half_spread,
    }
}

#[test]
fn cutting_plane_equals_full_lp_and_brute_force_on_hs() {
    let hedges = ["BTC-PERPETUAL"];
    let (p, matrix, engine) = setup("hs-es", &hedges);
    let acc = EsAccount::new(&engine, &matrix, &p).unwrap();
    let cands = [cand(hedges[0], 3.0, 0.0002)];
    let full = minimise(&acc, &cands, None, Method::Full).unwrap();
    let cut = minimise(&acc, &cands, None, Method::CuttingPlane).unwrap();
    let obj = |r: &margin_opt::hedge::es::EsResult| r.after.initial + r.cost;
    assert!(
        (obj(&full) - obj(&cut)).abs() <= 1e-7 * full.before.initial,
        "full {} cut {}",
        obj(&full),
        obj(&cut)
    );
    assert!(
        cut.active < full.active,
        "{} of {}",
        cut.active,
        full.active
    );
    // Brute force through the core: 3001 sizes on [-3, 3].
    let row = matrix.find(&cands[0].instrument).unwrap();
    let brute = (0..=3000)
        .map(|i| {
            let x = -3.0 + i as f64 * 0.002;
            let (m, _, _) = acc
                .margin_with(&[Position {
                    instrument: row,
                    size: x,
                }])
                .unwrap();
            m.initial + 0.0002 * x.abs()
        })
        .fold(f64::INFINITY, f64::min);
    assert!(
        obj(&full) <= brute + 1e-9,
        "lp {} brute {brute}",
        obj(&full)
    );
    assert!(brute - obj(&full) < 2e-3 * full.before.initial);
    assert!(obj(&full) <= full.before.initial);
    assert!(full.es_after < full.es_before);
}

#[test]
fn two_hedges_on_monte_carlo_agree_between_methods() {
    let hedges = ["BTC-25SEP26", "BTC-25SEP26-70000-P"];
    let (p, matrix, engine) = setup("mc-es", &hedges);
    let acc = EsAccount::new(&engine, &matrix, &p).unwrap();
    let cands = [cand(hedges[0], 2.0, 0.0), cand(hedges[1], 4.0, 0.0003)];
    let full = minimise(&acc, &cands, None, Method::Full).unwrap();
    let cut = minimise(&acc, &cands, None, Method::CuttingPlane).unwrap();
    let obj = |r: &margin_opt::hedge::es::EsResult| r.after.initial + r.cost;
    assert!(
        (obj(&full) - obj(&cut)).abs() <= 1e-7 * full.before.initial.max(1.0),
        "full {} cut {}",
        obj(&full),
        obj(&cut)
    );
    assert!(obj(&cut) <= cut.before.initial);
    assert!(!cut.binding.is_empty());
}

#[test]
fn a_grid_objective_on_an_es_preset_is_refused() {
    let (p, matrix, engine) = setup("parametric-var", &[]);
    let e = EsAccount::new(&engine, &matrix, &p).unwrap_err();
    assert!(e.to_string().contains("ES preset"), "{e}");
}
