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
        // A value that prints as zero never shows a minus (`-0.00000`, `-0.0 %`): `+` in a
        // column that shows signs, nothing in one that does not.
        let signed: Vec<bool> = (0..widths.len())
            .map(|i| {
                self.rows
                    .iter()
                    .any(|r| r.get(i).is_some_and(|c| c.starts_with('+')))
            })
            .collect();
        for r in &self.rows {
            let cells: Vec<std::borrow::Cow<'_, str>> = r
                .iter()
                .zip(&signed)
                .map(|(c, &signed)| unsigned_zero(c, signed))
                .collect();
            line(&mut out, &mut cells.iter().map(|c| c.as_ref()));
        }
        out
    }
}

/// `cell` without the minus of a number that prints as zero (`-0.00000`, `-0.0 %`,
/// `-0.000e0`): `+` instead when `signed`, else nothing. Any other cell is returned as is.
pub fn unsigned_zero(cell: &str, signed: bool) -> std::borrow::Cow<'_, str> {
    let Some(rest) = cell.strip_prefix('-') else {
        return cell.into();
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')))
        .unwrap_or(rest.len());
    let mantissa = rest[..end].split(['e', 'E']).next().unwrap_or("");
    if !mantissa.starts_with('0') || !mantissa.chars().all(|c| c == '0' || c == '.') {
        return cell.into();
    }
    format!("{}{rest}", if signed { "+" } else { "" }).into()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cell_shows_a_negative_zero() {
        for (cell, signed, shown) in [
            ("-0.00000", false, "0.00000"),
            ("-0.00000", true, "+0.00000"),
            ("-0.0 %", true, "+0.0 %"),
            ("-0", false, "0"),
            ("-0.000e0", true, "+0.000e0"),
            ("-0.00001", false, "-0.00001"),
            ("-2.59e-9", true, "-2.59e-9"),
            ("-0.25", true, "-0.25"),
            ("-", false, "-"),
            ("BTC-0", false, "BTC-0"),
        ] {
            assert_eq!(unsigned_zero(cell, signed), shown, "{cell}");
        }
        let mut t = Table::new(&[("a", Align::Right), ("b", Align::Right)]);
        t.row(vec!["+0.5".into(), "-0.0000".into()]);
        t.row(vec!["-0.0".into(), "0.0001".into()]);
        let text = t.render();
        assert!(!text.contains("-0.0"), "{text}");
        assert!(text.contains("+0.0 "), "{text}");
    }
}
