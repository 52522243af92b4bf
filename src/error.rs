//! Typed errors and the documented exit codes.
//!
//! The core returns [`Error`] wherever a caller (or the exit code) must tell
//! one failure from another: callers branch with `matches!` on the variant
//! and its data, never on the wording; the sentence lives once, in
//! `Display`. Everything else is an `anyhow` error with context and maps to
//! exit code 1. [`exit_code_for`] is the one mapping from an error to a
//! process exit code.

use crate::address::{Address, AddressError, SnapshotAddress};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

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
    /// `db wait` gave up after its `--timeout`, or `pool lease` found every
    /// slot held for its whole `--timeout`.
    Timeout = 5,
    /// The file system is full: the operation needs more space than is
    /// free (refused before it starts, or stopped when the disk filled).
    NoSpace = 6,
    /// A copy was interrupted (Ctrl-C); it can be resumed. 128 + SIGINT, as
    /// shells report a process stopped by Ctrl-C.
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A typed error from the core. Its `Display` is one sentence that names
/// the thing and, where there is one, the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Bad input: an address, a TTL, a setting, a source that is not a
    /// database or a schema sqlfork refuses. The sentence says which.
    Invalid(String),
    /// No database at this address.
    NotFound { address: Address },
    /// A database that was there vanished while a command waited for it.
    Gone { address: Address },
    /// The source file of a fork does not exist.
    SourceFileMissing { path: PathBuf },
    /// A file named to be read (not forked: a side of `db diff`) does not
    /// exist.
    NoSuchFile { path: PathBuf },
    /// A registered database's file is missing.
    FileMissing { address: Address, path: PathBuf },
    /// The address belongs to another database.
    Taken { address: Address },
    /// The address is taken by this same fork, which another process is
    /// building right now.
    BeingBuilt { address: Address },
    /// Another process is building this fork right now (`db resume`,
    /// `db wait`, `branch put`).
    Busy { address: Address },
    /// Another process is building, resetting or deleting this database, so
    /// it cannot be deleted now.
    InUse { address: Address },
    /// A fork's source is itself still being forked.
    SourceProvisioning { address: Address },
    /// A background copy (`db fork --detach`) failed; the fork was removed.
    BackgroundFailed { address: Address, reason: String },
    /// `db wait` gave up.
    Timeout { address: Address, waited: Duration },
    /// A lock another process held for longer than we wait.
    LockTimeout { what: String, waited: Duration },
    /// `git-hook uninstall`: no post-checkout hook sqlfork wrote is there
    /// (`path` is missing, or is someone else's hook when `foreign`).
    NoHook { path: PathBuf, foreign: bool },
    /// `git-hook install`: a file is where sqlfork would keep the hook it
    /// replaces.
    HookInTheWay { path: PathBuf },
    /// No snapshot by that name; `existing` says what there is.
    SnapshotNotFound { snapshot: SnapshotAddress, existing: String },
    /// No snapshot of the database was taken at or before `at`.
    NoSnapshotAt { address: Address, at: String, existing: String },
    /// A snapshot by that name exists already.
    SnapshotTaken { snapshot: SnapshotAddress },
    /// Another process is taking this snapshot right now.
    SnapshotBeingTaken { snapshot: SnapshotAddress },
    /// The database cannot be reset; `why` is the reason and the way out.
    NotResettable { address: Address, why: String },
    /// The database is still provisioning, so it cannot be `action`ed yet
    /// (reset, snapshotted).
    StillProvisioning { address: Address, action: &'static str },
    /// Any other failure sqlfork explains in one sentence.
    Failed(String),
    /// A copy stopped between chunks because the user asked it to (Ctrl-C);
    /// what the copy loop returns before the fork is known.
    CopyStopped,
    /// A fork's copy was interrupted (Ctrl-C); it stays provisioning, and
    /// `resume` (a command) continues it. `how_far` is like
    /// `45.2/100.0 MiB (45%)`.
    Interrupted { address: Address, how_far: Option<String>, resume: String },
    /// A fork (re-run with other arguments) found an interrupted fork at its
    /// destination.
    InterruptedFork { address: Address, with_data: bool, how_far: Option<String>, resume: String },
    /// Another error, with a hint appended (a suggested name, the way to
    /// write a file path); same exit code as the error.
    Hinted { error: Box<Error>, hint: String },
    /// A mask rule or subset filter that cannot apply to the source (an
    /// unknown table, column or masker, a WHERE or expression that fails, a
    /// missing seed); the sentence names the rule. Found before anything is
    /// written.
    BadRule(String),
    /// `--strict`: these columns (`table.column (kind)`) look personal and
    /// have no mask rule.
    Unmasked { columns: Vec<String> },
    /// No remote by this name in `config.toml`; `known` lists those there are.
    RemoteNotFound { remote: String, known: Vec<String> },
    /// `remote add`: a remote by this name exists already.
    RemoteTaken { remote: String },
    /// No snapshot by this name on the remote (`REMOTE:NS/SLUG:NAME`).
    RemoteSnapshotNotFound { snapshot: String, existing: String },
    /// The remote holds a snapshot by this name already (names on a remote
    /// are immutable; of two racing pushes one gets this).
    RemoteSnapshotTaken { snapshot: String },
    /// A remote snapshot is damaged or incomplete (a missing object, a page
    /// that does not match its hash, a manifest that does not add up).
    RemoteDamaged { snapshot: String, reason: String },
    /// The remote refuses this snapshot (`--require-masked`); `why` says how
    /// to make one it takes.
    RemoteRefused { remote: String, snapshot: String, why: String },
    /// The remote could not be reached or refused the request (credentials,
    /// network, a missing bucket), after retries.
    RemoteUnavailable { remote: String, reason: String },
    /// A file given as a database (a fork's source, a side of a diff) is not
    /// a SQLite database: a directory, a text file, another kind of file, or
    /// one SQLite cannot open as a database (encrypted, perhaps). `why`
    /// follows the path in the sentence.
    NotADatabase { path: PathBuf, why: String },
    /// A rehearsal (`db rehearse`) was stopped (Ctrl-C, or its cancel
    /// flag); its fork was removed.
    RehearsalInterrupted,
    /// A reset would replace the database's file under other processes that
    /// have it open (their later writes would be lost); `--in-place` or
    /// `--force` says what to do instead. Exit 4, like a taken address.
    OpenElsewhere { address: Address, holders: Vec<crate::holders::Holder> },
    /// Not enough space on the file system `fs` (its mount point and type,
    /// like `/home (ext4)`): `needed` bytes (when known) for `what`, `free`
    /// bytes free. Nothing half-made is left.
    NoSpace { what: String, fs: String, needed: Option<u64>, free: u64 },
    /// The database has no pool (`pool create` makes one).
    NoPool { address: Address },
    /// `pool lease`: every one of the pool's `size` slots stayed held by a
    /// live process for `waited`. Exit 5, like `db wait --timeout`.
    PoolBusy { address: Address, size: usize, waited: Duration },
}

impl Error {
    /// [`Error::Invalid`] with this sentence.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
    /// [`Error::Failed`] with this sentence.
    pub fn failed(message: impl Into<String>) -> Self {
        Error::Failed(message.into())
    }

    /// The documented exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Invalid(_)
            | Error::NotResettable { .. }
            | Error::BadRule(_)
            | Error::Unmasked { .. }
            | Error::RemoteRefused { .. }
            | Error::NotADatabase { .. } => ExitCode::Usage,
            Error::NotFound { .. }
            | Error::Gone { .. }
            | Error::SourceFileMissing { .. }
            | Error::NoSuchFile { .. }
            | Error::FileMissing { .. }
            | Error::NoHook { .. }
            | Error::SnapshotNotFound { .. }
            | Error::NoSnapshotAt { .. }
            | Error::NoPool { .. }
            | Error::RemoteNotFound { .. }
            | Error::RemoteSnapshotNotFound { .. } => ExitCode::NotFound,
            Error::Taken { .. }
            | Error::BeingBuilt { .. }
            | Error::HookInTheWay { .. }
            | Error::SnapshotTaken { .. }
            | Error::SnapshotBeingTaken { .. }
            | Error::RemoteTaken { .. }
            | Error::RemoteSnapshotTaken { .. }
            | Error::OpenElsewhere { .. } => ExitCode::AlreadyExists,
            Error::NoSpace { .. } => ExitCode::NoSpace,
            Error::Timeout { .. } | Error::PoolBusy { .. } => ExitCode::Timeout,
            Error::Busy { .. }
            | Error::InUse { .. }
            | Error::SourceProvisioning { .. }
            | Error::BackgroundFailed { .. }
            | Error::LockTimeout { .. }
            | Error::StillProvisioning { .. }
            | Error::RemoteDamaged { .. }
            | Error::RemoteUnavailable { .. }
            | Error::Failed(_) => ExitCode::Failure,
            Error::CopyStopped | Error::Interrupted { .. } | Error::RehearsalInterrupted => ExitCode::Interrupted,
            Error::InterruptedFork { .. } => ExitCode::AlreadyExists,
            Error::Hinted { error, .. } => error.exit_code(),
        }
    }

    /// True for every kind of "does not exist" (exit code 3): no database
    /// at an address, a missing file, a database gone while waited for.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::NotFound { .. }
            | Error::Gone { .. }
            | Error::SourceFileMissing { .. }
            | Error::NoSuchFile { .. }
            | Error::FileMissing { .. }
            | Error::SnapshotNotFound { .. }
            | Error::NoSnapshotAt { .. }
            | Error::NoPool { .. }
            | Error::RemoteNotFound { .. }
            | Error::RemoteSnapshotNotFound { .. }
            | Error::NoHook { .. } => true,
            Error::Hinted { error, .. } => error.is_not_found(),
            _ => false,
        }
    }

    /// The typed errors in an error's chain, outermost first; a
    /// [`Error::Hinted`] is followed by the error it wraps, so a match on a
    /// variant sees through the hint.
    pub fn in_chain(err: &anyhow::Error) -> impl Iterator<Item = &Error> {
        err.chain().filter_map(|e| e.downcast_ref::<Error>()).flat_map(|e| {
            std::iter::successors(Some(e), |e| match e {
                Error::Hinted { error, .. } => Some(&**error),
                _ => None,
            })
        })
    }

    /// True when any typed error in `err`'s chain satisfies `pred`
    /// (typically a `matches!` on a variant).
    pub fn any_in(err: &anyhow::Error, pred: impl Fn(&Error) -> bool) -> bool {
        Self::in_chain(err).any(pred)
    }
}

/// `1.5 MiB`.
pub(crate) fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A duration as a person reads it, to the millisecond.
fn human(d: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_millis(d.as_millis() as u64))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(m) | Error::Failed(m) | Error::BadRule(m) => f.write_str(m),
            Error::NotADatabase { path, why } => write!(f, "{} {why}", path.display()),
            Error::Unmasked { columns } => write!(
                f,
                "--strict: {} column(s) look personal and have no mask rule: {}; add a rule for each (keep if it is not personal)",
                columns.len(),
                columns.join(", ")
            ),
            Error::NotFound { address: a } => match &a.branch {
                // An unknown branch: its database's branches are the list to see.
                Some(_) => {
                    let db = a.database();
                    write!(f, "{a} does not exist; `sqlfork branch list {db}` shows the branches of {db}")
                }
                None => write!(f, "{a} does not exist; `sqlfork db list` shows the databases in this home"),
            },
            Error::Gone { address: a } => write!(
                f,
                "{a} no longer exists: it was deleted, or its fork failed, while this waited; fork it again if you still need it"
            ),
            Error::SourceFileMissing { path } => {
                write!(f, "source file {} does not exist; check the path", path.display())
            }
            Error::NoSuchFile { path } => write!(f, "{} does not exist; check the path", path.display()),
            Error::FileMissing { address: a, path } => write!(
                f,
                "the file of {a} ({}) is missing; delete the entry with `sqlfork db delete {a}`",
                path.display()
            ),
            Error::Taken { address: a } => {
                write!(f, "{a} already exists; pick another name or delete it first with `sqlfork db delete {a}`")
            }
            Error::BeingBuilt { address: a } => write!(
                f,
                "{a} already exists: another sqlfork process is building it right now; run `sqlfork db wait {a}` to follow it"
            ),
            Error::Busy { address: a } => write!(
                f,
                "another sqlfork process is building {a} right now; run `sqlfork db wait {a}` to follow it"
            ),
            Error::InUse { address: a } => write!(
                f,
                "{a} is being built by another sqlfork process; wait for it (`sqlfork db wait {a}`) or stop it with `sqlfork db cancel {a}`"
            ),
            Error::SourceProvisioning { address: a } => {
                write!(f, "source {a} is still provisioning; run `sqlfork db wait {a}` and fork it after")
            }
            Error::BackgroundFailed { address: a, reason } => write!(f, "{a} failed and was removed: {reason}"),
            Error::Timeout { address: a, waited } => write!(
                f,
                "gave up waiting for {a} after {}; it is still provisioning (`sqlfork db show {a}` shows progress)",
                humantime::format_duration(*waited)
            ),
            Error::SnapshotNotFound { snapshot, existing } => write!(f, "there is no snapshot {snapshot}; {existing}"),
            Error::NoSnapshotAt { address: a, at, existing } => {
                write!(f, "no snapshot of {a} was taken at or before {at}; {existing}")
            }
            Error::SnapshotTaken { snapshot: s } => write!(
                f,
                "snapshot {s} already exists; pick another name or delete it first with `sqlfork snapshot delete {s}`"
            ),
            Error::SnapshotBeingTaken { snapshot: s } => write!(
                f,
                "snapshot {s} already exists: another sqlfork process is taking it right now; pick another name or wait for it"
            ),
            Error::NoPool { address: a } => {
                write!(f, "{a} has no pool; create one with `sqlfork pool create {a} --size N`")
            }
            Error::PoolBusy { address: a, size, waited } => write!(
                f,
                "all {size} slots of {a}'s pool stayed leased for {}; return one (`sqlfork pool return {a} SLOT`), wait longer (--timeout) or make a bigger pool",
                humantime::format_duration(*waited)
            ),
            Error::NotResettable { address: a, why } => write!(f, "{a} cannot be reset: {why}"),
            Error::StillProvisioning { address: a, action } => write!(
                f,
                "cannot {action} {a}: it is still provisioning; run `sqlfork db wait {a}` (or `sqlfork db delete {a}`) first"
            ),
            Error::CopyStopped => f.write_str("the copy was interrupted"),
            Error::RehearsalInterrupted => {
                f.write_str("Interrupted; the rehearsal fork was removed and the source was not touched")
            }
            Error::Interrupted { how_far, resume, .. } => {
                let at = how_far.as_deref().map(|h| format!(" at {h}")).unwrap_or_default();
                write!(f, "Interrupted{at}; `{resume}` continues it")
            }
            Error::InterruptedFork { address: a, with_data, how_far, resume } => {
                let kind = if *with_data { "data fork" } else { "fork" };
                let at = how_far.as_deref().map(|h| format!(" at {h}")).unwrap_or_default();
                write!(
                    f,
                    "{a} is an interrupted {kind} (stopped{at}); `{resume}` continues it, or `sqlfork db delete {a}` removes it"
                )
            }
            Error::Hinted { error, hint } => write!(f, "{error}{hint}"),
            Error::OpenElsewhere { address: a, holders } => {
                let who: Vec<String> = holders.iter().map(|h| h.to_string()).collect();
                write!(
                    f,
                    "{a} is open in another process: {}; close it first, or use --in-place to reset it under the open connections (they see the new state at their next transaction), or --force to replace the file anyway (their later writes are lost)",
                    who.join(", ")
                )
            }
            Error::NoSpace { what, fs, needed: Some(n), free } => write!(
                f,
                "not enough space on {fs}: {what} needs {}, {} free; free some space (`sqlfork db gc`, `sqlfork db delete`) and try again",
                human_size(*n),
                human_size(*free)
            ),
            Error::NoSpace { what, fs, needed: None, free } => write!(
                f,
                "not enough space on {fs}: {what} ran out of space ({} free); nothing was left half-made; free some space and try again",
                human_size(*free)
            ),
            Error::LockTimeout { what, waited } => write!(
                f,
                "gave up after {} waiting for {what} held by another sqlfork process; try again when it is done",
                human(*waited)
            ),
            Error::NoHook { path, foreign: false } => write!(f, "no post-checkout hook is installed at {}", path.display()),
            Error::NoHook { path, foreign: true } => {
                write!(f, "{} was not written by sqlfork; it is left as it is", path.display())
            }
            Error::RemoteNotFound { remote, known } if known.is_empty() => write!(
                f,
                "there is no remote `{remote}`; add one with `sqlfork remote add {remote} s3://BUCKET/PREFIX`"
            ),
            Error::RemoteNotFound { remote, known } => {
                write!(f, "there is no remote `{remote}`; the remotes are {} (`sqlfork remote list`)", known.join(", "))
            }
            Error::RemoteTaken { remote } => write!(
                f,
                "remote `{remote}` already exists; pick another name or remove it first with `sqlfork remote remove {remote}`"
            ),
            Error::RemoteSnapshotNotFound { snapshot, existing } => write!(f, "there is no snapshot {snapshot}; {existing}"),
            Error::RemoteSnapshotTaken { snapshot } => write!(
                f,
                "snapshot {snapshot} already exists on the remote (names there never change); push under another name or delete it first with `sqlfork snapshot delete {snapshot}`"
            ),
            Error::RemoteDamaged { snapshot, reason } => write!(
                f,
                "snapshot {snapshot} on the remote is damaged: {reason}; nothing was kept, push it again from a machine that has it"
            ),
            Error::RemoteRefused { remote, snapshot, why } => {
                write!(f, "remote `{remote}` refuses {snapshot}: {why}")
            }
            Error::RemoteUnavailable { remote, reason } => write!(f, "remote `{remote}` failed: {reason}"),
            Error::HookInTheWay { path } => write!(
                f,
                "{} already exists beside a post-checkout hook sqlfork did not write; move one of them away first",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<AddressError> for Error {
    fn from(e: AddressError) -> Self {
        Error::Invalid(e.to_string())
    }
}

/// The exit code for any error: the first typed error in the chain decides
/// (an [`Error`], or an [`AddressError`], which is bad input); anything
/// else is a plain failure.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    err.chain()
        .find_map(|e| {
            e.downcast_ref::<Error>()
                .map(Error::exit_code)
                .or_else(|| e.downcast_ref::<AddressError>().map(|_| ExitCode::Usage))
        })
        .unwrap_or(ExitCode::Failure)
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

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    fn addr() -> Address {
        Address::parse("acme/x").unwrap()
    }

    fn snap() -> SnapshotAddress {
        SnapshotAddress::parse("acme/x:s").unwrap()
    }

    #[test]
    fn exit_codes_are_the_documented_numbers() {
        assert_eq!(ExitCode::Success.code(), 0);
        assert_eq!(ExitCode::Failure.code(), 1);
        assert_eq!(ExitCode::Usage.code(), 2);
        assert_eq!(ExitCode::NotFound.code(), 3);
        assert_eq!(ExitCode::AlreadyExists.code(), 4);
        assert_eq!(ExitCode::Timeout.code(), 5);
        assert_eq!(ExitCode::NoSpace.code(), 6);
        assert_eq!(ExitCode::Interrupted.code(), 130);
    }

    #[test]
    fn every_variant_has_its_exit_code() {
        let a = addr();
        let w = Duration::from_secs(1);
        let cases = [
            (Error::invalid("x"), ExitCode::Usage),
            (Error::NotFound { address: a.clone() }, ExitCode::NotFound),
            (Error::Gone { address: a.clone() }, ExitCode::NotFound),
            (Error::SourceFileMissing { path: "/x".into() }, ExitCode::NotFound),
            (Error::FileMissing { address: a.clone(), path: "/x".into() }, ExitCode::NotFound),
            (Error::Taken { address: a.clone() }, ExitCode::AlreadyExists),
            (Error::BeingBuilt { address: a.clone() }, ExitCode::AlreadyExists),
            (Error::Busy { address: a.clone() }, ExitCode::Failure),
            (Error::InUse { address: a.clone() }, ExitCode::Failure),
            (Error::SourceProvisioning { address: a.clone() }, ExitCode::Failure),
            (Error::BackgroundFailed { address: a.clone(), reason: "r".into() }, ExitCode::Failure),
            (Error::Timeout { address: a.clone(), waited: w }, ExitCode::Timeout),
            (Error::LockTimeout { what: "the registry lock".into(), waited: w }, ExitCode::Failure),
            (Error::NoHook { path: "/x".into(), foreign: false }, ExitCode::NotFound),
            (Error::NoHook { path: "/x".into(), foreign: true }, ExitCode::NotFound),
            (Error::HookInTheWay { path: "/x".into() }, ExitCode::AlreadyExists),
            (Error::failed("x"), ExitCode::Failure),
            (Error::BadRule("mask rule tables.t.c: x".into()), ExitCode::Usage),
            (Error::Unmasked { columns: vec!["t.c (email)".into()] }, ExitCode::Usage),
            (Error::NotADatabase { path: "/x".into(), why: "is a text file".into() }, ExitCode::Usage),
            (Error::RehearsalInterrupted, ExitCode::Interrupted),
            (Error::SnapshotNotFound { snapshot: snap(), existing: "e".into() }, ExitCode::NotFound),
            (Error::NoSnapshotAt { address: a.clone(), at: "t".into(), existing: "e".into() }, ExitCode::NotFound),
            (Error::SnapshotTaken { snapshot: snap() }, ExitCode::AlreadyExists),
            (Error::SnapshotBeingTaken { snapshot: snap() }, ExitCode::AlreadyExists),
            (Error::NotResettable { address: a.clone(), why: "w".into() }, ExitCode::Usage),
            (
                Error::OpenElsewhere {
                    address: a.clone(),
                    holders: vec![crate::holders::Holder { pid: Some(7), command: "python3 app.py".into() }],
                },
                ExitCode::AlreadyExists,
            ),
            (
                Error::NoSpace {
                    what: "the fork".into(),
                    fs: "/h (ext4)".into(),
                    needed: Some(1 << 30),
                    free: 1 << 20,
                },
                ExitCode::NoSpace,
            ),
            (
                Error::NoSpace { what: "the fork".into(), fs: "/h (ext4)".into(), needed: None, free: 0 },
                ExitCode::NoSpace,
            ),
            (Error::StillProvisioning { address: a.clone(), action: "reset" }, ExitCode::Failure),
            (Error::CopyStopped, ExitCode::Interrupted),
            (Error::RemoteNotFound { remote: "o".into(), known: vec![] }, ExitCode::NotFound),
            (Error::RemoteNotFound { remote: "o".into(), known: vec!["p".into()] }, ExitCode::NotFound),
            (Error::RemoteTaken { remote: "o".into() }, ExitCode::AlreadyExists),
            (Error::RemoteSnapshotNotFound { snapshot: "o:a/b:c".into(), existing: "e".into() }, ExitCode::NotFound),
            (Error::RemoteSnapshotTaken { snapshot: "o:a/b:c".into() }, ExitCode::AlreadyExists),
            (Error::RemoteDamaged { snapshot: "o:a/b:c".into(), reason: "r".into() }, ExitCode::Failure),
            (Error::RemoteRefused { remote: "o".into(), snapshot: "a/b:c".into(), why: "w".into() }, ExitCode::Usage),
            (Error::RemoteUnavailable { remote: "o".into(), reason: "r".into() }, ExitCode::Failure),
            (
                Error::Interrupted { address: a.clone(), how_far: None, resume: "sqlfork db resume acme/x".into() },
                ExitCode::Interrupted,
            ),
            (
                Error::InterruptedFork {
                    address: a.clone(),
                    with_data: true,
                    how_far: Some("1.0/2.0 MiB (50%)".into()),
                    resume: "sqlfork db resume acme/x".into(),
                },
                ExitCode::AlreadyExists,
            ),
            (
                Error::Hinted {
                    error: Box::new(Error::NotFound { address: a.clone() }),
                    hint: " (did you mean x?)".into(),
                },
                ExitCode::NotFound,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.exit_code(), code, "{e:?}");
            assert_eq!(e.is_not_found(), code == ExitCode::NotFound, "{e:?}");
            let s = e.to_string();
            assert!(!s.is_empty() && !s.contains('\n'), "one sentence: {s}");
        }
    }

    #[test]
    fn typed_error_decides_exit_code_through_context() {
        let err: anyhow::Error =
            Err::<(), _>(Error::NotFound { address: addr() }).context("could not show acme/x").unwrap_err();
        assert_eq!(exit_code_for(&err), ExitCode::NotFound);
        assert!(Error::any_in(&err, |e| matches!(e, Error::NotFound { address } if *address == addr())));
        let plain = anyhow::anyhow!("disk on fire");
        assert_eq!(exit_code_for(&plain), ExitCode::Failure);
        let bad: anyhow::Error = Address::parse("nope").unwrap_err().into();
        assert_eq!(exit_code_for(&bad), ExitCode::Usage);
    }

    #[test]
    fn sentences_name_the_address_and_the_next_step() {
        let a = addr();
        assert_eq!(
            Error::Taken { address: a.clone() }.to_string(),
            "acme/x already exists; pick another name or delete it first with `sqlfork db delete acme/x`"
        );
        assert!(Error::Busy { address: a.clone() }.to_string().contains("sqlfork db wait acme/x"));
        assert!(Error::Timeout { address: a, waited: Duration::from_secs(90) }.to_string().contains("after 1m 30s"));
    }
}
