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

mod display;
mod problems;
pub(crate) use display::human_size;
pub use problems::{
    ConfigProblem, DurationProblem, MigrationProblem, NoBaseWhy, NoParentFor, NotResumableWhy, RegistryProblem,
    RemoteUrlProblem, SchemaRefusal, SourceProblem, TtlProblem,
};

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
    /// Bad input nobody branches on (a one-off: flags that cannot go
    /// together, a branch where a database is needed, …); the sentence says
    /// what. Input a caller may branch on has its own variant ([`Error::BadTtl`],
    /// [`Error::BadAddress`], [`Error::BadConfig`], …).
    Invalid(String),
    /// A TTL sqlfork refuses: `text` is the TTL as given (for a TTL the
    /// library got as a `Duration`, its human form, and `duration` holds
    /// it); `why` says what is wrong with it.
    BadTtl { text: String, duration: Option<Duration>, why: TtlProblem },
    /// A duration option (`--at`, `--timeout`, `--grace`, `--lock-budget`,
    /// `SQLFORK_LOCK_TIMEOUT`) sqlfork cannot read: `option` names it,
    /// `text` is what was given.
    BadDuration { option: String, text: String, why: DurationProblem },
    /// Text that is not a valid address (database, branch, snapshot or
    /// remote address, or a part of one); the [`AddressError`] says which
    /// rule it breaks.
    BadAddress(AddressError),
    /// `config.toml` is not valid: `path` is the file when it was read from
    /// disk (`None` for a configuration being written), `problem` the
    /// setting that is wrong.
    BadConfig { path: Option<PathBuf>, problem: ConfigProblem },
    /// A remote URL (`remote add`, `[remotes.NAME] url`) that is not
    /// `s3://BUCKET[/PREFIX]` or `file:///PATH`.
    BadRemoteUrl { url: String, why: RemoteUrlProblem },
    /// No remote was named and there is not exactly one: `known` lists the
    /// remotes there are (none, or several).
    RemoteNotNamed { known: Vec<String> },
    /// A fork's source sqlfork refuses to read: corrupt, with a hot journal,
    /// or with a schema object it does not know.
    BadSource { path: PathBuf, why: SourceProblem },
    /// A fork's source is locked by another process's write (`detail` is
    /// SQLite's message); trying again later may work.
    SourceLocked { path: PathBuf, detail: String },
    /// A schema object's SQL is not what `sqlite_master` claims (the source
    /// may be corrupt or hostile): `object` names it (like ``table `t` ``).
    SchemaRefused { object: String, why: SchemaRefusal },
    /// The database has no parent for this: `address` is the database (or
    /// the text naming it) and `why` the command that needed one.
    NoParent { address: String, why: NoParentFor },
    /// A fork that keeps no usable base (its state when it was forked), so
    /// it cannot be merged three ways (`db merge`, `db rebase`,
    /// `db diff --since-fork`).
    NoBase { address: Address, why: NoBaseWhy },
    /// A database named as both sides of a fork or merge (`action` is
    /// `fork` or `merge`).
    OntoItself { address: Address, action: &'static str },
    /// A migration file or directory `db rehearse` cannot use: `what` is
    /// `migration` or `down migration`.
    BadMigration { what: String, path: PathBuf, why: MigrationProblem },
    /// `pool create`: the database has a pool already.
    PoolExists { address: Address },
    /// The pool is being made, or a power cut stopped its making (it is
    /// not listed; `pool delete` removes what was made).
    PoolIncomplete { address: Address },
    /// `pool create`: `size` is not 1 to `max` slots.
    PoolSize { size: usize, max: usize },
    /// `slot` (as given) is not a slot of `address`'s pool of `slots`.
    NoSuchSlot { address: Address, slot: String, slots: usize },
    /// `pool return`: the slot (its address, `NS/SLUG@pool-N`) is not leased.
    SlotNotLeased { address: Address, slot: String },
    /// `pool delete`: slot `number` (`slot`) is leased by process `pid`.
    SlotLeased { address: Address, slot: String, number: u32, pid: u32 },
    /// `--pid`: no such process is running.
    NoSuchProcess { pid: u32 },
    /// A fork from a remote snapshot (`REMOTE:NS/SLUG:NAME`) that was never
    /// pulled; `sqlfork pull` it first.
    NotPulled { snapshot: String },
    /// Another sqlfork process is pulling this remote snapshot, for longer
    /// than a pull waits; try again when it is done.
    BeingPulled { snapshot: String },
    /// `db resume`: the fork cannot be resumed; `why` says why.
    NotResumable { address: Address, why: NotResumableWhy },
    /// `db cancel`: the database is healthy, not being built.
    NotBeingBuilt { address: Address },
    /// `db expire`: an imported database never expires (sqlfork never
    /// deletes a file it did not create).
    CannotExpire { address: Address },
    /// The registry (`path`) cannot be used: damaged, or written by a
    /// newer sqlfork. Nothing was changed.
    BadRegistry { path: PathBuf, why: RegistryProblem },
    /// `db merge` into a file sqlfork did not create (`target`, an address
    /// or a path) without `yes` (`--yes`).
    NotOwned { target: String },
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
    /// Any other failure sqlfork explains in one sentence: a one-off
    /// (an I/O step that failed, a session that did not start) that a caller
    /// has no reason to tell apart from others; those it has are variants.
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

    /// [`Error::BadAddress`] with this sentence (an address that breaks a
    /// rule only its command knows: a branch where a database is needed).
    pub(crate) fn bad_address(problem: crate::address::AddressProblem, message: impl Into<String>) -> Self {
        Error::BadAddress(AddressError::new(problem, message))
    }

    /// The documented exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Invalid(_)
            | Error::BadTtl { .. }
            | Error::BadDuration { .. }
            | Error::BadAddress(_)
            | Error::BadConfig { .. }
            | Error::BadRemoteUrl { .. }
            | Error::RemoteNotNamed { .. }
            | Error::BadSource { .. }
            | Error::SchemaRefused { .. }
            | Error::NoParent { .. }
            | Error::NoBase { .. }
            | Error::OntoItself { .. }
            | Error::BadMigration { .. }
            | Error::PoolExists { .. }
            | Error::PoolSize { .. }
            | Error::NoSuchSlot { .. }
            | Error::SlotNotLeased { .. }
            | Error::SlotLeased { .. }
            | Error::NoSuchProcess { .. }
            | Error::NotBeingBuilt { .. }
            | Error::CannotExpire { .. }
            | Error::NotOwned { .. }
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
            | Error::PoolIncomplete { .. }
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
            | Error::SourceLocked { .. }
            | Error::NotPulled { .. }
            | Error::BeingPulled { .. }
            | Error::NotResumable { .. }
            | Error::BadRegistry { .. }
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

impl std::error::Error for Error {}

impl From<AddressError> for Error {
    fn from(e: AddressError) -> Self {
        Error::BadAddress(e)
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
mod tests;
