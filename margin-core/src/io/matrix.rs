//! The owned risk matrix: one market, one model, its scenarios, the instruments with their
//! lookup index, and every number the risk arrays hold, in one value that owns them all.
//!
//! The core's [`RiskArrays`] borrow caller storage, which keeps `no_std` builds
//! allocation-free. A client that needs the arrays to live on their own (a C handle, a batch
//! run, the optimizer) holds a [`RiskMatrix`] instead and borrows views from it on demand: no
//! view is ever stored inside it, so it needs no `unsafe` and moves freely.
//!
//! * [`RiskMatrix::new`] takes the [`Universe`] of the market (every instrument it can price,
//!   plus extras); [`RiskMatrix::listed`] takes a caller's list in its order.
//! * [`RiskMatrix::find`] is the one instrument-to-row lookup (a binary search over integer
//!   keys) every client uses; a miss says why the instrument has no row.
//! * [`RiskMatrix::views`] borrows the market views, and [`MatrixViews::arrays`] the arrays
//!   over them; [`RiskMatrix::with_arrays`] does both for one call. Market and scenarios are
//!   validated once at construction and the data never changes afterwards, so a view is
//!   rebuilt per call without re-validating: O(underlyings), allocation-free for up to
//!   [`INLINE_UNDERLYINGS`] underlyings.
//! * [`OwnedAccount`] is a validated [`Account`] over positions it owns.
//!
//! ```
//! # use margin_core::io::{MarketData, matrix::RiskMatrix};
//! # use margin_core::model::Model;
//! # fn demo(market: MarketData) -> Result<(), Box<dyn std::error::Error>> {
//! let matrix = RiskMatrix::new(market, Model::preset("deribit-btc")?, &[])?;
//! let views = matrix.views();
//! let arrays = views.arrays();
//! # let _ = arrays; Ok(()) }
//! ```

use super::engine::{Universe, UnpricedInstrument};
use super::market::MarketData;
use crate::account::Account;
use crate::error::Error;
use crate::instrument::{Asset, Instrument};
use crate::market::{MarketSnapshot, PricingInputs, UnderlyingMarket};
use crate::model::Model;
use crate::pricing::Valuation;
use crate::risk::{InstrumentError, Position, RiskArrays, RiskStorage};
use crate::scenario::{ScenarioSet, TenorScaling};
use std::fmt;

/// Markets with at most this many underlyings get their views without allocating.
pub const INLINE_UNDERLYINGS: usize = 8;

/// Why a risk matrix could not be built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BuildError {
    /// The market or the model is invalid, or an instrument is listed twice.
    Core(Error),
    /// One instrument could not be priced (its row index).
    Instrument(InstrumentError),
}

impl From<Error> for BuildError {
    fn from(e: Error) -> Self {
        BuildError::Core(e)
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Core(e) => e.fmt(f),
            BuildError::Instrument(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BuildError {}

/// Risk arrays that own their market, model, scenarios, instruments and numbers. Immutable
/// once built (`Send + Sync`): one matrix serves any number of threads; rebuild it when
/// marks move.
///
/// ```
/// fn assert_shared<T: Send + Sync>() {}
/// assert_shared::<margin_core::io::matrix::RiskMatrix>();
/// ```
#[derive(Debug, Clone)]
pub struct RiskMatrix {
    market: MarketData,
    universe: Universe,
    tenor: TenorScaling,
    origin: Option<u64>,
    inputs: Vec<PricingInputs>,
    valuations: Vec<Valuation>,
    pnl: Vec<f64>,
}

impl RiskMatrix {
    /// The matrix over the [`Universe`] of `market` plus `extra` under `model`: every
    /// instrument the market can price, sorted; those it cannot get no row and
    /// [`RiskMatrix::find`] says why.
    pub fn new(
        market: MarketData,
        model: Model,
        extra: &[Instrument],
    ) -> Result<RiskMatrix, BuildError> {
        let universe = {
            let views = market.views();
            let snapshot = market.snapshot(&views)?;
            Universe::new(&market, &snapshot, model, extra)?
        };
        RiskMatrix::build(market, universe)
    }

    /// The matrix over exactly `instruments`, rows in the given order, under `model`. Fails
    /// on an instrument listed twice, an invalid market or model, or an instrument the market
    /// cannot price ([`BuildError::Instrument`] with its index in the list).
    pub fn listed(
        market: MarketData,
        model: Model,
        instruments: Vec<Instrument>,
    ) -> Result<RiskMatrix, BuildError> {
        let universe = Universe::listed(&market, model, instruments)?;
        RiskMatrix::build(market, universe)
    }

    /// The matrix over `universe`, which must have been made from `market` (by
    /// [`Universe::new`] or [`Universe::listed`]): validates the market and prices every row.
    pub fn from_universe(market: MarketData, universe: Universe) -> Result<RiskMatrix, BuildError> {
        RiskMatrix::build(market, universe)
    }

    /// Validates the market and the scenarios once and prices every row.
    fn build(market: MarketData, universe: Universe) -> Result<RiskMatrix, BuildError> {
        let (n, s) = (universe.instruments().len(), universe.scenario_count());
        let mut inputs = vec![PricingInputs::ZERO; n];
        let mut valuations = vec![Valuation::ZERO; n];
        let mut pnl = vec![0.0; n * s];
        let (tenor, origin) = {
            let views = market.views();
            let snapshot = market.snapshot(&views)?;
            let set = universe
                .model()
                .scenario_set(universe.scenarios(), universe.grids())?;
            let storage = RiskStorage {
                inputs: &mut inputs,
                valuations: &mut valuations,
                pnl: &mut pnl,
            };
            RiskArrays::build(snapshot, set, universe.instruments(), storage)
                .map_err(BuildError::Instrument)?;
            (*set.tenor(), set.origin())
        };
        Ok(RiskMatrix {
            market,
            universe,
            tenor,
            origin,
            inputs,
            valuations,
            pnl,
        })
    }

    /// The market the rows were priced from.
    pub fn market(&self) -> &MarketData {
        &self.market
    }

    /// The instruments, their lookup and the model.
    pub fn universe(&self) -> &Universe {
        &self.universe
    }

    /// The model the scenarios come from.
    pub fn model(&self) -> &Model {
        self.universe.model()
    }

    /// The instruments, in row order.
    pub fn instruments(&self) -> &[Instrument] {
        self.universe.instruments()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.universe.instruments().len()
    }

    /// True when the matrix has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of scenarios per row.
    pub fn scenario_count(&self) -> usize {
        self.universe.scenario_count()
    }

    /// Row of `instrument` (binary search), or why it has none.
    pub fn find(&self, instrument: &Instrument) -> Result<usize, UnpricedInstrument> {
        self.universe.find(instrument)
    }

    /// The market views the arrays borrow; [`MatrixViews::arrays`] gives the arrays.
    pub fn views(&self) -> MatrixViews<'_> {
        let underlyings = &self.market.underlyings;
        let markets = if underlyings.len() <= INLINE_UNDERLYINGS {
            let mut inline = heapless::Vec::new();
            for u in underlyings {
                // Cannot fail: at most `INLINE_UNDERLYINGS` entries.
                let _ = inline.push(u.view());
            }
            Markets::Inline(inline)
        } else {
            Markets::Heap(self.market.views())
        };
        MatrixViews {
            matrix: self,
            markets,
        }
    }

    /// Runs `f` on the arrays: [`RiskMatrix::views`] and [`MatrixViews::arrays`] for one call.
    pub fn with_arrays<R>(&self, f: impl FnOnce(&RiskArrays<'_>) -> R) -> R {
        let views = self.views();
        f(&views.arrays())
    }
}

/// The market views of a [`RiskMatrix`], from [`RiskMatrix::views`].
pub struct MatrixViews<'a> {
    matrix: &'a RiskMatrix,
    markets: Markets<'a>,
}

/// The views, inline (no allocation per call) unless the market has many underlyings.
#[allow(
    clippy::large_enum_variant,
    reason = "the inline variant is the point: a view per call without allocating"
)]
enum Markets<'a> {
    Inline(heapless::Vec<UnderlyingMarket<'a>, INLINE_UNDERLYINGS>),
    Heap(Vec<UnderlyingMarket<'a>>),
}

impl<'a> MatrixViews<'a> {
    /// The risk arrays of the matrix (O(1): nothing is validated or priced again).
    pub fn arrays(&self) -> RiskArrays<'_> {
        let m: &'a RiskMatrix = self.matrix;
        let markets: &[UnderlyingMarket<'a>] = match &self.markets {
            Markets::Inline(v) => v,
            Markets::Heap(v) => v,
        };
        // The matrix validated this market (same data, same order: `views` maps its
        // underlyings in order) and this model's scenarios when it was built, and owns both
        // immutably since.
        let snapshot = MarketSnapshot::validated(m.market.valuation_time, markets);
        let set = ScenarioSet::validated(
            m.universe.scenarios(),
            m.universe.grids(),
            m.tenor,
            m.origin,
        );
        RiskArrays::built(
            snapshot,
            set,
            m.universe.instruments(),
            &m.inputs,
            &m.valuations,
            &m.pnl,
        )
    }
}

/// A core [`Account`] over positions it owns, validated once. Immutable: a change builds a
/// new one, so a rejected change leaves the old account untouched.
#[derive(Debug, Clone)]
pub struct OwnedAccount {
    /// The validated account with its positions detached.
    account: Account<'static>,
    positions: Vec<Position>,
}

impl OwnedAccount {
    /// Validates the account with the core ([`Account::new`]).
    pub fn new(
        arrays: &RiskArrays<'_>,
        currency: Asset,
        equity: f64,
        positions: Vec<Position>,
    ) -> Result<OwnedAccount, Error> {
        let account = Account::new(arrays, currency, equity, &positions)?.rebind(&[]);
        Ok(OwnedAccount { account, positions })
    }

    /// The account, borrowing the positions (O(underlyings): nothing is validated again).
    pub fn get(&self) -> Account<'_> {
        self.account.rebind(&self.positions)
    }

    /// The positions, in the order given.
    pub fn positions(&self) -> &[Position] {
        &self.positions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::engine::RiskBuffers;
    use crate::io::parse_market_json;
    use std::path::Path;

    const MARKET: &str = r#"{
      "valuation_time": "2026-08-22T15:33:51Z",
      "underlyings": {"BTC": {"index_price": 77000, "forwards": {"2026-09-25T08:00:00Z": 77400}}},
      "instruments": {"BTC-25SEP26-80000-C": {"mark_iv": 0.4}}
    }"#;

    fn bits(r: &[f64]) -> Vec<u64> {
        r.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn matrix_equals_universe_arrays_bit_for_bit() {
        let market = parse_market_json(MARKET, Path::new("m.json")).unwrap();
        let model = Model::preset("deribit-btc").unwrap();
        let views = market.views();
        let snap = market.snapshot(&views).unwrap();
        let universe = Universe::new(&market, &snap, model.clone(), &[]).unwrap();
        let mut buffers = RiskBuffers::new(&universe);
        let expected = universe.build(snap, &mut buffers).unwrap();

        let matrix = RiskMatrix::new(market.clone(), model, &[]).unwrap();
        let views = matrix.views();
        let arrays = views.arrays();
        assert_eq!(arrays.instruments(), expected.instruments());
        assert_eq!(arrays.scenarios().origin(), expected.scenarios().origin());
        assert_eq!(arrays.scenarios().tenor(), expected.scenarios().tenor());
        assert_eq!(
            arrays.market().valuation_time(),
            expected.market().valuation_time()
        );
        for (row, i) in arrays.instruments().iter().enumerate() {
            assert_eq!(matrix.find(i), Ok(row));
            assert_eq!(bits(arrays.row(row)), bits(expected.row(row)), "{i}");
            assert_eq!(arrays.inputs(row), expected.inputs(row));
        }
    }

    #[test]
    fn listed_keeps_order_and_rejects_duplicates_and_unpriced() {
        let market = parse_market_json(MARKET, Path::new("m.json")).unwrap();
        let model = Model::preset("deribit-btc").unwrap();
        let list: Vec<Instrument> = ["BTC-25SEP26-80000-C", "BTC-PERPETUAL"]
            .iter()
            .map(|s| Instrument::parse(s).unwrap())
            .collect();
        let matrix = RiskMatrix::listed(market.clone(), model.clone(), list.clone()).unwrap();
        assert_eq!(matrix.instruments(), &list[..]);
        assert_eq!(matrix.find(&list[1]), Ok(1));
        assert!(
            matrix
                .find(&Instrument::parse("BTC-25SEP26").unwrap())
                .is_err()
        );

        let twice = vec![list[0], list[1], list[0]];
        assert_eq!(
            RiskMatrix::listed(market.clone(), model.clone(), twice).unwrap_err(),
            BuildError::Core(Error::Duplicate {
                what: "instruments",
                index: 2
            })
        );
        let no_vol = vec![list[1], Instrument::parse("BTC-25SEP26-90000-C").unwrap()];
        let e = RiskMatrix::listed(market, model, no_vol).unwrap_err();
        assert!(matches!(
            e,
            BuildError::Instrument(InstrumentError { index: 1, .. })
        ));
    }

    #[test]
    fn owned_account_rebinds_the_validated_account() {
        let market = parse_market_json(MARKET, Path::new("m.json")).unwrap();
        let matrix = RiskMatrix::new(market, Model::preset("deribit-btc").unwrap(), &[]).unwrap();
        let btc = Asset::new("BTC").unwrap();
        matrix.with_arrays(|arrays| {
            let positions = vec![Position {
                instrument: 0,
                size: 2.0,
            }];
            let owned = OwnedAccount::new(arrays, btc, 1.0, positions.clone()).unwrap();
            let direct = Account::new(arrays, btc, 1.0, &positions).unwrap();
            let mut s1 = vec![0.0; direct.scratch_len(arrays)];
            let mut s2 = s1.clone();
            let model = matrix.model();
            let a = crate::account::margin(arrays, model, &owned.get(), &mut s1).unwrap();
            let b = crate::account::margin(arrays, model, &direct, &mut s2).unwrap();
            assert_eq!(a, b);
            assert_eq!(owned.positions(), &positions[..]);
            let dup = vec![positions[0], positions[0]];
            assert!(OwnedAccount::new(arrays, btc, 1.0, dup).is_err());
        });
    }
}
