//! Risk arrays: per instrument, its P&L per unit in every scenario, built once per market
//! snapshot into caller storage and reused for every account and every what-if.
//!
//! Layout is instrument-major with scenarios contiguous: row `i` is `pnl[i·S .. (i+1)·S]`, so
//! a portfolio's scenario P&L is a sum of `size × row` (an axpy per position over contiguous
//! memory). Each row is in its instrument's settlement currency: the coin for inverse
//! products, USD for linear ones.
//!
//! Scenario revaluation: the instrument's price input (forward, perpetual mark or index) is
//! multiplied by `1 + move`, option vols are shocked by the scenario's [`VolShock`] using the
//! option's days to expiry, time steps forward by `time_step`; P&L is
//! `pricing::value(shocked) − pricing::value(current)` with futures entered at the current price.
//!
//! [`VolShock`]: crate::scenario::VolShock

use crate::error::Error;
use crate::instrument::{Instrument, Kind};
use crate::market::{MarketSnapshot, PricingInputs};
use crate::pricing::{self, Valuation};
use crate::scenario::{Scenario, ScenarioSet};
use core::fmt;

/// An error tied to one instrument of the list the arrays are built from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstrumentError {
    /// Index of the instrument.
    pub index: usize,
    /// What went wrong.
    pub error: Error,
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "instrument {}: {}", self.index, self.error)
    }
}

impl core::error::Error for InstrumentError {}

/// Caller-owned storage for risk arrays of `n` instruments over `s` scenarios.
pub struct RiskStorage<'a> {
    /// `n` entries: pricing inputs at the valuation time.
    pub inputs: &'a mut [PricingInputs],
    /// `n` entries: value and Greeks at the valuation time.
    pub valuations: &'a mut [Valuation],
    /// `n × s` entries: the P&L matrix.
    pub pnl: &'a mut [f64],
}

/// Built risk arrays: read-only, cheap to share across threads.
#[derive(Debug, Clone, Copy)]
pub struct RiskArrays<'a> {
    market: MarketSnapshot<'a>,
    scenarios: ScenarioSet<'a>,
    instruments: &'a [Instrument],
    inputs: &'a [PricingInputs],
    valuations: &'a [Valuation],
    pnl: &'a [f64],
}

impl<'a> RiskArrays<'a> {
    /// Prices every instrument and fills its row. Fails on the first instrument that cannot be
    /// priced (unknown underlying, missing forward or vol, expired), naming its index.
    pub fn build(
        market: MarketSnapshot<'a>,
        scenarios: ScenarioSet<'a>,
        instruments: &'a [Instrument],
        storage: RiskStorage<'a>,
    ) -> Result<RiskArrays<'a>, InstrumentError> {
        let (n, s) = (instruments.len(), scenarios.len());
        let capacity = |needed, available| InstrumentError {
            index: n,
            error: Error::Capacity { needed, available },
        };
        if storage.inputs.len() < n || storage.valuations.len() < n {
            return Err(capacity(
                n,
                storage.inputs.len().min(storage.valuations.len()),
            ));
        }
        if storage.pnl.len() < n * s {
            return Err(capacity(n * s, storage.pnl.len()));
        }
        for (i, instrument) in instruments.iter().enumerate() {
            let at = |error| InstrumentError { index: i, error };
            let inputs = market.inputs(instrument).map_err(at)?;
            storage.valuations[i] = pricing::valuation(instrument, &inputs).map_err(at)?;
            storage.inputs[i] = inputs;
            fill_row(
                instrument,
                &inputs,
                &scenarios,
                &mut storage.pnl[i * s..(i + 1) * s],
            )
            .map_err(at)?;
        }
        Ok(RiskArrays {
            market,
            scenarios,
            instruments,
            inputs: &storage.inputs[..n],
            valuations: &storage.valuations[..n],
            pnl: &storage.pnl[..n * s],
        })
    }

    /// Arrays whose rows [`RiskArrays::build`] already filled from exactly these `market`,
    /// `scenarios` and `instruments` into `inputs`, `valuations` and `pnl` (each trimmed to
    /// `n`, `n` and `n × s`): no check, for an owner that built once and hands out views (the
    /// `std` risk matrix).
    #[cfg(feature = "std")]
    pub(crate) fn built(
        market: MarketSnapshot<'a>,
        scenarios: ScenarioSet<'a>,
        instruments: &'a [Instrument],
        inputs: &'a [PricingInputs],
        valuations: &'a [Valuation],
        pnl: &'a [f64],
    ) -> Self {
        RiskArrays {
            market,
            scenarios,
            instruments,
            inputs,
            valuations,
            pnl,
        }
    }

    /// The market the arrays were built from.
    pub fn market(&self) -> &MarketSnapshot<'a> {
        &self.market
    }

    /// The scenarios, in column order.
    pub fn scenarios(&self) -> &ScenarioSet<'a> {
        &self.scenarios
    }

    /// The instruments, in row order.
    pub fn instruments(&self) -> &'a [Instrument] {
        self.instruments
    }

    /// Pricing inputs of instrument `i` at the valuation time.
    pub fn inputs(&self, i: usize) -> &'a PricingInputs {
        &self.inputs[i]
    }

    /// Value and Greeks of one unit of instrument `i`.
    pub fn valuation(&self, i: usize) -> &'a Valuation {
        &self.valuations[i]
    }

    /// Per-unit scenario P&L of instrument `i`, in its settlement currency.
    pub fn row(&self, i: usize) -> &'a [f64] {
        let s = self.scenarios.len();
        &self.pnl[i * s..(i + 1) * s]
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// True when built over no instruments.
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// Index of `instrument` among the rows (linear scan; resolve once, outside hot loops).
    /// With feature `std`, `io::matrix::RiskMatrix::find` is the binary-search lookup every
    /// client (CLI, optimizer, C ABI) uses.
    pub fn find(&self, instrument: &Instrument) -> Option<usize> {
        self.instruments.iter().position(|i| i == instrument)
    }
}

/// Fills one instrument's row of per-unit scenario P&L (one entry per scenario of `scenarios`).
/// Under joint scenarios the instrument moves by its own underlying's column (an underlying
/// the table does not name is [`Error::UnknownUnderlying`]); under a set with underlying grids
/// ([`crate::scenario::UnderlyingGrid`]) an instrument reads its underlying's own grid.
pub fn fill_row(
    instrument: &Instrument,
    inputs: &PricingInputs,
    scenarios: &ScenarioSet<'_>,
    row: &mut [f64],
) -> Result<(), Error> {
    let entry = inputs.forward;
    let dte_days = inputs.time * 365.0;
    let joint = match scenarios.joint() {
        Some(j) => Some((
            j,
            j.column(&instrument.underlying)
                .ok_or(Error::UnknownUnderlying)?,
        )),
        None => None,
    };
    let store = |cell: &mut f64, pnl: f64| {
        if !pnl.is_finite() {
            return Err(Error::Overflow {
                what: "scenario P&L",
            });
        }
        *cell = pnl;
        Ok(())
    };
    let is_option = matches!(instrument.kind, Kind::Option { .. });
    // The cells as this instrument's underlying sees them (its own grid, when it has one).
    let own = scenarios.scenarios_for(&instrument.underlying);
    // The move of scenario `s`: the joint column, or the uniform move for this kind.
    let move_of = |s: usize, sc: &Scenario| match joint {
        Some((j, c)) => j.get(s, c),
        None if is_option => sc.price_move,
        None => sc.delta_one_move,
    };
    if is_option {
        // The hot loop (options × scenarios): per option, `(30/DTE)^p` once, and through the
        // revaluer √T and e^(−rT) once per time and ln(F/K) once per price move, instead of
        // per cell. Same operations on the same numbers as `pricing::value`, so same bits.
        let tenor = scenarios.tenor();
        let mut scale = None;
        let mut option = pricing::OptionRevaluer::new(instrument, inputs.rate)?;
        // The current value through the revaluer too: it seeds √T and ln(F/K) of the 0 move.
        let base = option.value(inputs.forward, inputs.vol, inputs.time)?;
        for (s, (cell, sc)) in row.iter_mut().zip(own).enumerate() {
            let shocked = shocked_inputs(
                inputs,
                sc,
                move_of(s, sc),
                true,
                || *scale.get_or_insert_with(|| tenor.scale(dte_days)),
                tenor.min_vol_up,
            );
            store(
                cell,
                option.value(shocked.forward, shocked.vol, shocked.time)? - base,
            )?;
        }
        return Ok(());
    }
    let base = pricing::value(instrument, inputs, entry)?;
    for (s, (cell, sc)) in row.iter_mut().zip(own).enumerate() {
        let shocked = shocked_inputs(inputs, sc, move_of(s, sc), false, || 1.0, 0.0);
        store(cell, pricing::value(instrument, &shocked, entry)? - base)?;
    }
    Ok(())
}

/// The inputs of scenario `sc` with the price input moved by `moved`: options take the
/// shocked vol (with the tenor scale from `scale`), delta-one products keep theirs.
fn shocked_inputs(
    inputs: &PricingInputs,
    sc: &Scenario,
    moved: f64,
    is_option: bool,
    scale: impl FnOnce() -> f64,
    min_vol_up: f64,
) -> PricingInputs {
    let vol = if is_option {
        sc.vol_shock
            .apply_scaled(inputs.vol, moved, scale, min_vol_up)
    } else {
        inputs.vol
    };
    PricingInputs {
        forward: inputs.forward * (1.0 + moved),
        vol,
        time: inputs.time - sc.time_step,
        rate: inputs.rate,
    }
}

/// One position: an instrument row of the risk arrays and a size in units (coins for
/// futures, perpetuals and spot; contracts of one coin for options). Negative is short.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// Row index in the risk arrays.
    pub instrument: usize,
    /// Signed size.
    pub size: f64,
}

/// Writes the portfolio's per-scenario P&L, `Σ size × row`, into `out[..S]` in position order.
pub fn portfolio_pnl(
    arrays: &RiskArrays<'_>,
    positions: &[Position],
    out: &mut [f64],
) -> Result<(), Error> {
    let s = arrays.scenarios().len();
    let available = out.len();
    let out = out.get_mut(..s).ok_or(Error::Capacity {
        needed: s,
        available,
    })?;
    out.fill(0.0);
    for (index, p) in positions.iter().enumerate() {
        if p.instrument >= arrays.len() {
            return Err(Error::UnknownInstrument { index });
        }
        axpy(p.size, arrays.row(p.instrument), out);
    }
    Ok(())
}

/// `y += a·x`, element by element.
pub(crate) fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}
