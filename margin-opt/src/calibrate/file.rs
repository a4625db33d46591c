//! The files of a calibration: the SHA-256 of each history file, and the model file written
//! atomically without ever replacing an input.
//!
//! [`write_model_file`] refuses an output that is one of the inputs (same canonical path or
//! inode, or an input named like the output's temporary: the checks of
//! [`crate::batch::check_paths`]), writes `OUT.<pid>.tmp` (created fresh, never truncating a
//! file), syncs it and renames it over `OUT`; on any error the temporary is removed and `OUT`
//! is untouched.

use crate::batch::{BatchError, check_paths, temporary_path};
use margin_core::io::HistoryDigest;
use margin_core::io::history::spec_path;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a calibration file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The output would replace an input.
    #[error("--out {out} would overwrite the input {input} (write the model to another file)")]
    SameFile {
        /// The output asked for.
        out: PathBuf,
        /// The input it names.
        input: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{file}: {error}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
}

/// SHA-256 of `bytes`, 64 lower-case hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digest of every file named by history specifications (`COIN=path` or a path, as
/// `PriceHistory::load` reads them), in order, each file named as given.
pub fn history_digests(specs: &[String]) -> Result<Vec<HistoryDigest>, FileError> {
    specs
        .iter()
        .map(|spec| {
            let file = spec_path(spec);
            let bytes = std::fs::read(file).map_err(|error| FileError::Io {
                file: file.to_path_buf(),
                error,
            })?;
            Ok(HistoryDigest {
                file: file.display().to_string(),
                sha256: sha256_hex(&bytes),
            })
        })
        .collect()
}

/// Writes `text` to `out` atomically (module docs), refusing an `out` that is one of
/// `inputs`.
pub fn write_model_file(out: &Path, inputs: &[&Path], text: &str) -> Result<(), FileError> {
    for &input in inputs {
        check_paths(input, out).map_err(|e| match e {
            BatchError::SameFile { .. } => FileError::SameFile {
                out: out.to_path_buf(),
                input: input.to_path_buf(),
            },
            BatchError::Input { file, error } | BatchError::Output { file, error } => {
                FileError::Io { file, error }
            }
        })?;
    }
    let tmp = temporary_path(out);
    let io = |file: &Path| {
        let file = file.to_path_buf();
        move |error| FileError::Io { file, error }
    };
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io(&tmp))
        .and_then(|mut f| {
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(io(&tmp))
        })
        .and_then(|()| std::fs::rename(&tmp, out).map_err(io(out)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_published_vectors() {
        // FIPS 180-2 appendix B.1 ("abc") and the empty message.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn never_overwrites_an_input_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("calib-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("h.csv");
        std::fs::write(&input, "date,BTC\n").unwrap();
        let e = write_model_file(&input, &[&input], "{}").unwrap_err();
        assert!(matches!(e, FileError::SameFile { .. }), "{e}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "date,BTC\n");
        let out = dir.join("m.json");
        write_model_file(&out, &[&input], "{\"a\": 1}").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"a\": 1}");
        assert!(!temporary_path(&out).exists());
        // A directory that does not exist: an error, nothing left behind.
        let bad = dir.join("no/such/m.json");
        assert!(write_model_file(&bad, &[&input], "{}").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
