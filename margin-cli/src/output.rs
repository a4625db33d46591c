//! Shared output helpers: aligned text tables with units in the headers, JSON, and writing to
//! stdout so that a closed pipe ends the command quietly.

use crate::error::CliError;
use std::io::Write as _;

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text, flush left.
    Left,
    /// Numbers, flush right.
    Right,
}

/// A plain-text table: headers (with units, e.g. `F (USD)`) and rows of pre-formatted cells.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers and alignments.
    pub fn new(headers: &[(&str, Align)]) -> Self {
        Table {
            headers: headers.iter().map(|(h, a)| (h.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; it must have one cell per header.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    /// Renders with two spaces between columns, a dashed rule under the header, no trailing
    /// blanks.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self
            .headers
            .iter()
            .map(|(h, _)| h.chars().count())
            .collect();
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
            let mut s = String::new();
            for (i, (c, ((_, align), w))) in cells.zip(self.headers.iter().zip(&widths)).enumerate()
            {
                if i > 0 {
                    s.push_str("  ");
                }
                let pad = w - c.chars().count();
                match align {
                    Align::Left => {
                        s.push_str(c);
                        s.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        s.extend(std::iter::repeat_n(' ', pad));
                        s.push_str(c);
                    }
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(&mut out, &mut self.headers.iter().map(|(h, _)| h.as_str()));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&mut out, &mut rule.iter().map(String::as_str));
        for r in &self.rows {
            line(&mut out, &mut r.iter().map(String::as_str));
        }
        out
    }
}

/// Formats an optional number, `-` when absent.
pub fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or_else(|| "-".to_string(), f)
}

/// Writes `text` to stdout in one go; a closed pipe becomes a quiet exit.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Writes `value` as pretty JSON followed by a newline.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::internal(format!("cannot encode JSON: {e}")))?;
    text.push('\n');
    print(&text)
}
