//! Proves the pricing path allocates nothing: a counting global allocator, armed only on the
//! test's own thread (the harness's threads allocate freely), wraps snapshot construction,
//! symbol parsing, `inputs()` lookups and valuation of every instrument of a real chain.
//! Loading the CSV and building the owned vectors happens before the counter is armed.

mod common;

use common::{CHAIN_20260822, chain_market, load_chain};
use margin_core::pricing::{black76, black76_price, valuation, value};
use margin_core::{Instrument, MarketSnapshot, UnderlyingMarket};
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
    let owned = chain_market(&rows);
    let views: Vec<UnderlyingMarket<'_>> = owned.iter().map(|u| u.view()).collect();
    let time = rows[0].timestamp;

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

/// The scenario engine on the whole chain: generating a preset's scenarios, building the risk
/// arrays, an account's margin, a what-if and the isolated margins allocate nothing (storage
/// and scratch are the caller's, allocated before the counter is armed).
#[test]
fn scenario_engine_allocates_nothing() {
    use margin_core::account::{self, Account};
    use margin_core::model::Model;
    use margin_core::risk::{Position, RiskArrays, RiskStorage};
    use margin_core::scenario::ScenarioSet;

    let rows = load_chain(CHAIN_20260822);
    let owned = chain_market(&rows);
    let views: Vec<UnderlyingMarket<'_>> = owned.iter().map(|u| u.view()).collect();
    let snapshot = MarketSnapshot::new(rows[0].timestamp, &views).expect("valid snapshot");
    let instruments: Vec<Instrument> = rows.iter().map(|r| r.instrument).collect();
    let n = instruments.len();
    for name in margin_core::model::PRESETS {
        let model = Model::preset(name).unwrap();
        let probe = model.scenarios().unwrap();
        let s = probe.len();
        let mut inputs = vec![snapshot.inputs(&instruments[0]).unwrap(); n];
        let first = valuation(&instruments[0], &inputs[0]).unwrap();
        let mut vals = vec![first; n];
        let mut pnl = vec![0.0; n * s];
        let btc = instruments[0].underlying;
        let positions: Vec<Position> = (0..n)
            .filter(|&i| instruments[i].underlying == btc)
            .step_by(20)
            .enumerate()
            .map(|(k, instrument)| Position {
                instrument,
                size: if k % 2 == 0 { 1.0 } else { -1.5 },
            })
            .collect();
        let mut scratch = vec![0.0; s * account::MAX_UNDERLYINGS];
        let mut isolated = vec![0.0; positions.len()];

        let (im, count) = allocations_in(|| {
            let scenarios = model.scenarios().unwrap();
            let set = ScenarioSet::new(&scenarios, model.tenor()).unwrap();
            let storage = RiskStorage {
                inputs: &mut inputs,
                valuations: &mut vals,
                pnl: &mut pnl,
            };
            let arrays = RiskArrays::build(snapshot, set, &instruments, storage).unwrap();
            let acct = Account::new(&arrays, btc, 10.0, &positions).unwrap();
            let m = account::margin(&arrays, &model, &acct, &mut scratch).unwrap();
            let order = Position {
                instrument: positions[1].instrument + 1,
                size: 2.0,
            };
            let w = account::what_if(&arrays, &model, &acct, &scratch, order).unwrap();
            account::isolated(&arrays, &model, &acct, &mut scratch, &mut isolated).unwrap();
            black_box(w.initial) + m.initial
        });
        assert!(im > 0.0, "{name}");
        assert_eq!(
            count, 0,
            "{name}: the scenario engine allocated {count} times"
        );
    }
}
