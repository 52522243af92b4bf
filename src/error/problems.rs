//! What is wrong, as data: the enums inside [`Error`](super::Error)'s
//! variants that say which rule an input breaks.

use crate::address::AddressError;
use std::path::PathBuf;

/// What is wrong with a TTL ([`Error::BadTtl`](super::Error::BadTtl)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TtlProblem {
    /// A bare number; `meant` is the TTL it most likely meant (`7d`, `48h`).
    NoUnit { meant: String },
    /// Not a duration at all.
    NotADuration,
    /// A duration outside 1 hour to 30 days.
    OutOfRange,
}

/// What is wrong with a duration option ([`Error::BadDuration`](super::Error::BadDuration)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DurationProblem {
    /// A bare number (`number`), with no unit.
    NoUnit { number: u64 },
    /// Not a duration; `like` gives examples.
    NotADuration { like: String },
    /// Not a duration (`--grace`); `like` gives examples.
    NotLike { like: String },
    /// Not a duration; `reason` is the parser's.
    Unreadable { reason: String },
    /// Zero, where the option must be longer; `like` gives examples.
    Zero { like: String },
    /// `--at`: neither an RFC 3339 time nor an age.
    NotATimeOrAge,
    /// `--at`: an age reaching back before the clock can go.
    TooFarBack,
}

/// The setting that makes `config.toml` invalid ([`Error::BadConfig`](super::Error::BadConfig)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// Not TOML sqlfork reads (an unknown key, a value of the wrong type):
    /// `line` (1-based) and its text when known, and the parser's message.
    Toml { line: Option<usize>, text: Option<String>, message: String },
    /// Not TOML at all, found while editing it (`remote add`).
    NotToml { message: String },
    /// `default_namespace` is not a valid namespace.
    DefaultNamespace(AddressError),
    /// `default_ttl` is not a TTL sqlfork takes.
    DefaultTtl { text: String, why: TtlProblem },
    /// `rows_per_page` is not 1 to 10000000.
    RowsPerPage { rows: u64 },
    /// `copy_method` is not one sqlfork knows.
    CopyMethod { method: String },
    /// `[remotes.NAME]`: the name is not valid.
    RemoteName { name: String, problem: AddressError },
    /// `[remotes.NAME] url` is not a remote URL.
    RemoteUrl { name: String, url: String, why: RemoteUrlProblem },
    /// `remotes` is not a table.
    RemotesNotATable,
}

/// What is wrong with a remote URL ([`Error::BadRemoteUrl`](super::Error::BadRemoteUrl)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteUrlProblem {
    /// `s3://` with no valid bucket name.
    NoBucket,
    /// `s3://BUCKET/PREFIX` with an empty, `.` or `..` part in the prefix.
    BadPrefix,
    /// `file://` not followed by an absolute path.
    NotAbsoluteFile,
    /// Neither `s3://` nor `file://`.
    UnknownScheme,
}

/// Why sqlfork refuses to read a source ([`Error::BadSource`](super::Error::BadSource)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceProblem {
    /// SQLite finds the file corrupt; `detail` is its message.
    Corrupt { detail: String },
    /// SQLite finds its schema corrupt; `detail` is its message.
    CorruptSchema { detail: String },
    /// A hot journal (`journal`) is beside it, which a read-only fork may
    /// not roll back.
    HotJournal { journal: PathBuf },
    /// `sqlite_master` holds object `name` of a type SQLite does not have.
    UnknownObjectType { name: String, kind: String },
}

/// Why a schema object is refused ([`Error::SchemaRefused`](super::Error::SchemaRefused)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaRefusal {
    /// Its SQL in `sqlite_master` is not exactly one `CREATE` of the type
    /// and name it claims; `why` says how (`holds more than one statement`).
    Sql { why: String },
    /// Replaying it produced a different object.
    ReplayDiffers,
    /// Replay created it, and the source does not have it.
    ReplayExtra,
}

/// The command that needed a parent ([`Error::NoParent`](super::Error::NoParent)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoParentFor {
    /// `db merge` with no `--into`.
    Merge,
    /// `db rebase` of a database created empty.
    Rebase,
    /// `db diff A` with one side.
    Diff,
    /// `db diff A` with one side, where A's parent was the snapshot
    /// `snapshot`, since deleted; `database` is A's address.
    DiffSnapshotDeleted { database: String, snapshot: String },
}

/// Why a fork has no base to merge from ([`Error::NoBase`](super::Error::NoBase)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoBaseWhy {
    /// It was forked without `--with-data --mergeable`.
    NotKept,
    /// Its base was the snapshot it was forked from, since deleted.
    SnapshotDeleted,
    /// Its base file (`path`) is missing.
    Missing { path: PathBuf },
}

/// Why the registry cannot be used ([`Error::BadRegistry`](super::Error::BadRegistry)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryProblem {
    /// SQLite cannot open it as the registry; `detail` is its message.
    NotValid { detail: String },
    /// The `registry.toml` of an earlier version, to be migrated, is not
    /// valid TOML; `detail` is the parser's message.
    OldNotValid { detail: String },
    /// A newer sqlfork wrote it (its layout is `layout`).
    Newer { layout: i64 },
    /// A record (`record`, its JSON) does not decode; `detail` says why.
    BadRecord { detail: String, record: String },
}

/// Why a fork cannot be resumed ([`Error::NotResumable`](super::Error::NotResumable)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotResumableWhy {
    /// It is not a fork (it was created or imported).
    NotAFork,
    /// The snapshot it was forked from was deleted.
    SnapshotDeleted,
    /// The database it was forked from was deleted.
    SourceDeleted,
    /// A masked or subset fork, interrupted: its rules are not kept, so it
    /// was removed (fork it again).
    Masked,
}

/// What is wrong with a migration file or directory ([`Error::BadMigration`](super::Error::BadMigration)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationProblem {
    /// The path named cannot be read (it does not exist, perhaps).
    NotThere { detail: String },
    /// The directory cannot be listed.
    DirUnreadable { detail: String },
    /// The directory holds no `.sql` files.
    NoSqlFiles,
    /// The file cannot be read.
    Unreadable { detail: String },
    /// The file is not UTF-8 text.
    NotUtf8,
    /// Line `line` is a sqlite3 shell dot-command (`command`), not SQL.
    DotCommand { line: u64, command: String },
}
