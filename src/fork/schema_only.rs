//! A fork without data: the schema the check replayed into memory (in one
//! transaction, with the source's settings) is written to the new file
//! whole with SQLite's backup API (page 1 verbatim: reserved bytes, schema
//! format and the other header values come with it), then WAL mode is set
//! if the source has it.

use super::build::count_objects;
use super::source::{check_schema, Plan, SourceSession};
use crate::layout;
use crate::registry::CopyStats;
use crate::schema::{open_fork, Replayer};
use anyhow::Context;
use std::path::Path;
use std::time::Duration;

/// Write the prepared schema to a new file at `path`. Returns the copy
/// figures.
pub(crate) fn build(path: &Path, mut session: SourceSession) -> anyhow::Result<CopyStats> {
    if session.prepared.is_none() {
        check_schema(&mut session, Plan::SchemaOnly)?;
    }
    let mem = session.prepared.take().context("the schema was not prepared")?;
    layout::create_new_file(path)?;
    let mut conn = open_fork(path)?;
    {
        let backup = rusqlite::backup::Backup::new(&mem, &mut conn)?;
        backup
            .run_to_completion(1 << 20, Duration::ZERO, None)
            .context("could not write the schema to the new database")?;
    }
    let settings = &session.schema.settings;
    if (2..4).contains(&settings.schema_format) {
        conn.close().map_err(|(_, e)| e).context("could not close the new database")?;
        Replayer::raise_schema_format(path, settings)?;
        conn = open_fork(path)?;
    }
    Replayer::apply_journal_mode(&conn, settings)?;
    conn.close().map_err(|(_, e)| e).context("could not close the new database")?;
    Ok(CopyStats { objects_created: count_objects(&session.schema), exact: true, ..CopyStats::default() })
}
