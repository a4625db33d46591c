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
//! * `provenance` (optional): where a generated file came from ([`super::provenance`]); it
//!   changes no number.
//!
//! Unknown fields, unknown presets, unknown or repeated parameters, and values the model
//! rejects (checked by generating its scenarios) are [`FormatError`]s naming the JSON path.
//!
//! [`model_from_spec`] is what `--model` accepts: a preset name, or else a model file.
//! [`model_file_json`] writes a model as such a file (every scalar parameter, the grid's
//! price axis, the provenance); parsing it gives back an equal model, bit for bit.

use super::error::{FormatError, FormatErrorKind, Location};
use super::market_json::Entries;
use super::provenance::Provenance;
use super::{Ctx, read_text};
use crate::model::{Family, MAX_GRID_AXIS, Model, PRESETS};
use crate::scenario::{Scenario, VolShock};
use std::path::Path;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    preset: String,
    #[serde(default)]
    params: Entries<f64>,
    #[serde(default)]
    price_moves: Option<Vec<(f64, f64)>>,
    #[serde(default)]
    provenance: Option<Provenance>,
}

fn path(p: impl Into<String>) -> Location {
    Location::Path(p.into())
}

/// The error for `price_moves` written under `params` (a first guess, since every other
/// setting goes there), or `None`. Looked for only once the file failed to parse.
fn misplaced_price_moves(ctx: &Ctx<'_>, text: &str) -> Option<FormatError> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    doc.get("params")?.get("price_moves")?;
    Some(price_moves_in_params(ctx))
}

fn price_moves_in_params(ctx: &Ctx<'_>) -> FormatError {
    ctx.err(
        &path("params.price_moves"),
        FormatErrorKind::Unsupported(
            "`price_moves` is not a parameter: put it at the top level of the model file, next \
             to `preset`, e.g. {\"preset\": \"grid\", \"price_moves\": [[-0.1, 1], [0.1, 1]]}"
                .to_string(),
        ),
    )
}

/// Parses a model file (see the module docs); `file` names the source in errors.
pub fn parse_model_json(text: &str, file: &Path) -> Result<Model, FormatError> {
    Ok(parse_model_file(text, file)?.0)
}

/// Parses a model file and returns its model and its provenance, if any (checked with
/// [`Provenance::validate`]).
pub fn parse_model_file(
    text: &str,
    file: &Path,
) -> Result<(Model, Option<Provenance>), FormatError> {
    let ctx = Ctx { file };
    let raw: super::Object<RawModel> = match super::from_json(text, file) {
        Ok(raw) => raw,
        Err(e) => return Err(misplaced_price_moves(&ctx, text).unwrap_or(e)),
    };
    let raw = raw.0;
    if let Some(p) = &raw.provenance {
        p.validate(file)?;
    }
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
        if name == "price_moves" {
            return Err(price_moves_in_params(&ctx));
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
            // The core's own check of a scenario with this move and weight, named by entry.
            let scenario = Scenario {
                weight: w,
                ..Scenario::standard(m, VolShock::None)
            };
            scenario.validate().map_err(|e| {
                ctx.err(
                    &path(format!("price_moves[{i}]")),
                    FormatErrorKind::Unsupported(format!("[{m}, {w}]: {e}")),
                )
            })?;
            // Capacity checked above.
            let _ = grid.price_moves.push((m, w));
        }
        model.modified = true;
    }
    // The model checks its own parameters (a grid model when it generates its scenarios).
    let checked = match model.spec().source {
        crate::spec::Source::Grid => model.scenarios().map(|_| ()),
        crate::spec::Source::Joint(_) => model.validate(),
    };
    checked.map_err(|e| {
        ctx.err(
            &path("params"),
            FormatErrorKind::Unsupported(format!("the model rejects these parameters: {e}")),
        )
    })?;
    Ok((model, raw.provenance))
}

/// `model` as a model file (module docs): `preset`, every scalar parameter under `params`
/// (in [`Model::parameter_names`] order), the grid's `price_moves`, and `provenance` when
/// given. Numbers are written in shortest round-trip form, so [`parse_model_file`] gives back
/// a model equal to `model` (marked modified, as any file with parameters is).
pub fn model_file_json(model: &Model, provenance: Option<&Provenance>) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    out.insert("preset".into(), model.name.into());
    let params: serde_json::Map<String, serde_json::Value> = model
        .parameter_names()
        .iter()
        .filter_map(|&n| model.get(n).map(|v| (n.to_string(), v.into())))
        .collect();
    out.insert("params".into(), params.into());
    if let Family::Grid(g) = &model.family {
        let moves: Vec<serde_json::Value> = g
            .price_moves
            .iter()
            .map(|&(m, w)| serde_json::json!([m, w]))
            .collect();
        out.insert("price_moves".into(), moves.into());
    }
    if let Some(p) = provenance {
        out.insert(
            "provenance".into(),
            serde_json::to_value(p).unwrap_or(serde_json::Value::Null),
        );
    }
    out.into()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Model, FormatError> {
        parse_model_json(text, Path::new("m.json"))
    }

    #[test]
    fn overrides_parameters_and_marks_the_model_modified() {
        let m = parse(r#"{"preset": "deribit-eth", "params": {"pnl_offset": 0.5}}"#).unwrap();
        let mut want = Model::preset("deribit-eth").unwrap();
        want.set("pnl_offset", 0.5).unwrap();
        assert_eq!(m, want);
        assert!(m.modified);
        let plain = parse(r#"{"preset": "span16"}"#).unwrap();
        assert_eq!(plain, Model::preset("span16").unwrap());
        assert!(!plain.modified);
        assert_eq!(
            model_from_spec("grid").unwrap(),
            Model::preset("grid").unwrap()
        );
    }

    #[test]
    fn grid_price_moves_replace_the_axis() {
        let m = parse(r#"{"preset": "grid", "price_moves": [[-0.2, 1], [0.2, 0.5]]}"#).unwrap();
        let Family::Grid(g) = &m.family else {
            panic!("not a grid")
        };
        assert_eq!(&g.price_moves[..], &[(-0.2, 1.0), (0.2, 0.5)]);
        // 2 moves × 3 vol states, weights carried to every vol state of a move.
        let s = m.scenarios().unwrap();
        assert_eq!(s.len(), 6);
        assert_eq!(s[5].weight, 0.5);
    }

    #[test]
    fn written_files_parse_back_to_the_same_model_and_provenance() {
        let provenance = Provenance {
            asof: "2024-05-26".into(),
            history: std::vec![super::super::HistoryDigest {
                file: "h.csv".into(),
                sha256: "ab".repeat(32),
            }],
            method: "buffer".into(),
            generated_by: None,
            calibration: Some(serde_json::json!({"z": 2.3})),
        };
        for name in PRESETS {
            let mut m = Model::preset(name).unwrap();
            let first = m.parameter_names()[0];
            // A value with a long decimal expansion: written and read back bit for bit.
            let v = m.get(first).unwrap() * (1.0 + 1.0 / 3.0 * 1e-3);
            if !matches!(first, "buckets_count" | "horizon_days") {
                m.set(first, v).unwrap();
            }
            let text = model_file_json(&m, Some(&provenance)).to_string();
            let (back, p) = parse_model_file(&text, Path::new("m.json")).unwrap();
            let mut want = m.clone();
            want.modified = true;
            assert_eq!(back, want, "{name}");
            assert_eq!(p.as_ref(), Some(&provenance));
            // Without a provenance: the same model.
            let text = model_file_json(&m, None).to_string();
            assert_eq!(parse_model_json(&text, Path::new("m.json")).unwrap(), want);
        }
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"preset": "nope"}"#, "`preset`"),
            (
                r#"{"preset": "deribit-btc", "params": {"bogus": 1}}"#,
                "`params.bogus`",
            ),
            (
                r#"{"preset": "deribit-btc", "params": {"mm_factor": 1, "mm_factor": 2}}"#,
                "duplicate parameter",
            ),
            (
                r#"{"preset": "deribit-btc", "params": {"mm_factor": 0}}"#,
                "`params`",
            ),
            (
                r#"{"preset": "deribit-btc", "price_moves": [[0.1, 1]]}"#,
                "`price_moves`",
            ),
            (
                r#"{"preset": "grid", "price_moves": [[-1.5, 1]]}"#,
                "`price_moves[0]`",
            ),
            (
                r#"{"preset": "grid", "price_moves": [[0.1, -1]]}"#,
                "`price_moves[0]`",
            ),
            (
                r#"{"preset": "grid", "price_moves": [[0.1, 1], [-1, 1]]}"#,
                "`price_moves[1]`",
            ),
            (r#"{"preset": "grid", "price_moves": []}"#, "`price_moves`"),
            (
                r#"{"preset": "grid", "params": {"price_moves": [[0.1, 1]]}}"#,
                "`params.price_moves`: `price_moves` is not a parameter: put it at the top level",
            ),
            (r#"{"preset": "grid", "extra": 1}"#, "unknown field"),
            (
                r#"{"preset": "grid", "provenance": {"asof": "2024-02-30", "history": [], "method": "x"}}"#,
                "`provenance.asof`",
            ),
            (
                r#"{"preset": "grid", "provenance": {"asof": "2024-02-01", "history": [], "method": "x"}}"#,
                "`provenance.history`",
            ),
            (
                r#"{"preset": "grid", "provenance": {"asof": "2024-02-01", "history": [{"file": "h.csv", "sha256": "AB"}], "method": "x"}}"#,
                "`provenance.history[0].sha256`",
            ),
            (
                r#"{"preset": "grid", "provenance": {"asof": "2024-02-01", "history": [], "method": "x", "who": 1}}"#,
                "unknown field",
            ),
        ];
        for (text, needle) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with("m.json: "), "{e}");
            assert!(e.contains(needle), "{text}: `{e}` lacks {needle}");
        }
        assert!(model_from_spec("/no/such/model.json").is_err());
    }
}
