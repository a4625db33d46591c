//! Dynamic scan ranges: a grid preset's price ranges calibrated from a price history up to an
//! as-of date, with anti-procyclicality.
//!
//! **Data.** Only closes dated on or before `asof` are read (the as-of date must be a date of
//! the history): the result is the same, bit for bit, whatever the history holds after it.
//! Daily log returns `r_t = ln(P_t/P_{t−1})` ([`ewma::log_returns`]).
//!
//! **Estimates.** RiskMetrics EWMA ([`ewma::ewma_covariance`], decay λ, 30-return seed):
//! today's daily σ of each coin is the square root of the covariance's diagonal, and the
//! correlation `ρ_ij = Σ_ij/√(Σ_ii Σ_jj)` is reported (no preset here scans correlated
//! moves, so it sets no parameter).
//!
//! **Range.** `R = min(max(z_c·σ·√h, floor), cap)` per coin, `z_c = Φ⁻¹(c)` (the core's AS 241
//! [`normal::inverse_cdf`]), `h` the horizon in days, with σ and the buffer as the
//! anti-procyclicality method says ([`apc`]). `R` is the quantile of the h-day log return,
//! used as a symmetric relative move (first order: `e^{±R} − 1 ≈ ±R`).
//!
//! **Which coin.** A Deribit preset is calibrated on its own coin (`deribit-btc` on BTC,
//! `deribit-eth` on ETH); SPAN and the grid apply one range to every underlying, so they take
//! the widest range over the coins of the history (or only [`CalibrationParams::coin`]).
//! The range is written into the preset's scan parameters by [`scan::apply`].
//!
//! Parameters and their valid ranges ([`CalibrationParams::validate`]): horizon 1 to 250
//! days; confidence in [0.5, 1); λ in (0, 1); floor and cap in (0, 1) with floor ≤ cap; the
//! method's own length (see [`Apc`]).

pub mod apc;
pub mod file;
pub mod scan;

pub use apc::{Apc, Bound, CoinRange, Sigmas};
pub use scan::{Change, Value};

use margin_core::io::PriceHistory;
use margin_core::model::{Family, Model};
use margin_core::stats::ewma::{self, EWMA_SEED_DAYS, RISKMETRICS_LAMBDA};
use margin_core::stats::normal;
use margin_core::time::Timestamp;
use margin_core::{Asset, Error};

/// Default horizon, days: EMIR RTS 153/2013 art. 26(1), two days for instruments other than
/// OTC derivatives.
pub const DEFAULT_HORIZON_DAYS: usize = 2;
/// Default confidence: EMIR RTS 153/2013 art. 24(1), 99 % for instruments other than OTC
/// derivatives.
pub const DEFAULT_CONFIDENCE: f64 = 0.99;
/// Default floor of a range (our choice): ±5 %.
pub const DEFAULT_FLOOR: f64 = 0.05;
/// Default cap of a range (our choice): ±50 %.
pub const DEFAULT_CAP: f64 = 0.5;

/// What a calibration is asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationParams {
    /// Horizon h in days, 1 to 250.
    pub horizon_days: usize,
    /// Confidence c in [0.5, 1).
    pub confidence: f64,
    /// EWMA decay λ in (0, 1).
    pub ewma_lambda: f64,
    /// Smallest range, in (0, 1).
    pub floor: f64,
    /// Largest range, in [floor, 1).
    pub cap: f64,
    /// Anti-procyclicality.
    pub apc: Apc,
    /// SPAN and grid: calibrate on this coin alone (else the widest over the history); a
    /// Deribit preset accepts only its own coin here.
    pub coin: Option<Asset>,
}

impl Default for CalibrationParams {
    fn default() -> Self {
        CalibrationParams {
            horizon_days: DEFAULT_HORIZON_DAYS,
            confidence: DEFAULT_CONFIDENCE,
            ewma_lambda: RISKMETRICS_LAMBDA,
            floor: DEFAULT_FLOOR,
            cap: DEFAULT_CAP,
            apc: Apc::None,
            coin: None,
        }
    }
}

/// Why a calibration failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrateError {
    /// A parameter outside its valid range.
    #[error("{name} {value}: expected {expected}")]
    Parameter {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// Its valid range.
        expected: &'static str,
    },
    /// The as-of date is not a date of the history.
    #[error("as-of date {asof} is not a date of the history (it runs from {from} to {to})")]
    Asof {
        /// The as-of date.
        asof: String,
        /// First date of the history.
        from: String,
        /// Last date.
        to: String,
    },
    /// The history lacks a coin the preset needs.
    #[error("the history has no {coin} prices (it has {have}); {why}")]
    MissingCoin {
        /// The coin.
        coin: String,
        /// The history's coins.
        have: String,
        /// Why the coin is needed.
        why: String,
    },
    /// A coin asked for that the preset is not calibrated on.
    #[error("coin {asked}: preset {preset} is calibrated on {coin} only")]
    CoinConflict {
        /// The coin asked for.
        asked: String,
        /// The preset.
        preset: String,
        /// Its coin.
        coin: String,
    },
    /// Too few returns up to the as-of date.
    #[error(
        "{what} needs {needed} daily returns up to the as-of date {asof}; the history has {have}"
    )]
    TooShort {
        /// What needs them.
        what: &'static str,
        /// Returns needed.
        needed: usize,
        /// Returns available.
        have: usize,
        /// The as-of date.
        asof: String,
    },
    /// A statistical preset has no scan range.
    #[error(
        "preset {0} is statistical: it has no scan range to calibrate (its scenarios come from \
         the history itself); use deribit-btc, deribit-eth, span16 or grid"
    )]
    Statistical(String),
    /// A grid with no non-zero weight-1 move.
    #[error("the grid has no standard (weight 1), non-zero price move to scale")]
    NoStandardMove,
    /// An estimate or the calibrated model was rejected by the core.
    #[error("{0}")]
    Core(Error),
}

/// One coin's estimates and range.
#[derive(Debug, Clone, PartialEq)]
pub struct CoinCalibration {
    /// The coin.
    pub coin: Asset,
    /// Its σ estimates.
    pub sigmas: Sigmas,
    /// [`Apc::StressedWeight`]: first and last date of the window's returns.
    pub stress_window: Option<(Timestamp, Timestamp)>,
    /// The range and how it was reached.
    pub range: CoinRange,
}

/// A calibration's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The as-of date.
    pub asof: Timestamp,
    /// First date of the data used.
    pub from: Timestamp,
    /// Closes used per coin (dates up to and including `asof`).
    pub closes: usize,
    /// The request.
    pub params: CalibrationParams,
    /// `z_c = Φ⁻¹(c)`.
    pub z: f64,
    /// Every coin of the history, in its order.
    pub coins: Vec<CoinCalibration>,
    /// EWMA correlation, `U × U` row-major, coins in `coins` order.
    pub correlation: Vec<f64>,
    /// The coin whose range was written into the model.
    pub binding_coin: Asset,
    /// The range written.
    pub range: f64,
    /// The calibrated model.
    pub model: Model,
    /// Old → new of every parameter, with the reason.
    pub changes: Vec<Change>,
}

fn day(t: Timestamp) -> String {
    let (y, m, d) = t.civil_date();
    format!("{y:04}-{m:02}-{d:02}")
}

fn param(name: &'static str, value: f64, expected: &'static str) -> CalibrateError {
    CalibrateError::Parameter {
        name,
        value,
        expected,
    }
}

impl CalibrationParams {
    /// Checks every parameter against its documented range (module docs).
    pub fn validate(&self) -> Result<(), CalibrateError> {
        let h = self.horizon_days;
        if !(1..=margin_core::spec::MAX_HORIZON_DAYS).contains(&h) {
            return Err(param(
                "horizon_days",
                h as f64,
                "a whole number of days, 1 to 250",
            ));
        }
        if !(self.confidence >= 0.5 && self.confidence < 1.0) {
            return Err(param("confidence", self.confidence, "a number in [0.5, 1)"));
        }
        if !(self.ewma_lambda > 0.0 && self.ewma_lambda < 1.0) {
            return Err(param("ewma_lambda", self.ewma_lambda, "a number in (0, 1)"));
        }
        if !(self.floor > 0.0 && self.floor < 1.0) {
            return Err(param("floor", self.floor, "a relative move in (0, 1)"));
        }
        if !(self.cap >= self.floor && self.cap < 1.0) {
            return Err(param("cap", self.cap, "a relative move in [floor, 1)"));
        }
        let (name, n, lo, hi, expected) = match self.apc {
            Apc::None => return Ok(()),
            Apc::Buffer { lag_days } => (
                "buffer lag_days",
                lag_days,
                1,
                250,
                "a whole number of days, 1 to 250",
            ),
            Apc::StressedWeight { window_days } => (
                "stress window_days",
                window_days,
                20,
                apc::TEN_YEARS_DAYS,
                "a whole number of days, 20 to 3653",
            ),
            Apc::TenYearFloor { lookback_days } => (
                "lookback_days",
                lookback_days,
                250,
                36_525,
                "a whole number of days, 250 to 36525",
            ),
        };
        if !(lo..=hi).contains(&n) {
            return Err(param(name, n as f64, expected));
        }
        Ok(())
    }
}

/// The coin a Deribit preset is calibrated on.
fn preset_coin(model: &Model) -> Option<&'static str> {
    match (&model.family, model.name) {
        (Family::Deribit(_), "deribit-eth") => Some("ETH"),
        (Family::Deribit(_), _) => Some("BTC"),
        _ => None,
    }
}

/// Calibrates `model`'s scan ranges from `history` up to `asof` (module docs).
pub fn calibrate(
    history: &PriceHistory,
    asof: Timestamp,
    model: &Model,
    params: &CalibrationParams,
) -> Result<Calibration, CalibrateError> {
    params.validate()?;
    if let Family::Statistical(_) = model.family {
        return Err(CalibrateError::Statistical(model.name.to_string()));
    }
    let dates = history.dates();
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        return Err(CalibrateError::Core(Error::OutOfRange {
            what: "history dates",
            value: 0.0,
        }));
    };
    let end = dates
        .binary_search(&asof)
        .map_err(|_| CalibrateError::Asof {
            asof: day(asof),
            from: day(first),
            to: day(last),
        })?;
    let u = history.coins().len();
    let t = end + 1;
    let closes = &history.closes()[..t * u];
    let short = |what, needed, have| CalibrateError::TooShort {
        what,
        needed,
        have,
        asof: day(asof),
    };
    if t < EWMA_SEED_DAYS + 2 {
        return Err(short("the EWMA", EWMA_SEED_DAYS + 1, t.saturating_sub(1)));
    }
    let mut returns = vec![0.0; (t - 1) * u];
    let n = ewma::log_returns(closes, u, &mut returns).map_err(CalibrateError::Core)?;
    let mut cov = vec![0.0; u * u];
    ewma::ewma_covariance(&returns, u, params.ewma_lambda, &mut cov)
        .map_err(CalibrateError::Core)?;
    let long = match params.apc {
        Apc::TenYearFloor { lookback_days } => Some(
            apc::lookback_sigmas(&returns, u, lookback_days)
                .ok_or_else(|| short("the look-back floor", lookback_days, n))?,
        ),
        _ => None,
    };
    let z = normal::inverse_cdf(params.confidence).map_err(CalibrateError::Core)?;
    let sqrt_h = (params.horizon_days as f64).sqrt();
    let mut path = vec![0.0; n];
    let mut coins = Vec::with_capacity(u);
    for (j, &coin) in history.coins().iter().enumerate() {
        let now = cov[j * u + j].sqrt();
        let mut sigmas = Sigmas {
            now,
            lagged: None,
            stressed: None,
            long: long.as_ref().map(|l| l[j]),
        };
        let mut stress_window = None;
        match params.apc {
            Apc::Buffer { lag_days } => {
                if lag_days >= n {
                    return Err(short("the buffer's lag", lag_days + 1, n));
                }
                let e = ewma::ewma_variance_path(&returns, u, j, params.ewma_lambda, &mut path)
                    .map_err(CalibrateError::Core)?;
                debug_assert_eq!(e.variance, cov[j * u + j]);
                // path[t − 1] = σ_t; today is σ_{n+1}, lag days earlier σ_{n+1−lag}.
                sigmas.lagged = Some(path[n - lag_days]);
            }
            Apc::StressedWeight { window_days } => {
                let (start, s) = apc::stressed_window(&returns, u, j, window_days)
                    .ok_or_else(|| short("the stressed window", window_days, n))?;
                sigmas.stressed = Some(s);
                // Return k runs from close k to close k + 1.
                stress_window = Some((dates[start + 1], dates[start + window_days]));
            }
            Apc::None | Apc::TenYearFloor { .. } => {}
        }
        let range = apc::coin_range(&params.apc, &sigmas, z, sqrt_h, params.floor, params.cap);
        coins.push(CoinCalibration {
            coin,
            sigmas,
            stress_window,
            range,
        });
    }
    let have = || {
        history
            .coins()
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let (Some(c), Some(asked)) = (preset_coin(model), params.coin)
        && asked.as_str() != c
    {
        return Err(CalibrateError::CoinConflict {
            asked: asked.to_string(),
            preset: model.name.to_string(),
            coin: c.to_string(),
        });
    }
    let wanted = match (preset_coin(model), params.coin) {
        (Some(c), _) => Some((
            c.to_string(),
            format!("preset {} is calibrated on {c}", model.name),
        )),
        (None, Some(c)) => Some((c.to_string(), "it was asked for".to_string())),
        (None, None) => None,
    };
    let chosen = match wanted {
        Some((c, why)) => coins.iter().find(|k| k.coin.as_str() == c).ok_or_else(|| {
            CalibrateError::MissingCoin {
                coin: c,
                have: have(),
                why,
            }
        })?,
        // The widest range; the first coin on ties.
        None => coins
            .iter()
            .fold(None::<&CoinCalibration>, |best, k| match best {
                Some(b) if b.range.range >= k.range.range => Some(b),
                _ => Some(k),
            })
            .ok_or(CalibrateError::Core(Error::OutOfRange {
                what: "history coins",
                value: 0.0,
            }))?,
    };
    let (binding_coin, r) = (chosen.coin, chosen.range);
    let bound = r
        .bound
        .name()
        .map_or(String::new(), |b| format!(", {b} binds"));
    let why = format!(
        "{} range z*sigma*sqrt(h) = {z:.6} x {:.6} x sqrt({}) = {:.6}, {} {:.6}{bound} \
         (method {})",
        binding_coin,
        r.sigma_used,
        params.horizon_days,
        r.base,
        if matches!(params.apc, Apc::Buffer { .. }) {
            "buffered"
        } else {
            "so"
        },
        r.buffered,
        params.apc.name(),
    );
    let (calibrated, changes) = scan::apply(model, r.range, &why)?;
    let cov_corr = crate::var::correlation(&cov, u);
    Ok(Calibration {
        asof,
        from: first,
        closes: t,
        params: *params,
        z,
        binding_coin,
        range: r.range,
        coins,
        correlation: cov_corr,
        model: calibrated,
        changes,
    })
}
