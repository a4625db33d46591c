//! Grid generators: Deribit's risk matrix, the 16 SPAN scenarios and user-defined grids, each
//! written into caller storage (returns the count written, or the capacity needed).

use super::{Scenario, ScenarioKind, VolDirection, VolShock};
use crate::error::{Error, positive};

/// Writes `s` at `out[*n]` and advances `n`, or reports the capacity needed.
fn push(out: &mut [Scenario], n: &mut usize, s: Scenario, total: usize) -> Result<(), Error> {
    let slot = out.get_mut(*n).ok_or(Error::Capacity {
        needed: total,
        available: 0,
    })?;
    *slot = s;
    *n += 1;
    Ok(())
}

fn ensure(out: &[Scenario], total: usize) -> Result<(), Error> {
    if out.len() < total {
        Err(Error::Capacity {
            needed: total,
            available: out.len(),
        })
    } else {
        Ok(())
    }
}

/// Deribit's extended table moves (vol up only), from Deribit's Portfolio Margin article.
pub const DERIBIT_EXTENDED_MOVES: [f64; 8] = [-0.66, -0.33, 0.50, 1.00, 2.00, 3.00, 4.00, 5.00];

/// Deribit PM grid: `2·buckets + 1` evenly spaced moves over ±`price_range`, each under vol up,
/// unchanged and down (in Deribit's order: up, same, down), then the extended moves under vol up
/// with delta-one products held at the ±`price_range` edge. Returns the count written.
pub fn deribit_grid(
    price_range: f64,
    buckets: u32,
    vol_up: f64,
    vol_down: f64,
    extended_moves: &[f64],
    out: &mut [Scenario],
) -> Result<usize, Error> {
    positive(price_range, "price_range")?;
    if buckets == 0 {
        // Moves are `range·step/buckets`: zero buckets would divide 0 by 0.
        return Err(Error::OutOfRange {
            what: "buckets_count",
            value: 0.0,
        });
    }
    let cells = 2 * buckets as usize + 1;
    let total = cells * 3 + extended_moves.len();
    ensure(out, total)?;
    let up = VolShock::Tenor {
        direction: VolDirection::Up,
        range: vol_up,
    };
    let down = VolShock::Tenor {
        direction: VolDirection::Down,
        range: vol_down,
    };
    let mut n = 0;
    for b in 0..cells {
        let step = b as f64 - buckets as f64;
        let m = price_range * step / buckets as f64;
        for v in [up, VolShock::None, down] {
            push(out, &mut n, Scenario::standard(m, v), total)?;
        }
    }
    for &m in extended_moves {
        let edge = if m < 0.0 { -price_range } else { price_range };
        let s = Scenario {
            delta_one_move: edge,
            kind: ScenarioKind::Extended,
            ..Scenario::standard(m, up)
        };
        push(out, &mut n, s, total)?;
    }
    Ok(n)
}

/// The 16 SPAN scenarios: price 0, ±1/3, ±2/3, ±1 of the price scan range, each with vol up and
/// down by the vol scan range (absolute), then two extreme moves at `extreme_multiple` × range
/// with vols unchanged and `extreme_cover` weight. Every scenario looks `time_step` years ahead.
pub fn span16(
    price_scan_range: f64,
    vol_scan_range: f64,
    extreme_multiple: f64,
    extreme_cover: f64,
    time_step: f64,
    out: &mut [Scenario],
) -> Result<usize, Error> {
    positive(price_scan_range, "price scan range")?;
    let total = 16;
    ensure(out, total)?;
    let mut n = 0;
    // The classic CME/NSE table order (methodologies §4.1).
    for k in [0.0, 1.0 / 3.0, -1.0 / 3.0, 2.0 / 3.0, -2.0 / 3.0, 1.0, -1.0] {
        for v in [vol_scan_range, -vol_scan_range] {
            let s = Scenario {
                time_step,
                ..Scenario::standard(k * price_scan_range, VolShock::Absolute(v))
            };
            push(out, &mut n, s, total)?;
        }
    }
    for sign in [1.0, -1.0] {
        let s = Scenario {
            time_step,
            weight: extreme_cover,
            kind: ScenarioKind::Extended,
            ..Scenario::standard(sign * extreme_multiple * price_scan_range, VolShock::None)
        };
        push(out, &mut n, s, total)?;
    }
    Ok(n)
}

/// A user-defined grid: every price move under every vol shock, all standard with weight 1.
pub fn grid(
    price_moves: &[f64],
    vol_shocks: &[VolShock],
    out: &mut [Scenario],
) -> Result<usize, Error> {
    let total = price_moves.len() * vol_shocks.len();
    ensure(out, total)?;
    let mut n = 0;
    for &m in price_moves {
        for &v in vol_shocks {
            push(out, &mut n, Scenario::standard(m, v), total)?;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{MIN_SHOCKED_VOL, TenorScaling};

    #[test]
    fn deribit_grid_matches_published_buckets() {
        let mut out = [Scenario::standard(0.0, VolShock::None); 40];
        let n = deribit_grid(0.16, 4, 0.5, 0.25, &DERIBIT_EXTENDED_MOVES, &mut out).unwrap();
        assert_eq!(n, 35);
        let moves: [f64; 9] = core::array::from_fn(|i| out[3 * i].price_move);
        // −16, −12, …, +16 % (methodologies §1.2).
        for (i, m) in moves.iter().enumerate() {
            assert!((m - (-0.16 + 0.04 * i as f64)).abs() < 1e-15);
        }
        assert_eq!(out[27].price_move, -0.66);
        assert_eq!(out[27].delta_one_move, -0.16);
        assert_eq!(out[34].delta_one_move, 0.16);
        assert!(
            out[27..35]
                .iter()
                .all(|s| s.vol_shock.sign() == 1 && s.kind == ScenarioKind::Extended)
        );
        let mut small = [Scenario::standard(0.0, VolShock::None); 10];
        assert_eq!(
            deribit_grid(0.16, 4, 0.5, 0.25, &DERIBIT_EXTENDED_MOVES, &mut small),
            Err(Error::Capacity {
                needed: 35,
                available: 10
            })
        );
    }

    /// Regression: zero buckets produced a NaN price move (0·0/0) instead of an error.
    #[test]
    fn deribit_grid_rejects_zero_buckets() {
        let mut out = [Scenario::standard(0.0, VolShock::None); 40];
        assert_eq!(
            deribit_grid(0.16, 0, 0.5, 0.25, &DERIBIT_EXTENDED_MOVES, &mut out),
            Err(Error::OutOfRange {
                what: "buckets_count",
                value: 0.0
            })
        );
    }

    #[test]
    fn span16_table() {
        let mut out = [Scenario::standard(0.0, VolShock::None); 16];
        span16(0.15, 0.05, 2.0, 0.35, 1.0 / 365.0, &mut out).unwrap();
        // NSE/CME table: 14 regular cells + 2 extremes at 35 % (methodologies §4.1).
        assert_eq!(out.iter().filter(|s| s.weight == 1.0).count(), 14);
        assert_eq!(out[14].price_move, 0.30);
        assert_eq!(out[15].price_move, -0.30);
        assert_eq!(out[15].weight, 0.35);
    }

    #[test]
    fn tenor_scaling_switches_power_at_30_days() {
        let t = TenorScaling::deribit(0.0);
        assert_eq!(t.scale(30.0), 1.0);
        assert!((t.scale(7.5) - libm::pow(4.0, 0.30)).abs() < 1e-15);
        assert!((t.scale(120.0) - libm::pow(0.25, 0.13)).abs() < 1e-15);
        assert_eq!(t.scale(0.01), t.scale(1.0));
        // Up shock floored at min vol: 0.2·(1+0.5) = 0.3 < 0.5.
        let up = VolShock::Tenor {
            direction: VolDirection::Up,
            range: 0.5,
        };
        assert_eq!(up.apply(0.2, 30.0, &TenorScaling::deribit(0.5)), 0.5);
        let down = VolShock::Tenor {
            direction: VolDirection::Down,
            range: 2.0,
        };
        assert_eq!(down.apply(0.5, 30.0, &t), MIN_SHOCKED_VOL);
    }
}
