//! Where a generated model file came from: the `provenance` object of a model file.
//!
//! ```json
//! "provenance": {
//!   "asof": "2024-05-26",
//!   "history": [{"file": "data/btc-eth-daily/BTC-USD.csv", "sha256": "9f…"}],
//!   "method": "buffer",
//!   "generated_by": "margin calibrate 0.1.0",
//!   "calibration": { … free-form numbers of the run … }
//! }
//! ```
//!
//! * `asof` (required): the last date (`YYYY-MM-DD`) of the data the parameters were
//!   calibrated from;
//! * `history` (required, at least one): every price-history file read, with the SHA-256 of
//!   its bytes (64 lower-case hex digits);
//! * `method` (required): the anti-procyclicality method (`none`, `buffer`,
//!   `stressed-weight`, `ten-year-floor`), or another non-empty name of how the values were
//!   made;
//! * `generated_by` (optional): the program and version;
//! * `calibration` (optional): any JSON object (the run's parameters and estimates, for a
//!   reader); never read back into the model.
//!
//! The provenance changes no margin number: a model file with it margins exactly as the same
//! file without it. It is checked (the fields above, no others) so that a file claiming a
//! provenance states a readable one.

use super::error::{FormatError, FormatErrorKind, Location};
use super::{Ctx, read_text};
use std::path::Path;

/// One history file a model was calibrated from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryDigest {
    /// The path as given to the calibration.
    pub file: String,
    /// SHA-256 of the file's bytes, 64 lower-case hex digits.
    pub sha256: String,
}

/// The `provenance` object of a model file (module docs).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// Last date of the data used, `YYYY-MM-DD`.
    pub asof: String,
    /// Every history file read, with its digest.
    pub history: Vec<HistoryDigest>,
    /// How the parameters were made (the anti-procyclicality method of a calibration).
    pub method: String,
    /// Program and version that wrote the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_by: Option<String>,
    /// Free-form details of the run (an object), for readers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<serde_json::Value>,
}

impl Provenance {
    /// Checks the fields (module docs); `file` names the model file in errors.
    pub fn validate(&self, file: &Path) -> Result<(), FormatError> {
        let ctx = Ctx { file };
        let at = |p: String| Location::Path(format!("provenance.{p}"));
        let bad = |p: String, msg: String| ctx.err(&at(p), FormatErrorKind::Unsupported(msg));
        let date_ok = self.asof.len() == 10
            && crate::time::Timestamp::parse_iso8601(&self.asof)
                .is_ok_and(|t| t.civil_date().0 >= 1970);
        if !date_ok {
            return Err(bad(
                "asof".into(),
                format!("`{}`: expected a date YYYY-MM-DD", self.asof),
            ));
        }
        if self.history.is_empty() {
            return Err(bad(
                "history".into(),
                "expected at least one {\"file\", \"sha256\"} entry".into(),
            ));
        }
        for (i, h) in self.history.iter().enumerate() {
            let hex = h.sha256.len() == 64
                && h.sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex {
                return Err(bad(
                    format!("history[{i}].sha256"),
                    format!("`{}`: expected 64 lower-case hex digits", h.sha256),
                ));
            }
            if h.file.is_empty() {
                return Err(bad(
                    format!("history[{i}].file"),
                    "expected the file's path".into(),
                ));
            }
        }
        if self.method.trim().is_empty() {
            return Err(bad("method".into(), "expected the method's name".into()));
        }
        if let Some(c) = &self.calibration
            && !c.is_object()
        {
            return Err(bad("calibration".into(), "expected an object".into()));
        }
        Ok(())
    }
}

/// The provenance of the model file `file`, if it has one (the file is read and fully parsed
/// as a model file first, so an invalid model is an error here too).
pub fn read_provenance(file: &Path) -> Result<Option<Provenance>, FormatError> {
    let text = read_text(file)?;
    Ok(super::model_file::parse_model_file(&text, file)?.1)
}
