//! Risk arrays for a whole market, built once and shared by every account of a run.
//!
//! The core's [`RiskArrays`] borrow caller storage; this module owns it. A [`Universe`] is the
//! list of instruments a market can price under one model — every instrument the market file
//! lists, plus for each coin its inverse perpetual and an inverse future per forward expiry
//! (a Deribit chain CSV lists only options, yet a perpetual hedge must be margined), plus any
//! extra instruments the caller asks for — sorted by [`instrument_order`] so an instrument's
//! row is found by binary search. Instruments the market cannot price (expired, no vol) are
//! left out and remembered with the reason, so a portfolio holding one gets a precise error.
//!
//! ```
//! # use margin_core::io::{MarketData, engine::{Universe, RiskBuffers}};
//! # use margin_core::model::Model;
//! # fn demo(market: &MarketData) -> Result<(), Box<dyn std::error::Error>> {
//! let views = market.views();
//! let snapshot = market.snapshot(&views)?;
//! let universe = Universe::new(market, &snapshot, Model::preset("deribit-btc")?, &[])?;
//! let mut buffers = RiskBuffers::new(&universe);
//! let arrays = universe.build(snapshot, &mut buffers)?;
//! # let _ = arrays; Ok(()) }
//! ```

use super::market::{MarketData, instrument_order};
use super::portfolio::Portfolio;
use crate::instrument::{Asset, Instrument, Kind, Settlement};
use crate::market::{MarketSnapshot, PricingInputs};
use crate::model::{Model, Scenarios};
use crate::pricing::{self, Valuation};
use crate::risk::{InstrumentError, Position, RiskArrays, RiskStorage};
use crate::scenario::{UnderlyingGrid, UnderlyingGrids};
use crate::time::Timestamp;
use std::fmt;

/// Why an instrument has no row in the risk arrays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unpriced {
    /// It expired at or before the valuation time.
    Expired {
        /// Its expiry.
        expiry: Timestamp,
        /// The market's valuation time.
        valuation_time: Timestamp,
    },
    /// The market has no data for its underlying.
    NoUnderlying,
    /// The market neither lists it nor can price it from its forwards (an option the market
    /// gives no vol for, a future without a forward, a linear product not listed).
    NotListed,
    /// The market lists it but the core cannot price it.
    Rejected(crate::Error),
}

/// An instrument the risk arrays cannot hold, with the reason.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnpricedInstrument {
    /// The instrument.
    pub instrument: Instrument,
    /// Why it has no row.
    pub reason: Unpriced,
}

impl fmt::Display for UnpricedInstrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.instrument;
        match self.reason {
            Unpriced::Expired {
                expiry,
                valuation_time,
            } => write!(
                f,
                "{i} expired at {expiry}, before the market's valuation time {valuation_time}"
            ),
            Unpriced::NoUnderlying => {
                write!(f, "{i}: the market has no data for {}", i.underlying)
            }
            Unpriced::NotListed => write!(
                f,
                "{i} is not in the market (expected an instrument the market lists or a \
                 perpetual/future it has a forward for)"
            ),
            Unpriced::Rejected(
                e @ (crate::Error::MissingVol { .. } | crate::Error::MissingForward { .. }),
            ) => write!(f, "{i} is not in the market ({e})"),
            Unpriced::Rejected(e) => write!(f, "{i} cannot be priced: {e}"),
        }
    }
}

impl std::error::Error for UnpricedInstrument {}

/// A portfolio position that cannot be margined against the universe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionError {
    /// Index of the position in the portfolio.
    pub index: usize,
    /// The instrument and why it has no row.
    pub unpriced: UnpricedInstrument,
}

impl fmt::Display for PositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "positions[{}]: {}", self.index, self.unpriced)
    }
}

impl std::error::Error for PositionError {}

/// The instruments a market can price under one model, in row order, and the model's
/// scenarios.
#[derive(Debug, Clone)]
pub struct Universe {
    model: Model,
    scenarios: Scenarios,
    grids: UnderlyingGrids,
    instruments: Vec<Instrument>,
    /// `(key, row)` sorted by key: the lookup table (integer compares, no floats).
    index: Vec<(RowKey, usize)>,
    unpriced: Vec<UnpricedInstrument>,
    underlyings: Vec<Asset>,
    valuation_time: Timestamp,
}

/// Every instrument `market` lists, plus for each coin its inverse perpetual and an inverse
/// future per forward expiry (a Deribit chain CSV lists only options, yet a perpetual hedge must
/// be margined); sorted by [`instrument_order`], without duplicates.
pub fn tradable(market: &MarketData) -> Vec<Instrument> {
    let mut out: Vec<Instrument> = market.instruments.iter().map(|q| q.instrument).collect();
    for u in &market.underlyings {
        let inverse = |kind| Instrument {
            underlying: u.asset,
            settlement: Settlement::Inverse,
            kind,
        };
        out.push(inverse(Kind::Perpetual));
        out.extend(
            u.forwards
                .iter()
                .map(|f| inverse(Kind::Future { expiry: f.expiry })),
        );
    }
    out.sort_by(instrument_order);
    out.dedup();
    out
}

impl Universe {
    /// The universe of `market` (see the module docs) plus `extra`, under `model`. Fails only
    /// when the model's parameters are invalid.
    pub fn new(
        market: &MarketData,
        snapshot: &MarketSnapshot<'_>,
        model: Model,
        extra: &[Instrument],
    ) -> Result<Universe, crate::Error> {
        let scenarios = model.scenarios()?;
        let grids = model.underlying_grids()?;
        let mut candidates = tradable(market);
        candidates.extend_from_slice(extra);
        candidates.sort_by(instrument_order);
        candidates.dedup();
        let mut instruments = Vec::with_capacity(candidates.len());
        let mut unpriced = Vec::new();
        for i in candidates {
            let priced = snapshot
                .inputs(&i)
                .and_then(|inputs| pricing::valuation(&i, &inputs));
            match priced {
                Ok(_) => instruments.push(i),
                Err(e) => unpriced.push(UnpricedInstrument {
                    instrument: i,
                    reason: match e {
                        crate::Error::Expired { expiry_ms } => Unpriced::Expired {
                            expiry: Timestamp(expiry_ms),
                            valuation_time: snapshot.valuation_time(),
                        },
                        crate::Error::UnknownUnderlying => Unpriced::NoUnderlying,
                        e => Unpriced::Rejected(e),
                    },
                }),
            }
        }
        Ok(Universe {
            model,
            scenarios,
            grids,
            index: row_index(&instruments),
            instruments,
            unpriced,
            underlyings: market.underlyings.iter().map(|u| u.asset).collect(),
            valuation_time: snapshot.valuation_time(),
        })
    }

    /// The universe of exactly `instruments`, in the given row order, under `model`: the rows
    /// of a caller's list (the C ABI's `margin_engine_new` with instruments). Fails on an
    /// instrument listed twice ([`crate::Error::Duplicate`] naming the later index) or invalid
    /// model parameters. Pricing is not checked here: building the arrays names an instrument
    /// the market cannot price. An instrument not in the list has no row, and
    /// [`Universe::find`] gives the reason the market would.
    pub fn listed(
        market: &MarketData,
        model: Model,
        instruments: Vec<Instrument>,
    ) -> Result<Universe, crate::Error> {
        let index = row_index(&instruments);
        if let Some(w) = index.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(crate::Error::Duplicate {
                what: "instruments",
                index: w[1].1,
            });
        }
        Ok(Universe {
            scenarios: model.scenarios()?,
            grids: model.underlying_grids()?,
            model,
            instruments,
            index,
            unpriced: Vec::new(),
            underlyings: market.underlyings.iter().map(|u| u.asset).collect(),
            valuation_time: market.valuation_time,
        })
    }

    /// The model the scenarios come from.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The instruments, in row order.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// Instruments the market names (or the caller asked for) that it cannot price.
    pub fn unpriced(&self) -> &[UnpricedInstrument] {
        &self.unpriced
    }

    /// The model's scenarios, in column order.
    pub(crate) fn scenarios(&self) -> &Scenarios {
        &self.scenarios
    }

    /// The model's underlying grids (empty without scan ranges).
    pub(crate) fn grids(&self) -> &[UnderlyingGrid] {
        &self.grids
    }

    /// Number of scenarios per row.
    pub fn scenario_count(&self) -> usize {
        self.scenarios.len()
    }

    /// Prices every instrument into `buffers` (from [`RiskBuffers::new`] on this universe).
    pub fn build<'a>(
        &'a self,
        snapshot: MarketSnapshot<'a>,
        buffers: &'a mut RiskBuffers,
    ) -> Result<RiskArrays<'a>, InstrumentError> {
        let set = self
            .model
            .scenario_set(&self.scenarios, &self.grids)
            .map_err(|error| InstrumentError {
                index: self.instruments.len(),
                error,
            })?;
        let storage = RiskStorage {
            inputs: &mut buffers.inputs,
            valuations: &mut buffers.valuations,
            pnl: &mut buffers.pnl,
        };
        RiskArrays::build(snapshot, set, &self.instruments, storage)
    }

    /// Row of `instrument`, or why it has none.
    pub fn find(&self, instrument: &Instrument) -> Result<usize, UnpricedInstrument> {
        let key = RowKey::of(instrument);
        if let Ok(k) = self.index.binary_search_by(|(k, _)| k.cmp(&key)) {
            return Ok(self.index[k].1);
        }
        if let Some(u) = self.unpriced.iter().find(|u| u.instrument == *instrument) {
            return Err(*u);
        }
        let reason = match instrument.expiry() {
            Some(expiry) if expiry <= self.valuation_time => Unpriced::Expired {
                expiry,
                valuation_time: self.valuation_time,
            },
            _ if !self.underlyings.contains(&instrument.underlying) => Unpriced::NoUnderlying,
            _ => Unpriced::NotListed,
        };
        Err(UnpricedInstrument {
            instrument: *instrument,
            reason,
        })
    }

    /// The portfolio's positions as rows of the risk arrays, in portfolio order.
    pub fn positions(&self, portfolio: &Portfolio) -> Result<Vec<Position>, PositionError> {
        portfolio
            .positions
            .iter()
            .enumerate()
            .map(|(index, p)| {
                self.find(&p.instrument)
                    .map(|row| Position {
                        instrument: row,
                        size: p.size,
                    })
                    .map_err(|unpriced| PositionError { index, unpriced })
            })
            .collect()
    }
}

/// `(key, row)` of every instrument, sorted by key (equal keys by row).
fn row_index(instruments: &[Instrument]) -> Vec<(RowKey, usize)> {
    let mut index: Vec<(RowKey, usize)> = instruments
        .iter()
        .enumerate()
        .map(|(row, i)| (RowKey::of(i), row))
        .collect();
    index.sort_unstable();
    index
}

/// An instrument as integers, for a fast exact lookup. Strikes are positive, so the bits
/// of the `f64` order like the values; equal keys mean equal instruments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RowKey {
    underlying: Asset,
    settlement: Settlement,
    kind: u8,
    expiry: i64,
    strike: u64,
    right: u8,
}

impl RowKey {
    fn of(i: &Instrument) -> RowKey {
        let (kind, expiry, strike, right) = match i.kind {
            Kind::Spot => (0, 0, 0, 0),
            Kind::Perpetual => (1, 0, 0, 0),
            Kind::Future { expiry } => (2, expiry.0, 0, 0),
            Kind::Option {
                expiry,
                strike,
                right,
            } => (3, expiry.0, strike.to_bits(), 1 + right as u8),
        };
        RowKey {
            underlying: i.underlying,
            settlement: i.settlement,
            kind,
            expiry,
            strike,
            right,
        }
    }
}

/// Owned storage for the risk arrays of one [`Universe`].
#[derive(Debug, Clone)]
pub struct RiskBuffers {
    inputs: Vec<PricingInputs>,
    valuations: Vec<Valuation>,
    pnl: Vec<f64>,
}

impl RiskBuffers {
    /// Zeroed storage sized for `universe`.
    pub fn new(universe: &Universe) -> RiskBuffers {
        let n = universe.instruments.len();
        RiskBuffers {
            inputs: vec![PricingInputs::ZERO; n],
            valuations: vec![Valuation::ZERO; n],
            pnl: vec![0.0; n * universe.scenario_count()],
        }
    }
}

/// The name every output format uses for a status: `healthy`, `margin_call`, `liquidation`.
pub fn status_name(status: crate::account::Status) -> &'static str {
    use crate::account::Status;
    match status {
        Status::Healthy => "healthy",
        Status::MarginCall => "margin_call",
        Status::Liquidation => "liquidation",
    }
}

/// The name every output format uses for a scenario kind: `standard` or `extended`.
pub fn scenario_kind_name(kind: crate::scenario::ScenarioKind) -> &'static str {
    match kind {
        crate::scenario::ScenarioKind::Standard => "standard",
        crate::scenario::ScenarioKind::Extended => "extended",
    }
}

/// Why an account could not be margined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AccountError {
    /// A position's instrument has no row in the risk arrays.
    Position(PositionError),
    /// The core rejected the account; `instrument` is the offending position's, when the
    /// error names one.
    Core {
        /// The position's instrument, if the error is about one position.
        instrument: Option<Instrument>,
        /// The account currency (for currency mismatches).
        currency: Asset,
        /// The core's error.
        error: crate::Error,
    },
}

impl fmt::Display for AccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountError::Position(e) => e.fmt(f),
            AccountError::Core {
                instrument: Some(i),
                currency,
                error: error @ crate::Error::CurrencyMismatch { .. },
            } => write!(f, "{error} ({i}; account currency {currency})"),
            AccountError::Core {
                instrument: Some(i),
                error,
                ..
            } => write!(f, "{error} ({i})"),
            AccountError::Core { error, .. } => error.fmt(f),
        }
    }
}

impl std::error::Error for AccountError {}

impl AccountError {
    /// Wraps a core error about `portfolio`, naming the position's instrument when it has one.
    pub fn core(portfolio: &Portfolio, error: crate::Error) -> AccountError {
        let index = match error {
            crate::Error::SizeOutOfRange { index, .. }
            | crate::Error::UnknownInstrument { index }
            | crate::Error::CurrencyMismatch { index }
            | crate::Error::Duplicate { index, .. } => Some(index),
            _ => None,
        };
        AccountError::Core {
            instrument: index
                .and_then(|i| portfolio.positions.get(i))
                .map(|p| p.instrument),
            currency: portfolio.currency,
            error,
        }
    }
}

/// `margin` if every number a client writes — IM, MM, equity, margin ratio, free collateral,
/// worst loss and every line item — is finite; else [`crate::Error::Overflow`] naming the
/// first that is not. The check every output path (CLI text and JSON, batch lines, C ABI)
/// applies before reporting a result, so a non-finite margin is never a success.
pub fn finite_margin(
    margin: &crate::account::Margin,
) -> Result<&crate::account::Margin, crate::Error> {
    let fields = [
        ("initial margin", margin.initial),
        ("maintenance margin", margin.maintenance),
        ("equity", margin.equity),
        ("margin ratio", margin.margin_ratio.unwrap_or(0.0)),
        ("free collateral", margin.free_collateral),
        ("worst scenario loss", margin.worst.loss),
    ];
    let items = margin.components.iter().map(|c| (c.name, c.value));
    match fields
        .into_iter()
        .chain(items)
        .find(|(_, x)| !x.is_finite())
    {
        Some((what, _)) => Err(crate::Error::Overflow { what }),
        None => Ok(margin),
    }
}

/// Margins one portfolio against built arrays: rows looked up into `positions`, account
/// validated, margin computed with `scratch` (grown as needed). Returns the validated account
/// (borrowing `positions`) and its margin, so callers never validate or margin twice; `scratch`
/// then holds what [`crate::account::margin`] leaves there (read by `what_if`, `counted_pnl`).
pub fn margin_portfolio<'p>(
    universe: &Universe,
    arrays: &RiskArrays<'_>,
    portfolio: &Portfolio,
    positions: &'p mut Vec<Position>,
    scratch: &mut Vec<f64>,
) -> Result<(crate::account::Account<'p>, crate::account::Margin), AccountError> {
    *positions = universe
        .positions(portfolio)
        .map_err(AccountError::Position)?;
    margin_positions(
        arrays,
        universe.model(),
        portfolio.currency,
        portfolio.equity,
        positions,
        scratch,
    )
    .map_err(|e| AccountError::core(portfolio, e))
}

/// Margins one account given as rows of `arrays`: the validated account and its margin,
/// computed with `scratch` (grown as needed, so a reused `scratch` stops allocating).
pub fn margin_positions<'p>(
    arrays: &RiskArrays<'_>,
    model: &Model,
    currency: Asset,
    equity: f64,
    positions: &'p [Position],
    scratch: &mut Vec<f64>,
) -> Result<(crate::account::Account<'p>, crate::account::Margin), crate::Error> {
    let account = crate::account::Account::new(arrays, currency, equity, positions)?;
    let need = account.scratch_len(arrays);
    if scratch.len() < need {
        scratch.resize(need, 0.0);
    }
    let margin = crate::account::margin(arrays, model, &account, scratch)?;
    Ok((account, margin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::parse_market_json;
    use std::path::Path;

    const MARKET: &str = r#"{
      "valuation_time": "2026-08-22T15:33:51Z",
      "underlyings": {"BTC": {"index_price": 77000, "forwards": {"2026-09-25T08:00:00Z": 77400}}},
      "instruments": {"BTC-25SEP26-80000-C": {"mark_iv": 0.4}}
    }"#;

    #[test]
    fn universe_adds_perpetual_and_futures_and_explains_missing_rows() {
        let market = parse_market_json(MARKET, Path::new("m.json")).unwrap();
        let views = market.views();
        let snap = market.snapshot(&views).unwrap();
        let extra = [
            Instrument::parse("BTC-21AUG26-80000-C").unwrap(),
            Instrument::parse("BTC-25SEP26-90000-C").unwrap(),
        ];
        let model = Model::preset("deribit-btc").unwrap();
        let u = Universe::new(&market, &snap, model, &extra).unwrap();
        let names: Vec<String> = u.instruments().iter().map(|i| i.to_string()).collect();
        assert_eq!(
            names,
            ["BTC-PERPETUAL", "BTC-25SEP26", "BTC-25SEP26-80000-C"]
        );
        for (row, i) in u.instruments().iter().enumerate() {
            assert_eq!(u.find(i), Ok(row));
        }
        let expired = u.find(&extra[0]).unwrap_err();
        assert!(
            matches!(expired.reason, Unpriced::Expired { .. }),
            "{expired}"
        );
        let no_vol = u.find(&extra[1]).unwrap_err();
        assert!(matches!(
            no_vol.reason,
            Unpriced::Rejected(crate::Error::MissingVol { .. })
        ));
        let eth = Instrument::parse("ETH-PERPETUAL").unwrap();
        assert_eq!(u.find(&eth).unwrap_err().reason, Unpriced::NoUnderlying);
        let linear = Instrument::parse("BTC_USDC-PERPETUAL").unwrap();
        assert_eq!(u.find(&linear).unwrap_err().reason, Unpriced::NotListed);

        // Rows equal the core's own arrays built over the same instruments, bit for bit.
        let mut buffers = RiskBuffers::new(&u);
        let arrays = u.build(snap, &mut buffers).unwrap();
        let model = Model::preset("deribit-btc").unwrap();
        let scenarios = model.scenarios().unwrap();
        let grids = model.underlying_grids().unwrap();
        let set = model.scenario_set(&scenarios, &grids).unwrap();
        let names = ["BTC-PERPETUAL", "BTC-25SEP26", "BTC-25SEP26-80000-C"];
        let own: Vec<Instrument> = names
            .iter()
            .map(|s| Instrument::parse(s).unwrap())
            .collect();
        let mut core = RiskBuffers::new(&u);
        let storage = RiskStorage {
            inputs: &mut core.inputs,
            valuations: &mut core.valuations,
            pnl: &mut core.pnl,
        };
        let expected = RiskArrays::build(snap, set, &own, storage).unwrap();
        assert_eq!(arrays.scenarios().len(), expected.scenarios().len());
        for (row, i) in own.iter().enumerate() {
            let bits = |r: &[f64]| r.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(arrays.row(row)), bits(expected.row(row)), "{i}");
        }
        // And one cell by closed form.
        let perp = arrays.row(0);
        // Inverse perpetual at a +16 % move (scenario 24..27 are +16 %): 1 − 1/1.16 coin.
        let s = &arrays.scenarios().scenarios()[24];
        assert_eq!(s.price_move, 0.16);
        assert!((perp[24] - (1.0 - 1.0 / 1.16)).abs() < 1e-15);
    }
}
