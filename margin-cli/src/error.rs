//! Errors of the command and their exit codes: 1 for bad input, 2 for internal errors.

use margin_core::io::FormatError;
use std::fmt;
use std::io::Write as _;
use std::process::ExitCode;

/// What kind of failure, which fixes the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The user's files or flags are wrong: exit 1.
    BadInput,
    /// A bug or an environment failure: exit 2.
    Internal,
    /// Writing to stdout failed because the reader went away: exit 0 silently.
    BrokenPipe,
}

/// A failure with a one-line message.
#[derive(Debug)]
pub struct CliError {
    class: Class,
    message: String,
}

impl CliError {
    /// The user's input is wrong (exit 1).
    pub fn bad_input(message: impl Into<String>) -> Self {
        CliError {
            class: Class::BadInput,
            message: message.into(),
        }
    }

    /// Something that should not happen (exit 2).
    pub fn internal(message: impl Into<String>) -> Self {
        CliError {
            class: Class::Internal,
            message: message.into(),
        }
    }

    /// True when stdout's reader went away; the command then ends quietly with 0.
    pub fn is_broken_pipe(&self) -> bool {
        self.class == Class::BrokenPipe
    }

    /// 1 for bad input, 2 for internal errors, 0 for a broken pipe.
    pub fn exit_code(&self) -> ExitCode {
        match self.class {
            Class::BadInput => ExitCode::from(1),
            Class::Internal => ExitCode::from(2),
            Class::BrokenPipe => ExitCode::SUCCESS,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<FormatError> for CliError {
    fn from(e: FormatError) -> Self {
        CliError::bad_input(e.to_string())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError {
                class: Class::BrokenPipe,
                message: String::new(),
            }
        } else {
            CliError::internal(format!("cannot write output: {e}"))
        }
    }
}

/// Writes `error: MESSAGE` as one line on stderr (newlines in the message become spaces).
pub fn report(e: &CliError) {
    let line = e.message.replace('\n', " ");
    let _ = writeln!(std::io::stderr().lock(), "error: {line}");
}

/// Handles a clap parse outcome: help and version go to stdout with exit 0; a missing
/// subcommand prints the help on stderr with exit 1; any other error is one line, exit 1.
pub fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = write!(std::io::stderr().lock(), "{}", e.render());
            ExitCode::from(1)
        }
        _ => {
            // The first paragraph of clap's message, joined into one line.
            let text = e.render().to_string();
            let first: Vec<&str> = text
                .lines()
                .map(str::trim)
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty())
                .collect();
            let first = first.join(" ");
            let first = first.strip_prefix("error: ").unwrap_or(&first);
            report(&CliError::bad_input(format!(
                "{first} (see `margin --help`)"
            )));
            ExitCode::from(1)
        }
    }
}
