//! Reading a source's schema and settings (here), checking that every
//! object is safe to replay (`check.rs`), and replaying it into a fresh
//! database (`replay.rs`). Every fork reads and checks; the schema-only and
//! row copies replay, the page copy replays nothing.
//!
//! Promises:
//! - the source is opened read-only and read in one read transaction;
//! - every object is executed as exactly one statement, which must be a
//!   `CREATE` of the type and name `sqlite_master` claims (checked before
//!   anything runs, and the result checked again after replay);
//! - the fork's `sqlite_master` (type, name, tbl_name, sql) equals the
//!   source's, and so do `page_size`, `auto_vacuum`, `encoding`,
//!   `user_version`, `application_id`, WAL mode, and the header fields no
//!   PRAGMA shows: reserved bytes per page, schema format number and
//!   default cache size (see [`Header`]).

use crate::error::{Error, SourceProblem};
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::io::Read;
use std::path::Path;

mod check;
mod replay;
pub(crate) mod standin;

use check::leading_words;
pub(crate) use check::{check_object, check_objects, quote_ident, unquote};
pub(crate) use replay::Replayer;

/// The kinds of schema object `sqlite_master` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Table,
    Index,
    View,
    Trigger,
}

impl Kind {
    fn parse(text: &str) -> Option<Kind> {
        match text {
            "table" => Some(Kind::Table),
            "index" => Some(Kind::Index),
            "view" => Some(Kind::View),
            "trigger" => Some(Kind::Trigger),
            _ => None,
        }
    }
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::Index => "index",
            Kind::View => "view",
            Kind::Trigger => "trigger",
        }
    }
}

/// One row of `sqlite_master` that has SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Object {
    pub kind: Kind,
    pub name: String,
    pub tbl_name: String,
    pub sql: String,
}

impl Object {
    pub(crate) fn is_virtual(&self) -> bool {
        self.kind == Kind::Table && leading_words(&self.sql, 2).get(1).is_some_and(|w| w == "VIRTUAL")
    }
    /// Tables SQLite creates itself (`sqlite_sequence`, `sqlite_stat*`).
    pub(crate) fn is_internal(&self) -> bool {
        self.name.to_ascii_lowercase().starts_with("sqlite_")
    }
    fn describe(&self) -> String {
        if self.kind == Kind::Index || self.kind == Kind::Trigger {
            format!("{} `{}` on `{}`", self.kind.as_str(), self.name, self.tbl_name)
        } else if self.is_virtual() {
            format!("virtual table `{}`", self.name)
        } else {
            format!("{} `{}`", self.kind.as_str(), self.name)
        }
    }
}

/// Database settings that a fork carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Settings {
    pub page_size: i64,
    pub auto_vacuum: i64,
    pub encoding: String,
    pub user_version: i64,
    pub application_id: i64,
    pub journal_mode: JournalMode,
    /// Header byte 20: bytes reserved at the end of every page (checksum
    /// VFSes and encryption extensions keep their per-page data there).
    pub reserved_bytes: u8,
    /// Header bytes 44-47: the schema format number (1 to 4; 0 for a
    /// database with no schema yet). Formats 1-3 ignore `DESC` in indexes
    /// and encode the integers 0 and 1 as ordinary integers.
    pub schema_format: u32,
    /// Header bytes 48-51: the default page cache size
    /// (`PRAGMA default_cache_size`; 0 when never set).
    pub default_cache_size: i32,
}

/// The fields of a database's 100-byte header that a fork keeps and no
/// plain PRAGMA reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Header {
    pub reserved_bytes: u8,
    pub schema_format: u32,
    pub default_cache_size: i32,
}

impl Header {
    /// From the first bytes of page 1 (fewer than 100: an empty database).
    pub(crate) fn parse(page1: &[u8]) -> Header {
        if page1.len() < 100 {
            return Header::default();
        }
        let be = |at: usize| u32::from_be_bytes([page1[at], page1[at + 1], page1[at + 2], page1[at + 3]]);
        Header { reserved_bytes: page1[20], schema_format: be(44), default_cache_size: be(48) as i32 }
    }

    /// Page 1's header as the connection's open read transaction sees it
    /// (through the pager, so a WAL source's newest page 1 is read), or the
    /// main file's first bytes when this SQLite has no `sqlite_dbpage`.
    pub(crate) fn read(conn: &Connection, path: &Path) -> rusqlite::Result<Header> {
        if crate::sqlite_optional::dbpage() {
            use rusqlite::OptionalExtension;
            let page1: Option<Vec<u8>> = conn
                .query_row("SELECT substr(data, 1, 100) FROM sqlite_dbpage('main') WHERE pgno = 1", [], |r| r.get(0))
                .optional()?;
            return Ok(Header::parse(&page1.unwrap_or_default()));
        }
        let mut page1 = [0u8; 100];
        let n = std::fs::File::open(path).and_then(|mut f| read_up_to(&mut f, &mut page1)).unwrap_or(0);
        Ok(Header::parse(&page1[..n]))
    }
}

/// How a database keeps its journal, as far as a fork cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum JournalMode {
    /// Write-ahead log. Stored in the file header, so a fork carries it;
    /// readers can hold one snapshot while writers commit.
    Wal,
    /// A rollback journal (`delete`, `truncate`, `persist`, `memory`,
    /// `off`). Chosen per connection, so a fork gets SQLite's default; every
    /// commit bumps the file change counter.
    Rollback,
}

impl JournalMode {
    /// From what `PRAGMA journal_mode` answers.
    pub(crate) fn from_pragma(text: &str) -> Self {
        if text.eq_ignore_ascii_case("wal") {
            JournalMode::Wal
        } else {
            JournalMode::Rollback
        }
    }
    pub(crate) fn is_wal(self) -> bool {
        self == JournalMode::Wal
    }
}

/// What was read from a source in one read transaction.
#[derive(Debug, Clone)]
pub(crate) struct SourceSchema {
    pub objects: Vec<Object>,
    pub settings: Settings,
}

impl SourceSchema {
    pub(crate) fn has_table(&self, name: &str) -> bool {
        self.objects.iter().any(|o| o.kind == Kind::Table && o.name.eq_ignore_ascii_case(name))
    }
}

/// Check that `path` is an existing SQLite file, with errors that say what
/// is wrong and what to do.
pub(crate) fn check_source_file(path: &Path) -> Result<(), Error> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::SourceFileMissing { path: path.to_path_buf() }
        } else {
            Error::failed(format!("could not read source file {}: {e}", path.display()))
        }
    })?;
    if meta.is_dir() {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
            why: "is a directory, not a SQLite database file; name the database file to fork".into(),
        });
    }
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(path)
        .map_err(|e| Error::failed(format!("could not open source file {}: {e}", path.display())))?;
    let n = read_up_to(&mut f, &mut header)
        .map_err(|e| Error::failed(format!("could not read source file {}: {e}", path.display())))?;
    if n == 0 {
        // An empty file is an empty SQLite database, as the sqlite3 shell sees it.
        return Ok(());
    }
    if n < 16 || &header != b"SQLite format 3\0" {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
            why: not_sqlite(&header[..n], meta.len(), "forked"),
        });
    }
    Ok(())
}

/// Why a file without the SQLite header cannot be `done` ("forked",
/// "compared"), after its name. Encryption is mentioned only when the file
/// looks like an encrypted database: whole pages of bytes that are not
/// text (SQLCipher and the SEE begin with a random salt). A text file is
/// said to be one.
pub(crate) fn not_sqlite(header: &[u8], len: u64, done: &str) -> String {
    let text = !header.is_empty() && header.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if text {
        return format!("is a text file, not a SQLite database, so it cannot be {done}");
    }
    if len >= 512 && len.is_multiple_of(512) {
        return format!(
            "is not a SQLite database (no SQLite header), so it cannot be {done}; if it is an encrypted database, decrypt it first"
        );
    }
    format!("is not a SQLite database (no SQLite header), so it cannot be {done}")
}

fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Open a source read-only. It is never written: no journal-mode change, no
/// schema-defined code trusted.
pub(crate) fn open_source(path: &Path) -> anyhow::Result<Connection> {
    check_source_file(path)?;
    // A snapshot never changes: read it as immutable (no locks, and no
    // -wal or -shm beside it, which a reader could not always tidy away).
    let uri;
    let target: &Path = if is_snapshot_file(path) {
        uri = format!("{}&immutable=1", source_uri(path));
        Path::new(&uri)
    } else {
        path
    };
    let conn = Connection::open_with_flags(
        target,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| {
        if path.exists() {
            let why =
                crate::space::os_reason(path).map(|r| format!(" (the file system says: {r})")).unwrap_or_default();
            Error::failed(format!("could not open source {} read-only: {e}{why}", path.display()))
        } else {
            // Removed since it was checked (a snapshot deleted meanwhile).
            Error::SourceFileMissing { path: path.to_path_buf() }
        }
    })?;
    harden(&conn)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// True for a snapshot file (`snapshot create`): `databases/<id>.sqlite`,
/// mode 0400, owned by this user. sqlfork's forks are 0600 and a snapshot
/// is never written after it is made, so such a file is read `immutable`.
pub(crate) fn is_snapshot_file(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".sqlite"))
        .map(|n| n.strip_suffix(".base").unwrap_or(n))
        .is_some_and(crate::layout::is_id);
    let in_databases = path.parent().and_then(|p| p.file_name()).is_some_and(|n| n == "databases");
    named
        && in_databases
        && std::fs::metadata(path)
            // SAFETY: geteuid has no preconditions.
            .is_ok_and(|m| m.is_file() && m.mode() & 0o777 == 0o400 && m.uid() == rustix::process::geteuid().as_raw())
}

/// True when a database file's header says WAL (bytes 18 and 19 are 2).
fn header_says_wal(path: &Path) -> bool {
    use std::io::Read;
    let mut h = [0u8; 20];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut h)).is_ok() && h[18] == 2 && h[19] == 2
}

/// Open a database sqlfork owns, read-write, with the fork-side settings.
pub(crate) fn open_fork(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_context(|| format!("could not open {}", path.display()))?;
    harden(&conn)?;
    Ok(conn)
}

/// The `-wal` and `-shm` files SQLite creates beside a WAL-mode source when
/// it opens it, even read-only. sqlfork removes the ones it caused, the way
/// SQLite's last connection does: only when no other process has the
/// database open (nobody holds the shared "dead man switch" lock in the
/// `-shm`). Create it before opening the source; it tidies when dropped,
/// after every connection to the source is closed.
pub(crate) struct SourceSideFiles {
    wal: std::path::PathBuf,
    shm: std::path::PathBuf,
    had_wal: bool,
    had_shm: bool,
}

impl SourceSideFiles {
    pub(crate) fn note(path: &Path) -> Self {
        let side = |suffix: &str| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::path::PathBuf::from(p)
        };
        let (wal, shm) = (side("-wal"), side("-shm"));
        SourceSideFiles { had_wal: wal.exists(), had_shm: shm.exists(), wal, shm }
    }

    fn tidy(&self) {
        if self.had_shm || !self.shm.exists() {
            return;
        }
        let Ok(file) = std::fs::OpenOptions::new().read(true).write(true).open(&self.shm) else { return };
        // SQLite's unix VFS: byte 128 of the -shm is the DMS lock, held shared
        // by every connection that has the WAL open. (A POSIX byte-range
        // lock: rustix offers only whole-file locks, so this is libc.)
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as _;
        lock.l_whence = libc::SEEK_SET as _;
        lock.l_start = 128;
        lock.l_len = 1;
        use std::os::fd::AsRawFd;
        // SAFETY: a plain fcntl on a file we own, with a valid flock struct.
        let locked = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) } == 0;
        if !locked {
            return;
        }
        let wal_empty = std::fs::metadata(&self.wal).map(|m| m.len() == 0).unwrap_or(true);
        if !self.had_wal && wal_empty {
            let _ = std::fs::remove_file(&self.wal);
        }
        if !self.wal.exists() {
            let _ = std::fs::remove_file(&self.shm);
        }
        drop(file); // releases the lock
    }
}

impl Drop for SourceSideFiles {
    fn drop(&mut self) {
        self.tidy();
    }
}

/// Settings that stop a database's own schema from running code we did not
/// ask for: functions with side effects and virtual tables are not trusted
/// in views, triggers, CHECK constraints, defaults or indexes
/// (`trusted_schema` off). Extension loading is never enabled (rusqlite
/// leaves `sqlite3_enable_load_extension` off, so `load_extension()` fails).
///
/// Defensive mode (`SQLITE_DBCONFIG_DEFENSIVE`) was tried and is not used:
/// on a source it makes SQLite refuse schemas that are legal (a trigger on
/// an FTS shadow table), and on a replay it refuses a real table named like
/// a shadow table (an FTS5 external-content table `ft_content`) — both
/// would break fidelity. Hostile SQL is stopped by [`check_object`] instead.
pub(crate) fn harden(conn: &Connection) -> anyhow::Result<()> {
    conn.execute_batch("PRAGMA trusted_schema = OFF;")?;
    Ok(())
}

/// Read the schema and settings in one read transaction.
pub(crate) fn read_schema(conn: &mut Connection, path: &Path) -> anyhow::Result<SourceSchema> {
    conn.execute_batch("BEGIN").map_err(|e| source_error(path, e))?;
    let out = read_schema_in_transaction(conn, path);
    let _ = conn.execute_batch("COMMIT");
    out
}

/// Read the schema and settings inside a read transaction the caller has
/// begun (the first read pins the snapshot, so the caller may keep reading
/// rows from the same snapshot afterwards).
pub(crate) fn read_schema_in_transaction(conn: &Connection, path: &Path) -> anyhow::Result<SourceSchema> {
    let describe = |e: rusqlite::Error| source_error(path, e);
    let objects = {
        let mut stmt = conn
            .prepare("SELECT type, name, tbl_name, sql FROM main.sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")
            .map_err(describe)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
            })
            .map_err(describe)?;
        let mut objects = Vec::new();
        for row in rows {
            let (kind, name, tbl_name, sql) = row.map_err(describe)?;
            let kind = Kind::parse(&kind).ok_or_else(|| Error::BadSource {
                path: path.to_path_buf(),
                why: SourceProblem::UnknownObjectType { name: name.clone(), kind: kind.clone() },
            })?;
            objects.push(Object { kind, name, tbl_name, sql });
        }
        objects
    };
    let pragma_i = |name: &str| -> anyhow::Result<i64> {
        conn.query_row(&format!("PRAGMA main.{name}"), [], |r| r.get(0)).map_err(describe)
    };
    let header = Header::read(conn, path).map_err(describe)?;
    let settings = Settings {
        page_size: pragma_i("page_size")?,
        auto_vacuum: pragma_i("auto_vacuum")?,
        user_version: pragma_i("user_version")?,
        application_id: pragma_i("application_id")?,
        encoding: conn.query_row("PRAGMA encoding", [], |r| r.get(0)).map_err(describe)?,
        journal_mode: JournalMode::from_pragma(
            &conn.query_row("PRAGMA main.journal_mode", [], |r| r.get::<_, String>(0)).map_err(describe)?,
        ),
        reserved_bytes: header.reserved_bytes,
        schema_format: header.schema_format,
        default_cache_size: header.default_cache_size,
    };
    // A snapshot is read as `immutable`, and SQLite then reports every file
    // as a rollback-journal one: its header says whether it is WAL.
    let settings = if is_snapshot_file(path) && header_says_wal(path) {
        Settings { journal_mode: JournalMode::Wal, ..settings }
    } else {
        settings
    };
    Ok(SourceSchema { objects, settings })
}

/// Turn a SQLite error on the source into one sentence that says what to do.
pub(crate) fn source_error(path: &Path, e: rusqlite::Error) -> anyhow::Error {
    let msg = e.to_string();
    let code = e.sqlite_error_code();
    let journal = crate::layout::sqlite_side_file(path, "-journal");
    if code == Some(rusqlite::ErrorCode::ReadOnly) && journal.exists() {
        return Error::BadSource { path: path.to_path_buf(), why: SourceProblem::HotJournal { journal } }.into();
    }
    let err = match code {
        Some(rusqlite::ErrorCode::NotADatabase) => Error::NotADatabase {
            path: path.to_path_buf(),
            why: format!("is not a SQLite database ({msg}); an encrypted database cannot be forked"),
        },
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            Error::BadSource { path: path.to_path_buf(), why: SourceProblem::Corrupt { detail: msg } }
        }
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
            Error::SourceLocked { path: path.to_path_buf(), detail: msg }
        }
        _ if msg.contains("malformed database schema") => {
            Error::BadSource { path: path.to_path_buf(), why: SourceProblem::CorruptSchema { detail: msg } }
        }
        _ => Error::failed(format!("could not read source {}: {msg}", path.display())),
    };
    err.into()
}

/// A read-only URI for a path, with the characters URIs reserve escaped.
pub(crate) fn source_uri(path: &Path) -> String {
    let mut out = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match *b {
            b'?' | b'#' | b'%' | b'&' | b'=' | b' ' | 0x80..=0xff | 0..=0x1f => out.push_str(&format!("%{b:02X}")),
            c => out.push(c as char),
        }
    }
    out.push_str("?mode=ro");
    out
}
