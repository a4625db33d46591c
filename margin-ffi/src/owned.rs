//! Core views that own what they borrow.
//!
//! The core borrows everything (`RiskArrays<'a>`, `Account<'a>`) so it never allocates. A C
//! handle must own its data, which makes a handle self-referential: the view borrows storage
//! the same struct owns. This module is the only place that builds such views. Each owned
//! piece is a leaked heap allocation (`Leaked`) that never moves or changes while a view
//! exists and is freed when the owner drops; the `'static` views never leave this module with
//! that lifetime: every accessor shortens it to the owner's borrow (the views are covariant).
//!
//! Besides `ffi`, this is the only module with `unsafe` code.
#![allow(unsafe_code)]

use margin_core::account::Account;
use margin_core::io::MarketData;
use margin_core::market::{MarketSnapshot, PricingInputs, UnderlyingMarket};
use margin_core::model::Model;
use margin_core::model::Scenarios;
use margin_core::pricing::Valuation;
use margin_core::risk::{InstrumentError, Position, RiskArrays, RiskStorage};
use margin_core::{Asset, Error, Instrument};
use std::ptr::NonNull;

/// A heap value handed out as `'static` references and freed on drop.
struct Leaked<T: ?Sized>(NonNull<T>);

// SAFETY: `Leaked` owns its `T` like a `Box` does.
unsafe impl<T: ?Sized + Send> Send for Leaked<T> {}
// SAFETY: shared access to `Leaked` only hands out shared references to `T`.
unsafe impl<T: ?Sized + Sync> Sync for Leaked<T> {}

impl<T: ?Sized> Leaked<T> {
    fn new(value: Box<T>) -> Self {
        Leaked(NonNull::from(Box::leak(value)))
    }

    /// SAFETY: the caller must not use the reference after `self` is dropped, nor while a
    /// reference from [`Leaked::get_mut`] is live.
    unsafe fn get(&self) -> &'static T {
        // SAFETY: the pointer came from a live Box and is freed only in `drop`.
        unsafe { self.0.as_ref() }
    }

    /// SAFETY: as [`Leaked::get`], and no other reference to `T` may be live while it is used.
    unsafe fn get_mut(&mut self) -> &'static mut T {
        // SAFETY: the pointer came from a live Box and is freed only in `drop`.
        unsafe { self.0.as_mut() }
    }
}

impl<T: ?Sized> Drop for Leaked<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::leak` and is freed exactly once, here; the owners
        // below declare every view before what it borrows, so the view is dropped first.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// Why owned risk arrays could not be built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BuildError {
    /// The market or scenarios are invalid.
    Core(Error),
    /// One instrument could not be priced.
    Instrument(InstrumentError),
}

/// Risk arrays together with the market, scenarios, instruments and storage they borrow.
///
/// Field order is drop order: each field is declared before everything it borrows, so no view
/// outlives its data even if a view type gains drop glue that reads it.
pub struct OwnedArrays {
    // The view; it borrows the allocations below and is never handed out as `'static`.
    arrays: RiskArrays<'static>,
    // Borrows `_market`.
    _views: Leaked<[UnderlyingMarket<'static>]>,
    _market: Leaked<MarketData>,
    _scenarios: Leaked<Scenarios>,
    _instruments: Leaked<[Instrument]>,
    _inputs: Leaked<[PricingInputs]>,
    _valuations: Leaked<[Valuation]>,
    _pnl: Leaked<[f64]>,
}

impl OwnedArrays {
    /// Validates the market and the model's scenarios and prices every instrument into owned
    /// storage. The scenario set carries the model's digest, so margin calls confirm the model
    /// in O(1).
    pub fn build(
        market: MarketData,
        model: &Model,
        instruments: Vec<Instrument>,
    ) -> Result<OwnedArrays, BuildError> {
        let n = instruments.len();
        let market = Leaked::new(Box::new(market));
        // SAFETY (all `get`/`get_mut` below): every reference is stored only in `arrays` (or
        // dropped before this function returns), and `arrays` is dropped with the allocations.
        let m = unsafe { market.get() };
        let views = Leaked::new(m.views().into_boxed_slice());
        let snapshot = MarketSnapshot::new(m.valuation_time, unsafe { views.get() })
            .map_err(BuildError::Core)?;
        let scenarios = Leaked::new(Box::new(model.scenarios().map_err(BuildError::Core)?));
        let set = model
            .scenario_set(unsafe { scenarios.get() })
            .map_err(BuildError::Core)?;
        let instruments = Leaked::new(instruments.into_boxed_slice());
        let mut inputs = Leaked::new(vec![PricingInputs::ZERO; n].into_boxed_slice());
        let mut valuations = Leaked::new(vec![Valuation::ZERO; n].into_boxed_slice());
        let mut pnl = Leaked::new(vec![0.0; n * set.len()].into_boxed_slice());
        let storage = RiskStorage {
            inputs: unsafe { inputs.get_mut() },
            valuations: unsafe { valuations.get_mut() },
            pnl: unsafe { pnl.get_mut() },
        };
        let arrays = RiskArrays::build(snapshot, set, unsafe { instruments.get() }, storage)
            .map_err(BuildError::Instrument)?;
        Ok(OwnedArrays {
            arrays,
            _views: views,
            _market: market,
            _scenarios: scenarios,
            _instruments: instruments,
            _inputs: inputs,
            _valuations: valuations,
            _pnl: pnl,
        })
    }

    /// The arrays, borrowed for as long as `self` is.
    pub fn get(&self) -> RiskArrays<'_> {
        self.arrays
    }
}

/// A core [`Account`] over positions it owns. Immutable: a change builds a new one, so a
/// rejected change leaves the old account untouched. Field order is drop order: the view
/// first, then what it borrows.
pub struct OwnedAccount {
    account: Account<'static>,
    _positions: Leaked<[Position]>,
}

impl OwnedAccount {
    /// Validates the account with the core ([`Account::new`]).
    pub fn new(
        arrays: &RiskArrays<'_>,
        currency: Asset,
        equity: f64,
        positions: Vec<Position>,
    ) -> Result<OwnedAccount, Error> {
        let positions = Leaked::new(positions.into_boxed_slice());
        // SAFETY: the reference lives in `account`, which drops with `positions`; on error
        // nothing keeps it.
        let account = Account::new(arrays, currency, equity, unsafe { positions.get() })?;
        Ok(OwnedAccount {
            account,
            _positions: positions,
        })
    }

    /// The account, borrowed for as long as `self` is.
    pub fn get(&self) -> &Account<'_> {
        &self.account
    }
}
