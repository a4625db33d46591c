//! An exception series as text: one `0` (no exception) or `1` (exception) per line.
//!
//! Surrounding blanks and a `\r` before the newline are ignored, and so is a final newline;
//! any other line — empty, `2`, `true`, `0.0` — is an error naming its 1-based line number and
//! what it holds. An input with no line at all is an error too: there is nothing to test.

use std::fmt;

/// Why a text is not an exception series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeriesError {
    /// Line `line` (1-based) holds `found`, not `0` or `1`.
    BadLine {
        /// 1-based line number.
        line: usize,
        /// The line's text (trimmed, at most 40 characters).
        found: String,
    },
    /// No line at all.
    Empty,
}

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeriesError::BadLine { line, found } => {
                write!(f, "line {line}: expected 0 or 1, found `{found}`")
            }
            SeriesError::Empty => f.write_str("no observations (expected one 0 or 1 per line)"),
        }
    }
}

impl std::error::Error for SeriesError {}

/// The series in `text` (`true` = exception), in line order.
pub fn parse(text: &str) -> Result<Vec<bool>, SeriesError> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() {
        return Err(SeriesError::Empty);
    }
    body.split('\n')
        .enumerate()
        .map(|(i, line)| match line.trim() {
            "0" => Ok(false),
            "1" => Ok(true),
            other => Err(SeriesError::BadLine {
                line: i + 1,
                found: other.chars().take(40).collect(),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_zeros_and_ones_and_names_the_bad_line() {
        assert_eq!(
            parse("0\n1\r\n 1 \n0\n"),
            Ok(vec![false, true, true, false])
        );
        assert_eq!(parse("1"), Ok(vec![true]));
        assert_eq!(
            parse("0\n1\n2\n"),
            Err(SeriesError::BadLine {
                line: 3,
                found: "2".into()
            })
        );
        assert_eq!(
            parse("0\n\n1\n"),
            Err(SeriesError::BadLine {
                line: 2,
                found: String::new()
            })
        );
        assert_eq!(parse(""), Err(SeriesError::Empty));
        assert_eq!(parse("\n"), Err(SeriesError::Empty));
        assert!(
            parse("0\n1.0\n")
                .unwrap_err()
                .to_string()
                .contains("line 2")
        );
    }
}
