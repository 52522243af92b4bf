//! Reading a source's schema and settings, checking that every object is
//! safe to replay, and replaying it into a fresh database.
//!
//! Promises:
//! - the source is opened read-only and read in one read transaction;
//! - every object is executed as exactly one statement, which must be a
//!   `CREATE` of the type and name `sqlite_master` claims (checked before
//!   anything runs, and the result checked again after replay);
//! - the fork's `sqlite_master` (type, name, tbl_name, sql) equals the
//!   source's, and so do `page_size`, `auto_vacuum`, `encoding`,
//!   `user_version`, `application_id` and WAL mode.

use crate::error::Error;
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::io::Read;
use std::path::Path;

/// The kinds of schema object `sqlite_master` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
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
    pub fn as_str(self) -> &'static str {
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
pub struct Object {
    pub kind: Kind,
    pub name: String,
    pub tbl_name: String,
    pub sql: String,
}

impl Object {
    pub fn is_virtual(&self) -> bool {
        self.kind == Kind::Table && leading_words(&self.sql, 2).get(1).is_some_and(|w| w == "VIRTUAL")
    }
    /// Tables SQLite creates itself (`sqlite_sequence`, `sqlite_stat*`).
    pub fn is_internal(&self) -> bool {
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
pub struct Settings {
    pub page_size: i64,
    pub auto_vacuum: i64,
    pub encoding: String,
    pub user_version: i64,
    pub application_id: i64,
    pub journal_mode: String,
}

/// What was read from a source in one read transaction.
#[derive(Debug, Clone)]
pub struct SourceSchema {
    pub objects: Vec<Object>,
    pub settings: Settings,
}

impl SourceSchema {
    pub fn has_table(&self, name: &str) -> bool {
        self.objects.iter().any(|o| o.kind == Kind::Table && o.name.eq_ignore_ascii_case(name))
    }
}

/// Check that `path` is an existing SQLite file, with errors that say what
/// is wrong and what to do.
pub fn check_source_file(path: &Path) -> Result<(), Error> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::SourceFileMissing { path: path.to_path_buf() }
        } else {
            Error::failed(format!("could not read source file {}: {e}", path.display()))
        }
    })?;
    if meta.is_dir() {
        return Err(Error::invalid(format!("source {} is a directory, not a SQLite database file", path.display())));
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
        return Err(Error::invalid(format!(
            "{} is not a SQLite database (no SQLite header; an encrypted database cannot be forked)",
            path.display()
        )));
    }
    Ok(())
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
pub fn open_source(path: &Path) -> anyhow::Result<Connection> {
    check_source_file(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| Error::failed(format!("could not open source {} read-only: {e}", path.display())))?;
    harden(&conn)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Open a database sqlfork owns, read-write, with the fork-side settings.
pub fn open_fork(path: &Path) -> anyhow::Result<Connection> {
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
pub struct SourceSideFiles {
    wal: std::path::PathBuf,
    shm: std::path::PathBuf,
    had_wal: bool,
    had_shm: bool,
}

impl SourceSideFiles {
    pub fn note(path: &Path) -> Self {
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
        // by every connection that has the WAL open.
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
pub fn harden(conn: &Connection) -> anyhow::Result<()> {
    conn.execute_batch("PRAGMA trusted_schema = OFF;")?;
    Ok(())
}

/// Read the schema and settings in one read transaction.
pub fn read_schema(conn: &mut Connection, path: &Path) -> anyhow::Result<SourceSchema> {
    conn.execute_batch("BEGIN").map_err(|e| source_error(path, e))?;
    let out = read_schema_in_transaction(conn, path);
    let _ = conn.execute_batch("COMMIT");
    out
}

/// Read the schema and settings inside a read transaction the caller has
/// begun (the first read pins the snapshot, so the caller may keep reading
/// rows from the same snapshot afterwards).
pub fn read_schema_in_transaction(conn: &Connection, path: &Path) -> anyhow::Result<SourceSchema> {
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
            let kind = Kind::parse(&kind).ok_or_else(|| {
                Error::invalid(format!(
                    "source {} has a schema object `{name}` of unknown type `{kind}`; refusing to fork it",
                    path.display()
                ))
            })?;
            objects.push(Object { kind, name, tbl_name, sql });
        }
        objects
    };
    let pragma_i = |name: &str| -> anyhow::Result<i64> {
        conn.query_row(&format!("PRAGMA main.{name}"), [], |r| r.get(0)).map_err(describe)
    };
    let settings = Settings {
        page_size: pragma_i("page_size")?,
        auto_vacuum: pragma_i("auto_vacuum")?,
        user_version: pragma_i("user_version")?,
        application_id: pragma_i("application_id")?,
        encoding: conn.query_row("PRAGMA encoding", [], |r| r.get(0)).map_err(describe)?,
        journal_mode: conn
            .query_row("PRAGMA main.journal_mode", [], |r| r.get::<_, String>(0))
            .map_err(describe)?
            .to_ascii_lowercase(),
    };
    Ok(SourceSchema { objects, settings })
}

/// Turn a SQLite error on the source into one sentence that says what to do.
pub fn source_error(path: &Path, e: rusqlite::Error) -> anyhow::Error {
    let msg = e.to_string();
    let code = e.sqlite_error_code();
    let journal = {
        let mut p = path.as_os_str().to_owned();
        p.push("-journal");
        std::path::PathBuf::from(p)
    };
    if code == Some(rusqlite::ErrorCode::ReadOnly) && journal.exists() {
        return Error::invalid(format!(
            "source {} has a hot journal ({}) left by an interrupted write, which a read-only fork may not roll back; open it once with `sqlite3 {}` to recover it, then fork",
            path.display(),
            journal.display(),
            path.display()
        ))
        .into();
    }
    let err = match code {
        Some(rusqlite::ErrorCode::NotADatabase) => Error::invalid(format!(
            "{} is not a SQLite database ({msg}); an encrypted database cannot be forked",
            path.display()
        )),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => Error::invalid(format!(
            "source {} is corrupt ({msg}); repair it (for example with `sqlite3 FILE .recover`) and fork the result",
            path.display()
        )),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => Error::failed(format!(
            "source {} is locked by another process ({msg}); try again when its writer is done",
            path.display()
        )),
        _ if msg.contains("malformed database schema") => {
            Error::invalid(format!("source {} has a corrupt schema ({msg}); repair it before forking", path.display()))
        }
        _ => Error::failed(format!("could not read source {}: {msg}", path.display())),
    };
    err.into()
}

// ---------------------------------------------------------------------------
// Checking objects before anything runs

/// Refuse anything that is not exactly one `CREATE` of the claimed type and
/// name. Runs before the fork file exists.
pub fn check_objects(schema: &SourceSchema) -> Result<(), Error> {
    for obj in &schema.objects {
        check_object(obj)?;
    }
    Ok(())
}

fn refuse(obj: &Object, why: &str) -> Error {
    Error::invalid(format!(
        "refusing to fork: the SQL of {} in sqlite_master {why}; the source may be corrupt or hostile",
        obj.describe()
    ))
}

pub fn check_object(obj: &Object) -> Result<(), Error> {
    if obj.sql.contains('\0') {
        return Err(refuse(obj, "contains a NUL byte"));
    }
    if !is_single_statement(&obj.sql) {
        return Err(refuse(obj, "holds more than one statement"));
    }
    let mut lx = Lexer::new(&obj.sql);
    let words: Vec<String> = (0..3).map_while(|_| lx.next_token()).collect();
    let kw = |i: usize| words.get(i).map(|w| w.to_ascii_uppercase()).unwrap_or_default();
    if kw(0) != "CREATE" {
        return Err(refuse(obj, "is not a CREATE statement"));
    }
    // CREATE [UNIQUE|VIRTUAL] TABLE/INDEX/VIEW/TRIGGER; TEMP objects never
    // live in the main schema.
    let (type_word, consumed) = match (obj.kind, kw(1).as_str()) {
        (Kind::Index, "UNIQUE") | (Kind::Table, "VIRTUAL") => (kw(2), 3),
        _ => (kw(1), 2),
    };
    if type_word != obj.kind.as_str().to_ascii_uppercase() {
        return Err(refuse(obj, &format!("does not create a {}", obj.kind.as_str())));
    }
    // Re-lex to the name: skip the words read, then IF NOT EXISTS.
    let mut lx = Lexer::new(&obj.sql);
    for _ in 0..consumed {
        lx.next_token();
    }
    let mut name = lx.next_token();
    if name.as_deref().is_some_and(|w| w.eq_ignore_ascii_case("IF")) {
        let not = lx.next_token();
        let exists = lx.next_token();
        if !(not.is_some_and(|w| w.eq_ignore_ascii_case("NOT"))
            && exists.is_some_and(|w| w.eq_ignore_ascii_case("EXISTS")))
        {
            return Err(refuse(obj, "is malformed"));
        }
        name = lx.next_token();
    }
    let Some(mut name) = name.map(|n| unquote(&n)) else {
        return Err(refuse(obj, "names no object"));
    };
    if lx.peek_is('.') {
        // schema.name: only the main schema is acceptable.
        if !name.eq_ignore_ascii_case("main") {
            return Err(refuse(obj, &format!("creates it in schema `{name}` instead of main")));
        }
        lx.next_token();
        name = lx.next_token().map(|n| unquote(&n)).unwrap_or_default();
    }
    if !name.eq_ignore_ascii_case(&obj.name) {
        return Err(refuse(obj, &format!("creates `{name}` instead")));
    }
    if obj.is_internal() && !is_replayable_internal(obj) {
        return Err(refuse(obj, "uses a name reserved for SQLite's internal tables"));
    }
    Ok(())
}

fn is_replayable_internal(obj: &Object) -> bool {
    obj.kind == Kind::Table
        && matches!(
            obj.name.to_ascii_lowercase().as_str(),
            "sqlite_sequence" | "sqlite_stat1" | "sqlite_stat2" | "sqlite_stat3" | "sqlite_stat4"
        )
}

/// True when `sql` is one statement: nothing but whitespace and comments
/// follows the first complete statement (SQLite's own `sqlite3_complete`
/// decides where that ends, trigger bodies included).
pub fn is_single_statement(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b';' {
            continue;
        }
        let Ok(prefix) = CString::new(&bytes[..=i]) else { return false };
        // SAFETY: `prefix` is a valid NUL-terminated string for the call.
        let complete = unsafe { rusqlite::ffi::sqlite3_complete(prefix.as_ptr()) } != 0;
        if complete {
            let mut rest = Lexer::new(&sql[i + 1..]);
            return rest.next_token().is_none();
        }
    }
    true
}

/// A tiny SQL tokenizer: enough to read the leading keywords and the name
/// of a CREATE statement, skipping comments and honouring quotes.
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer { s, pos: 0 }
    }

    fn skip_space(&mut self) {
        let b = self.s.as_bytes();
        loop {
            while self.pos < b.len() && (b[self.pos] as char).is_ascii_whitespace() {
                self.pos += 1;
            }
            if self.s[self.pos..].starts_with("--") {
                match self.s[self.pos..].find('\n') {
                    Some(k) => self.pos += k + 1,
                    None => self.pos = b.len(),
                }
            } else if self.s[self.pos..].starts_with("/*") {
                match self.s[self.pos + 2..].find("*/") {
                    Some(k) => self.pos += k + 4,
                    None => self.pos = b.len(),
                }
            } else {
                return;
            }
        }
    }

    fn peek_is(&mut self, c: char) -> bool {
        self.skip_space();
        self.s[self.pos..].starts_with(c)
    }

    /// The next token as written (quotes kept), or None at the end.
    fn next_token(&mut self) -> Option<String> {
        self.skip_space();
        let rest = &self.s[self.pos..];
        let first = rest.chars().next()?;
        let len = match first {
            '"' | '\'' | '`' => quoted_len(rest, first),
            '[' => rest.find(']').map(|k| k + 1).unwrap_or(rest.len()),
            c if c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii() => rest
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$' || !c.is_ascii()))
                .map(|(k, _)| k)
                .unwrap_or(rest.len()),
            c => c.len_utf8(),
        };
        self.pos += len;
        Some(rest[..len].to_string())
    }
}

fn quoted_len(s: &str, q: char) -> usize {
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == q {
            if chars.peek().is_some_and(|(_, n)| *n == q) {
                chars.next();
            } else {
                return i + 1;
            }
        }
    }
    s.len()
}

/// The leading words of a statement, upper-cased.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut lx = Lexer::new(sql);
    (0..n).map_while(|_| lx.next_token()).map(|w| w.to_ascii_uppercase()).collect()
}

/// Remove SQL quoting from an identifier token.
pub fn unquote(tok: &str) -> String {
    let mut chars = tok.chars();
    match (chars.next(), tok.chars().last()) {
        (Some(q @ ('"' | '\'' | '`')), Some(l)) if l == q && tok.len() >= 2 => {
            let inner = &tok[1..tok.len() - 1];
            inner.replace(&format!("{q}{q}"), &q.to_string())
        }
        (Some('['), Some(']')) => tok[1..tok.len() - 1].to_string(),
        _ => tok.to_string(),
    }
}

/// Quote an identifier for SQL: always, whatever it contains.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

// ---------------------------------------------------------------------------
// Replaying

/// Replays a source schema into a fresh database in an order that works
/// (tables, indexes, statistics tables, views, triggers), the way VACUUM and
/// `.dump` do. Data copies run between [`Replayer::create_tables`] and the
/// rest.
pub struct Replayer<'a> {
    schema: &'a SourceSchema,
    /// Virtual tables created so far, for recognising their shadow tables.
    virtual_tables: Vec<String>,
    /// Source tables that the fork got for free (shadow tables of virtual
    /// tables created here); they are not executed.
    pub shadow_tables: HashSet<String>,
    /// What the replay had to stand in for (see `standin`).
    pub stand_ins: StandIns,
}

/// The application-defined pieces a replay used stand-ins for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StandIns {
    /// Functions registered as stand-ins (index expressions, CHECKs,
    /// generated columns).
    pub functions: Vec<String>,
    /// Virtual tables written as `.dump` writes them (module or tokenizer
    /// missing).
    pub virtual_tables: Vec<String>,
}

impl<'a> Replayer<'a> {
    pub fn new(schema: &'a SourceSchema) -> Self {
        Replayer { schema, virtual_tables: vec![], shadow_tables: HashSet::new(), stand_ins: StandIns::default() }
    }

    /// A replayer for a fork whose tables already exist (a data copy after
    /// phase A, possibly in another process): it learns which source tables
    /// are the fork's shadow tables from `PRAGMA table_list`.
    pub fn adopt(conn: &Connection, schema: &'a SourceSchema) -> anyhow::Result<Self> {
        let mut r = Replayer::new(schema);
        r.virtual_tables = schema.objects.iter().filter(|o| o.is_virtual()).map(|o| o.name.clone()).collect();
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")?;
        let shadows: HashSet<String> =
            stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<_>>()?;
        for obj in schema.objects.iter().filter(|o| o.kind == Kind::Table) {
            if shadows.iter().any(|s| s.eq_ignore_ascii_case(&obj.name)) {
                r.shadow_tables.insert(obj.name.clone());
            }
        }
        Ok(r)
    }

    /// Settings that only take effect before the first table: call on an
    /// empty database, outside any transaction.
    pub fn apply_file_settings(conn: &Connection, s: &Settings) -> anyhow::Result<()> {
        conn.execute_batch(&format!(
            "PRAGMA page_size = {}; PRAGMA auto_vacuum = {}; PRAGMA encoding = '{}';",
            s.page_size,
            s.auto_vacuum,
            match s.encoding.as_str() {
                "UTF-16le" | "UTF-16be" | "UTF-8" => s.encoding.as_str(),
                _ => "UTF-8",
            }
        ))
        .context("could not set page_size, auto_vacuum and encoding on the new database")?;
        Ok(())
    }

    /// Header values that can be set at any time (inside the transaction).
    pub fn apply_header_values(tx: &Connection, s: &Settings) -> anyhow::Result<()> {
        tx.execute_batch(&format!(
            "PRAGMA user_version = {}; PRAGMA application_id = {};",
            s.user_version, s.application_id
        ))
        .context("could not set user_version and application_id on the new database")?;
        Ok(())
    }

    /// WAL mode is stored in the file header; set it last, outside any
    /// transaction. Other journal modes are per connection.
    pub fn apply_journal_mode(conn: &Connection, s: &Settings) -> anyhow::Result<()> {
        if s.journal_mode == "wal" {
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                anyhow::bail!("could not switch the new database to WAL mode (it stayed `{mode}`)");
            }
        }
        Ok(())
    }

    /// Every table, in `sqlite_master` order; `sqlite_sequence` comes with
    /// the first AUTOINCREMENT table and the statistics tables come later.
    pub fn create_tables(&mut self, tx: &Connection) -> anyhow::Result<()> {
        for obj in self.schema.objects.iter().filter(|o| o.kind == Kind::Table) {
            if obj.is_internal() {
                continue;
            }
            if self.is_shadow(tx, obj)? {
                self.shadow_tables.insert(obj.name.clone());
                continue;
            }
            self.run(tx, obj)?;
            if obj.is_virtual() {
                self.virtual_tables.push(obj.name.clone());
            }
        }
        Ok(())
    }

    /// A table named `<vtab>_<suffix>` that the fork already has, created by
    /// a virtual table replayed before it. A real table named like
    /// `ft_extra` beside `ft` does not exist yet, so it is created.
    fn is_shadow(&self, tx: &Connection, obj: &Object) -> anyhow::Result<bool> {
        let lower = obj.name.to_ascii_lowercase();
        let candidate = self.virtual_tables.iter().any(|v| {
            let v = v.to_ascii_lowercase();
            lower.len() > v.len() + 1 && lower.starts_with(&v) && lower.as_bytes()[v.len()] == b'_'
        });
        if !candidate {
            return Ok(false);
        }
        let exists: bool = tx.query_row(
            "SELECT count(*) > 0 FROM main.sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [&obj.name],
            |r| r.get(0),
        )?;
        Ok(exists)
    }

    pub fn create_indexes(&mut self, tx: &Connection) -> anyhow::Result<()> {
        self.create_kind(tx, Kind::Index)
    }

    /// `sqlite_stat1` (and `sqlite_stat4`) cannot be created by name:
    /// `ANALYZE sqlite_schema` creates them. Rows are left to the data copy;
    /// stat4 is dropped again if the source has none.
    pub fn create_stat_tables(&mut self, tx: &Connection) -> anyhow::Result<()> {
        let has1 = self.schema.has_table("sqlite_stat1");
        let has4 = self.schema.has_table("sqlite_stat4");
        if !has1 && !has4 {
            return Ok(());
        }
        tx.execute_batch("ANALYZE main.sqlite_schema;")
            .context("could not create the statistics tables (ANALYZE sqlite_schema)")?;
        for (table, wanted) in [("sqlite_stat1", has1), ("sqlite_stat4", has4)] {
            let exists: bool = tx.query_row(
                "SELECT count(*) > 0 FROM main.sqlite_master WHERE type='table' AND name = ?1",
                [table],
                |r| r.get(0),
            )?;
            if exists && !wanted {
                tx.execute_batch(&format!("DROP TABLE main.{table};"))?;
            } else if exists {
                tx.execute_batch(&format!("DELETE FROM main.{table};"))?;
            }
        }
        Ok(())
    }

    pub fn create_views(&mut self, tx: &Connection) -> anyhow::Result<()> {
        self.create_kind(tx, Kind::View)
    }

    pub fn create_triggers(&mut self, tx: &Connection) -> anyhow::Result<()> {
        self.create_kind(tx, Kind::Trigger)
    }

    fn create_kind(&mut self, tx: &Connection, kind: Kind) -> anyhow::Result<()> {
        for obj in self.schema.objects.iter().filter(|o| o.kind == kind) {
            self.run(tx, obj)?;
        }
        Ok(())
    }

    /// Execute one object's SQL as exactly one statement. A collation or
    /// function only the source's application defines gets a stand-in, and
    /// a virtual table whose module or tokenizer is missing is written as
    /// `.dump` writes it (see `standin`).
    fn run(&mut self, tx: &Connection, obj: &Object) -> anyhow::Result<()> {
        check_object(obj)?;
        crate::standin::allow_unknown_collations(tx)?;
        let mut added = 0;
        loop {
            let result = tx.prepare(&obj.sql).and_then(|mut stmt| stmt.raw_execute());
            let Err(e) = result else { return Ok(()) };
            if let Some(f) = crate::standin::missing_function(&e) {
                let known = self.stand_ins.functions.iter().any(|g| g.eq_ignore_ascii_case(&f));
                if !known && added < crate::standin::MAX_FUNCTIONS_PER_OBJECT {
                    crate::standin::add_function(tx, &f)?;
                    self.stand_ins.functions.push(f);
                    added += 1;
                    continue;
                }
            }
            let hostile = matches!(e, rusqlite::Error::MultipleStatement) || e.to_string().contains("unsafe use of");
            if obj.is_virtual() && !hostile {
                return self.write_as_dump(tx, obj);
            }
            return Err(replay_error(obj, e));
        }
    }

    /// A virtual table this SQLite cannot create (its module or tokenizer
    /// is the application's): its exact `sqlite_master` row, rootpage 0,
    /// as the sqlite3 shell's `.dump` writes it. Its shadow tables are
    /// replayed from the source's SQL as ordinary tables.
    fn write_as_dump(&mut self, tx: &Connection, obj: &Object) -> anyhow::Result<()> {
        tx.execute_batch("PRAGMA writable_schema = ON;")?;
        let written = tx.execute(
            "INSERT INTO main.sqlite_master(type, name, tbl_name, rootpage, sql) VALUES('table', ?1, ?2, 0, ?3)",
            rusqlite::params![obj.name, obj.tbl_name, obj.sql],
        );
        tx.execute_batch("PRAGMA writable_schema = OFF;")?;
        written.with_context(|| format!("could not write {} into the fork's schema", obj.describe()))?;
        self.stand_ins.virtual_tables.push(obj.name.clone());
        Ok(())
    }

    /// Give the shadow tables of virtual tables written as `.dump` writes
    /// them the rows a fresh table of their module starts with (FTS5's
    /// `_data` and `_config`). For a schema-only fork; a data copy brings
    /// the source's rows instead.
    pub fn fill_starter_rows(&self, tx: &Connection) -> anyhow::Result<()> {
        for name in &self.stand_ins.virtual_tables {
            let Some(obj) = self.schema.objects.iter().find(|o| o.is_virtual() && &o.name == name) else { continue };
            for (table, columns, rows) in crate::standin::fresh_shadow_rows(&obj.sql, &obj.name)? {
                if !self.schema.objects.iter().any(|o| o.kind == Kind::Table && o.name.eq_ignore_ascii_case(&table)) {
                    continue;
                }
                let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
                let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
                let sql = format!(
                    "INSERT INTO main.{}({}) VALUES({})",
                    quote_ident(&table),
                    cols.join(", "),
                    marks.join(", ")
                );
                let mut stmt = tx.prepare(&sql).with_context(|| {
                    format!("could not give the shadow table `{table}` of {} its starter rows", obj.describe())
                })?;
                for row in rows {
                    stmt.execute(rusqlite::params_from_iter(row))?;
                }
            }
        }
        Ok(())
    }

    /// The collations the replay on `conn` stood in for.
    pub fn collations(conn: &Connection) -> anyhow::Result<Vec<String>> {
        Ok(crate::standin::collations_standing_in(conn)?)
    }

    /// After replay, inside the same transaction: the fork's `sqlite_master`
    /// must hold every source object with the same type, name, tbl_name and
    /// sql, and nothing else but what SQLite adds by itself.
    pub fn verify(&self, tx: &Connection) -> anyhow::Result<()> {
        // Triggers have a namespace of their own: a trigger may share its
        // name with a table, so objects are keyed by (namespace, name).
        let space = |kind: &str| if kind == "trigger" { "trigger" } else { "object" };
        let mut fork: HashMap<(&str, String), (String, String, Option<String>)> = HashMap::new();
        {
            let mut stmt = tx.prepare("SELECT type, name, tbl_name, sql FROM main.sqlite_master")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let kind: String = r.get(0)?;
                fork.insert((space(&kind), r.get::<_, String>(1)?.to_ascii_lowercase()), (kind, r.get(2)?, r.get(3)?));
            }
        }
        let mut expected: HashSet<(&str, String)> = HashSet::new();
        for obj in &self.schema.objects {
            let key = (space(obj.kind.as_str()), obj.name.to_ascii_lowercase());
            expected.insert(key.clone());
            let Some((kind, tbl_name, sql)) = fork.get(&key) else {
                if self.shadow_tables.contains(&obj.name) {
                    continue;
                }
                return Err(Error::failed(format!(
                    "the fork is missing {} after replay; the source's schema could not be reproduced",
                    obj.describe()
                ))
                .into());
            };
            if self.shadow_tables.contains(&obj.name) {
                // A shadow table is whatever this SQLite's module makes.
                continue;
            }
            if kind != obj.kind.as_str() || tbl_name != &obj.tbl_name || sql.as_deref() != Some(obj.sql.as_str()) {
                return Err(Error::invalid(format!(
                    "refusing to fork: replaying {} produced a different schema object; the source may be corrupt or hostile",
                    obj.describe()
                ))
                .into());
            }
        }
        for (key, (kind, tbl_name, sql)) in &fork {
            let name = &key.1;
            if expected.contains(key) || sql.is_none() || name.starts_with("sqlite_") {
                continue;
            }
            let shadow_of_ours = kind == "table"
                && self.virtual_tables.iter().any(|v| {
                    v.eq_ignore_ascii_case(tbl_name) || name.starts_with(&format!("{}_", v.to_ascii_lowercase()))
                });
            if !shadow_of_ours {
                return Err(Error::invalid(format!(
                    "refusing to fork: replay created {kind} `{name}`, which the source does not have"
                ))
                .into());
            }
        }
        Ok(())
    }
}

/// One sentence naming the object that failed and what to do about it.
fn replay_error(obj: &Object, e: rusqlite::Error) -> anyhow::Error {
    let msg = e.to_string();
    let hint = if msg.contains("no such collation sequence") {
        "the source uses a collation that only its application defines; sqlfork cannot create it. Fork from a copy with that collation removed"
    } else if msg.contains("no such function") {
        "the source uses a function that only its application defines; sqlfork cannot create it. Fork from a copy without it"
    } else if msg.contains("no such module") {
        "the source uses a virtual-table module this SQLite does not have (sqlfork has fts3, fts4, fts5 and rtree)"
    } else if msg.contains("unknown tokenizer") || msg.contains("tokenize") {
        "the source uses a full-text tokenizer that only its application defines"
    } else if msg.contains("unsafe use of") {
        "the schema calls a function that is not allowed in a schema (sqlfork runs with trusted_schema off); the source may be hostile"
    } else if matches!(e, rusqlite::Error::MultipleStatement) {
        "the SQL holds more than one statement; the source may be corrupt or hostile"
    } else {
        "the source's schema cannot be replayed by this SQLite"
    };
    // A schema sqlfork cannot replay is a failed fork (exit 1); a schema that
    // is not what it claims to be is refused as invalid input (exit 2).
    if matches!(e, rusqlite::Error::MultipleStatement) || msg.contains("unsafe use of") {
        return Error::invalid(format!("could not create {} in the fork: {msg}; {hint}", obj.describe())).into();
    }
    Error::failed(format!("could not create {} in the fork: {msg}; {hint}", obj.describe())).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(kind: Kind, name: &str, sql: &str) -> Object {
        Object { kind, name: name.into(), tbl_name: name.into(), sql: sql.into() }
    }

    #[test]
    fn single_statement_detection() {
        assert!(is_single_statement("CREATE TABLE t(a DEFAULT ';')"));
        assert!(is_single_statement("CREATE TABLE t(a); -- trailing comment"));
        assert!(is_single_statement(
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1); UPDATE u SET a = 2; END"
        ));
        assert!(!is_single_statement("CREATE TABLE t(a); ATTACH 'x' AS y"));
        assert!(!is_single_statement(
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; PRAGMA writable_schema=1"
        ));
    }

    #[test]
    fn create_must_match_type_and_name() {
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE \"t\"(a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "my t", "CREATE TABLE [my t](a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE main.t(a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE IF NOT EXISTS t(a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "ft", "CREATE VIRTUAL TABLE ft USING fts5(x)")).is_ok());
        assert!(check_object(&obj(Kind::Index, "i", "create unique index i on t(a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE u(a)")).is_err());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE temp.t(a)")).is_err());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE VIEW t AS SELECT 1")).is_err());
        assert!(check_object(&obj(Kind::View, "v", "ATTACH 'x' AS v")).is_err());
        assert!(check_object(&obj(Kind::Table, "sqlite_master2", "CREATE TABLE sqlite_master2(a)")).is_err());
    }

    #[test]
    fn identifiers_are_quoted_and_unquoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(unquote("\"a\"\"b\""), "a\"b");
        assert_eq!(unquote("[x y]"), "x y");
        assert_eq!(unquote("`t`"), "t");
    }
}
