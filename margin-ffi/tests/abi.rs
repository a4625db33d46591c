//! The C ABI called from Rust: the hot path and the no-heap subset allocate nothing (a
//! counting allocator), every route to a margin gives the same bits (engine from CSV, JSON
//! and plain arrays; account handle, batch and the allocation-free call), the engine is
//! shared across threads, and a what-if equals computing the account after the fill.

use margin_core::io::{parse_deribit_chain, write_market_json};
use margin_ffi::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{CString, c_char};
use std::path::Path;
use std::ptr;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: forwarded.
        unsafe { System.dealloc(p, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(|a| a.get())
}

const CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
);

const SYMBOLS: [&str; 6] = [
    "BTC-PERPETUAL",
    "BTC-25SEP26",
    "BTC-25SEP26-120000-P",
    "BTC-25SEP26-70000-C",
    "BTC-25DEC26-76000-C",
    "BTC-26MAR27-68000-P",
];
const SIZES: [f64; 6] = [0.7, -0.3, 1.5, -2.0, -1.25, 0.5];

fn ok(s: margin_status) {
    assert_eq!(s, margin_status::Ok);
}

fn engine_from_csv() -> *mut margin_engine {
    let text = std::fs::read_to_string(CHAIN).unwrap();
    let mut e = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    ok(unsafe {
        margin_engine_new_from_deribit_csv(
            text.as_ptr().cast(),
            text.len(),
            c"deribit-btc".as_ptr(),
            ptr::null(),
            0,
            &mut e,
        )
    });
    e
}

fn id(e: *const margin_engine, symbol: &str) -> usize {
    let s = CString::new(symbol).unwrap();
    let mut id = usize::MAX;
    // SAFETY: valid pointers.
    ok(unsafe { margin_engine_instrument_id(e, s.as_ptr(), &mut id) });
    id
}

fn zero() -> margin_result {
    margin_result {
        initial_margin: 0.0,
        maintenance_margin: 0.0,
        equity: 0.0,
        margin_ratio: 0.0,
        has_margin_ratio: false,
        free_collateral: 0.0,
        health: margin_health::Healthy,
        worst_scenario: 0,
        worst_loss: 0.0,
    }
}

/// An account on `e` holding SYMBOLS × SIZES with equity 3 BTC, computed.
fn account(e: *const margin_engine) -> (*mut margin_account, margin_result) {
    let mut a = ptr::null_mut();
    let mut r = zero();
    // SAFETY: valid pointers.
    unsafe {
        ok(margin_account_new(e, c"BTC".as_ptr(), &mut a));
        ok(margin_account_set_equity(a, 3.0));
        for (s, size) in SYMBOLS.iter().zip(SIZES) {
            ok(margin_account_set_position(a, id(e, s), size));
        }
        ok(margin_account_compute(a, &mut r));
    }
    (a, r)
}

#[test]
fn what_if_and_pricing_allocate_nothing() {
    let e = engine_from_csv();
    let (a, _) = account(e);
    let ids: Vec<usize> = SYMBOLS.iter().map(|s| id(e, s)).collect();
    let mut r = zero();
    let mut g = margin_greeks {
        value: 0.0,
        delta: 0.0,
        gamma: 0.0,
        vega: 0.0,
        theta: 0.0,
    };
    let mut v = 0.0;
    let before = allocations();
    for k in 0..1000 {
        // SAFETY: valid pointers.
        unsafe {
            ok(margin_account_what_if(a, ids[k % ids.len()], 0.5, &mut r));
            ok(margin_black76(
                1, 77405.28, 120000.0, 0.6246, 0.0922, 0.0, &mut g,
            ));
            ok(margin_instrument_value(
                c"BTC-25SEP26-120000-P".as_ptr(),
                77405.28,
                0.6246,
                0.0922,
                0.0,
                77405.28,
                &mut v,
            ));
        }
    }
    assert_eq!(allocations() - before, 0, "the hot path allocated");
    assert!(r.initial_margin > 0.0);
    // Put-call parity on Black-76 (r = 0): C − P = F − K.
    let mut c = g;
    // SAFETY: valid pointers.
    ok(unsafe { margin_black76(0, 77405.28, 120000.0, 0.6246, 0.0922, 0.0, &mut c) });
    assert!((c.value - g.value - (77405.28 - 120000.0)).abs() < 1e-8);
    assert_eq!(
        v,
        g.value / 77405.28,
        "inverse value is USD over the forward"
    );
    // SAFETY: handles from this test, freed once.
    unsafe {
        margin_account_free(a);
        margin_engine_free(e);
    }
}

#[test]
fn arrays_engine_and_noalloc_margin_equal_the_csv_engine() {
    let e = engine_from_csv();
    let (a, want) = account(e);
    // The market as plain arrays: BTC's forwards and only the vols the options need.
    let text = std::fs::read_to_string(CHAIN).unwrap();
    let market = parse_deribit_chain(&text, Path::new(CHAIN)).unwrap();
    let btc = market
        .underlyings
        .iter()
        .find(|u| u.asset.as_str() == "BTC")
        .unwrap();
    let forwards: Vec<margin_forward> = btc
        .forwards
        .iter()
        .map(|f| margin_forward {
            expiry_ms: f.expiry.0,
            price: f.price,
        })
        .collect();
    let wanted: Vec<margin_core::Instrument> = SYMBOLS
        .iter()
        .map(|s| margin_core::Instrument::parse(s).unwrap())
        .collect();
    let vols: Vec<margin_vol> = btc
        .vols
        .iter()
        .filter(|q| {
            wanted.iter().any(|i| {
                matches!(i.kind, margin_core::Kind::Option { expiry, strike, .. }
                    if expiry == q.expiry && strike == q.strike)
            })
        })
        .map(|q| margin_vol {
            expiry_ms: q.expiry.0,
            strike: q.strike,
            right: if q.right == margin_core::Right::Call {
                0
            } else {
                1
            },
            vol: q.vol,
        })
        .collect();
    let asset = c"BTC";
    let u = margin_underlying {
        asset: asset.as_ptr(),
        index_price: btc.index_price,
        perpetual_price: btc.perpetual_price,
        rate: btc.rate,
        forwards: forwards.as_ptr(),
        forward_count: forwards.len(),
        vols: vols.as_ptr(),
        vol_count: vols.len(),
    };
    let m = margin_market {
        valuation_time_ms: market.valuation_time.0,
        underlyings: &u,
        underlying_count: 1,
        symbols: ptr::null(),
        symbol_count: 0,
    };
    let names: Vec<CString> = SYMBOLS.iter().map(|s| CString::new(*s).unwrap()).collect();
    let positions: Vec<margin_symbol_position> = names
        .iter()
        .zip(SIZES)
        .map(|(n, size)| margin_symbol_position {
            symbol: n.as_ptr(),
            size,
        })
        .collect();
    let mut workspace = vec![0.0; margin_noalloc_workspace_len(positions.len())];
    let mut got = zero();
    let before = allocations();
    // SAFETY: valid pointers and lengths.
    ok(unsafe {
        margin_noalloc_margin(
            &m,
            c"deribit-btc".as_ptr(),
            ptr::null(),
            0,
            asset.as_ptr(),
            3.0,
            positions.as_ptr(),
            positions.len(),
            workspace.as_mut_ptr(),
            workspace.len(),
            &mut got,
        )
    });
    assert_eq!(allocations() - before, 0, "the no-heap call allocated");
    assert_eq!(got, want);
    // Too little workspace is a status, not a crash.
    // SAFETY: valid pointers and lengths.
    let short = unsafe {
        margin_noalloc_margin(
            &m,
            c"deribit-btc".as_ptr(),
            ptr::null(),
            0,
            asset.as_ptr(),
            3.0,
            positions.as_ptr(),
            positions.len(),
            workspace.as_mut_ptr(),
            10,
            &mut got,
        )
    };
    assert_eq!(short, margin_status::Capacity);

    // An engine from the same arrays, with the positions' symbols as its rows.
    let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    let with_rows = margin_market {
        symbols: name_ptrs.as_ptr(),
        symbol_count: name_ptrs.len(),
        ..m
    };
    let mut ea = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    ok(unsafe { margin_engine_new(&with_rows, c"deribit-btc".as_ptr(), ptr::null(), 0, &mut ea) });
    let (aa, from_arrays) = account(ea);
    assert_eq!(from_arrays, want);
    assert_eq!(id(ea, SYMBOLS[2]), 2, "rows follow the symbols given");

    // Moving the CSV engine's account onto the arrays engine maps ids by instrument.
    let reversed: Vec<*const c_char> = name_ptrs.iter().rev().copied().collect();
    let rev_rows = margin_market {
        symbols: reversed.as_ptr(),
        symbol_count: reversed.len(),
        ..m
    };
    let mut er = ptr::null_mut();
    let mut moved = zero();
    let mut pos = margin_position {
        instrument: 0,
        size: 0.0,
    };
    // SAFETY: valid pointers and lengths.
    unsafe {
        ok(margin_engine_new(
            &rev_rows,
            c"deribit-btc".as_ptr(),
            ptr::null(),
            0,
            &mut er,
        ));
        ok(margin_account_set_engine(a, er));
        ok(margin_account_compute(a, &mut moved));
        ok(margin_account_position(a, 0, &mut pos));
        margin_engine_free(er);
    }
    assert_eq!(moved, want);
    assert_eq!(
        pos.instrument,
        SYMBOLS.len() - 1,
        "BTC-PERPETUAL is the last row there"
    );
    // An engine without one of the instruments is refused and the account is unchanged.
    let fewer = margin_market {
        symbols: name_ptrs.as_ptr(),
        symbol_count: 2,
        ..m
    };
    let mut ef = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    unsafe {
        ok(margin_engine_new(
            &fewer,
            c"deribit-btc".as_ptr(),
            ptr::null(),
            0,
            &mut ef,
        ));
        assert_eq!(
            margin_account_set_engine(a, ef),
            margin_status::UnknownInstrument
        );
        ok(margin_account_compute(a, &mut moved));
        margin_engine_free(ef);
    }
    assert_eq!(moved, want);
    // SAFETY: handles from this test, freed once.
    unsafe {
        margin_account_free(aa);
        margin_engine_free(ea);
    }
    // SAFETY: handles from this test, freed once.
    unsafe {
        margin_account_free(a);
        margin_engine_free(e);
    }
}

#[test]
fn json_csv_arrays_batch_and_threads_agree() {
    let e = engine_from_csv();
    let (a, want) = account(e);

    // The same market through JSON (written by the io module from the parsed chain).
    let text = std::fs::read_to_string(CHAIN).unwrap();
    let json = write_market_json(&parse_deribit_chain(&text, Path::new(CHAIN)).unwrap());
    let mut ej = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    ok(unsafe {
        margin_engine_new_from_json(
            json.as_ptr().cast::<c_char>(),
            json.len(),
            c"deribit-btc".as_ptr(),
            ptr::null(),
            0,
            &mut ej,
        )
    });
    let (aj, from_json) = account(ej);
    assert_eq!(from_json, want);

    // Batch over the same positions (ids of the CSV engine).
    let positions: Vec<margin_position> = SYMBOLS
        .iter()
        .zip(SIZES)
        .map(|(s, size)| margin_position {
            instrument: id(e, s),
            size,
        })
        .collect();
    let accounts = [margin_batch_account {
        currency: c"BTC".as_ptr(),
        equity: 3.0,
        positions: positions.as_ptr(),
        position_count: positions.len(),
    }; 3];
    let mut results = [zero(); 3];
    let mut statuses = [margin_status::Panic; 3];
    // SAFETY: valid pointers and lengths.
    ok(unsafe {
        margin_engine_compute_batch(
            e,
            accounts.as_ptr(),
            3,
            results.as_mut_ptr(),
            statuses.as_mut_ptr(),
        )
    });
    assert_eq!(statuses, [margin_status::Ok; 3]);
    assert!(results.iter().all(|r| *r == want));

    // Four threads share the engine, each with its own account.
    struct Shared(*const margin_engine);
    // SAFETY: the engine is documented thread-safe (immutable, Sync).
    unsafe impl Sync for Shared {}
    let shared = Shared(e);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let engine = &shared;
                let (acct, r) = account(engine.0);
                assert_eq!(r, want);
                // SAFETY: handle from this thread, freed once.
                unsafe { margin_account_free(acct) };
            });
        }
    });

    // A what-if equals computing the account after the fill; the account is unchanged.
    let order = id(e, "BTC-25SEP26-70000-C");
    let mut what_if = zero();
    let mut after = zero();
    let mut again = zero();
    // SAFETY: valid pointers.
    unsafe {
        ok(margin_account_what_if(a, order, 1.0, &mut what_if));
        ok(margin_account_compute(a, &mut again));
        assert_eq!(again, want, "what-if changed the account");
        ok(margin_account_add_position(a, order, 1.0));
        ok(margin_account_compute(a, &mut after));
    }
    assert_eq!(what_if.initial_margin, after.initial_margin);
    assert_eq!(what_if.maintenance_margin, after.maintenance_margin);
    assert_eq!(what_if.worst_scenario, after.worst_scenario);
    assert_ne!(after.initial_margin, want.initial_margin);

    // SAFETY: handles from this test, freed once.
    unsafe {
        margin_account_free(a);
        margin_account_free(aj);
        margin_engine_free(ej);
        margin_engine_free(e);
    }
}

#[test]
fn scenario_pnl_of_an_inverse_perpetual_is_the_closed_form() {
    // One long BTC-PERPETUAL (inverse, one coin-equivalent) gains 1 − 1/(1 + m) BTC when the
    // perpetual moves by m: the coin value of a USD contract worth one coin at entry.
    let e = engine_from_csv();
    let mut a = ptr::null_mut();
    let mut r = zero();
    let mut n_scenarios = 0;
    // SAFETY: valid pointers.
    unsafe {
        ok(margin_engine_scenario_count(e, &mut n_scenarios));
        ok(margin_account_new(e, c"BTC".as_ptr(), &mut a));
        ok(margin_account_set_position(a, id(e, "BTC-PERPETUAL"), 1.0));
        ok(margin_account_compute(a, &mut r));
    }
    let mut pnl = vec![f64::NAN; n_scenarios + 3];
    let mut written = 0;
    // SAFETY: valid pointers and lengths.
    ok(unsafe { margin_account_scenario_pnl(a, pnl.as_mut_ptr(), pnl.len(), &mut written) });
    assert_eq!(written, n_scenarios);
    assert!(pnl[written].is_nan(), "wrote past the scenario count");
    for (s, got) in pnl[..written].iter().enumerate() {
        let mut sc = margin_scenario {
            price_move: 0.0,
            delta_one_move: 0.0,
            vol_shock: 0.0,
            time_step: 0.0,
            weight: 0.0,
            extended: false,
        };
        // SAFETY: valid pointers.
        ok(unsafe { margin_engine_scenario(e, s, &mut sc) });
        let want = 1.0 - 1.0 / (1.0 + sc.delta_one_move);
        assert!((got - want).abs() < 1e-15, "scenario {s}: {got} vs {want}");
    }
    // The worst cell is the −16 % move (the extended table holds delta-one products at the
    // ±16 % edge and dampens them): loss 1/0.84 − 1.
    assert!(
        (r.worst_loss - (1.0 / 0.84 - 1.0)).abs() < 1e-12,
        "{}",
        r.worst_loss
    );
    // SAFETY: handles from this test, freed once.
    unsafe {
        margin_account_free(a);
        margin_engine_free(e);
    }
}

/// An engine over `json` with the deribit-btc model.
fn engine_from_json(json: &str) -> Result<*mut margin_engine, margin_status> {
    let mut e = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    let status = unsafe {
        margin_engine_new_from_json(
            json.as_ptr().cast(),
            json.len(),
            c"deribit-btc".as_ptr(),
            ptr::null(),
            0,
            &mut e,
        )
    };
    if status == margin_status::Ok {
        Ok(e)
    } else {
        Err(status)
    }
}

fn last_error() -> String {
    let mut buf = [0 as c_char; 512];
    let mut n = 0;
    // SAFETY: valid pointers and lengths.
    ok(unsafe { margin_last_error_message(buf.as_mut_ptr(), buf.len(), &mut n) });
    // SAFETY: the call wrote `n` bytes and a NUL.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_market_listing_expired_instruments_builds_and_names_them() {
    // Valuation 22 Aug 2026; BTC-21AUG26 and its option expired the day before. The CLI leaves
    // such instruments out of the universe; the C engine must too, not fail to build.
    let live = r#""BTC-PERPETUAL": {"mark_price": 77100.0},
        "BTC-25SEP26": {"mark_price": 77405.28},
        "BTC-25SEP26-120000-P": {"mark_iv": 0.6246},
        "BTC-25SEP26-70000-C": {"mark_iv": 0.47}"#;
    let expired = r#""BTC-21AUG26": {"mark_price": 77000.0},
        "BTC-21AUG26-76000-C": {"mark_iv": 0.5}"#;
    let market = |instruments: &str| {
        format!(
            r#"{{"valuation_time": "2026-08-22T15:33:51Z",
              "underlyings": {{"BTC": {{"index_price": 77081.8}}}},
              "instruments": {{{instruments}}}}}"#
        )
    };
    let e = engine_from_json(&market(&format!("{live},{expired}")))
        .expect("a market listing expired instruments builds");
    // The same market without them: the independent route the live rows must agree with.
    let clean = engine_from_json(&market(live)).unwrap();
    let count = |e| {
        let mut n = 0;
        // SAFETY: valid pointers.
        ok(unsafe { margin_engine_instrument_count(e, &mut n) });
        n
    };
    assert_eq!(count(e), count(clean));

    let positions = [
        ("BTC-PERPETUAL", 0.7),
        ("BTC-25SEP26", -0.3),
        ("BTC-25SEP26-120000-P", 1.5),
        ("BTC-25SEP26-70000-C", -2.0),
    ];
    let compute = |e| {
        let mut a = ptr::null_mut();
        let mut r = zero();
        // SAFETY: valid pointers.
        unsafe {
            ok(margin_account_new(e, c"BTC".as_ptr(), &mut a));
            ok(margin_account_set_equity(a, 3.0));
            for (s, size) in positions {
                ok(margin_account_set_position(a, id(e, s), size));
            }
            ok(margin_account_compute(a, &mut r));
            margin_account_free(a);
        }
        r
    };
    let got = compute(e);
    assert!(got.initial_margin > 0.0);
    assert_eq!(got, compute(clean));

    for (symbol, reason) in [
        ("BTC-21AUG26", "BTC-21AUG26 expired at"),
        ("BTC-21AUG26-76000-C", "BTC-21AUG26-76000-C expired at"),
    ] {
        let s = CString::new(symbol).unwrap();
        let mut row = 12345;
        // SAFETY: valid pointers.
        let status = unsafe { margin_engine_instrument_id(e, s.as_ptr(), &mut row) };
        assert_eq!(status, margin_status::UnknownInstrument, "{symbol}");
        assert_eq!(row, 12345, "{symbol}: wrote an id on failure");
        let message = last_error();
        assert!(message.contains(reason), "{symbol}: {message}");
    }

    // Rows the caller lists explicitly stay strict: an expired one fails the build.
    let forward = margin_forward {
        expiry_ms: 1_787_299_200_000, // 2026-08-21T08:00:00Z
        price: 77000.0,
    };
    let underlying = margin_underlying {
        asset: c"BTC".as_ptr(),
        index_price: 77081.8,
        perpetual_price: 77100.0,
        rate: 0.0,
        forwards: &forward,
        forward_count: 1,
        vols: ptr::null(),
        vol_count: 0,
    };
    let symbols = [c"BTC-PERPETUAL".as_ptr(), c"BTC-21AUG26".as_ptr()];
    let m = margin_market {
        valuation_time_ms: 1_787_412_831_000, // 2026-08-22T15:33:51Z
        underlyings: &underlying,
        underlying_count: 1,
        symbols: symbols.as_ptr(),
        symbol_count: symbols.len(),
    };
    let mut strict = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    let status =
        unsafe { margin_engine_new(&m, c"deribit-btc".as_ptr(), ptr::null(), 0, &mut strict) };
    assert_eq!(status, margin_status::Expired);
    assert!(strict.is_null());

    // SAFETY: handles from this test, freed once.
    unsafe {
        margin_engine_free(clean);
        margin_engine_free(e);
    }
}

/// A one-coin market as arrays: BTC index 77,000, one forward and one call vol.
struct ArraysMarket {
    forwards: [margin_forward; 1],
    vols: [margin_vol; 1],
    underlying: margin_underlying,
}

const SEP26: i64 = 1_790_323_200_000; // 2026-09-25T08:00:00Z
const NOW: i64 = 1_787_412_831_000; // 2026-08-22T15:33:51Z

impl ArraysMarket {
    fn new() -> Box<ArraysMarket> {
        let mut m = Box::new(ArraysMarket {
            forwards: [margin_forward {
                expiry_ms: SEP26,
                price: 77_400.0,
            }],
            vols: [margin_vol {
                expiry_ms: SEP26,
                strike: 80_000.0,
                right: 0,
                vol: 0.4,
            }],
            underlying: margin_underlying {
                asset: c"BTC".as_ptr(),
                index_price: 77_000.0,
                perpetual_price: 77_000.0,
                rate: 0.0,
                forwards: ptr::null(),
                forward_count: 1,
                vols: ptr::null(),
                vol_count: 1,
            },
        });
        m.underlying.forwards = m.forwards.as_ptr();
        m.underlying.vols = m.vols.as_ptr();
        m
    }

    fn market(&self, valuation_time_ms: i64) -> margin_market {
        margin_market {
            valuation_time_ms,
            underlyings: &self.underlying,
            underlying_count: 1,
            symbols: ptr::null(),
            symbol_count: 0,
        }
    }

    fn engine(&self, valuation_time_ms: i64) -> Result<*mut margin_engine, margin_status> {
        let m = self.market(valuation_time_ms);
        let mut e = ptr::null_mut();
        // SAFETY: valid pointers.
        match unsafe { margin_engine_new(&m, c"deribit-btc".as_ptr(), ptr::null(), 0, &mut e) } {
            margin_status::Ok => Ok(e),
            s => Err(s),
        }
    }

    fn noalloc(
        &self,
        valuation_time_ms: i64,
        positions: &[margin_symbol_position],
        n: usize,
    ) -> margin_status {
        let m = self.market(valuation_time_ms);
        let mut workspace = vec![0.0; margin_noalloc_workspace_len(positions.len())];
        let mut r = zero();
        // SAFETY: valid pointers; `n` may exceed the array, which must be refused unread.
        unsafe {
            margin_noalloc_margin(
                &m,
                c"deribit-btc".as_ptr(),
                ptr::null(),
                0,
                c"BTC".as_ptr(),
                1.0,
                positions.as_ptr(),
                n,
                workspace.as_mut_ptr(),
                workspace.len(),
                &mut r,
            )
        }
    }
}

/// Issue 13: timestamps near the i64 limits are MARGIN_STATUS_BAD_TIME (they used to wrap
/// the time to expiry negative: a short call got IM 0 with status OK).
#[test]
fn out_of_range_times_are_bad_time() {
    let mut market = ArraysMarket::new();
    let e = market.engine(NOW).unwrap();
    // SAFETY: a live engine.
    unsafe { margin_engine_free(e) };
    let short_call = [margin_symbol_position {
        symbol: c"BTC-25SEP26-80000-C".as_ptr(),
        size: -1.0,
    }];
    assert_eq!(market.noalloc(NOW, &short_call, 1), margin_status::Ok);
    for t in [
        i64::MIN,
        i64::MIN + 1,
        -62_167_219_200_001,
        253_402_300_800_000,
        i64::MAX,
    ] {
        assert_eq!(market.engine(t).err(), Some(margin_status::BadTime), "{t}");
        assert!(
            last_error().contains("invalid or out-of-range time"),
            "{}",
            last_error()
        );
        assert_eq!(
            market.noalloc(t, &short_call, 1),
            margin_status::BadTime,
            "{t}"
        );
    }
    // An expiry at the limits is refused too.
    market.forwards[0].expiry_ms = i64::MAX;
    market.vols[0].expiry_ms = i64::MAX;
    assert_eq!(market.engine(NOW).err(), Some(margin_status::BadTime));
}

/// Issue 13: a count no memory could hold, or more positions than an engine has instruments,
/// is MARGIN_STATUS_INVALID_ARGUMENT, never MARGIN_STATUS_PANIC (nor an abort).
#[test]
fn huge_counts_are_invalid_arguments() {
    let market = ArraysMarket::new();
    let e = market.engine(NOW).unwrap();
    let one = [margin_position {
        instrument: 0,
        size: 1.0,
    }];
    for n in [usize::MAX, isize::MAX as usize, 1 << 40, 4] {
        let accounts = [margin_batch_account {
            currency: c"BTC".as_ptr(),
            equity: 1.0,
            positions: one.as_ptr(),
            position_count: n,
        }];
        let mut results = [zero()];
        let mut statuses = [margin_status::Ok];
        // SAFETY: valid pointers; the count is refused before the array is read.
        ok(unsafe {
            margin_engine_compute_batch(
                e,
                accounts.as_ptr(),
                1,
                results.as_mut_ptr(),
                statuses.as_mut_ptr(),
            )
        });
        assert_eq!(statuses[0], margin_status::InvalidArgument, "{n}");
    }
    // The account count itself.
    let mut results = [zero()];
    let mut statuses = [margin_status::Ok];
    // SAFETY: valid pointers; the count is refused before anything is read.
    let s = unsafe {
        margin_engine_compute_batch(
            e,
            ptr::null::<margin_batch_account>().wrapping_add(1),
            usize::MAX,
            results.as_mut_ptr(),
            statuses.as_mut_ptr(),
        )
    };
    assert_eq!(s, margin_status::InvalidArgument);
    // The allocation-free call: impossible counts are invalid, large ones over capacity.
    let p = [margin_symbol_position {
        symbol: c"BTC-25SEP26-80000-C".as_ptr(),
        size: -1.0,
    }];
    assert_eq!(
        market.noalloc(NOW, &p, usize::MAX),
        margin_status::InvalidArgument
    );
    assert_eq!(market.noalloc(NOW, &p, 1 << 40), margin_status::Capacity);
    assert_eq!(margin_noalloc_workspace_len(usize::MAX), usize::MAX);
    // SAFETY: a live engine.
    unsafe { margin_engine_free(e) };
}

/// Issue 13: the market plausibility bounds hold for markets given as arrays.
#[test]
fn implausible_array_markets_are_bad_numbers() {
    let mut market = ArraysMarket::new();
    market.vols[0].vol = 46.0;
    assert_eq!(market.engine(NOW).err(), Some(margin_status::BadNumber));
    assert_eq!(
        last_error(),
        "a number is not finite, not positive, or out of range: <market arrays>: \
         `underlyings[BTC].vols[2026-09-25T08:00:00Z 80000 Call]`: implausible implied vol 46 \
         (expected a decimal vol of at most 5.0 (500 %), e.g. 0.46 for 46 %; set \
         `allow_implausible` / pass --allow-implausible-market if this is really meant)"
    );
    let mut market = ArraysMarket::new();
    market.underlying.rate = 800.0;
    assert_eq!(market.engine(NOW).err(), Some(margin_status::BadNumber));
    assert!(
        last_error().contains("`underlyings[BTC].rate`: implausible rate 800"),
        "{}",
        last_error()
    );
}

/// Issue 13: a non-finite margin (Deribit `extended_table_factor` = 1e308 through the parameter
/// overrides; SPAN `im_ratio` = 1e308 is now out of its range) is
/// MARGIN_STATUS_OVERFLOW on every route, never MARGIN_STATUS_OK with `inf` in the result.
#[test]
fn non_finite_margins_are_overflow_not_ok() {
    let params = [margin_param {
        name: c"extended_table_factor".as_ptr(),
        value: 1e308,
    }];
    let market = ArraysMarket::new();
    let m = market.market(NOW);
    let mut e = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    ok(unsafe { margin_engine_new(&m, c"deribit-btc".as_ptr(), params.as_ptr(), 1, &mut e) });
    let perp = id(e, "BTC-PERPETUAL");
    let mut a = ptr::null_mut();
    let mut r = zero();
    // SAFETY: valid pointers.
    unsafe {
        ok(margin_account_new(e, c"BTC".as_ptr(), &mut a));
        ok(margin_account_set_equity(a, 1.0));
        ok(margin_account_set_position(a, perp, 1000.0));
        assert_eq!(margin_account_compute(a, &mut r), margin_status::Overflow);
        assert_eq!(
            last_error(),
            "a computation overflowed: worst_case overflowed to a non-finite value"
        );
        assert_eq!(
            margin_account_what_if(a, perp, 1.0, &mut r),
            margin_status::Overflow
        );
    }
    assert_eq!(r, zero(), "nothing written on failure");
    let positions = [margin_position {
        instrument: perp,
        size: 1000.0,
    }];
    let accounts = [margin_batch_account {
        currency: c"BTC".as_ptr(),
        equity: 1.0,
        positions: positions.as_ptr(),
        position_count: 1,
    }];
    let mut results = [zero()];
    let mut statuses = [margin_status::Ok];
    // SAFETY: valid pointers and lengths.
    ok(unsafe {
        margin_engine_compute_batch(
            e,
            accounts.as_ptr(),
            1,
            results.as_mut_ptr(),
            statuses.as_mut_ptr(),
        )
    });
    assert_eq!(statuses, [margin_status::Overflow]);
    // The allocation-free call.
    let held = [margin_symbol_position {
        symbol: c"BTC-PERPETUAL".as_ptr(),
        size: 1000.0,
    }];
    let mut workspace = vec![0.0; margin_noalloc_workspace_len(1)];
    // SAFETY: valid pointers and lengths.
    let s = unsafe {
        margin_noalloc_margin(
            &m,
            c"deribit-btc".as_ptr(),
            params.as_ptr(),
            1,
            c"BTC".as_ptr(),
            1.0,
            held.as_ptr(),
            1,
            workspace.as_mut_ptr(),
            workspace.len(),
            &mut r,
        )
    };
    assert_eq!(s, margin_status::Overflow);
    // SAFETY: live handles, freed once.
    unsafe {
        margin_account_free(a);
        margin_engine_free(e);
    }
}

// ---------------------------------------------------------------------------------------
// Statistical presets through the C ABI.

const HISTORY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/btc-eth-daily/btc_eth_daily_close_aligned.csv"
);

fn history_from_files(specs: &[&str]) -> Result<*mut margin_history, margin_status> {
    let owned: Vec<CString> = specs.iter().map(|s| CString::new(*s).unwrap()).collect();
    let ptrs: Vec<*const c_char> = owned.iter().map(|s| s.as_ptr()).collect();
    let mut h = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    let status = unsafe { margin_history_new_from_files(ptrs.as_ptr(), ptrs.len(), &mut h) };
    if status == margin_status::Ok {
        Ok(h)
    } else {
        Err(status)
    }
}

/// An engine over the bundled chain under `model`, with `history` (may be NULL).
fn stat_engine(
    model: &str,
    history: *const margin_history,
) -> Result<*mut margin_engine, margin_status> {
    let text = std::fs::read_to_string(CHAIN).unwrap();
    let name = CString::new(model).unwrap();
    let mut e = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    let status = unsafe {
        margin_engine_new_from_deribit_csv_with_history(
            text.as_ptr().cast(),
            text.len(),
            name.as_ptr(),
            ptr::null(),
            0,
            history,
            &mut e,
        )
    };
    if status == margin_status::Ok {
        Ok(e)
    } else {
        Err(status)
    }
}

/// What `margin compute/whatif --model MODEL --history HISTORY --market CHAIN` computes for
/// the SYMBOLS × SIZES account (equity 3 BTC) with `order` merged in: the CLI's route
/// (`MarketArgs::model_and_engine`, `common::universe`, `JointEngine::margin`), in Rust.
fn cli_margin(
    model: &str,
    order: Option<(&str, f64)>,
) -> (margin_core::account::Margin, margin_opt::var::VarReport) {
    use margin_core::Instrument;
    use margin_core::io::matrix::RiskMatrix;
    use margin_core::io::{MarketOptions, Portfolio, PriceHistory, read_market_with};
    use margin_opt::joint::{JointEngine, lookup_model};
    let market = read_market_with(Path::new(CHAIN), MarketOptions::default()).unwrap();
    let history = PriceHistory::load(&[HISTORY.to_string()]).unwrap();
    let joint =
        JointEngine::new(margin_core::model::Model::preset(model).unwrap(), &history).unwrap();
    let portfolio = Portfolio {
        account: "abi".to_string(),
        currency: margin_core::Asset::new("BTC").unwrap(),
        equity: 3.0,
        positions: SYMBOLS
            .iter()
            .zip(SIZES)
            .map(|(s, size)| margin_core::io::portfolio::Position {
                instrument: Instrument::parse(s).unwrap(),
                size,
            })
            .collect(),
    };
    let mut extra: Vec<Instrument> = portfolio.positions.iter().map(|p| p.instrument).collect();
    extra.extend(order.map(|(s, _)| Instrument::parse(s).unwrap()));
    let matrix = RiskMatrix::new(market, lookup_model().unwrap(), &extra).unwrap();
    let orders: Vec<margin_core::risk::Position> = order
        .iter()
        .map(|(s, size)| margin_core::risk::Position {
            instrument: matrix.find(&Instrument::parse(s).unwrap()).unwrap(),
            size: *size,
        })
        .collect();
    joint.margin(&matrix, &portfolio, &orders).unwrap()
}

fn assert_same(got: &margin_result, want: &margin_core::account::Margin) {
    assert_eq!(got.initial_margin.to_bits(), want.initial.to_bits());
    assert_eq!(got.maintenance_margin.to_bits(), want.maintenance.to_bits());
    assert_eq!(got.equity.to_bits(), want.equity.to_bits());
    assert_eq!(
        got.free_collateral.to_bits(),
        want.free_collateral.to_bits()
    );
    assert_eq!(
        got.margin_ratio.to_bits(),
        want.margin_ratio.unwrap_or(0.0).to_bits()
    );
    assert_eq!(got.worst_scenario, want.worst.index);
    assert_eq!(got.worst_loss.to_bits(), want.worst.loss.to_bits());
}

#[test]
fn statistical_presets_equal_the_cli_bit_for_bit() {
    let history = history_from_files(&[HISTORY]).unwrap();
    let (mut dates, mut coins) = (0, 0);
    // SAFETY: valid pointers.
    ok(unsafe { margin_history_size(history, &mut dates, &mut coins) });
    assert_eq!((dates, coins), (2391, 2));
    for model in ["hs-es", "fhs-es", "mc-es", "parametric-var"] {
        let e = stat_engine(model, history).unwrap();
        let (a, r) = account(e);
        let (want, report) = cli_margin(model, None);
        assert!(want.initial > 0.0, "{model}");
        assert_same(&r, &want);

        // Line items, label.
        let mut n_items = 0;
        // SAFETY: valid pointers.
        ok(unsafe { margin_account_line_item_count(a, &mut n_items) });
        assert_eq!(n_items, want.components.len());
        for (k, c) in want.components.iter().enumerate() {
            let mut buf = [0 as c_char; 64];
            let (mut len, mut value) = (0, f64::NAN);
            // SAFETY: valid pointers and lengths.
            ok(unsafe {
                margin_account_line_item(a, k, buf.as_mut_ptr(), buf.len(), &mut len, &mut value)
            });
            // SAFETY: the call wrote a NUL-terminated name.
            let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
            assert_eq!(name.to_str().unwrap(), c.name);
            assert_eq!(value.to_bits(), c.value.to_bits(), "{model} {}", c.name);
        }
        let mut buf = [0 as c_char; 64];
        let mut len = 0;
        // SAFETY: valid pointers and lengths.
        ok(unsafe { margin_engine_model_label(e, buf.as_mut_ptr(), buf.len(), &mut len) });
        // SAFETY: the call wrote a NUL-terminated label.
        let label = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert!(
            label.to_str().unwrap().starts_with(&format!("{model}@")),
            "{label:?}"
        );

        // Scenarios: the joint ones, and the account's P&L in each is minus its loss.
        let mut n = 0;
        // SAFETY: valid pointers.
        ok(unsafe { margin_engine_scenario_count(e, &mut n) });
        assert_eq!(n, report.losses.len(), "{model}");
        let mut pnl = vec![f64::NAN; n];
        let mut written = 0;
        // SAFETY: valid pointers and lengths.
        ok(unsafe { margin_account_scenario_pnl(a, pnl.as_mut_ptr(), n, &mut written) });
        assert_eq!(written, n);
        for (p, l) in pnl.iter().zip(&report.losses) {
            assert_eq!(p.to_bits(), (-l).to_bits());
        }
        if model != "parametric-var" {
            assert_eq!(-pnl[r.worst_scenario], r.worst_loss);
        }
        // SAFETY: valid pointers and lengths.
        assert_eq!(
            unsafe { margin_account_scenario_pnl(a, pnl.as_mut_ptr(), n - 1, &mut written) },
            margin_status::Capacity
        );
        let mut sc = margin_scenario {
            price_move: 0.0,
            delta_one_move: 0.0,
            vol_shock: 0.0,
            time_step: 0.0,
            weight: 0.0,
            extended: false,
        };
        // SAFETY: valid pointers.
        let s = unsafe { margin_engine_scenario(e, 0, &mut sc) };
        assert_eq!(s, margin_status::InvalidArgument);
        assert!(last_error().contains("joint scenarios"), "{}", last_error());

        // What-if = the CLI's `whatif` (the account with the order merged), held or new.
        for order in [("BTC-25SEP26-70000-C", 0.5), ("BTC-25DEC26-80000-P", -1.0)] {
            let mut w = zero();
            // SAFETY: valid pointers.
            ok(unsafe { margin_account_what_if(a, id(e, order.0), order.1, &mut w) });
            assert_same(&w, &cli_margin(model, Some(order)).0);
        }
        let mut again = zero();
        // SAFETY: valid pointers.
        ok(unsafe { margin_account_compute(a, &mut again) });
        assert_eq!(again, r, "what-if changed the account");

        // Batch.
        let positions: Vec<margin_position> = SYMBOLS
            .iter()
            .zip(SIZES)
            .map(|(s, size)| margin_position {
                instrument: id(e, s),
                size,
            })
            .collect();
        let accounts = [margin_batch_account {
            currency: c"BTC".as_ptr(),
            equity: 3.0,
            positions: positions.as_ptr(),
            position_count: positions.len(),
        }; 2];
        let mut results = [zero(); 2];
        let mut statuses = [margin_status::Panic; 2];
        // SAFETY: valid pointers and lengths.
        ok(unsafe {
            margin_engine_compute_batch(
                e,
                accounts.as_ptr(),
                2,
                results.as_mut_ptr(),
                statuses.as_mut_ptr(),
            )
        });
        assert_eq!(statuses, [margin_status::Ok; 2]);
        assert!(results.iter().all(|x| *x == r), "{model}");
        // SAFETY: handles from this test, freed once.
        unsafe {
            margin_account_free(a);
            margin_engine_free(e);
        }
    }
    // SAFETY: handle from this test, freed once.
    unsafe { margin_history_free(history) };
}

#[test]
fn statistical_models_need_a_history_and_grids_refuse_one() {
    let history = history_from_files(&[HISTORY]).unwrap();
    // A statistical preset without a history, through every constructor.
    assert_eq!(
        stat_engine("hs-es", ptr::null()).unwrap_err(),
        margin_status::InvalidArgument
    );
    assert!(last_error().contains("hs-es@"), "{}", last_error());
    assert!(last_error().contains("with_history"), "{}", last_error());
    let text = std::fs::read_to_string(CHAIN).unwrap();
    let mut e = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    let s = unsafe {
        margin_engine_new_from_deribit_csv(
            text.as_ptr().cast(),
            text.len(),
            c"mc-es".as_ptr(),
            ptr::null(),
            0,
            &mut e,
        )
    };
    assert_eq!(s, margin_status::InvalidArgument);
    assert!(e.is_null(), "output written on failure");
    // A grid preset with a history.
    assert_eq!(
        stat_engine("deribit-btc", history).unwrap_err(),
        margin_status::InvalidArgument
    );
    assert!(last_error().contains("grid model"), "{}", last_error());
    // The allocation-free call has no history: a statistical preset is a clear status.
    let mut out = zero();
    let market = margin_market {
        valuation_time_ms: 0,
        underlyings: ptr::null(),
        underlying_count: 0,
        symbols: ptr::null(),
        symbol_count: 0,
    };
    // SAFETY: valid pointers and lengths.
    let s = unsafe {
        margin_noalloc_margin(
            &market,
            c"hs-es".as_ptr(),
            ptr::null(),
            0,
            c"BTC".as_ptr(),
            1.0,
            ptr::null(),
            0,
            ptr::null_mut(),
            0,
            &mut out,
        )
    };
    assert_eq!(s, margin_status::InvalidArgument);
    assert!(last_error().contains("price history"), "{}", last_error());
    // Which presets are statistical.
    for (name, want) in [
        (c"hs-es", true),
        (c"fhs-es", true),
        (c"mc-es", true),
        (c"parametric-var", true),
        (c"deribit-btc", false),
        (c"span16", false),
    ] {
        let mut got = !want;
        // SAFETY: valid pointers.
        ok(unsafe { margin_model_is_statistical(name.as_ptr(), &mut got) });
        assert_eq!(got, want, "{name:?}");
    }
    let mut got = false;
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { margin_model_is_statistical(c"nope".as_ptr(), &mut got) },
        margin_status::UnknownPreset
    );
    // Unreadable and malformed histories name the file; nothing is written.
    assert_eq!(
        history_from_files(&["/nonexistent/history.csv"]).unwrap_err(),
        margin_status::BadFormat
    );
    assert!(
        last_error().contains("/nonexistent/history.csv"),
        "{}",
        last_error()
    );
    assert_eq!(
        history_from_files(&[]).unwrap_err(),
        margin_status::InvalidArgument
    );
    let mut h = ptr::null_mut();
    let bad = "date,BTC\n2024-01-01,100\n2024-01-03,101\n";
    // SAFETY: valid pointers and lengths.
    let s =
        unsafe { margin_history_new_from_csv(bad.as_ptr().cast(), bad.len(), ptr::null(), &mut h) };
    assert_eq!(s, margin_status::BadFormat);
    assert!(h.is_null());
    // A history from text equals the same history from the file.
    let csv = std::fs::read_to_string(HISTORY).unwrap();
    // SAFETY: valid pointers and lengths.
    ok(unsafe { margin_history_new_from_csv(csv.as_ptr().cast(), csv.len(), ptr::null(), &mut h) });
    let from_text = stat_engine("hs-es", h).unwrap();
    let from_file = stat_engine("hs-es", history).unwrap();
    let (a1, r1) = account(from_text);
    let (a2, r2) = account(from_file);
    assert_eq!(r1, r2);
    // SAFETY: handles from this test, freed once; NULL frees are no-ops.
    unsafe {
        margin_account_free(a1);
        margin_account_free(a2);
        margin_engine_free(from_text);
        margin_engine_free(from_file);
        margin_history_free(h);
        margin_history_free(history);
        margin_history_free(ptr::null_mut());
    }
}
