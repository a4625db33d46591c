//! Batch margining: one JSON account per input line in, one JSON result per line out.
//!
//! Input (JSONL): each non-blank line is a portfolio in the portfolio JSON format
//! (`{"account", "currency", "equity", "positions": [{"instrument", "size"}]}`). Blank lines
//! are skipped and produce no output.
//!
//! Output (JSONL), one line per input account, in input order:
//! * `{"account": "A1", "initial_margin": 0.12, "maintenance_margin": 0.096, "status": "healthy"}`
//!   (amounts in the account currency; status `healthy`, `margin_call` or `liquidation`);
//! * `{"line": 7, "error": "..."}` when the line is not a valid portfolio, or
//!   `{"account": "A1", "line": 7, "error": "..."}` when it parses but cannot be margined
//!   (unknown or expired instrument, currency mismatch, ...). `line` is 1-based.
//!
//! Streaming and determinism: the input is read [`CHUNK_LINES`] lines at a time; each chunk is
//! parsed and margined in parallel (rayon, one account per task — accounts are independent
//! and no float is reduced across them), collected in input order and written before the
//! next chunk is read. Memory stays flat in the number of accounts, and the output bytes do
//! not depend on the number of threads.
//!
//! [`Batch::run_files`] writes to `OUT.tmp` and renames it to `OUT` only when every line is written,
//! so a crash never leaves a half-written `OUT`.

use margin_core::io::engine::{Universe, margin_portfolio, status_name};
use margin_core::io::{FormatError, Location, parse_portfolio_json};
use margin_core::risk::RiskArrays;
use rayon::prelude::*;
use serde::Serialize;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Lines read, margined and written per step.
pub const CHUNK_LINES: usize = 4096;

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Output lines written (one per non-blank input line).
    pub accounts: u64,
    /// Of which error lines.
    pub errors: u64,
}

/// What the batch runs against: the universe and its built risk arrays.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// Instruments, rows and model.
    pub universe: &'a Universe,
    /// The risk arrays built from `universe`.
    pub arrays: RiskArrays<'a>,
}

#[derive(Serialize)]
struct OkLine<'a> {
    account: &'a str,
    initial_margin: f64,
    maintenance_margin: f64,
    status: &'static str,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    line: u64,
    error: String,
}

/// A record's error without the file name (the line number says where).
fn record_error(e: &FormatError) -> String {
    match &e.location {
        Location::File => e.kind.to_string(),
        at => format!("{at}{}", e.kind),
    }
}

impl Batch<'_> {
    /// The output line (without newline) for input line number `line` holding `text`.
    pub fn margin_line(&self, line: u64, text: &[u8], scratch: &mut Vec<f64>) -> (String, bool) {
        let error = |account: Option<&str>, error: String| {
            let e = ErrorLine {
                account,
                line,
                error,
            };
            (serde_json::to_string(&e).unwrap_or_default(), true)
        };
        let Ok(text) = std::str::from_utf8(text) else {
            return error(None, "invalid UTF-8".to_string());
        };
        let portfolio = match parse_portfolio_json(text, Path::new("")) {
            Ok(p) => p,
            Err(e) => return error(None, record_error(&e)),
        };
        let mut positions = Vec::new();
        match margin_portfolio(
            self.universe,
            &self.arrays,
            &portfolio,
            &mut positions,
            scratch,
        ) {
            Ok((_, m)) => {
                let ok = OkLine {
                    account: &portfolio.account,
                    initial_margin: m.initial,
                    maintenance_margin: m.maintenance,
                    status: status_name(m.status),
                };
                (serde_json::to_string(&ok).unwrap_or_default(), false)
            }
            Err(e) => error(Some(&portfolio.account), e.to_string()),
        }
    }

    /// Margins every account of `input` into `out` (see the module docs). `progress` is
    /// called after each chunk with the input bytes consumed so far.
    pub fn run<R: BufRead, W: Write>(
        &self,
        mut input: R,
        out: &mut W,
        progress: &dyn Fn(u64),
    ) -> Result<Summary, StreamError> {
        let mut summary = Summary::default();
        let mut line_no = 0u64;
        let mut consumed = 0u64;
        let mut chunk: Vec<(u64, Vec<u8>)> = Vec::with_capacity(CHUNK_LINES);
        loop {
            chunk.clear();
            let mut eof = false;
            while chunk.len() < CHUNK_LINES {
                let mut buf = Vec::new();
                let n = input
                    .read_until(b'\n', &mut buf)
                    .map_err(StreamError::Read)?;
                if n == 0 {
                    eof = true;
                    break;
                }
                consumed += n as u64;
                line_no += 1;
                if buf.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                chunk.push((line_no, buf));
            }
            let lines: Vec<(String, bool)> = chunk
                .par_iter()
                .map_init(Vec::new, |scratch, (line, text)| {
                    self.margin_line(*line, text, scratch)
                })
                .collect();
            for (text, is_error) in &lines {
                out.write_all(text.as_bytes())
                    .and_then(|()| out.write_all(b"\n"))
                    .map_err(StreamError::Write)?;
                summary.accounts += 1;
                summary.errors += u64::from(*is_error);
            }
            progress(consumed);
            if eof {
                return Ok(summary);
            }
        }
    }

    /// Runs the batch from file `accounts` to file `out` through `OUT.tmp` and a rename.
    pub fn run_files(
        &self,
        accounts: &Path,
        out: &Path,
        progress: &dyn Fn(u64),
    ) -> Result<Summary, BatchError> {
        let input = File::open(accounts).map_err(|e| BatchError::Input {
            file: accounts.to_path_buf(),
            error: e,
        })?;
        let tmp = temporary_path(out);
        let output_error = |error| BatchError::Output {
            file: tmp.clone(),
            error,
        };
        let file = File::create(&tmp).map_err(output_error)?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        let result = self
            .run(
                BufReader::with_capacity(1 << 20, input),
                &mut writer,
                progress,
            )
            .map_err(|e| match e {
                StreamError::Read(error) => BatchError::Input {
                    file: accounts.to_path_buf(),
                    error,
                },
                StreamError::Write(error) => output_error(error),
            })
            .and_then(|s| {
                writer
                    .flush()
                    .and_then(|()| writer.get_ref().sync_all())
                    .map_err(output_error)?;
                Ok(s)
            });
        match result {
            Ok(summary) => {
                std::fs::rename(&tmp, out).map_err(|error| BatchError::Output {
                    file: out.to_path_buf(),
                    error,
                })?;
                Ok(summary)
            }
            Err(e) => {
                drop(writer);
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

/// `OUT.tmp` next to `OUT`.
pub fn temporary_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    out.with_file_name(name)
}

/// Which side of a [`Batch::run`] stream failed.
#[derive(Debug)]
pub enum StreamError {
    /// Reading the accounts failed.
    Read(io::Error),
    /// Writing the results failed (e.g. a full disk).
    Write(io::Error),
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Read(e) => write!(f, "cannot read accounts: {e}"),
            StreamError::Write(e) => write!(f, "cannot write output: {e}"),
        }
    }
}

impl std::error::Error for StreamError {}

/// A batch that could not run to the end; no output file was left behind.
#[derive(Debug)]
pub enum BatchError {
    /// The accounts file could not be read.
    Input {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// The output could not be written or renamed.
    Output {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Input { file, error } => {
                write!(f, "{}: cannot read accounts: {error}", file.display())
            }
            BatchError::Output { file, error } => {
                write!(f, "{}: cannot write output: {error}", file.display())
            }
        }
    }
}

impl std::error::Error for BatchError {}

#[cfg(test)]
mod tests {
    use super::*;
    use margin_core::io::engine::RiskBuffers;
    use margin_core::io::parse_market_json;
    use margin_core::model::Model;

    const MARKET: &str = r#"{
      "valuation_time": "2026-08-22T15:33:51Z",
      "underlyings": {"BTC": {"index_price": 77000, "forwards": {"2026-09-25T08:00:00Z": 77400}}},
      "instruments": {"BTC-25SEP26-80000-C": {"mark_iv": 0.4}}
    }"#;
    const ACCOUNT: &[u8] = br#"{"account": "A1", "currency": "BTC", "equity": 1, "positions": [{"instrument": "BTC-PERPETUAL", "size": 1000}]}
"#;

    /// A disk that is always full.
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A source that fails on the first read.
    struct Broken;
    impl io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("unreadable"))
        }
    }

    /// Runs `input` into `out` against the small market above.
    fn run_on<R: BufRead, W: Write>(input: R, out: &mut W) -> Result<Summary, StreamError> {
        let market = parse_market_json(MARKET, Path::new("m.json")).unwrap();
        let views = market.views();
        let snap = market.snapshot(&views).unwrap();
        let model = Model::preset("deribit-btc").unwrap();
        let universe = Universe::new(&market, &snap, model, &[]).unwrap();
        let mut buffers = RiskBuffers::new(&universe);
        let arrays = universe.build(snap, &mut buffers).unwrap();
        let batch = Batch {
            universe: &universe,
            arrays,
        };
        batch.run(input, out, &|_| {})
    }

    #[test]
    fn a_failed_write_is_blamed_on_the_output() {
        let e = run_on(ACCOUNT, &mut Full).unwrap_err();
        assert!(matches!(e, StreamError::Write(_)), "{e:?}");
        assert!(e.to_string().contains("cannot write output"), "{e}");
    }

    #[test]
    fn a_failed_read_is_blamed_on_the_input() {
        let e = run_on(BufReader::new(Broken), &mut Vec::new()).unwrap_err();
        assert!(matches!(e, StreamError::Read(_)), "{e:?}");
        let mut out = Vec::new();
        assert_eq!(
            run_on(ACCOUNT, &mut out).unwrap(),
            Summary {
                accounts: 1,
                errors: 0
            }
        );
    }
}
