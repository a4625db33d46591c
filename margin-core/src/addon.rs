//! Add-ons: each a small function of the positions and the risk arrays, returning an amount
//! in the account currency that the model reports as a named line item.
//!
//! Amounts per coin of exposure are converted with the instrument's current price input for
//! linear (USD) instruments and taken as-is for inverse (coin) ones.

use crate::instrument::Kind;
use crate::risk::{Position, RiskArrays};

/// A named component of a margin requirement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineItem {
    /// Stable machine name, e.g. `roll_shock`.
    pub name: &'static str,
    /// Amount in the account currency.
    pub value: f64,
}

/// Account-currency amount of one coin of instrument `i`'s underlying.
fn coin_value(arrays: &RiskArrays<'_>, i: usize) -> f64 {
    if arrays.instruments()[i].is_inverse() {
        1.0
    } else {
        arrays.inputs(i).forward
    }
}

/// Deribit's roll shock on futures and perpetuals:
/// `Σ |Q|·max(min_annualised_move, annualised_move_risk·T)` (methodologies §1.3).
pub fn roll_shock(
    arrays: &RiskArrays<'_>,
    positions: impl Iterator<Item = Position>,
    min_annualised_move: f64,
    annualised_move_risk: f64,
) -> f64 {
    positions
        .filter(|p| {
            matches!(
                arrays.instruments()[p.instrument].kind,
                Kind::Future { .. } | Kind::Perpetual
            )
        })
        .map(|p| {
            let t = arrays.inputs(p.instrument).time;
            p.size.abs()
                * min_annualised_move.max(annualised_move_risk * t)
                * coin_value(arrays, p.instrument)
        })
        .sum()
}

/// Net short options per strike: within one underlying, expiry and strike, calls and puts net
/// (`+10` calls and `−20` puts leave 10 naked); each naked contract costs `per_contract` of a coin
/// (Deribit's legacy 0.01 BTC rule; Derive's option contingency).
pub fn naked_short_per_strike(
    arrays: &RiskArrays<'_>,
    positions: impl Iterator<Item = Position> + Clone,
    per_contract: f64,
) -> f64 {
    if per_contract == 0.0 {
        // Every group would add 0.0 (the presets' setting): skip the grouping.
        return 0.0;
    }
    let key = |p: &Position| match arrays.instruments()[p.instrument] {
        i @ crate::Instrument {
            kind: Kind::Option { expiry, strike, .. },
            ..
        } => Some((i.underlying, i.settlement, expiry, strike)),
        _ => None,
    };
    sum_per_group(positions, key, |first, members| {
        let net: f64 = members.map(|q| q.size).sum();
        (-net).max(0.0) * per_contract * coin_value(arrays, first.instrument)
    })
}

/// SPAN's short-option minimum: every short option contract costs `per_contract` of a coin.
pub fn short_option_minimum(
    arrays: &RiskArrays<'_>,
    positions: impl Iterator<Item = Position>,
    per_contract: f64,
) -> f64 {
    positions
        .filter(|p| {
            p.size < 0.0 && matches!(arrays.instruments()[p.instrument].kind, Kind::Option { .. })
        })
        .map(|p| -p.size * per_contract * coin_value(arrays, p.instrument))
        .sum()
}

/// Paradex's minimum delta requirement, per underlying:
/// `(net_rate·|net Δ| + hedged_rate·(gross Δ − |net Δ|))·price`, summed over underlyings.
pub fn delta_minimum(
    arrays: &RiskArrays<'_>,
    positions: impl Iterator<Item = Position> + Clone,
    net_rate: f64,
    hedged_rate: f64,
) -> f64 {
    let underlying = |p: &Position| Some(arrays.instruments()[p.instrument].underlying);
    sum_per_group(positions, underlying, |_, members| {
        let (mut net, mut gross) = (0.0, 0.0);
        for q in members {
            let d =
                q.size * arrays.valuation(q.instrument).delta * coin_value(arrays, q.instrument);
            net += d;
            gross += d.abs();
        }
        net_rate * net.abs() + hedged_rate * (gross - net.abs())
    })
}

/// Sums `value(first, members)` over the groups of positions sharing a `key` (positions whose key
/// is `None` belong to no group). Each group is visited once, at its first position, and its
/// members come in position order, so the sum is deterministic. O(n × groups): linear for a
/// key with few values (an underlying), quadratic for a per-strike key, which is why
/// [`naked_short_per_strike`] skips it when its rate is 0 (every preset's setting).
fn sum_per_group<K: PartialEq>(
    positions: impl Iterator<Item = Position> + Clone,
    key: impl Fn(&Position) -> Option<K>,
    value: impl Fn(Position, &mut dyn Iterator<Item = Position>) -> f64,
) -> f64 {
    let mut total = 0.0;
    for (n, p) in positions.clone().enumerate() {
        let Some(k) = key(&p) else { continue };
        if positions
            .clone()
            .take(n)
            .any(|q| key(&q).as_ref() == Some(&k))
        {
            continue;
        }
        let mut members = positions.clone().filter(|q| key(q).as_ref() == Some(&k));
        total += value(p, &mut members);
    }
    total
}
