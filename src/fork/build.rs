//! Steps 4 and 5 of a fork: building the file with the chosen copy method,
//! then flipping the entry to healthy — or discarding it.

use super::source::{ResolvedSource, SourceSession};
use super::state::CopyState;
use super::{method, schema_only};
use crate::claim::Claim;
use crate::copy::Progress;
use crate::error::Error;
use crate::home::Home;
use crate::layout;
use crate::registry::{CopyStats, Entry, Status, Store};
use crate::schema::{self, SourceSchema};
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Instant;

/// One fork being built.
pub(crate) struct Job<'a> {
    pub home: &'a Home,
    pub entry: &'a Entry,
    pub src: &'a ResolvedSource,
    /// Rows per committed page of a row copy.
    pub page_rows: u64,
    /// The resolved rules of a masked or subset fork.
    pub safe: Option<&'a crate::mask::Resolved>,
    /// Keep a base even where that means a full copy (`--mergeable`).
    pub mergeable: bool,
}

/// Where the build runs.
pub(crate) enum Build<'a> {
    /// In this process, reporting progress here.
    Here(&'a mut dyn Progress),
    /// Schema here, data in a background process that takes the claim over.
    Detach(&'a mut Option<Claim>),
}

impl Job<'_> {
    pub(crate) fn run(&self, session: SourceSession, state: CopyState, build: Build) -> anyhow::Result<Entry> {
        match build {
            Build::Here(progress) => self.build(session, state, progress),
            Build::Detach(claim) => self.detach(session, state, claim),
        }
    }

    /// A masked or subset fork (`mask::build`): built from the rows into a
    /// fresh file. The rows kept per table go into the entry's record.
    fn build_safe(
        &self,
        mut session: SourceSession,
        state: CopyState,
        resolved: &crate::mask::Resolved,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<CopyStats> {
        let target = crate::mask::build::Target {
            path: &self.entry.path,
            src: &self.src.path,
            change_counter: state.change_counter,
            page_rows: self.page_rows,
        };
        let built = crate::mask::build::build(target, &session.schema, &mut session.reader, resolved, progress)?;
        if !built.rows_kept.is_empty() {
            let rows = built.rows_kept.clone();
            Store::edit(self.home, |reg| {
                if let Some(mut e) = reg.by_id(&self.entry.id)? {
                    if let Some(s) = e.safe.as_mut() {
                        s.rows_kept = rows;
                        reg.put(&e)?;
                    }
                }
                Ok(())
            })?;
        }
        // Built from the rows, whatever the configured method: say so.
        Ok(CopyStats {
            objects_created: count_objects(&session.schema),
            method: Some(crate::home::CopyMethod::Rows),
            fallback: Some("a masked or subset fork is built from the rows".into()),
            ..built.stats
        })
    }

    /// Build the whole fork here, then flip it to healthy.
    fn build(&self, session: SourceSession, state: CopyState, progress: &mut dyn Progress) -> anyhow::Result<Entry> {
        let started = Instant::now();
        // A resumed copy's time counts its earlier runs too.
        let earlier_ms = state.elapsed_ms;
        let state_method = state.method;
        crate::env::trace(&format!("building {} (id {})", self.entry.address(), self.entry.id));
        let stats = if let Some(resolved) = self.safe {
            self.build_safe(session, state, resolved, progress)
        } else if self.entry.include_data {
            super::chain::run(self, session, state, progress)
        } else {
            schema_only::build(&self.entry.path, session)
        }
        .map_err(|e| {
            let what = format!("a copy of {}", self.src.label());
            let needed = method(state_method).space_needed(&self.src.path, &self.home.databases_dir());
            let e =
                crate::space::explain(e, &self.home.databases_dir(), &what, needed.filter(|_| self.entry.include_data));
            if Error::any_in(&e, |e| matches!(e, Error::NoSpace { .. })) {
                // The sentence names what and where already.
                return e;
            }
            explain_write_failure(e.context(format!(
                "could not fork {} into {}",
                self.src.label(),
                self.entry.address()
            )))
        })?;
        let stats = CopyStats { duration_ms: earlier_ms + started.elapsed().as_millis() as u64, ..stats };
        let base = super::base::keep(self.home, self.entry, &self.src.parent, self.mergeable)?;
        let entry = finish(self.home, &self.entry.id, stats, base)?;
        crate::env::test_pause("healthy");
        layout::remove_copy_state(self.home, &self.entry.id);
        Ok(entry)
    }
}

/// Flip an entry to healthy with its copy figures.
fn finish(home: &Home, id: &str, stats: CopyStats, base: Option<crate::registry::Base>) -> anyhow::Result<Entry> {
    // The file's data is synced by whoever wrote it (SQLite's commit, the
    // page copy's last sync); its name in `databases/` must be durable too
    // before the entry says healthy.
    layout::sync_dir(&home.databases_dir()).context("could not sync the databases folder")?;
    Store::edit(home, |reg| {
        let mut e = reg
            .by_id(id)?
            .ok_or_else(|| Error::failed("the fork's registry entry disappeared while it was being built"))?;
        e.status = Status::Healthy;
        e.copy = Some(stats);
        e.base = base;
        reg.put(&e)?;
        Ok(e)
    })
}

/// Remove a failed fork: its files and its entry. With `note`, leave a note
/// for `db wait` saying why (a background copy, whose errors nobody else
/// sees); a failure in the foreground prints its error and leaves nothing.
///
/// The note is written before the entry goes (`db wait` reads it as soon as
/// it sees the entry gone), and the claim goes last, when the caller
/// releases it (while the entry is there, nobody else may take the fork
/// up).
pub(crate) fn discard(home: &Home, entry: &Entry, why: &anyhow::Error, note: bool) {
    if note {
        let _ = layout::create_private_file(&layout::failure_note(home, &entry.id))
            .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{why:#}").as_bytes()));
    }
    entry.remove_files(home);
    let _ = Store::edit(home, |reg| reg.remove_id(&entry.id));
}

/// A fork that could not be written for a file size limit (or what may be
/// a full disk) says so and what to do, after the error itself, on one
/// line. (A full disk is [`Error::NoSpace`] already: `space::explain`.)
fn explain_write_failure(e: anyhow::Error) -> anyhow::Error {
    if Error::any_in(&e, |e| matches!(e, Error::NoSpace { .. })) {
        return e;
    }
    let mut certain = false;
    let mut likely = false;
    for cause in e.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            certain |= matches!(io.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EFBIG) | Some(libc::EDQUOT));
        }
        if let Some(rusqlite::Error::SqliteFailure(f, _)) = cause.downcast_ref::<rusqlite::Error>() {
            certain |= f.code == rusqlite::ErrorCode::DiskFull;
            likely |= f.extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE;
        }
    }
    let hint = if certain {
        "the disk is full or a file size limit was reached; the partial fork was removed: free some space and fork again"
    } else if likely {
        "the partial fork was removed: check that the disk has free space and that no file size limit applies, then fork again"
    } else {
        return e;
    };
    Error::failed(format!("{e:#} ({hint})")).into()
}

/// Schema objects the source's SQL creates (not the shadow tables its
/// virtual tables make for themselves, not SQLite's internal tables). The
/// shadow tables are found by creating each virtual table alone in memory:
/// a real table named like one (`ft_content` as an FTS5 external content
/// table) is not one.
pub(crate) fn count_objects(schema: &SourceSchema) -> u64 {
    let mut shadows = std::collections::HashSet::new();
    if let Ok(mem) = Connection::open_in_memory() {
        let names = |c: &Connection| -> std::collections::HashSet<String> {
            c.prepare("SELECT lower(name) FROM sqlite_master")
                .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(0))?.collect())
                .unwrap_or_default()
        };
        for vt in schema.objects.iter().filter(|o| o.is_virtual()) {
            let before = names(&mem);
            let made = mem.execute_batch(&vt.sql).is_ok()
                || schema::standin::with_builtin_tokenizer(&vt.sql, &vt.name)
                    .is_some_and(|fresh| mem.execute_batch(&fresh).is_ok());
            if made {
                shadows.extend(names(&mem).difference(&before).filter(|n| **n != vt.name.to_lowercase()).cloned());
            }
        }
    }
    schema
        .objects
        .iter()
        .filter(|o| {
            let shadow = o.kind == schema::Kind::Table && shadows.contains(&o.name.to_lowercase());
            !o.is_internal() && !shadow
        })
        .count() as u64
}

/// Rows in the fork's tables (not virtual tables, whose rows live in their
/// shadow tables, which are counted).
pub(crate) fn count_fork_rows(path: &Path, schema: &SourceSchema) -> anyhow::Result<u64> {
    // Read-write although it only reads: a page-copied fork of a WAL source
    // is in WAL mode, and a read-only connection would leave the -wal and
    // -shm files it creates beside it.
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    // count(*) may walk an index whose collation only the source's
    // application has; counting needs no order, so a stand-in serves.
    schema::standin::allow_unknown_collations(&conn)?;
    let mut total = 0u64;
    for obj in schema.objects.iter().filter(|o| o.kind == schema::Kind::Table && !o.is_virtual() && !o.is_internal()) {
        let n: i64 =
            conn.query_row(&format!("SELECT count(*) FROM main.{}", schema::quote_ident(&obj.name)), [], |r| r.get(0))?;
        total += n as u64;
    }
    Ok(total)
}
