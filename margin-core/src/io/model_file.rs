//! Model files: a built-in preset with some parameters overridden.
//!
//! ```json
//! {"preset": "deribit-eth", "params": {"pnl_offset": 0.6}}
//! ```
//!
//! * `preset` (required): one of [`crate::model::PRESETS`].
//! * `params` (optional): parameter name → number, names as [`Model::parameter_names`] lists
//!   them for the preset's family (the venue's own names). Each overridden value marks the
//!   result as coming from a modified preset.
//! * `price_moves` (optional, `grid` preset only): `[[relative move, weight], ...]`, at most
//!   [`MAX_GRID_AXIS`] pairs, replacing the grid's price axis.
//!
//! Unknown fields, unknown presets, unknown or repeated parameters, and values the model
//! rejects (checked by generating its scenarios) are [`FormatError`]s naming the JSON path.
//!
//! [`model_from_spec`] is what `--model` accepts: a preset name, or else a model file.

use super::error::{FormatError, FormatErrorKind, Location};
use super::market_json::Entries;
use super::{Ctx, read_text};
use crate::model::{Family, MAX_GRID_AXIS, Model, PRESETS};
use std::path::Path;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    preset: String,
    #[serde(default)]
    params: Entries<f64>,
    #[serde(default)]
    price_moves: Option<Vec<(f64, f64)>>,
}

fn path(p: impl Into<String>) -> Location {
    Location::Path(p.into())
}

/// Parses a model file (see the module docs); `file` names the source in errors.
pub fn parse_model_json(text: &str, file: &Path) -> Result<Model, FormatError> {
    let ctx = Ctx { file };
    let raw: RawModel = serde_json::from_str(text).map_err(|e| {
        FormatError::new(file, Location::File, FormatErrorKind::Json(e.to_string()))
    })?;
    let mut model = Model::preset(&raw.preset).map_err(|_| {
        ctx.err(
            &path("preset"),
            FormatErrorKind::Unsupported(format!(
                "unknown preset `{}` (expected one of {})",
                raw.preset,
                PRESETS.join(", ")
            )),
        )
    })?;
    for (i, (name, value)) in raw.params.0.iter().enumerate() {
        let at = path(format!("params.{name}"));
        if raw.params.0[..i].iter().any(|(n, _)| n == name) {
            return Err(ctx.err(
                &at,
                FormatErrorKind::Duplicate {
                    what: "parameter",
                    key: name.clone(),
                },
            ));
        }
        let value = ctx.finite(*value, "parameter value", &at)?;
        model.set(name, value).map_err(|_| {
            ctx.err(
                &at,
                FormatErrorKind::Unsupported(format!(
                    "unknown parameter `{name}` for preset {} (expected one of {})",
                    model.name,
                    model.parameter_names().join(", ")
                )),
            )
        })?;
    }
    if let Some(moves) = &raw.price_moves {
        let at = path("price_moves");
        let Family::Grid(grid) = &mut model.family else {
            return Err(ctx.err(
                &at,
                FormatErrorKind::Unsupported(format!(
                    "price_moves is only accepted with the grid preset, not {}",
                    raw.preset
                )),
            ));
        };
        if moves.is_empty() || moves.len() > MAX_GRID_AXIS {
            return Err(ctx.err(
                &at,
                FormatErrorKind::Unsupported(format!(
                    "expected 1 to {MAX_GRID_AXIS} [move, weight] pairs, found {}",
                    moves.len()
                )),
            ));
        }
        grid.price_moves.clear();
        for (i, &(m, w)) in moves.iter().enumerate() {
            let at = path(format!("price_moves[{i}]"));
            let m = ctx.finite(m, "price move", &at)?;
            if m <= -1.0 {
                return Err(ctx.err(
                    &at,
                    FormatErrorKind::Unsupported(format!(
                        "price move {m} would take the price to zero or below (expected > -1)"
                    )),
                ));
            }
            let w = ctx.non_negative(w, "weight", &at)?;
            // Capacity checked above.
            let _ = grid.price_moves.push((m, w));
        }
        model.modified = true;
    }
    // The model checks its own parameters when it generates scenarios.
    model.scenarios().map_err(|e| {
        ctx.err(
            &path("params"),
            FormatErrorKind::Unsupported(format!("the model rejects these parameters: {e}")),
        )
    })?;
    Ok(model)
}

/// Reads a model file.
pub fn read_model(file: &Path) -> Result<Model, FormatError> {
    parse_model_json(&read_text(file)?, file)
}

/// What `--model` accepts: a built-in preset name, else the path of a model file. An argument
/// that is neither is an error listing the presets.
pub fn model_from_spec(spec: &str) -> Result<Model, FormatError> {
    if let Ok(model) = Model::preset(spec) {
        return Ok(model);
    }
    let file = Path::new(spec);
    if file.exists() {
        return read_model(file);
    }
    Err(FormatError::new(
        file,
        Location::File,
        FormatErrorKind::Unsupported(format!(
            "neither a preset ({}) nor an existing model file",
            PRESETS.join(", ")
        )),
    ))
}
