//! Golden tests against published worked examples (methodologies.md §9), each citing its
//! source. Standard margin: §9.3 (Deribit linear perpetuals) and §9.4 (Bit.com short put);
//! scenario grid: §9.10 (Dederi futures grid).

mod synthetic;

use margin_core::market::{Forward, MarketSnapshot, UnderlyingMarket};
use margin_core::model::{Family, Grid, GridParams, Model};
use margin_core::risk::{self, Position};
use margin_core::standard::{
    self, DERIBIT_BTC_DELTA_ONE, DERIBIT_OPTION_RATES, DERIBIT_SOL_USDC_DELTA_ONE, Requirement,
};
use margin_core::{Asset, Instrument, Right, Timestamp};
use synthetic::close;

fn assert_req(got: Requirement, initial: f64, maintenance: f64) {
    assert!(
        close(got.initial, initial, 1e-12, 0.0),
        "IM {got:?} vs {initial}"
    );
    assert!(
        close(got.maintenance, maintenance, 1e-12, 0.0),
        "MM {got:?} vs {maintenance}"
    );
}

/// §9.4, https://hc.bitexch.dev/en/articles/9771460-margin-rules-for-usdt-margined-options :
/// ETH-USDT-17NOV23-1850-P, underlying 2098, mark 2.4 → IM 212.2, MM 159.75; 50 contracts
/// IM 10 610, MM 7 987.5 (same formula as Deribit SM, §1.6).
#[test]
fn bitcom_short_put_standard_margin() {
    let one =
        standard::short_option(Right::Put, 2098.0, 1850.0, 2.4, &DERIBIT_OPTION_RATES).unwrap();
    assert_req(one, 212.2, 159.75);
    assert_req(one.times(50.0), 10_610.0, 7_987.5);
    // The coin form (underlying 1, strike and mark as fractions of it) is the same requirement
    // divided by the underlying price.
    let coin = standard::short_option(
        Right::Put,
        1.0,
        1850.0 / 2098.0,
        2.4 / 2098.0,
        &DERIBIT_OPTION_RATES,
    )
    .unwrap();
    assert_req(coin, 212.2 / 2098.0, 159.75 / 2098.0);
}

/// §1.6 call branch by hand: a call 30 % out of the money hits the 10 % floor; at the money
/// it pays the full 15 %; MM is 7.5 % + mark either way.
#[test]
fn short_call_standard_margin_floor_and_full_rate() {
    let far =
        standard::short_option(Right::Call, 100.0, 130.0, 1.0, &DERIBIT_OPTION_RATES).unwrap();
    assert_req(far, 10.0 + 1.0, 7.5 + 1.0);
    let atm =
        standard::short_option(Right::Call, 100.0, 100.0, 5.0, &DERIBIT_OPTION_RATES).unwrap();
    assert_req(atm, 15.0 + 5.0, 7.5 + 5.0);
    assert!(
        standard::short_option(Right::Call, 100.0, 100.0, -1.0, &DERIBIT_OPTION_RATES).is_err()
    );
    assert!(standard::short_option(Right::Put, 0.0, 100.0, 1.0, &DERIBIT_OPTION_RATES).is_err());
}

/// §9.3, https://support.deribit.com/hc/en-us/articles/25944738177565-Linear-Perpetual :
/// BTC_USDC at $100 000, 25 BTC → IM 0.53125 BTC = 53 125 USDC, MM 0.28125 BTC = 28 125 USDC;
/// 350 BTC → IM 13.125 BTC = 1 312 500 USDC (MM 9.625 BTC by the formula). SOL_USDC at $200,
/// 25 SOL → IM 1.003125 SOL = 200.625 USDC, MM 0.503125 SOL = 100.625 USDC; 6 000 SOL → IM
/// 420 SOL = 84 000 USDC.
#[test]
fn deribit_linear_perpetual_standard_margin() {
    let btc25 = standard::delta_one(25.0, &DERIBIT_BTC_DELTA_ONE).unwrap();
    assert_req(btc25, 0.53125, 0.28125);
    assert_req(btc25.times(100_000.0), 53_125.0, 28_125.0);
    let btc350 = standard::delta_one(-350.0, &DERIBIT_BTC_DELTA_ONE).unwrap();
    assert_req(btc350, 13.125, 9.625);
    assert!(close(btc350.initial * 100_000.0, 1_312_500.0, 1e-12, 0.0));
    let sol25 = standard::delta_one(25.0, &DERIBIT_SOL_USDC_DELTA_ONE).unwrap();
    assert_req(sol25, 1.003125, 0.503125);
    assert_req(sol25.times(200.0), 200.625, 100.625);
    let sol6000 = standard::delta_one(6_000.0, &DERIBIT_SOL_USDC_DELTA_ONE).unwrap();
    assert!(close(sol6000.initial, 420.0, 1e-12, 0.0));
    assert!(close(sol6000.initial * 200.0, 84_000.0, 1e-12, 0.0));
    assert!(standard::delta_one(f64::NAN, &DERIBIT_BTC_DELTA_ONE).is_err());
}

/// §9.10, https://wiki.dederi.io/RiskControlRules/portfolio_margin : 10 long ETH-10JAN24,
/// I0 = 2243.3, annualised basis 0.08, 20 days → F0 = 2243.3·e^(0.08·20/365) = 2253.2; P&L at
/// −15 … +15 % in 3 % steps: −3380, −2704, −2028, −1352, −676, 0, 676, 1352, 2028, 2704, 3380
/// (published to the unit). Run through a generic grid (no vol states) on a linear future.
#[test]
fn dederi_futures_grid() {
    const PUBLISHED: [f64; 11] = [
        -3380.0, -2704.0, -2028.0, -1352.0, -676.0, 0.0, 676.0, 1352.0, 2028.0, 2704.0, 3380.0,
    ];
    let expiry = Timestamp::from_civil(2024, 1, 10, 8).unwrap();
    let now = Timestamp(expiry.0 - 20 * 86_400_000);
    let index = 2243.3;
    let f0 = index * libm::exp(0.08 * 20.0 / 365.0);
    assert_eq!(libm::round(f0 * 10.0) / 10.0, 2253.2);
    // Leaked like the shared fixture so the arrays are 'static.
    let forwards: &'static [Forward] = Box::leak(Box::new([Forward { expiry, price: f0 }]));
    let eth: &'static [UnderlyingMarket<'static>] = Box::leak(Box::new([UnderlyingMarket {
        asset: Asset::new("ETH").unwrap(),
        index_price: index,
        perpetual_price: index,
        rate: 0.0,
        forwards,
        vols: &[],
    }]));
    let market = MarketSnapshot::new(now, eth).unwrap();

    let mut price_moves = heapless::Vec::new();
    for k in -5..=5 {
        price_moves.push((0.03 * k as f64, 1.0)).unwrap();
    }
    let model = Model {
        name: "dederi-futures",
        version: "2024-01",
        modified: true,
        family: Family::Grid(Grid {
            price_moves,
            params: GridParams {
                volatility_range_up: 0.0,
                volatility_range_down: 0.0,
                min_volatility_for_shock_up: 0.0,
                short_term_vega_power: 0.3,
                long_term_vega_power: 0.13,
                delta_minimum_net: 0.0,
                delta_minimum_hedged: 0.0,
                mm_factor: 1.0,
            },
        }),
        scan_ranges: Default::default(),
    };
    let instruments = [Instrument::parse("ETH_USDC-10JAN24").unwrap()];
    let arrays = synthetic::arrays_on(market, &model, Box::leak(Box::new(instruments)));
    assert_eq!(arrays.scenarios().len(), 11);
    let mut pnl = [0.0; 11];
    risk::portfolio_pnl(
        &arrays,
        &[Position {
            instrument: 0,
            size: 10.0,
        }],
        &mut pnl,
    )
    .unwrap();
    for (k, (got, want)) in pnl.iter().zip(PUBLISHED).enumerate() {
        assert_eq!(libm::round(*got), want, "move {k}: {got}");
        // Unrounded: the linear closed form 10·F0·x.
        let x = 0.03 * (k as f64 - 5.0);
        assert!(close(*got, 10.0 * f0 * x, 1e-12, 1e-9), "move {k}");
    }
}
