//! Databases made from SQL, and read back independently of sqlfork: one
//! value, rows, `sqlite_master`, the settings a fork carries, and
//! soundness (`integrity_check` and `foreign_key_check`, in [`sound`]).

use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Create (or add to) the SQLite file at `path` from SQL.
pub fn make_db(path: &Path, sql: &str) {
    let conn = Connection::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    conn.execute_batch(sql).unwrap_or_else(|e| panic!("setup SQL failed on {}: {e}\n{sql}", path.display()));
}

/// Execute `sql` on `path` (read-write).
pub fn exec(path: &Path, sql: &str) {
    let conn = Connection::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    conn.execute_batch(sql).unwrap_or_else(|e| panic!("{sql} on {}: {e}", path.display()));
}

/// Open `path` read-only.
pub fn ro(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {} read-only: {e}", path.display()))
}

/// The one value `sql` returns on `path` (read-only).
pub fn scalar<T: rusqlite::types::FromSql>(path: &Path, sql: &str) -> T {
    ro(path).query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql} on {}: {e}", path.display()))
}

/// The one integer `sql` returns on `path` (read-only).
pub fn int(path: &Path, sql: &str) -> i64 {
    scalar(path, sql)
}

/// Run `sql` on `path` and return every row as quoted values.
pub fn query(path: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = ro(path);
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql} on {}: {e}", path.display()));
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get::<_, rusqlite::types::Value>(i)? {
                    rusqlite::types::Value::Null => "NULL".to_string(),
                    rusqlite::types::Value::Integer(v) => v.to_string(),
                    rusqlite::types::Value::Real(v) => format!("{v:?}"),
                    rusqlite::types::Value::Text(v) => format!("'{v}'"),
                    rusqlite::types::Value::Blob(v) => format!("x{v:02x?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// Quote an identifier for test SQL.
pub fn quote_name(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quote a string literal for test SQL.
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One `sqlite_master` row: (type, name, tbl_name, sql); rootpage aside.
pub type MasterRow = (String, String, String, Option<String>);

/// `sqlite_master`, sorted by type and name.
pub fn master(path: &Path) -> Vec<MasterRow> {
    let conn = ro(path);
    let mut stmt = conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(|r| r.unwrap()).collect()
}

/// `sqlite_master` as a set (the order SQL sorts names in depends on the
/// encoding, so compare sets, not lists).
pub fn master_set(path: &Path) -> BTreeSet<MasterRow> {
    master(path).into_iter().collect()
}

/// Rows only in `a` (the source) and only in `b` (the fork), for messages.
pub fn master_diff(a: &BTreeSet<MasterRow>, b: &BTreeSet<MasterRow>) -> String {
    let mut out = String::new();
    for r in a.difference(b) {
        out.push_str(&format!("  only in source: {r:?}\n"));
    }
    for r in b.difference(a) {
        out.push_str(&format!("  only in fork:   {r:?}\n"));
    }
    out
}

/// The settings a fork carries: what PRAGMAs show, and the header fields
/// they do not (see [`header_fields`]).
pub fn settings(path: &Path) -> Vec<(String, String)> {
    let conn = ro(path);
    let mut out: Vec<(String, String)> =
        ["page_size", "auto_vacuum", "encoding", "user_version", "application_id", "journal_mode"]
            .iter()
            .map(|p| {
                let v: rusqlite::types::Value = conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get(0)).unwrap();
                (p.to_string(), format!("{v:?}"))
            })
            .collect();
    out.extend(header_fields(path));
    out
}

/// Fields of the 100-byte header that a fork keeps and no PRAGMA reads
/// (page 1 as SQLite's pager sees it, through `sqlite_dbpage`, so a WAL
/// database's newest page 1 counts): reserved bytes per page (byte 20),
/// the schema format (44-47), the default cache size (48-51), the text
/// encoding (56-59) and the incremental-vacuum flag (64-67).
pub fn header_fields(path: &Path) -> Vec<(String, String)> {
    let page1: Option<Vec<u8>> = ro(path)
        .query_row("SELECT substr(data, 1, 100) FROM sqlite_dbpage WHERE pgno = 1", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| if matches!(e, rusqlite::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })
        .unwrap_or_else(|e| panic!("read page 1 of {}: {e}", path.display()));
    let h = page1.unwrap_or_else(|| vec![0; 100]);
    let be = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    vec![
        ("reserved_bytes".into(), h[20].to_string()),
        ("schema_format".into(), be(44).to_string()),
        ("default_cache_size".into(), (be(48) as i32).to_string()),
        ("text_encoding".into(), be(56).to_string()),
        ("incremental_vacuum".into(), be(64).to_string()),
    ]
}

/// Make `path` from `sql` with header fields no SQL sets: `reserve` bytes
/// per page (SQLite's `SQLITE_FCNTL_RESERVE_BYTES` file control, before the
/// first table) and, with `legacy`, schema format 1
/// (`SQLITE_DBCONFIG_LEGACY_FILE_FORMAT`). `sql` must not change the page
/// size (that resets the reservation).
pub fn make_db_with_header(path: &Path, reserve: u8, legacy: bool, sql: &str) {
    let conn = Connection::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    if legacy {
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_LEGACY_FILE_FORMAT, true).unwrap();
    }
    let mut n: std::ffi::c_int = reserve.into();
    // SAFETY: a live handle, a NUL-terminated name and a pointer to an int.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_RESERVE_BYTES,
            (&mut n as *mut std::ffi::c_int).cast(),
        )
    };
    assert_eq!(rc, rusqlite::ffi::SQLITE_OK, "reserve bytes on {}", path.display());
    conn.execute_batch(sql).unwrap_or_else(|e| panic!("setup SQL failed on {}: {e}\n{sql}", path.display()));
}

/// Whether `path` is sound: it opens, `integrity_check` says ok and
/// `foreign_key_check` finds nothing. The error names the file and the
/// problem.
pub fn sound(path: &Path) -> Result<(), String> {
    // A process killed (or a power cut) inside a write transaction leaves
    // a hot journal, which the next read-write open rolls back, as any
    // application's would; a read-only connection cannot, so roll it back
    // first.
    let journal = PathBuf::from(format!("{}-journal", path.display()));
    if std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
        Connection::open(path)
            .and_then(|c| c.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)))
            .map_err(|e| format!("roll back the hot journal of {}: {e}", path.display()))?;
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("open {}: {e}", path.display()))?;
    let ic: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("integrity_check on {}: {e}", path.display()))?;
    if ic != "ok" {
        return Err(format!("integrity_check on {}: {ic}", path.display()));
    }
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").map_err(|e| format!("foreign_key_check: {e}"))?;
    let n = stmt.query_map([], |_| Ok(())).map_err(|e| format!("foreign_key_check: {e}"))?.count();
    if n != 0 {
        return Err(format!("foreign_key_check on {}: {n} violations", path.display()));
    }
    Ok(())
}

/// Assert [`sound`].
pub fn assert_sound(path: &Path) {
    sound(path).unwrap_or_else(|e| panic!("{e}"));
}

/// Run `update` (an `UPDATE sqlite_master …` with `?N` parameters) on
/// `path` with `writable_schema` on, as a foreign application or a hostile
/// file would have written it; returns how many rows it changed.
pub fn rewrite_master(path: &Path, update: &str, params: &[&str]) -> usize {
    let conn = Connection::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    conn.execute_batch("PRAGMA writable_schema = ON;").unwrap();
    let changed = conn
        .execute(update, rusqlite::params_from_iter(params))
        .unwrap_or_else(|e| panic!("{update} on {}: {e}", path.display()));
    conn.execute_batch("PRAGMA writable_schema = OFF;").unwrap();
    changed
}
