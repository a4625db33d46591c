//! A calibrated range written into a grid preset's scan parameters, with old → new and the
//! reason for every parameter.
//!
//! * **Deribit**: `price_range ← R`; the 9 standard moves are `price_range·i/buckets_count`,
//!   so they follow; the extended moves are fixed (−66 % … +500 %) and stay.
//! * **SPAN**: `price_scan_range ← R`; the price points 0, ±⅓, ±⅔, ±1 and the extreme move
//!   (`extreme_move_multiple` × the range) follow.
//! * **Grid**: the standard moves (weight 1) are scaled by `R / max |standard move|`, so the
//!   widest becomes ±R; the tail rows (weight < 1: stress extremes with their own weights)
//!   stay. A grid without a non-zero weight-1 move has nothing to scale: an error.
//!
//! Vol ranges (Deribit `volatility_range_up/down`, SPAN `volatility_scan_range`, the grid's)
//! stay: no rule turns a price history into a vol range (it holds no implied vols). Every
//! other parameter is no scan range and stays.

use super::CalibrateError;
use margin_core::model::{Family, Model};

/// A parameter's value: a number, or the grid's `(move, weight)` axis.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar parameter.
    Number(f64),
    /// The grid's price axis.
    Moves(Vec<(f64, f64)>),
}

/// One parameter, before and after, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The parameter's name (the venue's; `price_moves` for the grid's axis).
    pub name: &'static str,
    /// Its value in the input model.
    pub old: Value,
    /// Its value in the calibrated model.
    pub new: Value,
    /// Why it changed, or why not.
    pub reason: String,
}

impl Change {
    /// True when the value changed.
    pub fn changed(&self) -> bool {
        self.old != self.new
    }
}

/// The parameter a family's range is written to, if any.
fn range_parameter(model: &Model) -> Option<&'static str> {
    match model.family {
        Family::Deribit(_) => Some("price_range"),
        Family::Span(_) => Some("price_scan_range"),
        Family::Grid(_) | Family::Statistical(_) => None,
    }
}

/// Why an unchanged parameter stays.
fn reason_unchanged(model: &Model, name: &str) -> &'static str {
    match name {
        "volatility_range_up"
        | "volatility_range_down"
        | "volatility_scan_range"
        | "min_volatility_for_shock_up"
        | "short_term_vega_power"
        | "long_term_vega_power" => {
            "unchanged: no rule calibrates a vol range from a price history (it holds no \
             implied vols)"
        }
        "buckets_count" => {
            "unchanged: the standard moves are price_range x i/buckets_count, so they follow \
             price_range"
        }
        "extreme_move_multiple" => {
            "unchanged: the extreme move is this multiple of price_scan_range, so it follows"
        }
        "look_ahead_days" if matches!(model.family, Family::Span(_)) => {
            "unchanged: the option time step of the scenarios; the range's horizon is the \
             calibration's"
        }
        _ => "unchanged: not a scan range",
    }
}

/// `model` with its scan range set to `range` and every parameter's old → new; `why` is the
/// reason of the calibrated parameter. The result is checked by generating its scenarios.
pub fn apply(model: &Model, range: f64, why: &str) -> Result<(Model, Vec<Change>), CalibrateError> {
    let mut out = model.clone();
    let target = range_parameter(model);
    if let Some(name) = target {
        out.set(name, range).map_err(CalibrateError::Core)?;
    }
    let mut changes: Vec<Change> = model
        .parameter_names()
        .iter()
        .map(|&name| {
            let old = model.get(name).unwrap_or(f64::NAN);
            let new = out.get(name).unwrap_or(f64::NAN);
            let reason = if Some(name) == target {
                why.to_string()
            } else {
                reason_unchanged(model, name).to_string()
            };
            Change {
                name,
                old: Value::Number(old),
                new: Value::Number(new),
                reason,
            }
        })
        .collect();
    if let Family::Grid(g) = &mut out.family {
        let old: Vec<(f64, f64)> = g.price_moves.iter().copied().collect();
        let widest = old
            .iter()
            .filter(|&&(_, w)| w == 1.0)
            .map(|&(m, _)| m.abs())
            .fold(0.0, f64::max);
        if widest <= 0.0 {
            return Err(CalibrateError::NoStandardMove);
        }
        let k = range / widest;
        for (m, w) in g.price_moves.iter_mut() {
            if *w == 1.0 {
                *m *= k;
            }
        }
        out.modified = true;
        let new: Vec<(f64, f64)> = g.price_moves.iter().copied().collect();
        changes.push(Change {
            name: "price_moves",
            old: Value::Moves(old),
            new: Value::Moves(new),
            reason: format!(
                "{why}; the standard (weight-1) moves scaled by {range}/{widest} = {k} so the \
                 widest is +-{range}; tail rows (weight < 1) unchanged"
            ),
        });
    }
    out.scenarios().map_err(CalibrateError::Core)?;
    Ok((out, changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deribit_price_range_and_grid_moves() {
        let m = Model::preset("deribit-btc").unwrap();
        let (out, ch) = apply(&m, 0.1, "r").unwrap();
        assert_eq!(out.get("price_range"), Some(0.1));
        let changed: Vec<_> = ch.iter().filter(|c| c.changed()).map(|c| c.name).collect();
        assert_eq!(changed, ["price_range"]);
        assert_eq!(ch.len(), m.parameter_names().len());
        // The 9 standard moves are ±0.1·i/4.
        let s = out.scenarios().unwrap();
        assert!(s.iter().any(|x| (x.price_move + 0.1).abs() < 1e-15));
        assert!(s.iter().any(|x| (x.price_move - 0.025).abs() < 1e-15));

        let g = Model::preset("grid").unwrap();
        let (out, ch) = apply(&g, 0.08, "r").unwrap();
        let Family::Grid(grid) = &out.family else {
            panic!("grid")
        };
        // Paradex: ±16 % in 4 % steps → ±8 % in 2 % steps; the tail rows stay.
        assert!((grid.price_moves[0].0 + 0.08).abs() < 1e-16);
        assert!((grid.price_moves[7].0 - 0.06).abs() < 1e-16);
        assert_eq!(grid.price_moves[9], (-0.66, 0.24));
        assert_eq!(ch.last().unwrap().name, "price_moves");
        let s = Model::preset("span16").unwrap();
        let (out, _) = apply(&s, 0.2, "r").unwrap();
        assert_eq!(out.get("price_scan_range"), Some(0.2));
    }
}
