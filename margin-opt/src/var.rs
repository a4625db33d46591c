//! Value at Risk and Expected Shortfall of one account over historical, filtered historical or
//! Monte Carlo joint scenarios, or parametric (delta-normal), with per-position Euler
//! contributions. Every formula lives in `margin_core`; this module allocates the buffers,
//! splits the scenarios into fixed chunks across threads and collects the report.
//!
//! Estimators (stated so a risk officer can reproduce the numbers):
//! * **Scenarios.** HS: h-day windows of daily closes, `x = P_{i+h}/P_i − 1`, joint across
//!   coins on the same dates. FHS: RiskMetrics EWMA (λ, zero mean, 30-return seed) filtered log
//!   returns summed over h days, `x = e^{Σ r*} − 1`. MC: `r = √h·L·z` with `L` the Cholesky
//!   factor of the EWMA or sample covariance of daily log returns and `z` standard normal or
//!   unit-variance multivariate t, drawn from xoshiro256** stream `(seed, scenario index)`.
//! * **Measure.** N equally likely losses; `m = N(1−c)` (rounded when within 1e-9 of an
//!   integer), `k = ⌊m⌋`; ES = (L₍₁₎ + … + L₍ₖ₎ + (m−k)·L₍ₖ₊₁₎)/m (Acerbi & Tasche 2002),
//!   VaR = L₍⌈m⌉₎, ties ranked by scenario index.
//! * **Parametric.** Delta-normal: `P&L ≈ Σ_u δ_u·r_u`, δ_u the P&L per unit relative move of
//!   coin u by central differences of full revaluation (step 1e-3; instruments depend on one
//!   underlying each, so there are no cross terms), `σ_P = √(h·δᵀΣδ)`, VaR = z_c·σ_P,
//!   ES = σ_P·φ(z_c)/(1−c). Delta-gamma-vega: `P&L ≈ θν + Σ_u (δ_u·x_u + ½Γ_u·x_u²)` with θν the
//!   P&L of the unmoved scenario (the vol rule's shift and the time step), evaluated on the
//!   Monte Carlo scenarios. Both are reported against full revaluation on those same scenarios.
//!
//! Determinism: chunk `j` covers scenarios `[j·CHUNK, (j+1)·CHUNK)`, each scenario's loss is a
//! sum over the positions in order and the tail selection is a total order (loss, then index):
//! the same bits for any thread count.

use margin_core::risk::InstrumentError;
use margin_core::scenario::{JointMoves, Scenario, VolShock};
use margin_core::statistical::{self, BlockScratch, Book};
use margin_core::stats::monte_carlo::{self, McParams};
use margin_core::stats::{ewma, historical, linalg, normal, tail};
use margin_core::{Asset, Error};
use rayon::prelude::*;

/// Scenarios per parallel chunk (fixed, so results do not depend on the thread count).
pub const CHUNK: usize = 4096;
/// Scenarios per revaluation block inside a chunk.
pub const BLOCK: usize = 512;
/// Relative step of the central differences behind parametric sensitivities.
pub const DELTA_STEP: f64 = 1e-3;

/// Where the scenarios come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Historical simulation.
    Historical,
    /// Filtered historical simulation (EWMA).
    Filtered,
    /// Monte Carlo from a covariance.
    MonteCarlo,
    /// Delta-normal closed form.
    Parametric,
}

impl Method {
    /// The name used on the command line and in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Historical => "hs",
            Method::Filtered => "fhs",
            Method::MonteCarlo => "mc",
            Method::Parametric => "parametric",
        }
    }
}

/// Which covariance Monte Carlo and parametric use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covariance {
    /// RiskMetrics EWMA at λ.
    Ewma,
    /// Demeaned unbiased sample covariance.
    Sample,
}

/// Everything a VaR run needs besides the book and the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarParams {
    /// Scenario source.
    pub method: Method,
    /// Confidence level c in (0, 1).
    pub confidence: f64,
    /// Horizon in days (≥ 1).
    pub horizon_days: usize,
    /// Overlapping windows (HS/FHS).
    pub overlapping: bool,
    /// EWMA decay λ.
    pub lambda: f64,
    /// Covariance for MC and parametric.
    pub covariance: Covariance,
    /// Innovation distribution for MC.
    pub dist: monte_carlo::Dist,
    /// Monte Carlo scenario count.
    pub scenarios: usize,
    /// Monte Carlo seed.
    pub seed: u64,
    /// Vol shock of every scenario: `VolShock::None` or `VolShock::Rule`.
    pub vol: VolShock,
    /// Step time forward by the horizon (options expiring inside it pay intrinsic).
    pub time_decay: bool,
}

/// Daily closes, date-major `T × U`, of the coins a book needs, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct Closes<'a> {
    /// Coins, in column order.
    pub coins: &'a [Asset],
    /// `T × U` closes.
    pub closes: &'a [f64],
}

/// One tail scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct TailScenario {
    /// Scenario index.
    pub index: usize,
    /// Close indices `(start, end)` of an HS/FHS window.
    pub window: Option<(usize, usize)>,
    /// ES weight.
    pub weight: f64,
    /// Loss, account currency.
    pub loss: f64,
    /// Each coin's relative move, in coin order.
    pub moves: Vec<f64>,
}

/// The result of a VaR run.
#[derive(Debug, Clone, PartialEq)]
pub struct VarReport {
    /// Scenario count N (MC draws behind the parametric comparison for `parametric`).
    pub scenarios: usize,
    /// VaR at the confidence.
    pub var: f64,
    /// ES at the confidence.
    pub es: f64,
    /// Tail scenarios, worst first (⌈m⌉ of them).
    pub tail: Vec<TailScenario>,
    /// Euler contribution of each position to ES, in position order.
    pub contributions: Vec<f64>,
    /// Today's daily σ of each coin (EWMA at λ).
    pub volatility: Vec<f64>,
    /// Correlation matrix of the covariance used (EWMA, or sample with `Covariance::Sample`).
    pub correlation: Vec<f64>,
    /// Every scenario's loss (for distribution plots).
    pub losses: Vec<f64>,
    /// Parametric only: full-revaluation VaR and ES on Monte Carlo scenarios from the same
    /// covariance, the reference the closed form is compared with.
    pub full_revaluation: Option<(f64, f64)>,
    /// Parametric only: delta-gamma-vega VaR and ES on the same Monte Carlo scenarios.
    pub delta_gamma: Option<(f64, f64)>,
}

/// Why a VaR run failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VarError {
    /// A position could not be revalued (its index).
    Position(InstrumentError),
    /// The history or a parameter is unusable.
    Input(Error),
}

impl From<Error> for VarError {
    fn from(e: Error) -> Self {
        VarError::Input(e)
    }
}

impl From<InstrumentError> for VarError {
    fn from(e: InstrumentError) -> Self {
        VarError::Position(e)
    }
}

impl core::fmt::Display for VarError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            VarError::Position(e) => write!(f, "position {}: {}", e.index + 1, e.error),
            VarError::Input(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for VarError {}

/// The scenario template: the vol rule and the time step of the horizon.
pub fn template(params: &VarParams) -> Scenario {
    Scenario {
        time_step: if params.time_decay {
            params.horizon_days as f64 / 365.0
        } else {
            0.0
        },
        ..Scenario::standard(0.0, params.vol)
    }
}

/// Runs `params` on `book` over `history` (whose coins must cover the book's underlyings).
pub fn run(
    book: &Book<'_>,
    history: &Closes<'_>,
    params: &VarParams,
) -> Result<VarReport, VarError> {
    let u = history.coins.len();
    let h = params.horizon_days;
    let t = history.closes.len() / u.max(1);
    let mut returns = vec![0.0; t.saturating_sub(1) * u];
    let n_returns = ewma::log_returns(history.closes, u, &mut returns)?;
    let returns = &returns[..n_returns * u];
    let mut ewma_cov = vec![0.0; u * u];
    ewma::ewma_covariance(returns, u, params.lambda, &mut ewma_cov)?;
    let cov = match params.covariance {
        Covariance::Ewma => ewma_cov.clone(),
        Covariance::Sample => {
            let mut c = vec![0.0; u * u];
            ewma::sample_covariance(returns, u, &mut c)?;
            c
        }
    };
    let volatility: Vec<f64> = (0..u).map(|i| ewma_cov[i * u + i].sqrt()).collect();
    let correlation = correlation(&cov, u);
    let template = template(params);
    let (moves, windows) = match params.method {
        Method::Historical => {
            let n = historical::window_count(t, h, params.overlapping);
            let mut m = vec![0.0; n * u];
            let mut w = vec![(0, 0); n];
            let n = historical::hs_moves(history.closes, u, h, params.overlapping, &mut m, &mut w)?;
            (m[..n * u].to_vec(), Some(w[..n].to_vec()))
        }
        Method::Filtered => {
            let n = historical::fhs_window_count(t, h, params.overlapping);
            let mut m = vec![0.0; n * u];
            let mut w = vec![(0, 0); n];
            let mut now = vec![0.0; u];
            let n = historical::fhs_moves(
                history.closes,
                u,
                h,
                params.overlapping,
                params.lambda,
                &mut m,
                &mut w,
                &mut now,
            )?;
            (m[..n * u].to_vec(), Some(w[..n].to_vec()))
        }
        Method::MonteCarlo | Method::Parametric => (mc_moves(&cov, u, params)?, None),
    };
    let joint = JointMoves::new(history.coins, &moves)?;
    let losses = losses(book, &joint, &template)?;
    let mut order = vec![0usize; losses.len()];
    let tl = tail::tail(&losses, params.confidence, &mut order)?;
    let weights: Vec<f64> = (0..tl.count).map(|r| tail::tail_weight(r, &tl)).collect();
    let tail_idx = &order[..tl.count];
    let mut contributions = vec![0.0; book.instruments.len()];
    let mut scratch = Scratch::new(u);
    statistical::contributions(
        book,
        &joint,
        &template,
        tail_idx,
        &weights,
        &mut scratch.view(),
        &mut contributions,
    )?;
    let tail = tail_idx
        .iter()
        .zip(&weights)
        .map(|(&s, &weight)| TailScenario {
            index: s,
            window: windows.as_ref().map(|w| w[s]),
            weight,
            loss: losses[s],
            moves: joint.row(s).to_vec(),
        })
        .collect();
    let (var, es, full, delta_gamma) = if params.method == Method::Parametric {
        let sens = sensitivities(book, history.coins, &template)?;
        let (var, es) = delta_normal(&sens, &cov, params)?;
        let quadratic: Vec<f64> = (0..joint.len()).map(|s| -sens.pnl(joint.row(s))).collect();
        let dg = tail::tail(&quadratic, params.confidence, &mut order)?;
        (var, es, Some((tl.var, tl.es)), Some((dg.var, dg.es)))
    } else {
        (tl.var, tl.es, None, None)
    };
    Ok(VarReport {
        scenarios: losses.len(),
        var,
        es,
        tail,
        contributions,
        volatility,
        correlation,
        losses,
        full_revaluation: full,
        delta_gamma,
    })
}

/// Per-thread buffers of one block.
struct Scratch {
    scenarios: Vec<Scenario>,
    row: Vec<f64>,
    moves: Vec<f64>,
}

impl Scratch {
    fn new(u: usize) -> Scratch {
        Scratch {
            scenarios: vec![Scenario::standard(0.0, VolShock::None); BLOCK],
            row: vec![0.0; BLOCK],
            moves: vec![0.0; BLOCK * u],
        }
    }

    fn view(&mut self) -> BlockScratch<'_> {
        BlockScratch {
            scenarios: &mut self.scenarios,
            row: &mut self.row,
            moves: &mut self.moves,
        }
    }
}

/// Every scenario's loss, in fixed chunks across threads.
pub fn losses(
    book: &Book<'_>,
    joint: &JointMoves<'_>,
    template: &Scenario,
) -> Result<Vec<f64>, InstrumentError> {
    let u = joint.underlyings().len();
    let mut out = vec![0.0; joint.len()];
    out.par_chunks_mut(CHUNK).enumerate().try_for_each_init(
        || Scratch::new(u),
        |scratch, (j, chunk)| {
            statistical::losses(book, joint, template, j * CHUNK, &mut scratch.view(), chunk)
        },
    )?;
    Ok(out)
}

/// Monte Carlo moves from `cov`, in fixed chunks across threads (each scenario has its own
/// random stream, so the split does not matter).
fn mc_moves(cov: &[f64], u: usize, params: &VarParams) -> Result<Vec<f64>, Error> {
    let mut chol = cov.to_vec();
    linalg::cholesky(&mut chol, u)?;
    let mc = McParams {
        dist: params.dist,
        horizon_days: params.horizon_days as f64,
        seed: params.seed,
    };
    let mut moves = vec![0.0; params.scenarios * u];
    moves
        .par_chunks_mut(CHUNK * u)
        .enumerate()
        .try_for_each(|(j, chunk)| {
            monte_carlo::monte_carlo_moves(&chol, u, &mc, (j * CHUNK) as u64, chunk).map(|_| ())
        })?;
    Ok(moves)
}

/// Correlation matrix of a covariance (`ρ_ij = Σ_ij/√(Σ_ii Σ_jj)`).
fn correlation(cov: &[f64], u: usize) -> Vec<f64> {
    let mut out = vec![0.0; u * u];
    for i in 0..u {
        for j in 0..u {
            out[i * u + j] = if i == j {
                1.0
            } else {
                cov[i * u + j] / (cov[i * u + i] * cov[j * u + j]).sqrt()
            };
        }
    }
    out
}

/// Delta-normal VaR and ES (module docs).
fn delta_normal(
    sens: &Sensitivities,
    cov: &[f64],
    params: &VarParams,
) -> Result<(f64, f64), VarError> {
    let u = sens.delta.len();
    let mut variance = 0.0;
    for i in 0..u {
        for j in 0..u {
            variance += sens.delta[i] * cov[i * u + j] * sens.delta[j];
        }
    }
    let sigma = (params.horizon_days as f64 * variance).max(0.0).sqrt();
    let z = normal::inverse_cdf(params.confidence)?;
    Ok((
        z * sigma,
        sigma * normal::pdf(z)? / (1.0 - params.confidence),
    ))
}

/// A book's second-order sensitivities to each coin's relative move.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivities {
    /// P&L of the unmoved scenario (vol rule shift and time step: the vega and theta term).
    pub base: f64,
    /// δ_u: P&L per unit relative move of coin u.
    pub delta: Vec<f64>,
    /// Γ_u: second derivative of P&L in coin u's relative move.
    pub gamma: Vec<f64>,
}

impl Sensitivities {
    /// The delta-gamma-vega P&L of moves `x` (one per coin).
    pub fn pnl(&self, x: &[f64]) -> f64 {
        let mut p = self.base;
        for ((d, g), x) in self.delta.iter().zip(&self.gamma).zip(x) {
            p += d * x + 0.5 * g * x * x;
        }
        p
    }
}

/// δ_u and Γ_u by central differences of full revaluation at ±[`DELTA_STEP`], and the P&L of
/// the unmoved scenario.
pub fn sensitivities(
    book: &Book<'_>,
    coins: &[Asset],
    template: &Scenario,
) -> Result<Sensitivities, VarError> {
    let u = coins.len();
    // Row 0 unmoved, then +step and −step for each coin.
    let mut moves = vec![0.0; (2 * u + 1) * u];
    for c in 0..u {
        moves[(1 + 2 * c) * u + c] = DELTA_STEP;
        moves[(2 + 2 * c) * u + c] = -DELTA_STEP;
    }
    let joint = JointMoves::new(coins, &moves)?;
    let l = losses(book, &joint, template)?;
    let (up, down) = (|c: usize| -l[1 + 2 * c], |c: usize| -l[2 + 2 * c]);
    let base = -l[0];
    Ok(Sensitivities {
        base,
        delta: (0..u)
            .map(|c| (up(c) - down(c)) / (2.0 * DELTA_STEP))
            .collect(),
        gamma: (0..u)
            .map(|c| (up(c) - 2.0 * base + down(c)) / (DELTA_STEP * DELTA_STEP))
            .collect(),
    })
}
