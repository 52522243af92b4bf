//! Turning `db diff`'s A and B into files, the way `db fork` resolves a
//! source: `NS/SLUG`, `NS/SLUG@REF`, `NS/SLUG:NAME` (a snapshot) or a path.
//! B defaults to A's parent, or, when A is a snapshot, to its database as it
//! is now (what changed since the snapshot, read backwards).

use crate::address::{looks_like_path, Address, Source};
use crate::error::{Error, NoParentFor};
use crate::fork::resolve_source;
use crate::home::{Config, Home};
use crate::registry::{Parent, Registry};
use std::path::{Path, PathBuf};

/// One side of a diff: the file and how to name it in output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Side {
    pub(crate) label: String,
    pub(crate) path: PathBuf,
}

/// Resolve A, and B (or A's parent when B is `None`).
pub(crate) fn resolve_sides(home: &Home, config: &Config, a: &str, b: Option<&str>) -> anyhow::Result<(Side, Side)> {
    let side_a = resolve_one(home, config, a)?;
    let side_b = match b {
        Some(b) => resolve_one(home, config, b)?,
        // A snapshot is compared with its database as it is now.
        None => match split_snapshot(a) {
            Some((database, _)) => resolve_one(home, config, database)?,
            None => parent_of(home, a)?,
        },
    };
    Ok((side_a, side_b))
}

fn resolve_one(home: &Home, config: &Config, text: &str) -> anyhow::Result<Side> {
    // As `db fork` resolves a source (a snapshot is its read-only file),
    // with the errors that name forking said for comparing.
    let source = Source::parse(text)?;
    if let Source::Path(p) = &source {
        check_side(p)?;
    }
    let resolved = resolve_source(home, config, &source).map_err(for_diff)?;
    let label = match (&source, &resolved.address) {
        (Source::Snapshot(s), _) => s.to_string(),
        (_, Some(a)) => a.to_string(),
        (_, None) => resolved.path.display().to_string(),
    };
    Ok(Side { label, path: resolved.path })
}

/// `NS/SLUG:NAME` or `NS/SLUG@REF:NAME` → (`NS/SLUG[@REF]`, `NAME`). Paths
/// are never snapshots.
fn split_snapshot(text: &str) -> Option<(&str, &str)> {
    if looks_like_path(text) {
        return None;
    }
    text.rsplit_once(':')
}

/// A's parent: the snapshot it was forked from, the database it was forked
/// from (by id, so a renamed or re-pointed address does not matter), or the
/// file it was forked from.
fn parent_of(home: &Home, a: &str) -> anyhow::Result<Side> {
    let no_parent = || Error::NoParent { address: a.to_string(), why: NoParentFor::Diff };
    if looks_like_path(a) {
        return Err(no_parent().into());
    }
    let addr = Address::parse(a)?;
    let reg = Registry::load(home)?;
    let entry = reg.require(&addr)?;
    match &entry.forked_from {
        None => Err(no_parent().into()),
        Some(Parent::Path(p)) => {
            check_side(p)?;
            Ok(Side { label: p.display().to_string(), path: p.clone() })
        }
        Some(Parent::Database { snapshot: Some(r), .. }) => {
            let s = reg.snapshot_by_id(&r.id).ok_or_else(|| Error::NoParent {
                address: a.to_string(),
                why: NoParentFor::DiffSnapshotDeleted { database: addr.to_string(), snapshot: r.name.clone() },
            })?;
            Ok(Side { label: s.address().to_string(), path: s.path.clone() })
        }
        Some(Parent::Database { id, namespace, slug, branch, .. }) => {
            let label = Address { namespace: namespace.clone(), slug: slug.clone(), branch: branch.clone() };
            let parent = reg.by_id(id).ok_or_else(|| Error::Hinted {
                error: Box::new(Error::NotFound { address: label.clone() }),
                hint: format!(" (the parent of {addr} was deleted; name the other side: sqlfork db diff {a} B)"),
            })?;
            if !parent.path.exists() {
                return Err(Error::FileMissing { address: parent.address(), path: parent.path.clone() }.into());
            }
            Ok(Side { label: parent.address().to_string(), path: parent.path.clone() })
        }
    }
}

/// When B is the live database A was forked from and it was written to
/// after the fork (its file or WAL changed after A's file was made), the
/// diff mixes B's own writes in with A's: say so.
pub(crate) fn parent_written_since_fork(home: &Home, a: &str, b: &Side) -> Option<String> {
    if looks_like_path(a) || split_snapshot(a).is_some() {
        return None;
    }
    let reg = Registry::load(home).ok()?;
    let entry = reg.get(&Address::parse(a).ok()?)?;
    let parent_path = match entry.forked_from.as_ref()? {
        Parent::Path(p) => p.clone(),
        Parent::Database { snapshot: None, id, .. } => reg.by_id(id)?.path.clone(),
        // A snapshot is read-only: it cannot have changed.
        Parent::Database { snapshot: Some(_), .. } => return None,
    };
    if std::fs::canonicalize(&parent_path).ok()? != std::fs::canonicalize(&b.path).ok()? {
        return None;
    }
    let forked = std::fs::metadata(&entry.path).and_then(|m| m.created()).ok()?;
    let mut wal = b.path.clone().into_os_string();
    wal.push("-wal");
    let written = [b.path.clone(), PathBuf::from(wal)]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        // A reader may create an empty `-wal`; only a writer fills it.
        .filter(|m| m.len() > 0)
        .filter_map(|m| m.modified().ok())
        .max()?;
    (written > forked).then(|| {
        format!(
            "{b} was written to after {a} was forked from it, so its own changes since then show here too, as if {a} had undone them; \
             a comparison with {b} as it was at the fork is coming",
            b = b.label
        )
    })
}

/// The fork resolver's typed errors, said for a comparison (matched by
/// variant; any other error passes through).
fn for_diff(err: anyhow::Error) -> anyhow::Error {
    match err.downcast_ref::<Error>() {
        Some(Error::SourceProvisioning { address }) => {
            Error::StillProvisioning { address: address.clone(), action: "compare" }.into()
        }
        Some(Error::SourceFileMissing { path }) => Error::NoSuchFile { path: path.clone() }.into(),
        _ => err,
    }
}

/// A side named by path must be a SQLite file: as `db fork` checks its
/// source, said for a comparison.
pub(crate) fn check_side(path: &Path) -> Result<(), Error> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NoSuchFile { path: path.to_path_buf() }
        } else {
            Error::failed(format!("could not read {} to compare it: {e}", path.display()))
        }
    })?;
    if meta.is_dir() {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
            why: "is a directory, not a SQLite database file; name a database file to compare".into(),
        });
    }
    let mut header = Vec::with_capacity(16);
    std::fs::File::open(path)
        .and_then(|f| f.take(16).read_to_end(&mut header))
        .map_err(|e| Error::failed(format!("could not read {} to compare it: {e}", path.display())))?;
    // An empty file is an empty database, as the sqlite3 shell sees it.
    if !header.is_empty() && header != b"SQLite format 3\0" {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
            why: crate::schema::not_sqlite(&header, meta.len(), "compared"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_syntax_is_recognised_only_on_addresses() {
        assert_eq!(split_snapshot("acme/orders:before-0042"), Some(("acme/orders", "before-0042")));
        assert_eq!(split_snapshot("acme/orders@pr-1:s1"), Some(("acme/orders@pr-1", "s1")));
        assert_eq!(split_snapshot("acme/orders"), None);
        assert_eq!(split_snapshot("./odd:name.db"), None);
    }
}
