//! The account behind a `margin_account` handle: currency, equity and positions on one
//! engine, plus the per-scenario P&L the last margin run left, which makes a what-if
//! O(scenarios) and allocation-free.
//!
//! On a statistical engine (see [`crate::engine`]) the same calls margin over the joint
//! scenarios: a computation keeps each joint scenario's loss, and a what-if is the margin of
//! the account with the order merged in (O(scenarios × positions), allocating), exactly as
//! `margin whatif --model NAME --history ...` computes it.

use crate::engine::Engine;
use margin_core::account::{self, MAX_UNDERLYINGS, Margin};
use margin_core::io::matrix::OwnedAccount;
use margin_core::risk::Position;
use margin_core::{Asset, Error};
use std::sync::Arc;

/// An account; not shared between threads (one thread at a time may use it).
///
/// ```
/// fn assert_send<T: Send>() {}
/// assert_send::<margin_ffi::account::AccountState>();
/// ```
pub struct AccountState {
    engine: Arc<Engine>,
    currency: Asset,
    equity: f64,
    account: OwnedAccount,
    /// Per-underlying scenario P&L from the last margin run (`S × MAX_UNDERLYINGS`).
    scratch: Vec<f64>,
    /// The last margin run, if it still matches the positions and equity.
    last: Option<Margin>,
    /// Statistical engine: every joint scenario's loss from the last run (empty otherwise).
    losses: Vec<f64>,
}

impl AccountState {
    /// An empty account with zero equity.
    pub fn new(engine: Arc<Engine>, currency: Asset) -> Result<AccountState, Error> {
        let (account, scratch) = engine.matrix().with_arrays(|arrays| {
            let account = OwnedAccount::new(arrays, currency, 0.0, Vec::new())?;
            Ok::<_, Error>((
                account,
                vec![0.0; arrays.scenarios().len() * MAX_UNDERLYINGS],
            ))
        })?;
        Ok(AccountState {
            engine,
            currency,
            equity: 0.0,
            account,
            scratch,
            last: None,
            losses: Vec::new(),
        })
    }

    /// The engine this account is margined on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Positions, in the order they were first set.
    pub fn positions(&self) -> &[Position] {
        self.account.positions()
    }

    /// Rebuilds the core account with `positions` and `equity`; on error nothing changes.
    fn replace(&mut self, positions: Vec<Position>, equity: f64) -> Result<(), Error> {
        let views = self.engine.views();
        self.account = OwnedAccount::new(&views.arrays(), self.currency, equity, positions)?;
        self.equity = equity;
        self.last = None;
        Ok(())
    }

    /// Moves the account to `engine` (a rebuild after marks moved), mapping each position to
    /// the new engine's row of the same instrument. On error (an instrument the new engine
    /// lacks) nothing changes.
    pub fn set_engine(&mut self, engine: Arc<Engine>) -> Result<(), Error> {
        let old = self.engine.matrix();
        let mut positions = Vec::with_capacity(self.positions().len());
        for (index, p) in self.positions().iter().enumerate() {
            let instrument = engine
                .find(&old.instruments()[p.instrument])
                .map_err(|_| Error::UnknownInstrument { index })?;
            positions.push(Position {
                instrument,
                size: p.size,
            });
        }
        let (currency, equity) = (self.currency, self.equity);
        let (account, scratch) = engine.matrix().with_arrays(|arrays| {
            let account = OwnedAccount::new(arrays, currency, equity, positions)?;
            Ok::<_, Error>((
                account,
                vec![0.0; arrays.scenarios().len() * MAX_UNDERLYINGS],
            ))
        })?;
        self.scratch = scratch;
        self.account = account;
        self.engine = engine;
        self.last = None;
        Ok(())
    }

    /// Sets the equity, in the account currency.
    pub fn set_equity(&mut self, equity: f64) -> Result<(), Error> {
        self.replace(self.positions().to_vec(), equity)
    }

    /// Sets the size held of `instrument`; a size of 0 removes the position.
    pub fn set_position(&mut self, instrument: usize, size: f64) -> Result<(), Error> {
        let mut positions = self.positions().to_vec();
        match positions.iter().position(|p| p.instrument == instrument) {
            Some(i) if size == 0.0 => {
                positions.remove(i);
            }
            Some(i) => positions[i].size = size,
            None if size == 0.0 => {
                // Still reject an unknown instrument rather than silently ignore it.
                if instrument >= self.engine.matrix().len() {
                    return Err(Error::UnknownInstrument {
                        index: positions.len(),
                    });
                }
            }
            None => positions.push(Position { instrument, size }),
        }
        self.replace(positions, self.equity)
    }

    /// Adds `delta` to the size held of `instrument` (a fill).
    pub fn add_position(&mut self, instrument: usize, delta: f64) -> Result<(), Error> {
        if !delta.is_finite() {
            return Err(Error::SizeOutOfRange {
                index: self.positions().len(),
                size: delta,
            });
        }
        let held = self
            .positions()
            .iter()
            .find(|p| p.instrument == instrument)
            .map_or(0.0, |p| p.size);
        self.set_position(instrument, held + delta)
    }

    /// Computes the margin and keeps the per-scenario P&L for what-ifs.
    pub fn compute(&mut self) -> Result<&Margin, Error> {
        if let Some(ref m) = self.last {
            return Ok(m);
        }
        if let Some(joint) = self.engine.joint() {
            let account = self.account.get();
            let (m, report) = self.engine.joint_margin(
                joint,
                account.currency(),
                account.equity(),
                account.positions(),
            )?;
            self.losses = report.losses;
            return Ok(self.last.insert(m));
        }
        let views = self.engine.views();
        let m = account::margin(
            &views.arrays(),
            self.engine.model(),
            &self.account.get(),
            &mut self.scratch,
        )?;
        Ok(self.last.insert(m))
    }

    /// The last computed margin, if positions and equity have not changed since.
    pub fn last(&self) -> Option<&Margin> {
        self.last.as_ref()
    }

    /// Margin after a hypothetical order of `size` units of `instrument`; the account is
    /// unchanged. Computes the account first if it changed since the last run; otherwise it
    /// allocates nothing and costs O(scenarios × underlyings + positions).
    ///
    /// On a statistical engine: the margin of the positions with the order merged in (O(joint
    /// scenarios × positions), allocating).
    pub fn what_if(&mut self, instrument: usize, size: f64) -> Result<Margin, Error> {
        self.compute()?;
        let order = Position { instrument, size };
        if let Some(joint) = self.engine.joint() {
            let account = self.account.get();
            let merged = margin_opt::joint::merge(account.positions(), &[order]);
            return self
                .engine
                .joint_margin(joint, account.currency(), account.equity(), &merged)
                .map(|(m, _)| m);
        }
        let views = self.engine.views();
        account::what_if(
            &views.arrays(),
            self.engine.model(),
            &self.account.get(),
            &self.scratch,
            order,
        )
    }

    /// The account's total P&L in each scenario (sum over underlyings) from the last run, in
    /// the account currency; `None` before a run. On a statistical engine: minus the loss of
    /// joint scenario `s`.
    pub fn scenario_pnl(&self, s: usize) -> Option<f64> {
        self.last.as_ref()?;
        if self.engine.joint().is_some() {
            return self.losses.get(s).map(|l| -l);
        }
        let views = self.engine.views();
        let arrays = views.arrays();
        let n = arrays.scenarios().len();
        let groups = self.account.get().scratch_len(&arrays) / n;
        if s >= n {
            return None;
        }
        Some((0..groups).map(|g| self.scratch[g * n + s]).sum())
    }
}
