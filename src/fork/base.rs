//! A data fork's *base*: its state when it was made, kept for `db merge`
//! and `db rebase` (SPEC section 17), which need the common ancestor of the
//! fork and its parent.
//!
//! Kept whenever it is free, right after the copy and before the fork is
//! healthy (so before anyone can write it):
//! 1. a clone of the fork's file (`FICLONE`: the two share every extent
//!    until one is written, so it costs no space and no time), as
//!    `<id>.base.sqlite`, mode 0400;
//! 2. else, for a fork of a snapshot, that snapshot (nothing to write;
//!    the base goes if the snapshot is deleted);
//! 3. else, with `--mergeable`, a full copy by the kernel
//!    (`copy_file_range`), whose cost the registry records.
//!
//! Masked and subset forks keep none (their rows are not the parent's), nor
//! do the hidden copies snapshots are built as.

use crate::copy::fsclone;
use crate::error::{Error, NoBaseWhy};
use crate::home::Home;
use crate::layout;
use crate::registry::{Base, BaseKind, Entry, Parent};
use crate::ttl;
use anyhow::Context;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Instant;

/// Keep `entry`'s base, if it is free or `mergeable` asks for it.
pub(crate) fn keep(home: &Home, entry: &Entry, parent: &Parent, mergeable: bool) -> anyhow::Result<Option<Base>> {
    let hidden_snapshot = entry.branch.as_deref().is_some_and(|b| b.contains(crate::address::SNAPSHOT_INFIX));
    if !entry.include_data || entry.safe.is_some() || hidden_snapshot {
        return Ok(None);
    }
    let taken_at = entry.forked_at.clone().unwrap_or_else(|| ttl::format_time(ttl::now()));
    let target = layout::base_file(home, &entry.id);
    let snapshot = match parent {
        Parent::Database { snapshot: Some(r), .. } => Some(r.id.clone()),
        _ => None,
    };
    let how = if snapshot.is_some() {
        Keep::CloneOnly
    } else if mergeable {
        Keep::CloneOrCopy
    } else {
        Keep::CloneOnly
    };
    if let Some(mut base) = keep_file(&entry.path, &target, how)? {
        base.taken_at = taken_at;
        return Ok(Some(base));
    }
    Ok(snapshot.map(|id| Base {
        kind: BaseKind::Snapshot,
        snapshot_id: Some(id),
        taken_at,
        bytes_copied: 0,
        duration_ms: 0,
    }))
}

/// Whether a full copy may be made where a clone is impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    CloneOnly,
    CloneOrCopy,
}

/// Clone (or, when allowed, copy) the database file `from` to `to`, read-only
/// (0400) and synced. `None` when a clone is impossible and a copy not
/// allowed. `from` must not be written meanwhile.
pub(crate) fn keep_file(from: &Path, to: &Path, how: Keep) -> anyhow::Result<Option<Base>> {
    let started = Instant::now();
    layout::remove_database_files(to);
    let src =
        std::fs::File::open(from).with_context(|| format!("could not read {} to keep its base", from.display()))?;
    let dst = layout::create_private_file(to).with_context(|| format!("could not create {}", to.display()))?;
    let (kind, bytes) = match fsclone::clone_file(&src, &dst) {
        Ok(()) => (BaseKind::Clone, 0),
        Err(_) if how == Keep::CloneOnly => {
            drop(dst);
            let _ = std::fs::remove_file(to);
            return Ok(None);
        }
        Err(_) => {
            drop(dst);
            let n =
                std::fs::copy(from, to).with_context(|| format!("could not copy {} to keep its base", from.display()));
            match n {
                Ok(n) => (BaseKind::Copy, n),
                Err(e) => {
                    let _ = std::fs::remove_file(to);
                    return Err(e);
                }
            }
        }
    };
    let finish = || -> std::io::Result<()> {
        let f = std::fs::File::open(to)?;
        f.sync_all()?;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o400))?;
        if let Some(dir) = to.parent() {
            layout::sync_dir(dir)?;
        }
        Ok(())
    };
    if let Err(e) = finish() {
        let _ = std::fs::remove_file(to);
        return Err(anyhow::Error::new(e).context(format!("could not keep the base {}", to.display())));
    }
    Ok(Some(Base {
        kind,
        snapshot_id: None,
        taken_at: String::new(),
        bytes_copied: bytes,
        duration_ms: started.elapsed().as_millis() as u64,
    }))
}

/// The fork's base file and how it is kept.
pub(crate) fn base_of(
    home: &Home,
    reg: &crate::registry::Registry,
    entry: &Entry,
) -> Result<(std::path::PathBuf, BaseKind), crate::error::Error> {
    let addr = entry.address();
    let none = || Error::NoBase { address: addr.clone(), why: NoBaseWhy::NotKept };
    let base = entry.base.as_ref().ok_or_else(none)?;
    match base.kind {
        BaseKind::Snapshot => {
            let id = base.snapshot_id.as_deref().unwrap_or_default();
            let s = reg
                .snapshot_by_id(id)
                .ok_or_else(|| Error::NoBase { address: addr.clone(), why: NoBaseWhy::SnapshotDeleted })?;
            Ok((s.path.clone(), base.kind))
        }
        _ => {
            let p = layout::base_file(home, &entry.id);
            if !p.exists() {
                return Err(Error::NoBase { address: addr, why: NoBaseWhy::Missing { path: p } });
            }
            Ok((p, base.kind))
        }
    }
}
