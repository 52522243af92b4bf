//! Migration files as the sqlite3 shell reads them: found (files, and the
//! `.sql` files of directories in name order), split into statements at the
//! same places the shell splits them (`sqlite3_complete`, so a trigger's
//! body stays one statement), and run one statement at a time with the
//! write lock's hold measured.
//!
//! Differences from `sqlite3 DB < FILE`, on purpose: the first failing
//! statement stops the file (as `sqlite3 -bail` and every migration runner
//! do), and dot-commands (`.read`, `.import`) are refused before anything
//! runs: they are the shell's, not SQL.

use crate::error::{Error, MigrationProblem};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One migration file, read and split.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    pub(crate) path: PathBuf,
    /// How reports name it: the file name.
    pub(crate) name: String,
    pub(crate) statements: Vec<Statement>,
}

/// One statement and the line (1-based) of its first token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub(crate) line: u64,
    pub(crate) sql: String,
}

/// The files named on the command line: a file as it is, a directory as its
/// `.sql` files in name order. Every problem is bad input, found before
/// anything runs.
pub(crate) fn collect(paths: &[PathBuf], what: &str) -> Result<Vec<Script>, Error> {
    let mut files = Vec::new();
    for p in paths {
        let meta =
            std::fs::metadata(p).map_err(|e| bad(what, p, MigrationProblem::NotThere { detail: e.to_string() }))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| bad(what, p, MigrationProblem::DirUnreadable { detail: e.to_string() }))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "sql") && f.is_file())
                .collect();
            if found.is_empty() {
                return Err(bad(what, p, MigrationProblem::NoSqlFiles));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    files.iter().map(|f| read(f, what)).collect()
}

fn bad(what: &str, path: &Path, why: MigrationProblem) -> Error {
    Error::BadMigration { what: what.to_string(), path: path.to_path_buf(), why }
}

fn read(path: &Path, what: &str) -> Result<Script, Error> {
    let bytes =
        std::fs::read(path).map_err(|e| bad(what, path, MigrationProblem::Unreadable { detail: e.to_string() }))?;
    let text = String::from_utf8(bytes).map_err(|_| bad(what, path, MigrationProblem::NotUtf8))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let statements =
        split(&text).map_err(|(line, command)| bad(what, path, MigrationProblem::DotCommand { line, command }))?;
    Ok(Script { path: path.to_path_buf(), name, statements })
}

/// True when SQLite says `sql` ends with a complete statement.
fn complete(sql: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(sql) else { return false };
    // SAFETY: a NUL-terminated string that lives for the call.
    unsafe { rusqlite::ffi::sqlite3_complete(c.as_ptr()) != 0 }
}

/// Split a script into statements where the shell would: at a `;` outside
/// quotes and comments after which `sqlite3_complete` says the text is a
/// complete statement. A line that starts with `.` while no statement is
/// pending is a dot-command: `Err((line, command))`. Text after the last
/// complete statement that holds a token is returned as a last statement
/// (SQLite then says it is incomplete, as the shell does).
pub(crate) fn split(text: &str) -> Result<Vec<Statement>, (u64, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i, mut line) = (0usize, 0usize, 1u64);
    let mut first_token: Option<(u64, usize)> = None;
    let mut at_line_start = true;
    while i < b.len() {
        let c = b[i];
        if at_line_start && first_token.is_none() && c == b'.' {
            let end = text[i..].find('\n').map(|n| i + n).unwrap_or(b.len());
            return Err((line, text[i..end].trim_end().to_string()));
        }
        at_line_start = false;
        match c {
            b'\n' => {
                line += 1;
                at_line_start = true;
                i += 1;
            }
            b'\'' | b'"' | b'`' | b'[' => {
                first_token.get_or_insert((line, i));
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                while i < b.len() && b[i] != close {
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            b';' => {
                i += 1;
                if first_token.is_none() {
                    start = i; // an empty statement
                } else if complete(&text[start..i]) {
                    let (l, at) = first_token.take().expect("a token");
                    out.push(Statement { line: l, sql: text[at..i].to_string() });
                    start = i;
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                first_token.get_or_insert((line, i));
                i += 1;
            }
        }
    }
    if let Some((l, at)) = first_token {
        out.push(Statement { line: l, sql: text[at..].to_string() });
    }
    Ok(out)
}

/// How one file ran.
#[derive(Debug, Clone, Default)]
pub(crate) struct Run {
    pub(crate) time: Duration,
    /// The longest the write lock was held.
    pub(crate) lock: Duration,
    /// The failing statement, its line and SQLite's message.
    pub(crate) error: Option<(Statement, String)>,
    /// The file ended inside a transaction, which was rolled back (as the
    /// shell rolls back when it exits).
    pub(crate) rolled_back: bool,
    /// The file turned foreign keys off at some point.
    pub(crate) foreign_keys_off: bool,
    /// The file turned on `writable_schema` or `ignore_check_constraints`:
    /// SQLite's own checks no longer held for what followed.
    pub(crate) checks_off: bool,
    /// Tables (lower-cased names) that a committed statement dropped or
    /// renamed away: one that exists again at the end was replaced (a
    /// rebuild), whatever root page it ended on.
    pub(crate) tables_gone: std::collections::BTreeSet<String>,
    /// (table, column), lower-cased: columns a committed statement dropped
    /// from a table that stayed (`ALTER TABLE … DROP COLUMN`), so a column
    /// added later at the same place is not read as a rename.
    pub(crate) columns_dropped: std::collections::BTreeSet<(String, String)>,
}

/// Run `script` on a fresh connection to `db` (as `sqlite3 DB < FILE` is a
/// fresh process), with `PRAGMA foreign_keys = ON`. Stops at the first
/// failing statement; `cancel` interrupts a running statement.
pub(crate) fn run(db: &Path, script: &Script, cancel: &Arc<AtomicBool>) -> anyhow::Result<Run> {
    let conn = Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    // A watcher interrupts a running statement when the rehearsal is
    // cancelled (the handle is SQLite's thread-safe sqlite3_interrupt).
    let interrupt = conn.get_interrupt_handle();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if cancel.load(Ordering::SeqCst) {
                    interrupt.interrupt();
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let out = run_statements(&conn, script, cancel);
        done.store(true, Ordering::SeqCst);
        out
    })
}

fn run_statements(conn: &Connection, script: &Script, cancel: &Arc<AtomicBool>) -> anyhow::Result<Run> {
    let mut out = Run::default();
    let started = Instant::now();
    // Since when the write lock is held, inside an explicit transaction.
    let mut held_since: Option<Instant> = None;
    // Table names, read again when the schema changes; names gone inside a
    // transaction count once it commits.
    let schema_version = || conn.query_row("PRAGMA main.schema_version", [], |r| r.get::<_, i64>(0));
    let table_names = || -> rusqlite::Result<std::collections::BTreeSet<String>> {
        let mut stmt = conn.prepare("SELECT lower(name) FROM main.sqlite_master WHERE type = 'table'")?;
        let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
        names.collect()
    };
    // Columns per table; None where a table cannot be read (a virtual
    // table whose module is not loaded): then no drop is recorded.
    let columns = || -> Option<std::collections::BTreeMap<String, Vec<String>>> {
        let mut stmt = conn
            .prepare(
                "SELECT lower(m.name), lower(p.name) FROM main.sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' ORDER BY m.name, p.cid",
            )
            .ok()?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).ok()?;
        let mut out = std::collections::BTreeMap::<String, Vec<String>>::new();
        for r in rows {
            let (t, c) = r.ok()?;
            out.entry(t).or_default().push(c);
        }
        Some(out)
    };
    let (mut version, mut names, mut cols) = (schema_version()?, table_names()?, columns());
    let mut gone_pending = std::collections::BTreeSet::new();
    let mut dropped_pending = std::collections::BTreeSet::new();
    for st in &script.statements {
        if cancel.load(Ordering::SeqCst) {
            return Err(Error::CopyStopped.into());
        }
        let autocommit_before = conn.is_autocommit();
        let t0 = Instant::now();
        let (readonly, result) = match conn.prepare(&st.sql) {
            Ok(mut stmt) => {
                let readonly = stmt.readonly();
                let mut rows = stmt.raw_query();
                let result = loop {
                    match rows.next() {
                        Ok(Some(_)) => {}
                        Ok(None) => break Ok(()),
                        Err(e) => break Err(e),
                    }
                };
                (readonly, result)
            }
            Err(e) => (true, Err(e)),
        };
        // Only a PRAGMA can turn SQLite's own checks off: look after each.
        if st.sql.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("pragma")) {
            let on = |p: &str| conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, i64>(0)).unwrap_or(0) != 0;
            out.foreign_keys_off |= !on("foreign_keys");
            out.checks_off |= on("writable_schema") || on("ignore_check_constraints");
        }
        let writing = write_txn(conn);
        if held_since.is_none() && writing {
            held_since = Some(t0);
        } else if held_since.is_none() && autocommit_before && !readonly {
            // A write in autocommit mode holds the lock for its own run.
            out.lock = out.lock.max(t0.elapsed());
        }
        if let Some(since) = held_since.filter(|_| !writing) {
            out.lock = out.lock.max(since.elapsed());
            held_since = None;
        }
        if let Err(e) = result {
            if cancel.load(Ordering::SeqCst) {
                return Err(Error::CopyStopped.into());
            }
            out.error = Some((st.clone(), sqlite_message(&e)));
            break;
        }
        let v = schema_version()?;
        if v != version {
            let now = table_names()?;
            gone_pending.extend(names.difference(&now).cloned());
            let cols_now = columns();
            if let (Some(then), Some(now)) = (&cols, &cols_now) {
                for (t, was) in then {
                    if let Some(is) = now.get(t).filter(|is| is.len() < was.len()) {
                        for c in was.iter().filter(|c| !is.contains(c)) {
                            dropped_pending.insert((t.clone(), c.clone()));
                        }
                    }
                }
            }
            (version, names, cols) = (v, now, cols_now);
        }
        if conn.is_autocommit() {
            out.tables_gone.append(&mut gone_pending);
            out.columns_dropped.append(&mut dropped_pending);
        }
    }
    if !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK")?;
        out.rolled_back = out.error.is_none();
    }
    if let Some(since) = held_since {
        out.lock = out.lock.max(since.elapsed());
    }
    out.time = started.elapsed();
    Ok(out)
}

/// SQLite's own message for a failed statement.
fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// True while the connection holds a write transaction on `main`.
fn write_txn(conn: &Connection) -> bool {
    // SAFETY: the handle is valid for the connection's life; the schema
    // name is a NUL-terminated literal.
    unsafe { rusqlite::ffi::sqlite3_txn_state(conn.handle(), c"main".as_ptr()) == rusqlite::ffi::SQLITE_TXN_WRITE }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(u64, String)> {
        split(text).unwrap().into_iter().map(|s| (s.line, s.sql.trim().to_string())).collect()
    }

    #[test]
    fn statements_split_where_the_shell_splits_them() {
        let text = "-- a comment; not a split\nCREATE TABLE t(x);\n\nINSERT INTO t VALUES ('a;b'); INSERT INTO t VALUES (2);\n/* multi\nline; */ UPDATE t SET x = 3;\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = 1;\n  DELETE FROM t;\nEND;\n;;\nSELECT 1";
        let got = lines(text);
        assert_eq!(got.len(), 6, "{got:?}");
        assert_eq!(got[0], (2, "CREATE TABLE t(x);".to_string()));
        assert_eq!(got[1], (4, "INSERT INTO t VALUES ('a;b');".to_string()));
        assert_eq!(got[2].0, 4);
        assert_eq!(got[3].0, 6, "a statement's line is its first token's");
        assert!(got[4].1.starts_with("CREATE TRIGGER") && got[4].1.ends_with("END;"));
        assert_eq!(got[4].0, 7);
        assert_eq!(got[5], (12, "SELECT 1".to_string()), "an unterminated tail is a statement too");
    }

    #[test]
    fn dot_commands_are_refused_with_their_line() {
        assert_eq!(split("CREATE TABLE t(x);\n.read other.sql\n"), Err((2, ".read other.sql".to_string())));
        // Inside a statement a line may start with '.'.
        assert!(split("SELECT 1\n.5;\n").is_ok());
    }
}
