//! Margin models: a preset names a scenario set, a measure, add-ons and an IM/MM mapping.
//!
//! Parameters are data. Every preset here mirrors a versioned file under `presets/` (with its
//! source and effective date), and a test checks that the two agree. Each parameter can be
//! overridden by its venue's own name with [`Model::set`].

use crate::error::{Error, finite, positive};
use crate::measure::CellRule;
use crate::scenario::{
    self, DERIBIT_EXTENDED_MOVES, Scenario, ScenarioSet, TenorScaling, VolDirection, VolShock,
};
use crate::spec::{AddOn, Covariance, JointSource, Mapping, Measure, Method, Scope, Source, Spec};
use crate::stats::monte_carlo::Dist;

/// Most scenarios a model may generate.
pub const MAX_SCENARIOS: usize = 128;
/// Most price moves or vol shocks of a user-defined grid.
pub const MAX_GRID_AXIS: usize = 32;

/// Generated scenarios, held inline.
pub type Scenarios = heapless::Vec<Scenario, MAX_SCENARIOS>;

mod params;
use params::{DERIBIT_BTC, DERIBIT_ETH, SPAN16, STATISTICAL, paradex_grid};
pub use params::{DeribitParams, GridParams, PARADEX_PRICE_MOVES, SpanParams, StatisticalParams};

/// A user-defined grid: price moves (each with a weight) times vol states.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// `(relative price move, weight)` pairs.
    pub price_moves: heapless::Vec<(f64, f64), MAX_GRID_AXIS>,
    /// Scalar parameters.
    pub params: GridParams,
}

/// The family of a model, with its parameters.
// Without a heap the grid's price axis lives inline; a model is built once per run, so the
// larger variant costs nothing that matters.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Family {
    /// Deribit portfolio margin: worst case over a 9 × 3 grid plus an 8-move extended table, roll
    /// shock; MM = `mm_factor` × risk-matrix margin, IM = risk-matrix margin.
    Deribit(DeribitParams),
    /// CME SPAN: 16 scenarios with a one-day look-ahead, short-option minimum; IM = `im_ratio` × MM.
    Span(SpanParams),
    /// Any grid; IM = max(worst case, delta minimum), MM = `mm_factor` × IM.
    Grid(Grid),
    /// VaR or ES over joint scenarios from a price history; IM = the measure, MM = `mm_factor`
    /// × IM.
    Statistical(Statistical),
}

/// A statistical model: how its scenarios are made, which tail measure, and its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Statistical {
    /// Scenario method.
    pub method: Method,
    /// ES when true, VaR otherwise.
    pub expected_shortfall: bool,
    /// Scalar parameters.
    pub params: StatisticalParams,
}

/// Which parameter set produced a result: every [`crate::account::Margin`] carries one, so a
/// number can always be traced to its preset file and effective date (methodologies §11.2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresetId {
    /// Preset name, e.g. `deribit-btc` (the file `presets/<name>.json`).
    pub name: &'static str,
    /// Version of the parameter set (its effective date).
    pub version: &'static str,
    /// True when parameters were overridden after loading the preset.
    pub modified: bool,
}

/// A named, versioned model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Preset name, e.g. `deribit-btc`.
    pub name: &'static str,
    /// Version of the parameter set (its effective date).
    pub version: &'static str,
    /// True once any parameter was overridden: results then say the preset was modified.
    pub modified: bool,
    /// Family and parameters.
    pub family: Family,
}

/// Names of the built-in presets.
pub const PRESETS: [&str; 8] = [
    "deribit-btc",
    "deribit-eth",
    "span16",
    "grid",
    "hs-es",
    "fhs-es",
    "mc-es",
    "parametric-var",
];

impl Model {
    /// The built-in preset `name` (see [`PRESETS`]).
    pub fn preset(name: &str) -> Result<Model, Error> {
        let (name, version, family) = match name {
            "deribit-btc" => ("deribit-btc", "2024-06-17", Family::Deribit(DERIBIT_BTC)),
            "deribit-eth" => ("deribit-eth", "2026-02-15", Family::Deribit(DERIBIT_ETH)),
            "span16" => ("span16", "2026-11-24", Family::Span(SPAN16)),
            "grid" => ("grid", "2026-11-24", Family::Grid(paradex_grid())),
            "hs-es" => ("hs-es", "2026-11-29", statistical(Method::Historical, true)),
            "fhs-es" => ("fhs-es", "2026-11-29", statistical(Method::Filtered, true)),
            "mc-es" => ("mc-es", "2026-11-29", statistical(Method::MonteCarlo, true)),
            "parametric-var" => (
                "parametric-var",
                "2026-11-29",
                statistical(Method::Parametric, false),
            ),
            _ => return Err(Error::UnknownPreset),
        };
        Ok(Model {
            name,
            version,
            modified: false,
            family,
        })
    }

    /// The preset name, version and whether it was modified, for results.
    pub fn id(&self) -> PresetId {
        PresetId {
            name: self.name,
            version: self.version,
            modified: self.modified,
        }
    }

    /// The scalar parameter `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        match &self.family {
            Family::Deribit(p) => p.get(name),
            Family::Span(p) => p.get(name),
            Family::Grid(g) => g.params.get(name),
            Family::Statistical(m) => m.params.get(name),
        }
    }

    /// Overrides the scalar parameter `name`.
    pub fn set(&mut self, name: &str, value: f64) -> Result<(), Error> {
        match &mut self.family {
            Family::Deribit(p) => p.set(name, value)?,
            Family::Span(p) => p.set(name, value)?,
            Family::Grid(g) => g.params.set(name, value)?,
            Family::Statistical(m) => m.params.set(name, value)?,
        }
        self.modified = true;
        Ok(())
    }

    /// Names of the scalar parameters of this model's family.
    pub fn parameter_names(&self) -> &'static [&'static str] {
        match &self.family {
            Family::Deribit(_) => DeribitParams::NAMES,
            Family::Span(_) => SpanParams::NAMES,
            Family::Grid(_) => GridParams::NAMES,
            Family::Statistical(_) => StatisticalParams::NAMES,
        }
    }

    /// This model as a declarative [`Spec`]: the one description every margin calculation
    /// interprets. Deribit: one risk unit per account, gains offset at `pnl_offset` up to the cap,
    /// extended cells dampened, worst case rounded, roll shock (and naked shorts) added, MM a
    /// fraction of IM. SPAN: each underlying scanned on its own and the scan risks summed, the
    /// short-option minimum a floor per underlying, IM a multiple of MM. Grid: one risk unit,
    /// losses of the underlyings in the same scenario add (no gain offset), the delta minimum a
    /// floor, MM a fraction of IM.
    pub fn spec(&self) -> Spec {
        let mut addons = heapless::Vec::new();
        let mut add = |a| {
            // At most three add-ons per family: MAX_ADDONS is never reached.
            let _ = addons.push(a);
        };
        let no_gains = CellRule {
            gain_offset: 0.0,
            ..CellRule::NETTED
        };
        let (scope, cell, measure, total, mapping) = match &self.family {
            Family::Deribit(p) => {
                add(AddOn::RollShock {
                    min_annualised_move: p.min_annualised_move,
                    annualised_move_risk: p.annualised_move_risk,
                });
                if p.naked_short_per_strike > 0.0 {
                    add(AddOn::NakedShort {
                        per_contract: p.naked_short_per_strike,
                    });
                }
                (
                    Scope::Account,
                    CellRule {
                        gain_offset: p.pnl_offset,
                        gain_cap: p.max_offsetable_pnl,
                        extended_dampener: p.extended_dampener,
                        extended_factor: p.extended_table_factor,
                    },
                    Measure::Worst {
                        name: "worst_case",
                        decimals: p.worst_case_decimals as i32,
                    },
                    Some("risk_matrix_margin"),
                    Mapping::Initial {
                        mm_factor: p.mm_factor,
                    },
                )
            }
            Family::Span(p) => {
                add(AddOn::ShortOptionMinimum {
                    per_contract: p.short_option_minimum,
                });
                (
                    Scope::PerUnderlying,
                    no_gains,
                    Measure::Worst {
                        name: "scan_risk",
                        decimals: -1,
                    },
                    Some("span_risk"),
                    Mapping::Maintenance {
                        im_ratio: p.im_ratio,
                    },
                )
            }
            Family::Grid(g) => {
                add(AddOn::DeltaMinimum {
                    net: g.params.delta_minimum_net,
                    hedged: g.params.delta_minimum_hedged,
                });
                (
                    Scope::Account,
                    no_gains,
                    Measure::Worst {
                        name: "worst_case",
                        decimals: -1,
                    },
                    None,
                    Mapping::Initial {
                        mm_factor: g.params.mm_factor,
                    },
                )
            }
            Family::Statistical(m) => {
                let p = &m.params;
                let source = JointSource {
                    method: m.method,
                    horizon_days: p.horizon_days as usize,
                    overlapping: p.overlapping != 0.0,
                    lambda: p.ewma_lambda,
                    covariance: if p.ewma_covariance != 0.0 {
                        Covariance::Ewma
                    } else {
                        Covariance::Sample
                    },
                    dist: if p.student_t_nu == 0.0 {
                        Dist::Normal
                    } else {
                        Dist::StudentT { nu: p.student_t_nu }
                    },
                    scenarios: p.scenarios as usize,
                    seed: p.seed as u64,
                    vol: if p.vol_shift == 0.0 && p.vol_beta == 0.0 && p.vol_floor == 0.0 {
                        VolShock::None
                    } else {
                        VolShock::Rule {
                            shift: p.vol_shift,
                            beta: p.vol_beta,
                            floor: p.vol_floor,
                        }
                    },
                    time_decay: p.time_decay != 0.0,
                };
                return Spec {
                    source: Source::Joint(source),
                    scope: Scope::Account,
                    cell: CellRule::NETTED,
                    measure: Measure::Tail {
                        name: if m.expected_shortfall {
                            "expected_shortfall"
                        } else {
                            "value_at_risk"
                        },
                        expected_shortfall: m.expected_shortfall,
                        confidence: p.confidence,
                    },
                    addons,
                    total: None,
                    mapping: Mapping::Initial {
                        mm_factor: p.mm_factor,
                    },
                };
            }
        };
        Spec {
            source: Source::Grid,
            scope,
            cell,
            measure,
            addons,
            total,
            mapping,
        }
    }

    /// The term structure of this model's tenor-scaled vol shocks.
    pub fn tenor(&self) -> TenorScaling {
        match &self.family {
            Family::Deribit(p) => TenorScaling {
                short_term_power: p.short_term_vega_power,
                long_term_power: p.long_term_vega_power,
                min_vol_up: p.min_volatility_for_shock_up,
                ..TenorScaling::deribit(0.0)
            },
            Family::Span(_) | Family::Statistical(_) => TenorScaling::deribit(0.0),
            Family::Grid(g) => TenorScaling {
                short_term_power: g.params.short_term_vega_power,
                long_term_power: g.params.long_term_vega_power,
                min_vol_up: g.params.min_volatility_for_shock_up,
                ..TenorScaling::deribit(0.0)
            },
        }
    }

    /// Checks every scalar parameter: finite, and within its range (rates, factors and caps
    /// not negative; scan ranges, `mm_factor`, `im_ratio` positive; counts whole). Called by
    /// [`Model::scenarios`] and by every margin calculation, so a model changed after its
    /// arrays were built cannot produce a number from invalid parameters.
    pub fn validate(&self) -> Result<(), Error> {
        self.tenor().validate()?;
        match &self.family {
            Family::Deribit(p) => {
                // 3 × (2·19 + 1) + 8 = 125 ≤ MAX_SCENARIOS.
                whole(p.buckets_count, "buckets_count", 1.0, 19.0)?;
                if p.vol_scenarios_count != 3.0 {
                    return Err(Error::OutOfRange {
                        what: "vol_scenarios_count (must be 3)",
                        value: p.vol_scenarios_count,
                    });
                }
                positive(p.price_range, "price_range")?;
                positive(p.mm_factor, "mm_factor")?;
                for (x, what) in [
                    (p.volatility_range_up, "volatility_range_up"),
                    (p.volatility_range_down, "volatility_range_down"),
                    (p.pnl_offset, "pnl_offset"),
                    (p.max_offsetable_pnl, "max_offsetable_pnl"),
                    (p.extended_dampener, "extended_dampener"),
                    (p.extended_table_factor, "extended_table_factor"),
                    (p.annualised_move_risk, "annualised_move_risk"),
                    (p.min_annualised_move, "min_annualised_move"),
                    (p.naked_short_per_strike, "naked_short_per_strike"),
                ] {
                    non_negative(x, what)?;
                }
                whole(p.worst_case_decimals, "worst_case_decimals", -1.0, 15.0)?;
            }
            Family::Span(p) => {
                positive(p.price_scan_range, "price_scan_range")?;
                positive(p.extreme_move_multiple, "extreme_move_multiple")?;
                positive(p.im_ratio, "im_ratio")?;
                for (x, what) in [
                    (p.volatility_scan_range, "volatility_scan_range"),
                    (p.extreme_move_cover, "extreme_move_cover"),
                    (p.look_ahead_days, "look_ahead_days"),
                    (p.short_option_minimum, "short_option_minimum"),
                ] {
                    non_negative(x, what)?;
                }
            }
            Family::Grid(g) => {
                positive(g.params.mm_factor, "mm_factor")?;
                for (x, what) in [
                    (g.params.volatility_range_up, "volatility_range_up"),
                    (g.params.volatility_range_down, "volatility_range_down"),
                    (g.params.delta_minimum_net, "delta_minimum_net"),
                    (g.params.delta_minimum_hedged, "delta_minimum_hedged"),
                ] {
                    non_negative(x, what)?;
                }
            }
            Family::Statistical(m) => validate_statistical(&m.params)?,
        }
        Ok(())
    }

    /// The scenario set of this model over `scenarios`, which must be what
    /// [`Model::scenarios`] generates (checked once here). The set carries this model's
    /// [`Model::digest`], so every later margin call confirms the model in O(1) instead of
    /// regenerating and comparing the scenarios.
    pub fn scenario_set<'a>(&self, scenarios: &'a [Scenario]) -> Result<ScenarioSet<'a>, Error> {
        if self.scenarios()?.as_slice() != scenarios {
            return Err(Error::OutOfRange {
                what: "scenarios other than this model's",
                value: scenarios.len() as f64,
            });
        }
        Ok(ScenarioSet::new(scenarios, self.tenor())?.with_origin(self.digest()))
    }

    /// A 64-bit digest (FNV-1a over the bits) of the family and every parameter: equal models
    /// have equal digests, so a set tagged with it was generated by an equal model.
    pub fn digest(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |word: u64| h = (h ^ word).wrapping_mul(0x0000_0100_0000_01b3);
        let family = match &self.family {
            Family::Deribit(_) => 1,
            Family::Span(_) => 2,
            Family::Statistical(m) => {
                mix(m.method as u64);
                mix(m.expected_shortfall as u64);
                4
            }
            Family::Grid(g) => {
                for &(m, w) in &g.price_moves {
                    mix(m.to_bits());
                    mix(w.to_bits());
                }
                3
            }
        };
        mix(family);
        match &self.family {
            Family::Deribit(p) => p.values().for_each(|v| mix(v.to_bits())),
            Family::Span(p) => p.values().for_each(|v| mix(v.to_bits())),
            Family::Grid(g) => g.params.values().for_each(|v| mix(v.to_bits())),
            Family::Statistical(m) => m.params.values().for_each(|v| mix(v.to_bits())),
        }
        h
    }

    /// The grid's vol states: up (if its range is positive), unchanged, down (likewise).
    fn grid_vol_shocks(&self, g: &Grid) -> heapless::Vec<VolShock, 3> {
        let mut vols = heapless::Vec::new();
        let (up, down) = (g.params.volatility_range_up, g.params.volatility_range_down);
        let tenor = |direction, range| VolShock::Tenor { direction, range };
        for v in [
            (up > 0.0).then(|| tenor(VolDirection::Up, up)),
            Some(VolShock::None),
            (down > 0.0).then(|| tenor(VolDirection::Down, down)),
        ]
        .into_iter()
        .flatten()
        {
            let _ = vols.push(v);
        }
        vols
    }

    /// Checks the parameters ([`Model::validate`]) and generates the scenarios.
    pub fn scenarios(&self) -> Result<Scenarios, Error> {
        self.validate()?;
        let mut buf = [Scenario::standard(0.0, VolShock::None); MAX_SCENARIOS];
        let n = match &self.family {
            Family::Deribit(p) => scenario::deribit_grid(
                p.price_range,
                p.buckets_count as u32,
                p.volatility_range_up,
                p.volatility_range_down,
                &DERIBIT_EXTENDED_MOVES,
                &mut buf,
            )?,
            Family::Span(p) => scenario::span16(
                p.price_scan_range,
                p.volatility_scan_range,
                p.extreme_move_multiple,
                p.extreme_move_cover,
                p.look_ahead_days / 365.0,
                &mut buf,
            )?,
            Family::Grid(g) => {
                let vols = self.grid_vol_shocks(g);
                let mut moves = [0.0; MAX_GRID_AXIS];
                for (m, &(mv, _)) in moves.iter_mut().zip(&g.price_moves) {
                    *m = mv;
                }
                let n = scenario::grid(&moves[..g.price_moves.len()], &vols, &mut buf)?;
                for (i, s) in buf[..n].iter_mut().enumerate() {
                    s.weight = g.price_moves[i / vols.len()].1;
                }
                n
            }
            Family::Statistical(_) => {
                return Err(Error::OutOfRange {
                    what: "grid scenarios of a statistical model (its joint scenarios come from \
                           a price history)",
                    value: 0.0,
                });
            }
        };
        let mut out = Scenarios::new();
        for s in &buf[..n] {
            out.push(*s).map_err(|_| Error::Capacity {
                needed: n,
                available: MAX_SCENARIOS,
            })?;
        }
        ScenarioSet::new(&out, self.tenor())?;
        Ok(out)
    }
}

/// The valid range of every statistical parameter (see [`StatisticalParams`]).
fn validate_statistical(p: &StatisticalParams) -> Result<(), Error> {
    for (x, what) in [
        (p.confidence, "confidence (in (0, 1))"),
        (p.ewma_lambda, "ewma_lambda (in (0, 1))"),
    ] {
        if !(finite(x, what)? > 0.0 && x < 1.0) {
            return Err(Error::OutOfRange { what, value: x });
        }
    }
    whole(p.horizon_days, "horizon_days", 1.0, 250.0)?;
    whole(p.overlapping, "overlapping (0 or 1)", 0.0, 1.0)?;
    whole(p.ewma_covariance, "ewma_covariance (0 or 1)", 0.0, 1.0)?;
    whole(p.time_decay, "time_decay (0 or 1)", 0.0, 1.0)?;
    whole(p.scenarios, "scenarios", 100.0, 10_000_000.0)?;
    whole(p.seed, "seed", 0.0, 9_007_199_254_740_992.0)?;
    let nu = finite(p.student_t_nu, "student_t_nu")?;
    if nu != 0.0 && nu <= 2.0 {
        return Err(Error::OutOfRange {
            what: "student_t_nu (0 for normal, else > 2)",
            value: nu,
        });
    }
    finite(p.vol_shift, "vol_shift")?;
    finite(p.vol_beta, "vol_beta")?;
    non_negative(p.vol_floor, "vol_floor")?;
    let mm = positive(p.mm_factor, "mm_factor")?;
    if mm > 1.0 {
        return Err(Error::OutOfRange {
            what: "mm_factor (in (0, 1]: maintenance never above initial)",
            value: mm,
        });
    }
    Ok(())
}

/// A statistical preset: the common parameters with `method` and the measure.
fn statistical(method: Method, expected_shortfall: bool) -> Family {
    Family::Statistical(Statistical {
        method,
        expected_shortfall,
        params: STATISTICAL,
    })
}

fn non_negative(x: f64, what: &'static str) -> Result<f64, Error> {
    let x = finite(x, what)?;
    if x < 0.0 {
        Err(Error::NonPositive { what, value: x })
    } else {
        Ok(x)
    }
}

fn whole(x: f64, what: &'static str, lo: f64, hi: f64) -> Result<f64, Error> {
    let x = finite(x, what)?;
    if x != libm::trunc(x) || x < lo || x > hi {
        return Err(Error::OutOfRange { what, value: x });
    }
    Ok(x)
}
