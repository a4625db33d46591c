//! Portfolio backtests against independent routes: a linear perpetual's realised P&L and HS
//! Expected Shortfall computed here from the raw CSV with plain string splitting and a full
//! sort, no look-ahead (appending later closes leaves earlier days' margins unchanged to the
//! bit), and an option book's margin invariant to the price level where the method promises it.

use margin_core::market::PricingInputs;
use margin_core::model::Model;
use margin_core::statistical::Book;
use margin_core::time::Timestamp;
use margin_core::{Asset, Instrument};
use margin_opt::backtest::portfolio::{self, BacktestError, Engine, History, Params};
use margin_opt::var::Closes;

/// Snapshot levels: perpetual mark F0 and index S0 (a 0.1 % basis).
const F0: f64 = 60_060.0;
const S0: f64 = 60_000.0;

mod common;

/// BTC closes of the bundled aligned file.
fn btc() -> Vec<f64> {
    common::aligned_closes().iter().map(|c| c[0]).collect()
}

fn dates(n: usize) -> Vec<Timestamp> {
    let start = Timestamp::parse_iso8601("2017-11-09").unwrap().0;
    (0..n as i64)
        .map(|t| Timestamp(start + t * 86_400_000))
        .collect()
}

fn perp(size: f64) -> (Vec<Instrument>, Vec<PricingInputs>, Vec<f64>) {
    (
        vec![Instrument::parse("BTC_USDC-PERPETUAL").unwrap()],
        vec![PricingInputs {
            forward: F0,
            vol: 0.0,
            time: 0.0,
            rate: 0.0,
        }],
        vec![size],
    )
}

fn run(
    book: &Book<'_>,
    closes: &[f64],
    window: usize,
    model: &Model,
) -> Result<portfolio::Report, BacktestError> {
    let coins = [Asset::new("BTC").unwrap()];
    let d = dates(closes.len());
    let history = History {
        closes: Closes {
            coins: &coins,
            closes,
        },
        dates: &d,
        reference: &[S0],
    };
    let params = Params {
        window,
        from: None,
        to: None,
        p: 0.01,
        horizon_days: None,
    };
    portfolio::run(book, 0.0, &Engine::Statistical(model), &history, &params)
}

#[test]
fn a_linear_perpetual_matches_the_closed_forms_from_the_raw_csv() {
    let closes = btc();
    let (i, inputs, sizes) = perp(-3.0);
    let book = Book {
        instruments: &i,
        inputs: &inputs,
        sizes: &sizes,
    };
    let model = Model::preset("hs-es").unwrap();
    let window = 250;
    let r = run(&book, &closes, window, &model).unwrap();
    let h = r.horizon_days;
    assert_eq!(h, 2);
    // Every day with a full window and a realised horizon.
    assert_eq!(r.days.len(), closes.len() - window - h);
    assert_eq!(r.days[0].index, window);
    for day in &r.days {
        let d = day.index;
        // Realised: size × F0/S0 × (close_{d+h} − close_d), a loss for the short when it rises.
        let pnl = -3.0 * F0 / S0 * (closes[d + h] - closes[d]);
        assert!(
            (day.loss + pnl).abs() <= 1e-9 * pnl.abs().max(1.0),
            "{d}: {} {pnl}",
            day.loss
        );
        // Margin: 99 % ES (Acerbi–Tasche) of the window's overlapping 2-day moves, by a full sort.
        let fd = F0 * closes[d] / S0;
        let mut losses: Vec<f64> = (d - window..=d - h)
            .map(|s| 3.0 * fd * (closes[s + h] / closes[s] - 1.0))
            .collect();
        losses.sort_by(|a, b| b.total_cmp(a));
        let m = losses.len() as f64 * 0.01;
        let k = m.floor() as usize;
        let es = (losses[..k].iter().sum::<f64>() + (m - k as f64) * losses[k]) / m;
        assert!(
            (day.margin - es).abs() <= 1e-9 * es,
            "{d}: {} {es}",
            day.margin
        );
        assert_eq!(day.exception, day.loss > day.margin);
    }
    let c = &r.coverage;
    let exceptions = r.days.iter().filter(|d| d.exception).count() as u64;
    assert_eq!(
        (c.observations, c.exceptions),
        (r.days.len() as u64, exceptions)
    );
}

#[test]
fn appending_later_closes_does_not_change_earlier_margins() {
    let closes = btc();
    let (i, inputs, sizes) = perp(2.0);
    let book = Book {
        instruments: &i,
        inputs: &inputs,
        sizes: &sizes,
    };
    for name in ["hs-es", "fhs-es", "parametric-var"] {
        let model = Model::preset(name).unwrap();
        let short = run(&book, &closes[..900], 300, &model).unwrap();
        // The later closes replaced by a crash: only the days whose horizon reaches them differ.
        let mut crashed = closes.clone();
        for x in &mut crashed[900..] {
            *x *= 0.2;
        }
        let long = run(&book, &crashed, 300, &model).unwrap();
        assert!(long.days.len() > short.days.len());
        for (a, b) in short.days.iter().zip(&long.days) {
            assert_eq!(
                (a.index, a.margin.to_bits(), a.var.map(f64::to_bits)),
                (b.index, b.margin.to_bits(), b.var.map(f64::to_bits)),
                "{name}"
            );
            assert_eq!(a.loss.to_bits(), b.loss.to_bits(), "{name}");
        }
    }
}

#[test]
fn an_inverse_option_book_margins_the_same_coin_amount_at_every_level() {
    // Coin-settled option values depend on K/F only, so the translated book (moneyness held)
    // has the same coin margin on two days whose windows hold the same relative moves.
    let base = btc()[..400].to_vec();
    let mut closes = base.clone();
    // A copy of the same path at 3× the level: its windows have the same moves.
    closes.extend(base.iter().map(|x| 3.0 * x * base[399] / base[0]));
    let i = vec![Instrument::parse("BTC-27MAR26-60000-C").unwrap()];
    let inputs = vec![PricingInputs {
        forward: S0,
        vol: 0.6,
        time: 0.25,
        rate: 0.0,
    }];
    let sizes = vec![-1.0];
    let book = Book {
        instruments: &i,
        inputs: &inputs,
        sizes: &sizes,
    };
    let model = Model::preset("hs-es").unwrap();
    let r = run(&book, &closes, 250, &model).unwrap();
    let day = |d: usize| r.days.iter().find(|x| x.index == d).unwrap();
    // Day 350 (window 100..=350) and day 750 (window 500..=750, the same moves scaled by 3).
    let (a, b) = (day(350), day(750));
    assert!(a.margin > 0.0);
    assert!(
        (a.margin - b.margin).abs() <= 1e-9 * a.margin,
        "{} {}",
        a.margin,
        b.margin
    );
}

#[test]
fn bad_parameters_are_refused() {
    let closes = btc();
    let (i, inputs, sizes) = perp(1.0);
    let book = Book {
        instruments: &i,
        inputs: &inputs,
        sizes: &sizes,
    };
    let grid = Model::preset("deribit-btc").unwrap();
    // A grid model handed over as statistical.
    assert_eq!(
        run(&book, &closes, 250, &grid).unwrap_err(),
        BacktestError::NotStatistical
    );
    let hs = Model::preset("hs-es").unwrap();
    assert!(matches!(
        run(&book, &closes[..100], 250, &hs).unwrap_err(),
        BacktestError::NoDays { .. }
    ));
    assert!(matches!(
        run(&book, &closes, 0, &hs).unwrap_err(),
        BacktestError::Input(_)
    ));
}

#[test]
fn one_thread_and_two_give_the_same_bits() {
    let closes = btc();
    let i = vec![
        Instrument::parse("BTC-27MAR26-60000-C").unwrap(),
        Instrument::parse("BTC-27MAR26-50000-P").unwrap(),
    ];
    let inputs = vec![
        PricingInputs {
            forward: S0,
            vol: 0.6,
            time: 0.25,
            rate: 0.0,
        },
        PricingInputs {
            forward: S0,
            vol: 0.7,
            time: 0.25,
            rate: 0.0,
        },
    ];
    let sizes = vec![-1.0, 2.0];
    let book = Book {
        instruments: &i,
        inputs: &inputs,
        sizes: &sizes,
    };
    let model = Model::preset("fhs-es").unwrap();
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run(&book, &closes[..1200], 250, &model).unwrap())
    };
    let (a, b) = (on(1), on(2));
    assert_eq!(a.days.len(), b.days.len());
    for (x, y) in a.days.iter().zip(&b.days) {
        assert_eq!(
            (x.margin.to_bits(), x.var, x.loss.to_bits()),
            (y.margin.to_bits(), y.var, y.loss.to_bits())
        );
    }
    assert_eq!(a.coverage, b.coverage);
}

const CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
);

/// A USDC account on the bundled chain (a short BTC linear perpetual, and a short linear BTC
/// call if `option`) as a book, with the chain and the account's margin under `model` on the
/// chain itself, computed through the chain's whole universe (as `margin compute` does).
fn usdc_account(
    option: bool,
    model: &Model,
) -> (
    margin_opt::joint::OwnedBook,
    margin_core::io::MarketData,
    f64,
) {
    use margin_core::io::matrix::{OwnedAccount, RiskMatrix};
    use margin_core::io::{PortfolioDefaults, parse_portfolio_csv, read_market};
    let market = read_market(std::path::Path::new(CHAIN)).unwrap();
    let mut text = String::from("instrument,size\nBTC_USDC-PERPETUAL,-2\n");
    if option {
        text.push_str("BTC_USDC-11SEP26-60000-C,-3\n");
    }
    let defaults = PortfolioDefaults {
        account: None,
        currency: Asset::new("USDC"),
        equity: Some(1e6),
    };
    let portfolio =
        parse_portfolio_csv(&text, std::path::Path::new("usdc.csv"), &defaults).unwrap();
    let extra: Vec<_> = portfolio.positions.iter().map(|p| p.instrument).collect();
    let matrix = RiskMatrix::new(market.clone(), model.clone(), &extra).unwrap();
    let book = margin_opt::joint::OwnedBook::of(&matrix, &portfolio, &[]).unwrap();
    let positions = matrix.universe().positions(&portfolio).unwrap();
    let im = matrix.with_arrays(|arrays| {
        let owned = OwnedAccount::new(arrays, portfolio.currency, 1e6, positions).unwrap();
        let acct = owned.get();
        let mut scratch = vec![0.0; acct.scratch_len(arrays)];
        margin_core::account::margin(arrays, model, &acct, &mut scratch)
            .unwrap()
            .initial
    });
    (book, market, im)
}

fn run_grid(
    book: &margin_opt::joint::OwnedBook,
    market: &margin_core::io::MarketData,
    model: &Model,
    closes: &[f64],
    reference: f64,
    horizon: Option<usize>,
) -> Result<portfolio::Report, BacktestError> {
    let coins = [Asset::new("BTC").unwrap()];
    let d = dates(closes.len());
    let history = History {
        closes: Closes {
            coins: &coins,
            closes,
        },
        dates: &d,
        reference: &[reference],
    };
    let params = Params {
        window: 250,
        from: None,
        to: None,
        p: 0.01,
        horizon_days: horizon,
    };
    let engine = Engine::Grid {
        model,
        market,
        currency: Asset::new("USDC").unwrap(),
    };
    portfolio::run(&book.book(), 1e6, &engine, &history, &params)
}

#[test]
fn a_grid_margin_on_the_snapshot_level_is_the_snapshot_margin() {
    // On the day whose close is the reference level the translation is the identity: the day's
    // margin is the account's margin on the chain itself (through the chain's full universe).
    let closes = btc()[..600].to_vec();
    let star = 420;
    for name in ["span16", "deribit-btc", "grid"] {
        let model = Model::preset(name).unwrap();
        let (book, market, im) = usdc_account(true, &model);
        let r = run_grid(&book, &market, &model, &closes, closes[star], None).unwrap();
        assert_eq!(r.horizon_days, 1);
        // No window: every day from the first close with a realised next day.
        assert_eq!(r.days.len(), closes.len() - 1);
        let day = &r.days[star];
        assert_eq!(day.index, star);
        assert!(day.var.is_none());
        assert!(
            (day.margin - im).abs() <= 1e-9 * im,
            "{name}: {} {im}",
            day.margin
        );
    }
}

#[test]
fn a_linear_perpetual_grid_margin_scales_with_the_level() {
    // SPAN's price scan range is relative: the margin of a linear position is proportional to
    // the price level, so margin / close is the same every day; the realised 3-day loss is
    // 2·(F0/S0)·(close_{d+3} − close_d) from the raw CSV.
    let closes = btc()[..500].to_vec();
    let model = Model::preset("span16").unwrap();
    let (book, market, _) = usdc_account(false, &model);
    let s0 = market
        .underlying(Asset::new("BTC").unwrap())
        .unwrap()
        .index_price;
    let f0 = book.inputs[0].forward;
    let r = run_grid(&book, &market, &model, &closes, s0, Some(3)).unwrap();
    assert_eq!(r.days.len(), closes.len() - 3);
    let unit = r.days[0].margin / closes[0];
    assert!(unit > 0.0);
    for day in &r.days {
        let d = day.index;
        assert!((day.margin / closes[d] - unit).abs() <= 1e-12 * unit, "{d}");
        let loss = 2.0 * f0 / s0 * (closes[d + 3] - closes[d]);
        assert!((day.loss - loss).abs() <= 1e-9 * loss.abs().max(1.0), "{d}");
    }
    // A statistical model is not a grid, and a grid's horizon is bounded.
    let hs = Model::preset("hs-es").unwrap();
    assert!(matches!(
        run_grid(&book, &market, &hs, &closes, s0, None),
        Err(BacktestError::Input(_))
    ));
    assert!(run_grid(&book, &market, &model, &closes, s0, Some(0)).is_err());
}
