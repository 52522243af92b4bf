//! The files under `databases/`: every name sqlfork gives a file, in one
//! place.
//!
//! A database sqlfork owns is `databases/<id>.sqlite` (SQLite keeps its
//! `-journal`, `-wal` and `-shm` beside it). Side files carry the same id:
//! - `claims/<id>.lock` (beside `databases/`, in home): the build claim
//!   (see `claim`); homes of earlier versions kept it in `databases/`;
//! - `<id>.copy.json` (and `<id>.copy.json.tmp` while it is replaced): the copy
//!   state of a data fork in progress (see `fork::state`);
//! - `<id>.failed`: why a background copy failed, for `db wait`;
//! - `<id>.base.sqlite`: a data fork's base, its state when it was made
//!   (mode 0400, for `db merge`; see `merge::base`);
//! - `pools/<id>.lease` (beside `databases/`, in home): a pool slot's lease
//!   (who holds it, whether it is dirty; see `pool`), and
//!   `pools/<base id>.lock`, the lock its pool's leases are taken under.
//!
//! Ids are 32 hex digits (`registry::new_id`); a file whose name does not
//! start with one is never sqlfork's and is never touched.

use crate::error::Error;
use crate::home::Home;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The files SQLite keeps beside a database file.
pub(crate) const SQLITE_SIDE_SUFFIXES: [&str; 3] = ["-journal", "-wal", "-shm"];

/// The file of the database with this id.
pub(crate) fn database_file(home: &Home, id: &str) -> PathBuf {
    home.databases_dir().join(format!("{id}.sqlite"))
}

/// The build claim's lock file.
pub(crate) fn claim_file(home: &Home, id: &str) -> PathBuf {
    home.claims_dir().join(format!("{id}.lock"))
}

/// Where pool leases live (see `pool`).
pub(crate) fn pools_dir(home: &Home) -> PathBuf {
    home.root().join("pools")
}

/// The lease file of the pool slot with this id.
pub(crate) fn lease_file(home: &Home, slot_id: &str) -> PathBuf {
    pools_dir(home).join(format!("{slot_id}.lease"))
}

/// The lock a pool's leases are read and written under (by its base's id).
pub(crate) fn pool_lock_file(home: &Home, base_id: &str) -> PathBuf {
    pools_dir(home).join(format!("{base_id}.lock"))
}

/// Every file under `databases/` that can belong to `id` (its database
/// file with SQLite's side files, its copy state), but not its failure
/// note (kept a day for `db wait`) nor its claim: what the orphan sweep
/// removes for an id nobody owns. A new side file is named here too.
pub(crate) fn id_files(home: &Home, id: &str) -> Vec<PathBuf> {
    let db = database_file(home, id);
    let mut out: Vec<PathBuf> = SQLITE_SIDE_SUFFIXES.iter().map(|s| sqlite_side_file(&db, s)).collect();
    out.push(db);
    out.push(copy_state_file(home, id));
    out.push(copy_state_temp(home, id));
    out
}

/// A data fork's base: its state when it was made, read-only.
pub(crate) fn base_file(home: &Home, id: &str) -> PathBuf {
    home.databases_dir().join(format!("{id}.base.sqlite"))
}

/// Remove a fork's base file (best effort; none is fine).
pub(crate) fn remove_base_file(home: &Home, id: &str) {
    remove_database_files(&base_file(home, id));
}

/// A data fork's copy state.
pub(crate) fn copy_state_file(home: &Home, id: &str) -> PathBuf {
    home.databases_dir().join(format!("{id}.copy.json"))
}

/// The temporary file a copy state is written to before it is renamed.
pub(crate) fn copy_state_temp(home: &Home, id: &str) -> PathBuf {
    copy_state_file(home, id).with_extension("json.tmp")
}

/// Where a background copy (`db fork --detach`) that failed leaves its
/// one-line reason, for `db wait` to report (and remove).
pub(crate) fn failure_note(home: &Home, id: &str) -> PathBuf {
    home.databases_dir().join(format!("{id}.failed"))
}

/// The extension of a failure note, as [`side_file_id`] returns it.
pub(crate) const FAILURE_NOTE_EXTENSION: &str = "failed";

/// `path` with SQLite's `suffix` (`-wal`, …) appended.
pub(crate) fn sqlite_side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    p.into()
}

/// Remove the `-journal`, `-wal` and `-shm` files beside a database file
/// (best effort).
pub(crate) fn remove_sqlite_side_files(path: &Path) {
    for suffix in SQLITE_SIDE_SUFFIXES {
        let _ = std::fs::remove_file(sqlite_side_file(path, suffix));
    }
}

/// Remove a database file and the files SQLite keeps beside it.
pub(crate) fn remove_database_files(path: &Path) {
    let _ = std::fs::remove_file(path);
    remove_sqlite_side_files(path);
}

/// Remove a data fork's copy state (and the temporary one a kill may leave).
pub(crate) fn remove_copy_state(home: &Home, id: &str) {
    let _ = std::fs::remove_file(copy_state_temp(home, id));
    let _ = std::fs::remove_file(copy_state_file(home, id));
}

/// True for a name sqlfork gives a database (`registry::new_id`).
pub(crate) fn is_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The id a file under `databases/` belongs to, and the rest of its name
/// after the first `.` (`sqlite`, `lock`, `copy.json`, `failed`, …); `None`
/// for a file sqlfork did not name.
pub(crate) fn side_file_id(name: &str) -> Option<(&str, &str)> {
    name.split_once('.').filter(|(id, _)| is_id(id))
}

/// A file's size, when it exists.
pub(crate) fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Create a new, empty file with mode 0600; it must not exist yet.
pub(crate) fn create_new_file(path: &Path) -> anyhow::Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::failed(format!("could not create {}: {e}", path.display())))?;
    Ok(())
}

/// Make the names in `dir` durable (a new file, a rename, a removal):
/// fsync the directory itself. A file's own fsync does not promise that its
/// name survives a power cut on every file system.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Open (creating or truncating) a private file (mode 0600) for writing.
pub(crate) fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_files_are_named_by_id() {
        let home = Home::at("/h");
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(database_file(&home, id), Path::new("/h/databases/0123456789abcdef0123456789abcdef.sqlite"));
        assert_eq!(side_file_id(&format!("{id}.lock")), Some((id, "lock")));
        assert_eq!(side_file_id(&format!("{id}.copy.json")), Some((id, "copy.json")));
        assert_eq!(
            copy_state_temp(&home, id).file_name().unwrap().to_string_lossy(),
            format!("{id}.copy.json.tmp"),
            "the temporary copy state keeps the id"
        );
        assert_eq!(side_file_id("notes.txt"), None);
        assert_eq!(sqlite_side_file(Path::new("/a/b.sqlite"), "-wal"), Path::new("/a/b.sqlite-wal"));
    }
}
