//! The row copy (`copy_method = "rows"`, and where a file or page copy's
//! rollback-journal source changed: see `chain.rs`): the schema replayed, rows copied
//! in keyset-paged transactions (see `copy::Copier`), then the rest of the
//! schema built over them.
//!
//! - Phase A: a fresh file with the source's settings and tables, in one
//!   transaction.
//! - Phase B: rows, one committed page at a time, read at the fork's
//!   snapshot; the fork's own rows are the checkpoint a resume continues
//!   after. Then `sqlite_sequence` and the statistics tables.
//! - Phase C: indexes, foreign-key orphan pruning (when the fork is not
//!   exact), views and triggers, in one transaction with no source reads
//!   (triggers come last, so none fires during the copy); then the final
//!   journal mode.

use super::build::{count_fork_rows, count_objects, Job};
use super::resume::Observed;
use super::source::{Plan, SourceSession};
use super::state::{CopyState, StateFile, Tracked};
use super::{Copied, DataCopy};
use crate::copy::{self, create_tables, finish_journal_mode, Copier, Progress};
use crate::env::trace;
use crate::layout;
use crate::registry::CopyStats;
use crate::schema::{self, open_fork, Replayer, SourceSchema};
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Instant;

pub(crate) struct Rows;

impl DataCopy for Rows {
    fn plan(&self) -> Plan {
        Plan::Replay
    }

    fn pins(&self) -> bool {
        true
    }

    fn space_needed(&self, _src: &Path, _dest_dir: &Path) -> Option<u64> {
        // The file is rebuilt: its size is known only at the end.
        None
    }

    fn how_far(&self, state: &CopyState) -> Option<(u64, u64)> {
        Some((state.rows_done, state.rows_total))
    }

    fn resume(&self, state: &mut CopyState, same: bool, now: &Observed) {
        // The rows already copied stay. A WAL source that moved on (its
        // snapshot checkpointed away, or commits since an empty-WAL start)
        // gives the rest from a newer moment: the fork is no longer exact.
        // A rollback-journal source is judged at the end of the copy.
        if now.wal && !same {
            state.exact = false;
        }
    }

    fn before_detach(&self, job: &Job, session: &SourceSession) -> anyhow::Result<()> {
        // The tables go in first, so the fork has its schema at once.
        if !tables_in_place(&job.entry.path)? {
            layout::remove_database_files(&job.entry.path);
            create_tables(&job.entry.path, &session.schema)?;
        }
        Ok(())
    }

    fn copy(
        &self,
        job: &Job,
        session: SourceSession,
        state: CopyState,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<Copied> {
        copy_rows(job, session, state, progress).map(Copied::Done)
    }
}

/// Phases A, B and C (see the module docs).
fn copy_rows(
    job: &Job,
    mut session: SourceSession,
    mut state: CopyState,
    progress: &mut dyn Progress,
) -> anyhow::Result<CopyStats> {
    let path = &job.entry.path;
    let schema = &session.schema;
    let t0 = Instant::now();
    // Phase A: the tables, in one transaction (done already when resuming).
    if !tables_in_place(path)? {
        layout::remove_database_files(path);
        create_tables(path, schema)?;
    } else {
        // Interrupted between phase A's commit and its last step.
        Replayer::raise_schema_format(path, &schema.settings)?;
    }
    if objects_in_place(path, schema)? {
        // Phase C committed before an interruption: the journal mode and
        // the flip are left.
        session.reader.release();
        let conn = open_fork(path)?;
        finish_journal_mode(&conn, &schema.settings)?;
        conn.close().map_err(|(_, e)| e).context("could not close the fork")?;
        return Ok(CopyStats {
            objects_created: count_objects(&session.schema),
            rows_copied: count_fork_rows(path, schema)?,
            bytes_copied: layout::file_size(path).unwrap_or(0),
            exact: state.exact,
            method: Some(crate::home::CopyMethod::Rows),
            fallback: state.fallback.clone(),
            ..CopyStats::default()
        });
    }

    trace(&format!("phase A done at {:?}", t0.elapsed()));
    // Phase B: rows, page by page.
    let conn = copy::open_copy_connection(path, &job.src.path, session.reader.pinned_without_snapshot())?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
    let plans = copy::plan(&conn, schema)?;
    let copier = Copier::new(&conn, &session.reader, job.page_rows);
    let (total, already) = count_rows(&conn, &copier, &plans)?;
    state.rows_total = total;
    state.rows_done = already;
    // Rows stand for the source's bytes on average, for progress in MiB.
    state.bytes_total = layout::file_size(&job.src.path).unwrap_or(0);
    let unit_bytes = if total > 0 { state.bytes_total as f64 / total as f64 } else { 0.0 };
    let state_file = StateFile::new(job.home, &job.entry.id, state);
    let mut tracker = Tracked { inner: &mut *progress, state: &state_file };
    tracker.unit_bytes(unit_bytes);
    tracker.start(total, already);
    let mut copied = 0;
    for plan in &plans {
        tracker.table(&plan.name);
        copied += copier.copy_table(plan, &mut tracker)?;
    }
    trace(&format!("rows copied at {:?}", t0.elapsed()));
    carry_internal_tables(&copier, schema)?;
    let mut state = state_file.finish();
    progress.finish();
    session.reader.release();
    if !session.schema.settings.journal_mode.is_wal() {
        // Rollback-journal source: exact only if no commit happened
        // between the schema read and the last row read.
        let now = copy::change_counter(&job.src.path);
        if now.is_none() || now != state.change_counter {
            state.exact = false;
        }
    }
    conn.execute_batch("DETACH DATABASE src")?;

    // Phase C: indexes, orphan pruning, views, triggers — one transaction,
    // no source reads.
    let mut r = Replayer::adopt(&conn, schema)?;
    let pruned = copy::in_transaction(&conn, || {
        r.create_indexes(&conn)?;
        let pruned = if state.exact { 0 } else { copy::prune_orphans(&conn)? };
        r.create_views(&conn)?;
        r.create_triggers(&conn)?;
        r.verify(&conn)?;
        Ok(pruned)
    })?;
    trace(&format!("indexes, views, triggers committed at {:?}", t0.elapsed()));
    finish_journal_mode(&conn, &schema.settings)?;
    trace(&format!("journal mode set at {:?}", t0.elapsed()));
    conn.close().map_err(|(_, e)| e).context("could not close the fork")?;
    Ok(CopyStats {
        objects_created: count_objects(&session.schema),
        rows_copied: state.rows_done.max(copied),
        bytes_copied: layout::file_size(path).unwrap_or(0),
        exact: state.exact,
        orphans_pruned: pruned,
        method: Some(crate::home::CopyMethod::Rows),
        fallback: state.fallback.clone(),
        ..CopyStats::default()
    })
}
/// Row totals for the progress bar: (rows in the source, rows already in
/// the fork). Each count is its own short read (at the snapshot, if any).
fn count_rows(conn: &Connection, copier: &Copier, plans: &[copy::TablePlan]) -> anyhow::Result<(u64, u64)> {
    let (mut total, mut done) = (0u64, 0u64);
    for plan in plans {
        copier.begin()?;
        let n: rusqlite::Result<i64> =
            conn.query_row(&format!("SELECT count(*) FROM src.{}", schema::quote_ident(&plan.name)), [], |r| r.get(0));
        copier.commit()?;
        total += n? as u64;
        done += copier.rows_in_fork(plan)?;
    }
    Ok((total, done))
}

/// `sqlite_sequence` (AUTOINCREMENT counters) and `sqlite_stat1`/`stat4`
/// carry the source's rows, read in one short transaction at the snapshot.
fn carry_internal_tables(copier: &Copier, schema: &SourceSchema) -> anyhow::Result<()> {
    copier.begin()?;
    let conn = copier.connection();
    let run = || -> anyhow::Result<()> {
        if schema.has_table("sqlite_sequence") {
            conn.execute_batch(
                "DELETE FROM main.sqlite_sequence; INSERT INTO main.sqlite_sequence(name, seq) SELECT name, seq FROM src.sqlite_sequence;",
            )?;
        }
        let mut r = Replayer::new(schema);
        r.create_stat_tables(conn)?;
        for stat in ["sqlite_stat1", "sqlite_stat4"] {
            if schema.has_table(stat) {
                conn.execute_batch(&format!("INSERT INTO main.{stat} SELECT * FROM src.{stat};"))?;
            }
        }
        Ok(())
    };
    match run() {
        Ok(()) => copier.commit(),
        Err(e) => {
            copier.rollback();
            Err(e.context("could not copy sqlite_sequence and the statistics tables"))
        }
    }
}

/// True when phase A committed: the fork file has its tables.
fn tables_in_place(path: &Path) -> anyhow::Result<bool> {
    if layout::file_size(path).unwrap_or(0) == 0 {
        return Ok(false);
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    let n: i64 = conn.query_row("SELECT count(*) FROM main.sqlite_master", [], |r| r.get(0)).unwrap_or(0);
    Ok(n > 0)
}

/// True when phase C committed: every source index, view and trigger is in
/// the fork.
fn objects_in_place(path: &Path, schema: &SourceSchema) -> anyhow::Result<bool> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    let late: Vec<&str> =
        schema.objects.iter().filter(|o| o.kind != schema::Kind::Table).map(|o| o.name.as_str()).collect();
    if late.is_empty() {
        // Nothing distinguishes phase C; run it again (it is cheap then).
        return Ok(false);
    }
    let mut stmt = conn.prepare("SELECT count(*) FROM main.sqlite_master WHERE type <> 'table' AND name = ?1")?;
    for name in late {
        let n: i64 = stmt.query_row([name], |r| r.get(0))?;
        if n == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}
