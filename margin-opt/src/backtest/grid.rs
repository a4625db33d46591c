//! Grid presets (`deribit-btc`, `deribit-eth`, `span16`, `grid`, or a model file on one) in a
//! portfolio backtest: the day's margin is the preset's initial margin of the account on the
//! snapshot translated to that day's level ([`translate_market`]), exactly as `margin compute`
//! would margin it on that market.
//!
//! A grid has no history: its scan ranges are the preset's, so a day's margin depends on the
//! price level only (and, for coin-settled options under the translation, not even on that).

use margin_core::account::{self, Margin};
use margin_core::instrument::{Asset, Kind};
use margin_core::io::MarketData;
use margin_core::io::matrix::{BuildError, OwnedAccount, RiskMatrix};
use margin_core::model::Model;
use margin_core::risk::Position;
use margin_core::{Error, Instrument};

use crate::var::VarError;

/// `market` translated to price levels `ratio` (one per coin of `coins`): the index,
/// perpetual mark, every forward and every strike (of the vol quotes and of the listed
/// options) multiplied by its coin's ratio; valuation time, vols and rates unchanged. Coins of
/// the market not in `coins` stay as they are.
pub fn translate_market(market: &MarketData, coins: &[Asset], ratio: &[f64]) -> MarketData {
    let r = |coin: Asset| {
        coins
            .iter()
            .position(|&c| c == coin)
            .map_or(1.0, |c| ratio[c])
    };
    let mut out = market.clone();
    for u in &mut out.underlyings {
        let k = r(u.asset);
        u.index_price *= k;
        u.perpetual_price *= k;
        for f in &mut u.forwards {
            f.price *= k;
        }
        for v in &mut u.vols {
            v.strike *= k;
        }
    }
    for q in &mut out.instruments {
        let k = r(q.instrument.underlying);
        if let Kind::Option { strike, .. } = &mut q.instrument.kind {
            *strike *= k;
        }
    }
    out
}

/// The grid margin of the account (`instruments` with `sizes`, already translated) in
/// `currency` with `equity`, under `model` on `market` (translated). Errors name the
/// position (its index) that cannot be priced, or the core error.
pub fn margin(
    market: MarketData,
    model: &Model,
    instruments: &[Instrument],
    sizes: &[f64],
    currency: Asset,
    equity: f64,
) -> Result<Margin, VarError> {
    let matrix =
        RiskMatrix::listed(market, model.clone(), instruments.to_vec()).map_err(|e| match e {
            BuildError::Core(e) => VarError::Input(e),
            BuildError::Instrument(e) => VarError::Position(e),
        })?;
    let positions: Vec<Position> = sizes
        .iter()
        .enumerate()
        .map(|(instrument, &size)| Position { instrument, size })
        .collect();
    matrix
        .with_arrays(|arrays| {
            let owned = OwnedAccount::new(arrays, currency, equity, positions)?;
            let acct = owned.get();
            let mut scratch = vec![0.0; acct.scratch_len(arrays)];
            let m = account::margin(arrays, model, &acct, &mut scratch)?;
            Ok::<_, Error>(m)
        })
        .map_err(VarError::Input)
}
