//! The interpreter of [`Spec`] over grid risk arrays: scope, cell aggregation, measure,
//! add-ons and the IM/MM mapping, for every grid model.

use super::{Account, MAX_LINE_ITEMS, MAX_UNDERLYINGS, Margin, WorstScenario};
use crate::addon::{self, LineItem};
use crate::error::Error;
use crate::instrument::Asset;
use crate::measure::{self, CellRule};
use crate::model::Model;
use crate::risk::{Position, RiskArrays};
use crate::scenario::Scenario;
use crate::spec::{AddOn, Combine, MAX_ADDONS, Measure, Scope, Spec};

/// Account-currency value of `usd` (the coin's index converts for coin accounts).
pub(super) fn from_usd(arrays: &RiskArrays<'_>, currency: Asset, usd: f64) -> f64 {
    match arrays.market().underlying(currency) {
        Ok(u) => usd / u.index_price,
        Err(_) => usd,
    }
}

/// The spec's cell rule with its USD amounts in the account currency (the optimiser reads
/// it to build the same cells as an epigraph).
pub fn cell_rule(arrays: &RiskArrays<'_>, spec: &Spec, currency: Asset) -> CellRule {
    CellRule {
        gain_cap: from_usd(arrays, currency, spec.cell.gain_cap),
        extended_dampener: from_usd(arrays, currency, spec.cell.extended_dampener),
        ..spec.cell
    }
}

/// The value scenario `sc` counts: `values` calls its argument with each underlying's P&L.
pub(super) fn counted(
    rule: &CellRule,
    sc: &Scenario,
    values: impl FnOnce(&mut dyn FnMut(f64)),
) -> f64 {
    let (mut losses, mut gains) = (0.0, 0.0);
    values(&mut |v| if v < 0.0 { losses += v } else { gains += v });
    rule.cell(losses, gains, sc)
}

/// The value of add-on `addon` over `positions`.
pub(super) fn addon_value(
    arrays: &RiskArrays<'_>,
    addon: &AddOn,
    positions: impl Iterator<Item = Position> + Clone,
) -> f64 {
    match *addon {
        AddOn::RollShock {
            min_annualised_move,
            annualised_move_risk,
        } => addon::roll_shock(arrays, positions, min_annualised_move, annualised_move_risk),
        AddOn::NakedShort { per_contract } => {
            addon::naked_short_per_strike(arrays, positions, per_contract)
        }
        AddOn::ShortOptionMinimum { per_contract } => {
            addon::short_option_minimum(arrays, positions, per_contract)
        }
        AddOn::DeltaMinimum { net, hedged } => addon::delta_minimum(arrays, positions, net, hedged),
    }
}

/// Underlyings of an evaluation, in column order: the account's, plus an order's new one.
pub(super) type Groups = heapless::Vec<Asset, { MAX_UNDERLYINGS + 1 }>;

/// The interpreter of [`Spec`]: scope, cell aggregation, measure, add-ons and IM/MM mapping.
/// `pnl(s, g)` is the P&L of underlying `groups[g]` in scenario `s`. Per-underlying scopes sum
/// each line item over the underlyings in column order.
pub(super) fn evaluate<P>(
    arrays: &RiskArrays<'_>,
    model: &Model,
    account: &Account<'_>,
    positions: P,
    groups: &Groups,
    pnl: impl Fn(usize, usize) -> f64,
) -> Result<Margin, Error>
where
    P: Iterator<Item = Position> + Clone,
{
    // Arrays built under other scenarios (another preset, or this model before a parameter
    // changed) would be read under the wrong rules. Sets built by `Model::scenario_set` carry
    // the model's digest (O(1)); otherwise regenerate and compare (which also validates).
    let set = arrays.scenarios();
    if set.origin() == Some(model.digest()) {
        model.validate()?;
    } else if model.scenarios()?.as_slice() != set.scenarios()
        || model.underlying_grids()?.as_slice() != set.underlying_grids()
        || model.tenor() != *set.tenor()
    {
        return Err(Error::OutOfRange {
            what: "risk arrays built for other scenarios than this model's (rebuild them)",
            value: set.len() as f64,
        });
    }
    let spec = model.spec();
    let Measure::Worst { decimals, .. } = spec.measure else {
        // Tail measures run over joint scenarios (`crate::statistical_margin`), never a grid.
        return Err(Error::OutOfRange {
            what: "a statistical model margined on grid risk arrays (give it a price history)",
            value: 0.0,
        });
    };
    let rule = cell_rule(arrays, &spec, account.currency);
    let scenarios = arrays.scenarios().scenarios();
    let units = match spec.scope {
        Scope::Account => 1,
        Scope::PerUnderlying => groups.len().max(1),
    };
    let mut measure_sum = 0.0;
    let mut addon_sums = [0.0; MAX_ADDONS];
    let mut requirement = 0.0;
    let mut worst = measure::Worst {
        loss: f64::NEG_INFINITY,
        index: 0,
    };
    for unit in 0..units {
        let in_unit = |g: usize| spec.scope == Scope::Account || g == unit;
        let w = measure::worst(scenarios.iter().enumerate().map(|(s, sc)| {
            counted(&rule, sc, |each| {
                for g in (0..groups.len()).filter(|&g| in_unit(g)) {
                    each(pnl(s, g));
                }
            })
        }));
        if w.loss > worst.loss || w.loss.is_nan() {
            worst = w;
        }
        let unit_positions = positions.clone().filter(move |p| {
            spec.scope == Scope::Account
                || groups.get(unit) == Some(&arrays.instruments()[p.instrument].underlying)
        });
        measure_sum += w.loss;
        let mut risk = measure::round_to(w.loss, decimals);
        for (sum, a) in addon_sums.iter_mut().zip(&spec.addons) {
            let v = addon_value(arrays, a, unit_positions.clone());
            *sum += v;
            risk = match a.combine() {
                Combine::Add => risk + v,
                Combine::Floor => risk.max(v),
            };
        }
        requirement += risk;
    }
    let mut items: heapless::Vec<LineItem, MAX_LINE_ITEMS> = heapless::Vec::new();
    let mut item = |name, value: f64| -> Result<(), Error> {
        if !value.is_finite() {
            return Err(Error::Overflow { what: name });
        }
        let _ = items.push(LineItem { name, value });
        Ok(())
    };
    item(spec.measure.name(), measure_sum)?;
    for (a, &v) in spec.addons.iter().zip(&addon_sums) {
        item(a.name(), v)?;
    }
    if let Some(total) = spec.total {
        item(total, requirement)?;
    }
    let (initial, maintenance) = spec.mapping.apply(requirement);
    for (value, what) in [
        (initial, "initial margin"),
        (maintenance, "maintenance margin"),
    ] {
        if !value.is_finite() {
            return Err(Error::Overflow { what });
        }
    }
    let sc = &scenarios[worst.index];
    Ok(Margin::assemble(
        (initial, maintenance),
        items,
        WorstScenario {
            index: worst.index,
            price_move: sc.price_move,
            vol_shock: sc.vol_shock.magnitude(),
            kind: sc.kind,
            loss: worst.loss,
        },
        account.equity,
        model.id(),
    ))
}
