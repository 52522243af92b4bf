//! A reset by changed pages, where the file system cannot clone: only the
//! pages that differ from the source written in one SQLite transaction
//! (`sqlite_dbpage`), and the registry half of such a reset.

use super::{settle, Expiry, Plan};
use crate::error::Error;
use crate::home::Home;
use crate::layout;
use crate::registry::{CopyStats, Entry, Parent, Status, Store};
use crate::ttl;
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::{Duration, Instant};

/// What a reset that wrote only the differing pages did.
#[derive(Debug, Clone, Copy)]
pub(super) struct PagesWritten {
    pages: u64,
    page_size: u64,
    page_count: u64,
}

/// Bring the database file `target` to the state of `source` by writing,
/// in one SQLite transaction through `sqlite_dbpage`, only the pages whose
/// bytes differ (found as `db diff` finds them: `diff::pages`), and
/// truncating or extending it to the source's length: what a reset after
/// a few changed rows costs on a file system that cannot clone (ext4).
///
/// Exact: the source is read at one moment (its read transaction is held
/// throughout), and every page that differs is written. Atomic: SQLite's
/// journal makes the transaction all or nothing, so a kill or a power cut
/// leaves the old state (rolled back by the next connection) or the new
/// one; the file keeps its inode, and a connection another process has
/// open sees the new state at its next transaction.
///
/// `Ok(None)` when this is not the way, and the caller builds a copy and
/// renames it over instead: the file system can clone (a clone costs
/// nothing), the two files differ in page size or journal mode, the target
/// is in WAL mode, the source has WAL frames, or more than a fifth of the
/// pages differ.
pub(super) fn write_changed_pages(home: &Home, target: &Path, source: &Path) -> anyhow::Result<Option<PagesWritten>> {
    use std::os::unix::fs::FileExt;
    if crate::copy::fsclone::clone_possible(source, &home.databases_dir()).is_ok()
        || !crate::sqlite_optional::dbpage()
        || crate::env::test_reset_copy()
    {
        return Ok(None);
    }
    if !crate::diff::pages::wal_pages(source).map(|w| w.len() == 0).unwrap_or(false) {
        return Ok(None);
    }
    settle(target);
    if layout::SQLITE_SIDE_SUFFIXES.iter().any(|s| layout::sqlite_side_file(target, s).exists()) {
        return Ok(None);
    }
    // Files opened here stay open until the connections are closed: closing
    // any descriptor of a file drops the POSIX locks SQLite holds on it.
    let src_file = std::fs::File::open(source)?;
    let dst_file = std::fs::File::open(target)?;
    let header = |f: &std::fs::File| -> std::io::Result<[u8; 100]> {
        let mut h = [0u8; 100];
        f.read_exact_at(&mut h, 0)?;
        Ok(h)
    };
    let (hs, ht) = match (header(&src_file), header(&dst_file)) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Ok(None),
    };
    // Page size (16..18), the file-format bytes that say rollback or WAL
    // (18, 19) and the reserved bytes per page (20): the same, and not WAL.
    if hs[16..21] != ht[16..21] || ht[18] != 1 || ht[19] != 1 {
        return Ok(None);
    }
    let mut src = crate::schema::open_source(source)?;
    let read = src.transaction()?;
    let size: i64 = read.query_row("PRAGMA main.page_size", [], |r| r.get(0))?;
    let scount: i64 = read.query_row("PRAGMA main.page_count", [], |r| r.get(0))?;
    let dst = Connection::open_with_flags(target, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    dst.busy_timeout(Duration::from_secs(5))?;
    // EXTRA: the journal's unlink (the commit in DELETE mode) is synced
    // too; with FULL a power cut can bring the journal back, and the next
    // connection would roll an acknowledged reset back.
    dst.pragma_update(None, "synchronous", "EXTRA")?;
    dst.execute_batch("BEGIN IMMEDIATE")?;
    let tcount: i64 = dst.query_row("PRAGMA main.page_count", [], |r| r.get(0))?;
    let tsize: i64 = dst.query_row("PRAGMA main.page_size", [], |r| r.get(0))?;
    let lens = (src_file.metadata()?.len(), dst_file.metadata()?.len());
    if tsize != size || lens.0 < scount as u64 * size as u64 {
        dst.execute_batch("ROLLBACK")?;
        return Ok(None);
    }
    let size_u = size as usize;
    let common = scount.min(tcount).min((lens.1 / size as u64) as i64) as u32;
    let mut changed = crate::diff::pages::PageSet::default();
    crate::diff::pages::differing_pages(&src_file, &dst_file, size_u, common, &mut changed)?;
    let (mut p1s, mut p1t) = (vec![0u8; size_u], vec![0u8; size_u]);
    src_file.read_exact_at(&mut p1s, 0)?;
    if dst_file.read_exact_at(&mut p1t, 0).is_err() || p1s != p1t {
        changed.insert(1);
    }
    for p in common + 1..=scount as u32 {
        changed.insert(p);
    }
    crate::env::trace(&format!("reset by pages: {} of {scount} pages differ (target had {tcount})", changed.len()));
    if changed.len() as i64 * 5 > scount {
        // Much of it differs: a fresh copy costs less than journaling it
        // (each page changed in place is written twice, journal and file;
        // measured on ext4, past about a fifth of the pages a copy wins).
        dst.execute_batch("ROLLBACK")?;
        return Ok(None);
    }
    let write = || -> anyhow::Result<()> {
        let mut stmt = dst.prepare("INSERT INTO main.sqlite_dbpage (pgno, data) VALUES (?1, ?2)")?;
        let mut buf = vec![0u8; size_u];
        for p in changed.iter() {
            src_file.read_exact_at(&mut buf, (p as u64 - 1) * size as u64)?;
            stmt.execute(rusqlite::params![p, buf])?;
        }
        if scount < tcount {
            // Page scount+1 and every one after it go.
            stmt.execute(rusqlite::params![scount + 1, rusqlite::types::Null])?;
        }
        Ok(())
    };
    if let Err(e) = write() {
        let _ = dst.execute_batch("ROLLBACK");
        return Err(e.context(format!("could not write the changed pages into {}", target.display())));
    }
    crate::env::test_pause("pages-reset-written");
    dst.execute_batch("COMMIT").with_context(|| format!("could not commit the reset of {}", target.display()))?;
    dst.close().map_err(|(_, e)| e)?;
    drop(read);
    drop(src);
    drop((src_file, dst_file));
    Ok(Some(PagesWritten { pages: changed.len() as u64, page_size: size as u64, page_count: scount as u64 }))
}

/// The registry half of a reset by pages: the database takes its new
/// lineage, data mode, figures and expiry as the plan says.
pub(super) fn record_page_reset(
    home: &Home,
    target: &Entry,
    parent: &Parent,
    plan: &Plan,
    written: PagesWritten,
    started: Instant,
) -> anyhow::Result<Entry> {
    let now = ttl::now();
    Store::edit(home, |reg| {
        // As every command that writes the registry: what killed processes
        // left (a claim taken just before its entry was written) goes.
        crate::sweep::tidy(home, reg)?;
        let mut b = reg.by_id(&target.id)?.ok_or_else(|| Error::NotFound { address: target.address() })?;
        b.status = Status::Healthy;
        if !plan.keep_lineage {
            b.forked_from = Some(parent.clone());
            b.forked_at = Some(ttl::format_time(now));
        }
        b.include_data = plan.remember_data;
        let objects_created = b.copy.as_ref().map_or(0, |c| c.objects_created);
        b.copy = Some(CopyStats {
            objects_created,
            rows_copied: 0,
            bytes_copied: written.pages * written.page_size,
            duration_ms: started.elapsed().as_millis() as u64,
            exact: true,
            orphans_pruned: 0,
            method: Some(crate::home::CopyMethod::Pages),
            fallback: Some(format!(
                "a reset writes only the pages that differ: {} of {}",
                written.pages, written.page_count
            )),
        });
        if let Expiry::FromNow(ttl) = plan.expiry {
            b.expires_at = ttl.map(|d| ttl::format_time(now + d));
        }
        reg.put(&b)?;
        Ok(b)
    })
}
