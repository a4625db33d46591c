//! Batch margining: one JSON account per input line in, one JSON result per line out.
//!
//! Input (JSONL): each non-blank line is a portfolio in the portfolio JSON format
//! (`{"account", "currency", "equity", "positions": [{"instrument", "size"}]}`). Blank lines
//! are skipped and produce no output.
//!
//! Output (JSONL), one line per input account, in input order:
//! * `{"account": "A1", "initial_margin": 0.12, "maintenance_margin": 0.096, "status": "healthy",
//!   "preset": "deribit-btc"}` (amounts in the account currency; status `healthy`,
//!   `margin_call` or `liquidation`; `preset` names the model of the run on every line);
//! * `{"line": 7, "error": "...", "preset": "deribit-btc"}` when the line is not a valid
//!   portfolio, or `{"account": "A1", "line": 7, "error": "...", "preset": ...}` when it parses
//!   but cannot be margined
//!   (unknown or expired instrument, currency mismatch, ...). `line` is 1-based.
//!
//! Streaming and determinism: the input is read [`CHUNK_LINES`] lines at a time; each chunk is
//! parsed and margined in parallel (rayon, one account per task — accounts are independent
//! and no float is reduced across them), collected in input order and written before the
//! next chunk is read. Memory stays flat in the number of accounts, and the output bytes do
//! not depend on the number of threads.
//!
//! Data safety of [`Batch::run_files`]:
//! * it refuses an `OUT` that is the accounts file, compared after canonicalising both paths
//!   (and by device and inode on Unix, so a hard link counts), or whose temporary name is
//!   the accounts file — the input is never truncated or replaced;
//! * it writes to `OUT.<pid>.tmp` (created fresh, never truncating an existing file) and
//!   renames it to `OUT` only when every line is written and synced, so a crash never leaves a
//!   half-written `OUT`: the previous `OUT` stays untouched, and a leftover temporary names the
//!   process that wrote it;
//! * on any error (or panic) the temporary is removed;
//! * a temporary `OUT.<pid>.tmp` left by a process that no longer runs (checked in `/proc`;
//!   on systems without `/proc` nothing is removed) is deleted at the start of the next run.

use crate::joint::JointEngine;
use margin_core::Asset;
use margin_core::io::engine::{finite_margin, margin_portfolio, status_name};
use margin_core::io::matrix::RiskMatrix;
use margin_core::io::{FormatError, Location, parse_portfolio_json};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Lines read, margined and written per step.
pub const CHUNK_LINES: usize = 4096;

/// Reads up to [`CHUNK_LINES`] non-blank lines of `input` into `chunk` (cleared first), each
/// with its 1-based line number (`line_no` counts every line read so far, blank ones too).
/// Returns the bytes consumed and whether the input ended.
pub fn read_chunk<R: BufRead>(
    input: &mut R,
    chunk: &mut Vec<(u64, Vec<u8>)>,
    line_no: &mut u64,
) -> io::Result<(u64, bool)> {
    chunk.clear();
    let mut consumed = 0u64;
    while chunk.len() < CHUNK_LINES {
        let mut buf = Vec::new();
        let n = input.read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok((consumed, true));
        }
        consumed += n as u64;
        *line_no += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        chunk.push((*line_no, buf));
    }
    Ok((consumed, false))
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Output lines written (one per non-blank input line).
    pub accounts: u64,
    /// Of which error lines.
    pub errors: u64,
}

/// What the batch runs against: the risk matrix (instruments, rows, model, numbers).
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// Instruments, their lookup, the model and the risk arrays.
    pub matrix: &'a RiskMatrix,
    /// For a statistical preset, its engine: accounts are looked up and validated in
    /// `matrix` and margined over the engine's joint scenarios (see [`crate::joint`]).
    pub joint: Option<&'a JointEngine>,
    /// Grid matrices chosen by account currency (an ETH account under `deribit-eth` when no
    /// model was named); an account whose currency is not listed uses `matrix`.
    pub by_currency: &'a [(Asset, &'a RiskMatrix)],
}

#[derive(Serialize)]
struct OkLine<'a> {
    account: &'a str,
    initial_margin: f64,
    maintenance_margin: f64,
    status: &'static str,
    preset: &'static str,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    line: u64,
    error: String,
    preset: &'static str,
}

/// A record's error without the file name (the line number says where).
pub(crate) fn record_error(e: &FormatError) -> String {
    match &e.location {
        Location::File => e.kind.to_string(),
        at => format!("{at}{}", e.kind),
    }
}

impl Batch<'_> {
    /// The preset of the run (each line names the one it was margined under).
    pub fn preset(&self) -> &'static str {
        self.joint
            .map_or(self.matrix.model().name, |e| e.model().name)
    }

    /// The matrix an account in `currency` is margined against.
    fn matrix_for(&self, currency: Asset) -> &RiskMatrix {
        self.by_currency
            .iter()
            .find(|(c, _)| *c == currency)
            .map_or(self.matrix, |(_, m)| *m)
    }

    /// The output line (without newline) for input line number `line` holding `text`.
    pub fn margin_line(&self, line: u64, text: &[u8], scratch: &mut Vec<f64>) -> (String, bool) {
        let preset = self.preset();
        let error = |account: Option<&str>, error: String| {
            let e = ErrorLine {
                account,
                line,
                error,
                preset,
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
        let matrix = self.matrix_for(portfolio.currency);
        let preset = self.joint.map_or(matrix.model().name, |e| e.model().name);
        let error = |account: Option<&str>, error: String| {
            let e = ErrorLine {
                account,
                line,
                error,
                preset,
            };
            (serde_json::to_string(&e).unwrap_or_default(), true)
        };
        let result = match self.joint {
            Some(engine) => engine.margin(self.matrix, &portfolio, &[]).map(|(m, _)| m),
            None => matrix.with_arrays(|arrays| {
                margin_portfolio(
                    matrix.universe(),
                    arrays,
                    &portfolio,
                    &mut positions,
                    scratch,
                )
                .map(|(_, m)| m)
            }),
        };
        match result {
            // A non-finite margin is an error line, never a result (`null` in JSON).
            Ok(m) if finite_margin(&m).is_err() => {
                let e = finite_margin(&m)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                error(Some(&portfolio.account), e)
            }
            Ok(m) => {
                let ok = OkLine {
                    account: &portfolio.account,
                    initial_margin: m.initial,
                    maintenance_margin: m.maintenance,
                    status: status_name(m.status),
                    preset,
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
            let (n, eof) =
                read_chunk(&mut input, &mut chunk, &mut line_no).map_err(StreamError::Read)?;
            consumed += n;
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

    /// Runs the batch from file `accounts` to file `out` through `OUT.<pid>.tmp` and a rename
    /// (see the module docs for what is refused and cleaned up).
    pub fn run_files(
        &self,
        accounts: &Path,
        out: &Path,
        progress: &dyn Fn(u64),
    ) -> Result<Summary, BatchError> {
        check_paths(accounts, out)?;
        let input = File::open(accounts).map_err(|e| BatchError::Input {
            file: accounts.to_path_buf(),
            error: e,
        })?;
        remove_stale_temporaries(out);
        let tmp = temporary_path(out);
        let output_error = |error| BatchError::Output {
            file: tmp.clone(),
            error,
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(output_error)?;
        // Removes the temporary on every way out but the final rename, panics included.
        let mut guard = Temporary {
            path: &tmp,
            keep: false,
        };
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
        drop(writer);
        let summary = result?;
        std::fs::rename(&tmp, out).map_err(|error| BatchError::Output {
            file: out.to_path_buf(),
            error,
        })?;
        guard.keep = true;
        Ok(summary)
    }
}

/// A temporary output file, removed when dropped unless `keep`.
struct Temporary<'p> {
    path: &'p Path,
    keep: bool,
}

impl Drop for Temporary<'_> {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(self.path);
        }
    }
}

/// `OUT.<pid>.tmp` next to `OUT`, `<pid>` being this process's id.
pub fn temporary_path(out: &Path) -> PathBuf {
    temporary_path_of(out, std::process::id())
}

fn temporary_path_of(out: &Path, pid: u32) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{pid}.tmp"));
    out.with_file_name(name)
}

/// The pid in `name` if it is a temporary name of `out_name`: `OUT.<pid>.tmp`.
fn temporary_pid(name: &str, out_name: &str) -> Option<u32> {
    let digits = name
        .strip_prefix(out_name)?
        .strip_prefix('.')?
        .strip_suffix(".tmp")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `path` made absolute and free of `.`, `..` and symbolic links; for a file that does not
/// exist yet, its directory is canonicalised and the name appended.
fn canonical(path: &Path) -> Option<PathBuf> {
    if let Ok(c) = path.canonicalize() {
        return Some(c);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(dir.canonicalize().ok()?.join(path.file_name()?))
}

/// True when `a` and `b` are the same existing file (same device and inode on Unix).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    let _ = (a, b);
    false
}

/// Refuses an `out` that would overwrite `accounts`: the same file by canonical path (or
/// inode), or `accounts` named like a temporary of `out` (`OUT.tmp`, `OUT.<pid>.tmp`).
pub fn check_paths(accounts: &Path, out: &Path) -> Result<(), BatchError> {
    let refuse = || BatchError::SameFile {
        accounts: accounts.to_path_buf(),
        out: out.to_path_buf(),
    };
    let (Some(acc), Some(dst)) = (canonical(accounts), canonical(out)) else {
        // Unresolvable paths fail later with their own I/O error.
        return Ok(());
    };
    if acc == dst || same_file(accounts, out) {
        return Err(refuse());
    }
    if let (Some(acc_name), Some(out_name), true) = (
        acc.file_name().and_then(|n| n.to_str()),
        dst.file_name().and_then(|n| n.to_str()),
        acc.parent() == dst.parent(),
    ) {
        if acc_name == format!("{out_name}.tmp") || temporary_pid(acc_name, out_name).is_some() {
            return Err(refuse());
        }
    }
    Ok(())
}

/// Whether process `pid` runs, when that can be known (`/proc` on Linux).
fn process_alive(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    Some(proc.join(pid.to_string()).exists())
}

/// Deletes `OUT.<pid>.tmp` files next to `out` whose process no longer runs.
fn remove_stale_temporaries(out: &Path) {
    let Some(out_name) = out.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| temporary_pid(n, out_name)) else {
            continue;
        };
        if pid != std::process::id() && process_alive(pid) == Some(false) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
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
    /// `--out` names the accounts file (or a temporary name of it would): refused, so the
    /// input is never truncated or replaced.
    SameFile {
        /// The accounts file.
        accounts: PathBuf,
        /// The output asked for.
        out: PathBuf,
    },
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
            BatchError::SameFile { accounts, out } => write!(
                f,
                "--out {} would overwrite the accounts file {} (the output must be another \
                 file, not the input nor its temporary OUT.<pid>.tmp)",
                out.display(),
                accounts.display()
            ),
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
        let model = Model::preset("deribit-btc").unwrap();
        let matrix = RiskMatrix::new(market, model, &[]).unwrap();
        let batch = Batch {
            matrix: &matrix,
            joint: None,
            by_currency: &[],
        };
        batch.run(input, out, &|_| {})
    }

    /// A fresh directory for one test.
    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("margin-opt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Runs `run_files(accounts, out)` against the small market above.
    fn run_files_on(accounts: &Path, out: &Path) -> Result<Summary, BatchError> {
        let market = parse_market_json(MARKET, Path::new("m.json")).unwrap();
        let model = Model::preset("deribit-btc").unwrap();
        let matrix = RiskMatrix::new(market, model, &[]).unwrap();
        let batch = Batch {
            matrix: &matrix,
            joint: None,
            by_currency: &[],
        };
        batch.run_files(accounts, out, &|_| {})
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    /// Issue 13: an --out that is the accounts file, however spelled, or its temporary, is
    /// refused and the input is left byte for byte.
    #[test]
    fn out_equal_to_accounts_is_refused_and_the_input_kept() {
        let dir = scratch_dir("same-file");
        let accounts = dir.join("accounts.jsonl");
        std::fs::write(&accounts, ACCOUNT).unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
        let link = dir.join("link.jsonl");
        std::fs::hard_link(&accounts, &link).unwrap();
        for out in [
            accounts.clone(),
            dir.join("sub/../accounts.jsonl"),
            dir.join("./accounts.jsonl"),
            link,
        ] {
            let e = run_files_on(&accounts, &out).unwrap_err();
            assert!(matches!(e, BatchError::SameFile { .. }), "{out:?}: {e}");
            assert_eq!(
                e.to_string(),
                format!(
                    "--out {} would overwrite the accounts file {} (the output must be another \
                     file, not the input nor its temporary OUT.<pid>.tmp)",
                    out.display(),
                    accounts.display()
                )
            );
            assert_eq!(std::fs::read(&accounts).unwrap(), ACCOUNT);
        }
        // Accounts named like the output's temporary (old `OUT.tmp` or any `OUT.<pid>.tmp`).
        for tmp_name in [
            "out.jsonl.tmp".to_string(),
            format!("out.jsonl.{}.tmp", std::process::id()),
        ] {
            let acc = dir.join(&tmp_name);
            std::fs::write(&acc, ACCOUNT).unwrap();
            let e = run_files_on(&acc, &dir.join("out.jsonl")).unwrap_err();
            assert!(matches!(e, BatchError::SameFile { .. }), "{tmp_name}: {e}");
            assert_eq!(std::fs::read(&acc).unwrap(), ACCOUNT);
            std::fs::remove_file(&acc).unwrap();
        }
        assert_eq!(names(&dir), ["accounts.jsonl", "link.jsonl", "sub"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Issue 13: the temporary is `OUT.<pid>.tmp`; a failed run leaves no temporary and the
    /// previous output untouched; a stale temporary of a dead process is removed, a live
    /// process's is kept.
    #[test]
    fn temporaries_are_per_process_removed_on_error_and_stale_ones_cleaned() {
        let dir = scratch_dir("temporaries");
        let out = dir.join("out.jsonl");
        assert_eq!(
            temporary_path(&out),
            dir.join(format!("out.jsonl.{}.tmp", std::process::id()))
        );
        std::fs::write(&out, "previous\n").unwrap();
        // Reading a directory fails midway: an input error, nothing left behind.
        let e = run_files_on(&dir, &out).unwrap_err();
        assert!(matches!(e, BatchError::Input { .. }), "{e}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous\n");
        assert_eq!(names(&dir), ["out.jsonl"]);
        // An output directory that cannot be renamed over: the temporary is removed too.
        let blocked = dir.join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), "").unwrap();
        let accounts = dir.join("accounts.jsonl");
        std::fs::write(&accounts, ACCOUNT).unwrap();
        let e = run_files_on(&accounts, &blocked).unwrap_err();
        assert!(matches!(e, BatchError::Output { .. }), "{e}");
        assert_eq!(names(&dir), ["accounts.jsonl", "blocked", "out.jsonl"]);
        // Stale: a pid above Linux's maximum (2^22) cannot run; pid 1 always does.
        let stale = dir.join("out.jsonl.4194305.tmp");
        let live = dir.join("out.jsonl.1.tmp");
        let unrelated = dir.join("out.jsonl.x.tmp");
        for p in [&stale, &live, &unrelated] {
            std::fs::write(p, "partial").unwrap();
        }
        let summary = run_files_on(&accounts, &out).unwrap();
        assert_eq!(summary.accounts, 1);
        assert!(
            std::fs::read_to_string(&out)
                .unwrap()
                .contains("\"account\":\"A1\"")
        );
        let expected: &[&str] = if Path::new("/proc/self").exists() {
            &[
                "accounts.jsonl",
                "blocked",
                "out.jsonl",
                "out.jsonl.1.tmp",
                "out.jsonl.x.tmp",
            ]
        } else {
            &[
                "accounts.jsonl",
                "blocked",
                "out.jsonl",
                "out.jsonl.1.tmp",
                "out.jsonl.4194305.tmp",
                "out.jsonl.x.tmp",
            ]
        };
        assert_eq!(names(&dir), expected);
        std::fs::remove_dir_all(&dir).unwrap();
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
