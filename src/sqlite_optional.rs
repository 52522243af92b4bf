//! SQLite features sqlfork uses when the linked SQLite has them, found at
//! run time so that sqlfork links and works with any build of the bundled
//! SQLite.
//!
//! sqlfork's own builds compile SQLite with `SQLITE_ENABLE_SNAPSHOT` and
//! `SQLITE_ENABLE_DBPAGE_VTAB` (`.cargo/config.toml`), but a crate that
//! depends on sqlfork never reads that file: its SQLite has neither. So:
//! - the snapshot API is reached through a C shim that binds it weakly
//!   (`csrc/sqlite_optional.c`); without it a WAL source is not pinned at
//!   one snapshot for a row copy, and the copy says it is best-effort;
//! - without the `sqlite_dbpage` table the page copy is not offered and
//!   data forks copy rows.

use rusqlite::ffi::{sqlite3, sqlite3_snapshot};
use std::ffi::{c_char, c_int};
use std::sync::OnceLock;

extern "C" {
    fn sqlfork_snapshot_api() -> c_int;
    fn sqlfork_snapshot_get(db: *mut sqlite3, schema: *const c_char, out: *mut *mut sqlite3_snapshot) -> c_int;
    fn sqlfork_snapshot_open(db: *mut sqlite3, schema: *const c_char, snap: *mut sqlite3_snapshot) -> c_int;
    fn sqlfork_snapshot_free(snap: *mut sqlite3_snapshot);
}

/// True when the linked SQLite has `sqlite3_snapshot_get/open/free`.
pub(crate) fn snapshot_api() -> bool {
    // SAFETY: reads three function addresses.
    unsafe { sqlfork_snapshot_api() != 0 }
}

/// `sqlite3_snapshot_get`; SQLITE_ERROR when the API is missing.
///
/// # Safety
/// `db` is a live connection handle and `schema` a NUL-terminated name.
pub(crate) unsafe fn snapshot_get(db: *mut sqlite3, schema: *const c_char, out: *mut *mut sqlite3_snapshot) -> c_int {
    sqlfork_snapshot_get(db, schema, out)
}

/// `sqlite3_snapshot_open`; SQLITE_ERROR when the API is missing.
///
/// # Safety
/// `db` is a live connection handle, `schema` a NUL-terminated name and
/// `snap` a snapshot.
pub(crate) unsafe fn snapshot_open(db: *mut sqlite3, schema: *const c_char, snap: *mut sqlite3_snapshot) -> c_int {
    sqlfork_snapshot_open(db, schema, snap)
}

/// `sqlite3_snapshot_free`.
///
/// # Safety
/// `snap` came from [`snapshot_get`] and is freed once.
pub(crate) unsafe fn snapshot_free(snap: *mut sqlite3_snapshot) {
    sqlfork_snapshot_free(snap)
}

/// True when the linked SQLite has the `sqlite_dbpage` virtual table.
pub(crate) fn dbpage() -> bool {
    static DBPAGE: OnceLock<bool> = OnceLock::new();
    *DBPAGE.get_or_init(|| {
        rusqlite::Connection::open_in_memory()
            .and_then(|c| c.prepare("SELECT pgno FROM sqlite_dbpage LIMIT 0").map(|_| ()))
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    /// sqlfork's own builds have both (`.cargo/config.toml`); the
    /// external-crate test checks the build that has neither.
    #[test]
    fn this_build_has_the_optional_features() {
        assert!(super::snapshot_api());
        assert!(super::dbpage());
    }
}
