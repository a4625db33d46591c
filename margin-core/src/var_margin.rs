//! Statistical margin: the spec's tail measure (VaR or Expected Shortfall) of an account's
//! losses over joint scenarios becomes its initial margin; maintenance follows the spec's
//! mapping; equity, ratio and status as for every model ([`Margin::assemble`]).
//!
//! VaR and ES come from [`crate::stats::tail::tail`] over the losses of
//! [`crate::statistical::losses`] (N equally likely losses, m = N(1−c), ES = (L₍₁₎ + … + L₍ₖ₎ +
//! (m−k)·L₍ₖ₊₁₎)/m, VaR = L₍⌈m⌉₎), or for a parametric model from its closed form; this module
//! takes both numbers and applies the spec. A requirement is never negative: a book that gains
//! in every tail scenario needs 0, as a grid's worst case does.

use crate::account::{MAX_LINE_ITEMS, Margin, WorstScenario};
use crate::addon::LineItem;
use crate::error::Error;
use crate::model::Model;
use crate::spec::{Measure, Source};

/// The margin of an account with `equity` whose tail measures are `var` and `es` under
/// statistical `model` (the spec picks one), with `worst` the largest-loss scenario.
pub fn margin(
    model: &Model,
    equity: f64,
    var: f64,
    es: f64,
    worst: WorstScenario,
) -> Result<Margin, Error> {
    model.validate()?;
    crate::error::finite(equity, "equity")?;
    let spec = model.spec();
    let (
        Source::Joint(_),
        Measure::Tail {
            name,
            expected_shortfall,
            ..
        },
    ) = (spec.source, spec.measure)
    else {
        return Err(Error::OutOfRange {
            what: "a grid model margined over joint scenarios (use its risk arrays)",
            value: 0.0,
        });
    };
    let measure = if expected_shortfall { es } else { var };
    let requirement = measure.max(0.0);
    let (initial, maintenance) = spec.mapping.apply(requirement);
    for (value, what) in [
        (requirement, name),
        (initial, "initial margin"),
        (maintenance, "maintenance margin"),
    ] {
        if !value.is_finite() {
            return Err(Error::Overflow { what });
        }
    }
    let mut items: heapless::Vec<LineItem, MAX_LINE_ITEMS> = heapless::Vec::new();
    // One item: capacity is never reached.
    let _ = items.push(LineItem {
        name,
        value: requirement,
    });
    Ok(Margin::assemble(
        (initial, maintenance),
        items,
        worst,
        equity,
        model.id(),
    ))
}
