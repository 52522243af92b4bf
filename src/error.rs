//! Typed errors and the documented exit codes.
//!
//! The core returns [`Error`] wherever a caller (or the exit code) must tell
//! "not found" from "already exists" from "bad input"; everything else is an
//! `anyhow` error with context and maps to exit code 1.

use std::fmt;

/// Process exit codes. Documented in the README and in `sqlfork --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// The command did what it was asked.
    Success = 0,
    /// The command failed (I/O, SQLite, a fork that could not be made).
    Failure = 1,
    /// Usage error or invalid input (bad address, bad TTL, not a database).
    Usage = 2,
    /// The named database, branch or file does not exist.
    NotFound = 3,
    /// The destination already exists.
    AlreadyExists = 4,
    /// `db wait` gave up after its `--timeout`.
    Timeout = 5,
    /// A copy was interrupted (Ctrl-C); it can be resumed. 128 + SIGINT, as
    /// shells report a process stopped by Ctrl-C.
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// What kind of failure an [`Error`] is; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    NotFound,
    AlreadyExists,
    Timeout,
    Failed,
    /// A copy stopped because the user interrupted it (Ctrl-C).
    Interrupted,
}

/// A typed error from the core: one sentence that names the thing and, where
/// there is one, the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Invalid, message: message.into() }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::NotFound, message: message.into() }
    }
    pub fn already_exists(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::AlreadyExists, message: message.into() }
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Timeout, message: message.into() }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Failed, message: message.into() }
    }
    pub fn interrupted(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Interrupted, message: message.into() }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self.kind {
            ErrorKind::Invalid => ExitCode::Usage,
            ErrorKind::NotFound => ExitCode::NotFound,
            ErrorKind::AlreadyExists => ExitCode::AlreadyExists,
            ErrorKind::Timeout => ExitCode::Timeout,
            ErrorKind::Failed => ExitCode::Failure,
            ErrorKind::Interrupted => ExitCode::Interrupted,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The exit code for any error: the first typed [`Error`] in the chain
/// decides, anything else is a plain failure.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    err.chain().find_map(|e| e.downcast_ref::<Error>()).map(Error::exit_code).unwrap_or(ExitCode::Failure)
}

/// True when `err` comes from writing to a closed stdout (`sqlfork … |
/// head`): not a failure, as ripgrep treats it.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// The typed error in the chain, if any.
pub fn typed(err: &anyhow::Error) -> Option<&Error> {
    err.chain().find_map(|e| e.downcast_ref::<Error>())
}

pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn exit_codes_are_the_documented_numbers() {
        assert_eq!(ExitCode::Success.code(), 0);
        assert_eq!(ExitCode::Failure.code(), 1);
        assert_eq!(ExitCode::Usage.code(), 2);
        assert_eq!(ExitCode::NotFound.code(), 3);
        assert_eq!(ExitCode::AlreadyExists.code(), 4);
        assert_eq!(ExitCode::Timeout.code(), 5);
        assert_eq!(ExitCode::Interrupted.code(), 130);
    }

    #[test]
    fn typed_error_decides_exit_code_through_context() {
        let err: anyhow::Error =
            Err::<(), _>(Error::not_found("no such database")).context("could not show acme/x").unwrap_err();
        assert_eq!(exit_code_for(&err), ExitCode::NotFound);
        let plain = anyhow::anyhow!("disk on fire");
        assert_eq!(exit_code_for(&plain), ExitCode::Failure);
        assert_eq!(Error::invalid("x").exit_code(), ExitCode::Usage);
        assert_eq!(Error::already_exists("x").exit_code(), ExitCode::AlreadyExists);
    }
}
