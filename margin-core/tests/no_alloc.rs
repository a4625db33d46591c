//! Proves the pricing path allocates nothing: a counting global allocator, armed only on the
//! test's own thread (the harness's threads allocate freely), wraps snapshot construction,
//! symbol parsing, `inputs()` lookups and valuation of every instrument of a real chain.
//! Loading the CSV and building the owned vectors happens before the counter is armed.

mod common;

use common::{CHAIN_20260822, chain_market, load_chain};
use margin_core::pricing::{black76, black76_price, valuation, value};
use margin_core::{Instrument, MarketSnapshot};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

struct CountingAllocator;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator can run while thread-locals are being torn down.
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations made on this thread while `f` runs.
fn allocations_in<T>(f: impl FnOnce() -> T) -> (T, usize) {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    let out = f();
    ARMED.with(|a| a.set(false));
    (out, COUNT.with(Cell::get))
}

#[test]
fn the_counter_sees_allocations() {
    let (_, n) = allocations_in(|| black_box(vec![1u8; 64]));
    assert!(n >= 1, "a Vec allocation went uncounted");
}

#[test]
fn pricing_a_whole_chain_allocates_nothing() {
    let rows = load_chain(CHAIN_20260822);
    let market = chain_market(CHAIN_20260822);
    let views = market.views();
    let time = market.valuation_time;

    let (total, n) = allocations_in(|| {
        let snapshot = MarketSnapshot::new(time, &views).expect("valid snapshot");
        let mut total = 0.0;
        for row in &rows {
            let instrument = Instrument::parse(black_box(&row.symbol)).expect("symbol");
            let inputs = snapshot.inputs(&instrument).expect("inputs");
            let v = valuation(&instrument, &inputs).expect("valuation");
            let fast = value(&instrument, &inputs, inputs.forward).expect("value");
            let g = black76(
                margin_core::Right::Put,
                inputs.forward,
                row.strike,
                inputs.vol,
                inputs.time,
                inputs.rate,
            )
            .expect("greeks");
            let p = black76_price(
                margin_core::Right::Call,
                inputs.forward,
                row.strike,
                inputs.vol,
                inputs.time,
                inputs.rate,
            )
            .expect("price");
            total += v.value + v.delta + v.gamma + v.vega + v.theta + fast + g.value + p;
        }
        // Error paths must not allocate either.
        let missing = Instrument::parse("SOL-25SEP26-100-C").expect("symbol");
        total += f64::from(u8::from(snapshot.inputs(&missing).is_err()));
        total += f64::from(u8::from(Instrument::parse("BTC-32MAR26").is_err()));
        total
    });
    assert!(total.is_finite());
    assert_eq!(
        n,
        0,
        "pricing {} instruments allocated {n} times",
        rows.len()
    );
}

/// The margin pipeline allocates nothing either: generating a preset's scenarios, building risk
/// arrays for the whole chain into caller storage, margining an account, a what-if and the
/// isolated margins. Storage vectors are sized before the counter is armed.
#[test]
fn margining_allocates_nothing() {
    use margin_core::account::{self, Account};
    use margin_core::model::Model;
    use margin_core::pricing::Valuation;
    use margin_core::risk::{Position, RiskArrays, RiskStorage};
    use margin_core::{Asset, PricingInputs};

    let market = chain_market(CHAIN_20260822);
    let views = market.views();
    let btc = Asset::new("BTC").expect("asset");
    let instruments: Vec<Instrument> = market
        .instruments
        .iter()
        .map(|q| q.instrument)
        .filter(|i| i.underlying == btc)
        .collect();
    let n = instruments.len();
    let mut inputs = vec![PricingInputs::ZERO; n];
    let mut valuations = vec![Valuation::ZERO; n];
    let mut pnl = vec![0.0; n * margin_core::model::MAX_SCENARIOS];
    let positions: Vec<Position> = (0..50)
        .map(|i| Position {
            instrument: i * 7 % n,
            size: if i % 2 == 0 { -1.5 } else { 2.0 },
        })
        .collect();
    let mut positions = positions;
    positions.sort_by_key(|p| p.instrument);
    positions.dedup_by_key(|p| p.instrument);
    let mut scratch = vec![0.0; margin_core::model::MAX_SCENARIOS * account::MAX_UNDERLYINGS];
    let mut isolated = vec![0.0; positions.len()];

    for preset in margin_core::model::PRESETS {
        let model = Model::preset(preset).expect("preset");
        if matches!(model.spec().source, margin_core::spec::Source::Joint(_)) {
            // Joint scenarios: `joint_revaluation_and_tail_margin_allocate_nothing`.
            continue;
        }
        let (im, count) = allocations_in(|| {
            let snapshot = market.snapshot(&views).expect("snapshot");
            let scenarios = model.scenarios().expect("scenarios");
            let grids = model.underlying_grids().expect("grids");
            let set = model.scenario_set(&scenarios, &grids).expect("set");
            let storage = RiskStorage {
                inputs: &mut inputs,
                valuations: &mut valuations,
                pnl: &mut pnl,
            };
            let arrays = RiskArrays::build(snapshot, set, &instruments, storage).expect("arrays");
            let acct = Account::new(&arrays, btc, 10.0, &positions).expect("account");
            let m = account::margin(&arrays, &model, &acct, &mut scratch).expect("margin");
            let order = Position {
                instrument: 3,
                size: -4.0,
            };
            let w = account::what_if(&arrays, &model, &acct, &scratch, order).expect("what-if");
            account::isolated(&arrays, &model, &acct, &mut scratch, &mut isolated)
                .expect("isolated");
            m.initial + w.initial
        });
        assert!(im.is_finite() && im > 0.0, "{preset}: {im}");
        assert_eq!(
            count, 0,
            "{preset}: margining {n} instruments allocated {count} times"
        );
    }
}

/// Historical simulation allocates nothing: HS and FHS moves of the bundled BTC/ETH history,
/// then VaR/ES and contributions of a two-coin book, into storage sized beforehand.
#[test]
fn historical_var_es_allocates_nothing() {
    use margin_core::io::PriceHistory;
    use margin_core::stats::{historical, tail};

    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/btc-eth-daily/btc_eth_daily_close_aligned.csv"
    );
    let history = PriceHistory::load(&[spec.to_string()]).expect("history");
    let (closes, u, t) = (history.closes(), 2, history.len());
    let mut moves = vec![0.0; t * u];
    let mut windows = vec![(0, 0); t];
    let mut sigma = [0.0; 2];
    let mut losses = vec![0.0; t];
    let mut order = vec![0; t];
    let mut contributions = [0.0; 2];
    let size = [1.0, -10.0];
    let (es, count) = allocations_in(|| {
        let mut total = 0.0;
        for filtered in [false, true] {
            let n = if filtered {
                historical::fhs_moves(
                    closes,
                    u,
                    10,
                    true,
                    0.94,
                    &mut moves,
                    &mut windows,
                    &mut sigma,
                )
            } else {
                historical::hs_moves(closes, u, 10, false, &mut moves, &mut windows)
            }
            .expect("moves");
            for (j, l) in losses[..n].iter_mut().enumerate() {
                *l = -(size[0] * moves[j * u] + size[1] * moves[j * u + 1]);
            }
            let tl = tail::tail(&losses[..n], 0.99, &mut order).expect("tail");
            let loss = |p: usize, s: usize| -size[p] * moves[s * u + p];
            tail::es_contributions(&tl, &order, loss, 2, &mut contributions).expect("euler");
            total += tl.es;
        }
        total
    });
    assert!(es.is_finite() && es > 0.0);
    assert_eq!(count, 0, "historical VaR/ES allocated {count} times");
}

/// The statistical margin path allocates nothing: an account's joint-scenario losses computed
/// in blocks from caller storage (options of the bundled chain under Monte Carlo moves with a
/// vol rule and time decay), Euler contributions, the tail, and the hs-es margin.
#[test]
fn joint_revaluation_and_tail_margin_allocate_nothing() {
    use margin_core::account::WorstScenario;
    use margin_core::scenario::{JointMoves, Scenario, ScenarioKind, VolShock};
    use margin_core::statistical::{self, BlockScratch, Book};
    use margin_core::stats::monte_carlo::{Dist, McParams, monte_carlo_moves};
    use margin_core::stats::tail;
    use margin_core::{Asset, model::Model, var_margin};

    let data = chain_market(CHAIN_20260822);
    let views = data.views();
    let market = data.snapshot(&views).expect("snapshot");
    let instruments: Vec<Instrument> = data
        .instruments
        .iter()
        .map(|q| q.instrument)
        .take(40)
        .collect();
    let inputs: Vec<_> = instruments
        .iter()
        .map(|i| market.inputs(i).unwrap())
        .collect();
    let sizes: Vec<f64> = (0..instruments.len())
        .map(|i| 1.0 - (i % 3) as f64)
        .collect();
    let coins = [Asset::new("BTC").unwrap(), Asset::new("ETH").unwrap()];
    let chol = [0.03, 0.0, 0.025, 0.02];
    let n = 5000;
    let mut moves = vec![0.0; n * 2];
    let template = Scenario {
        time_step: 2.0 / 365.0,
        ..Scenario::standard(
            0.0,
            VolShock::Rule {
                shift: 0.01,
                beta: -0.3,
                floor: 0.05,
            },
        )
    };
    let mut scenarios = vec![template; 256];
    let mut row = vec![0.0; 256];
    let mut gathered = vec![0.0; 512];
    let mut losses = vec![0.0; n];
    let mut order = vec![0usize; n];
    let mut contributions = vec![0.0; instruments.len()];
    let mut weights = [0.0; 64];
    let model = Model::preset("hs-es").unwrap();
    let (im, count) = allocations_in(|| {
        let mc = McParams {
            dist: Dist::StudentT { nu: 5.0 },
            horizon_days: 2.0,
            seed: 9,
        };
        monte_carlo_moves(&chol, 2, &mc, 0, &mut moves).expect("moves");
        let joint = JointMoves::new(&coins, &moves).expect("joint");
        let book = Book {
            instruments: &instruments,
            inputs: &inputs,
            sizes: &sizes,
        };
        let mut scratch = BlockScratch {
            scenarios: &mut scenarios,
            row: &mut row,
            moves: &mut gathered,
        };
        statistical::losses(&book, &joint, &template, 0, &mut scratch, &mut losses)
            .expect("losses");
        let t = tail::tail(&losses, 0.99, &mut order).expect("tail");
        for (r, w) in weights.iter_mut().enumerate().take(t.count) {
            *w = tail::tail_weight(r, &t);
        }
        statistical::contributions(
            &book,
            &joint,
            &template,
            &order[..t.count],
            &weights[..t.count],
            &mut scratch,
            &mut contributions,
        )
        .expect("contributions");
        let worst = WorstScenario {
            index: order[0],
            price_move: joint.get(order[0], 0),
            vol_shock: 0.01,
            kind: ScenarioKind::Standard,
            loss: losses[order[0]],
        };
        var_margin::margin(&model, 10.0, t.var, t.es, worst)
            .expect("margin")
            .initial
    });
    assert!(im.is_finite() && im > 0.0, "{im}");
    assert_eq!(count, 0, "the joint path allocated {count} times");
}
