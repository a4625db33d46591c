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

use margin_core::account::{Margin, WorstScenario};
use margin_core::model::Model;
use margin_core::risk::InstrumentError;
use margin_core::scenario::{JointMoves, Scenario, ScenarioKind, VolShock};
use margin_core::spec::{Covariance, JointSource, Measure, Method, Source, Spec};
use margin_core::statistical::{self, BlockScratch, Book};
use margin_core::stats::monte_carlo::{self, McParams};
use margin_core::stats::{ewma, historical, linalg, normal, tail};
use margin_core::var_margin;
use margin_core::{Asset, Error};
use rayon::prelude::*;

/// Scenarios per parallel chunk (fixed, so results do not depend on the thread count).
pub const CHUNK: usize = 4096;
/// Scenarios per revaluation block inside a chunk.
pub const BLOCK: usize = 512;
/// Relative step of the central differences behind parametric sensitivities.
pub const DELTA_STEP: f64 = 1e-3;

/// A VaR run: the joint scenario source and the confidence of the measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarParams {
    /// How the scenarios are made.
    pub source: JointSource,
    /// Confidence level c in (0, 1).
    pub confidence: f64,
}

impl VarParams {
    /// The run a statistical model specifies (`None` for a grid model).
    pub fn of(model: &Model) -> Option<VarParams> {
        match model.spec() {
            Spec {
                source: Source::Joint(source),
                measure: Measure::Tail { confidence, .. },
                ..
            } => Some(VarParams { source, confidence }),
            _ => None,
        }
    }
}

/// Daily closes, date-major `T × U`, of the coins a book needs, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct Closes<'a> {
    /// Coins, in column order.
    pub coins: &'a [Asset],
    /// `T × U` closes.
    pub closes: &'a [f64],
}

/// The closes of the coins `instruments` need, taken from `history` in its column order:
/// `(coins, T × U closes)`, the owned data behind a [`Closes`]. Errors with the first
/// instrument whose coin the history does not have.
pub fn book_closes(
    history: &margin_core::io::PriceHistory,
    instruments: &[margin_core::Instrument],
) -> Result<(Vec<Asset>, Vec<f64>), margin_core::Instrument> {
    let mut columns = Vec::new();
    for i in instruments {
        let c = history.coin_index(i.underlying).ok_or(*i)?;
        if !columns.contains(&c) {
            columns.push(c);
        }
    }
    columns.sort_unstable();
    let all = history.coins().len();
    let coins = columns.iter().map(|&c| history.coins()[c]).collect();
    let closes = (0..history.len())
        .flat_map(|t| columns.iter().map(move |&c| history.closes()[t * all + c]))
        .collect();
    Ok((coins, closes))
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
    /// Coins of the joint table, in column order (of `moves`, `volatility`, `correlation`).
    pub coins: Vec<Asset>,
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

/// Joint scenarios built once from a history, shared by every account of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenarios {
    /// Coins, in column order.
    pub coins: Vec<Asset>,
    /// `N × U` relative moves.
    pub moves: Vec<f64>,
    /// Close indices `(start, end)` of each HS/FHS window.
    pub windows: Option<Vec<(usize, usize)>>,
    /// Daily covariance used by Monte Carlo and parametric (`U × U`).
    pub covariance: Vec<f64>,
    /// Today's daily σ of each coin (EWMA at λ).
    pub volatility: Vec<f64>,
    /// Correlation matrix of `covariance`.
    pub correlation: Vec<f64>,
}

impl Scenarios {
    /// The scenarios of `source` over `history`.
    pub fn build(history: &Closes<'_>, source: &JointSource) -> Result<Scenarios, VarError> {
        source.validate()?;
        let u = history.coins.len();
        let h = source.horizon_days;
        let t = history.closes.len() / u.max(1);
        let mut returns = vec![0.0; t.saturating_sub(1) * u];
        let n_returns = ewma::log_returns(history.closes, u, &mut returns)?;
        let returns = &returns[..n_returns * u];
        let mut ewma_cov = vec![0.0; u * u];
        ewma::ewma_covariance(returns, u, source.lambda, &mut ewma_cov)?;
        let covariance = match source.covariance {
            Covariance::Ewma => ewma_cov.clone(),
            Covariance::Sample => {
                let mut c = vec![0.0; u * u];
                ewma::sample_covariance(returns, u, &mut c)?;
                c
            }
        };
        let (moves, windows) = match source.method {
            Method::Historical => {
                let n = historical::window_count(t, h, source.overlapping);
                let mut m = vec![0.0; n * u];
                let mut w = vec![(0, 0); n];
                let n =
                    historical::hs_moves(history.closes, u, h, source.overlapping, &mut m, &mut w)?;
                (m[..n * u].to_vec(), Some(w[..n].to_vec()))
            }
            Method::Filtered => {
                let n = historical::fhs_window_count(t, h, source.overlapping);
                let mut m = vec![0.0; n * u];
                let mut w = vec![(0, 0); n];
                let mut now = vec![0.0; u];
                let n = historical::fhs_moves(
                    history.closes,
                    u,
                    h,
                    source.overlapping,
                    source.lambda,
                    &mut m,
                    &mut w,
                    &mut now,
                )?;
                (m[..n * u].to_vec(), Some(w[..n].to_vec()))
            }
            Method::MonteCarlo | Method::Parametric => (mc_moves(&covariance, u, source)?, None),
        };
        JointMoves::new(history.coins, &moves)?;
        Ok(Scenarios {
            coins: history.coins.to_vec(),
            moves,
            windows,
            volatility: (0..u).map(|i| ewma_cov[i * u + i].sqrt()).collect(),
            correlation: correlation(&covariance, u),
            covariance,
        })
    }

    /// The joint table (validated when built).
    pub fn joint(&self) -> Result<JointMoves<'_>, Error> {
        JointMoves::new(&self.coins, &self.moves)
    }
}

/// Builds the scenarios of `params` over `history` and evaluates `book` on them.
pub fn run(
    book: &Book<'_>,
    history: &Closes<'_>,
    params: &VarParams,
) -> Result<VarReport, VarError> {
    let scenarios = Scenarios::build(history, &params.source)?;
    evaluate(book, &scenarios, params)
}

/// VaR, ES, tail and contributions of `book` over `scenarios` (built for `params.source`).
pub fn evaluate(
    book: &Book<'_>,
    scenarios: &Scenarios,
    params: &VarParams,
) -> Result<VarReport, VarError> {
    let joint = scenarios.joint()?;
    let u = scenarios.coins.len();
    let template = params.source.template();
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
            window: scenarios.windows.as_ref().map(|w| w[s]),
            weight,
            loss: losses[s],
            moves: joint.row(s).to_vec(),
        })
        .collect();
    let (var, es, full, delta_gamma) = if params.source.method == Method::Parametric {
        let sens = sensitivities(book, &scenarios.coins, &template)?;
        let (var, es) = delta_normal(&sens, &scenarios.covariance, params)?;
        let quadratic: Vec<f64> = (0..joint.len()).map(|s| -sens.pnl(joint.row(s))).collect();
        let dg = tail::tail(&quadratic, params.confidence, &mut order)?;
        (var, es, Some((tl.var, tl.es)), Some((dg.var, dg.es)))
    } else {
        (tl.var, tl.es, None, None)
    };
    Ok(VarReport {
        coins: scenarios.coins.clone(),
        scenarios: losses.len(),
        var,
        es,
        tail,
        contributions,
        volatility: scenarios.volatility.clone(),
        correlation: scenarios.correlation.clone(),
        losses,
        full_revaluation: full,
        delta_gamma,
    })
}

/// The margin of `book` with `equity` under statistical `model` over `scenarios` (built for
/// the model's source), with the run's report.
pub fn margin(
    book: &Book<'_>,
    scenarios: &Scenarios,
    model: &Model,
    equity: f64,
) -> Result<(Margin, VarReport), VarError> {
    let params = VarParams::of(model).ok_or(VarError::Input(Error::OutOfRange {
        what: "a grid model given joint scenarios",
        value: 0.0,
    }))?;
    let report = evaluate(book, scenarios, &params)?;
    let worst = report.tail.first().map_or(
        WorstScenario {
            index: 0,
            price_move: 0.0,
            vol_shock: 0.0,
            kind: ScenarioKind::Standard,
            loss: 0.0,
        },
        |t| WorstScenario {
            index: t.index,
            price_move: t.moves.first().copied().unwrap_or(0.0),
            vol_shock: params.source.vol.magnitude(),
            kind: ScenarioKind::Standard,
            loss: t.loss,
        },
    );
    let m = var_margin::margin(model, equity, report.var, report.es, worst)?;
    Ok((m, report))
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
fn mc_moves(cov: &[f64], u: usize, params: &JointSource) -> Result<Vec<f64>, Error> {
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

/// Correlation matrix of a covariance (`ρ_ij = Σ_ij/√(Σ_ii Σ_jj)`). A coin whose variance is
/// 0 (a flat history) has no correlation to speak of: its off-diagonal entries are reported as
/// 0, never as the NaN of 0/0.
pub(crate) fn correlation(cov: &[f64], u: usize) -> Vec<f64> {
    let mut out = vec![0.0; u * u];
    for i in 0..u {
        for j in 0..u {
            let scale = (cov[i * u + i] * cov[j * u + j]).sqrt();
            out[i * u + j] = if i == j {
                1.0
            } else if scale > 0.0 && (cov[i * u + j] / scale).is_finite() {
                cov[i * u + j] / scale
            } else {
                0.0
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
    let sigma = (params.source.horizon_days as f64 * variance)
        .max(0.0)
        .sqrt();
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
