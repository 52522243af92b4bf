//! Replaying a source's schema into a fresh database.

use crate::error::{Error, SchemaRefusal};
use anyhow::Context;
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};

use super::{check_object, quote_ident, standin, Kind, Object, Settings, SourceSchema};

/// Replays a source schema into a fresh database in an order that works
/// (tables, indexes, statistics tables, views, triggers), the way VACUUM and
/// `.dump` do. Data copies run between [`Replayer::create_tables`] and the
/// rest.
pub(crate) struct Replayer<'a> {
    schema: &'a SourceSchema,
    /// Virtual tables created so far, for recognising their shadow tables.
    virtual_tables: Vec<String>,
    /// Source tables that the fork got for free (shadow tables of virtual
    /// tables created here); they are not executed.
    pub shadow_tables: HashSet<String>,
    /// What the replay had to stand in for (see `standin`).
    pub stand_ins: StandIns,
}

/// The application-defined pieces a replay used stand-ins for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StandIns {
    /// Functions registered as stand-ins (index expressions, CHECKs,
    /// generated columns).
    pub functions: Vec<String>,
    /// Virtual tables written as `.dump` writes them (module or tokenizer
    /// missing).
    pub virtual_tables: Vec<String>,
}

impl<'a> Replayer<'a> {
    pub(crate) fn new(schema: &'a SourceSchema) -> Self {
        Replayer { schema, virtual_tables: vec![], shadow_tables: HashSet::new(), stand_ins: StandIns::default() }
    }

    /// A replayer for a fork whose tables already exist (a data copy after
    /// phase A, possibly in another process): it learns which source tables
    /// are the fork's shadow tables from `PRAGMA table_list`.
    pub(crate) fn adopt(conn: &Connection, schema: &'a SourceSchema) -> anyhow::Result<Self> {
        let mut r = Replayer::new(schema);
        r.virtual_tables = schema.objects.iter().filter(|o| o.is_virtual()).map(|o| o.name.clone()).collect();
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")?;
        let shadows: HashSet<String> =
            stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<_>>()?;
        for obj in schema.objects.iter().filter(|o| o.kind == Kind::Table) {
            if shadows.iter().any(|s| s.eq_ignore_ascii_case(&obj.name)) {
                r.shadow_tables.insert(obj.name.clone());
            }
        }
        Ok(r)
    }

    /// Settings that only take effect before the first table: call on an
    /// empty database, outside any transaction.
    pub(crate) fn apply_file_settings(conn: &Connection, s: &Settings) -> anyhow::Result<()> {
        conn.execute_batch(&format!(
            "PRAGMA page_size = {}; PRAGMA auto_vacuum = {}; PRAGMA encoding = '{}';",
            s.page_size,
            s.auto_vacuum,
            match s.encoding.as_str() {
                "UTF-16le" | "UTF-16be" | "UTF-8" => s.encoding.as_str(),
                _ => "UTF-8",
            }
        ))
        .context("could not set page_size, auto_vacuum and encoding on the new database")?;
        set_reserved_bytes(conn, s.reserved_bytes)?;
        // Formats 1-3 are all written as format 1 (SQLite's legacy format);
        // `raise_schema_format` then writes 2 or 3 over it.
        if (1..4).contains(&s.schema_format) {
            conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_LEGACY_FILE_FORMAT, true)
                .context("could not ask SQLite for the legacy schema format")?;
        }
        Ok(())
    }

    /// Schema formats 2 and 3 on a fork that SQLite wrote in format 1: the
    /// number in header bytes 44-47 is raised in place, as SQLite itself
    /// raises it (`ALTER TABLE ADD COLUMN` writes 3 over 1 or 2 and
    /// rewrites nothing). Formats 1, 2 and 3 read and write records and
    /// indexes alike but for one thing 2 and 3 allow: records that leave
    /// out trailing NULL columns, which a fork written in format 1 simply
    /// does not have. Call with no connection open on `path`.
    pub(crate) fn raise_schema_format(path: &std::path::Path, s: &Settings) -> anyhow::Result<()> {
        use std::os::unix::fs::FileExt;
        if !(2..4).contains(&s.schema_format) {
            return Ok(());
        }
        let wal = crate::layout::sqlite_side_file(path, "-wal");
        let wal_has_pages = || std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
        if wal_has_pages() {
            // Left by an interrupted copy: the last connection to close
            // checkpoints it into the file.
            let conn = super::open_fork(path)?;
            conn.close().map_err(|(_, e)| e).context("could not close the fork")?;
        }
        if wal_has_pages() {
            anyhow::bail!("could not set the schema format of {}: another process has it open", path.display());
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("could not open {} to set its schema format", path.display()))?;
        let mut format = [0u8; 4];
        file.read_exact_at(&mut format, 44)?;
        let now = u32::from_be_bytes(format);
        if now == 0 || now >= s.schema_format {
            // No schema (SQLite sets the format with the first table), or
            // already there.
            return Ok(());
        }
        file.write_all_at(&s.schema_format.to_be_bytes(), 44)?;
        file.sync_all()?;
        Ok(())
    }

    /// Header values that can be set at any time (inside the transaction).
    pub(crate) fn apply_header_values(tx: &Connection, s: &Settings) -> anyhow::Result<()> {
        tx.execute_batch(&format!(
            "PRAGMA user_version = {}; PRAGMA application_id = {};",
            s.user_version, s.application_id
        ))
        .context("could not set user_version and application_id on the new database")?;
        // 0 is "never set" (SQLite then uses its compiled-in default); the
        // PRAGMA stores the absolute value.
        if s.default_cache_size > 0 {
            tx.execute_batch(&format!("PRAGMA main.default_cache_size = {};", s.default_cache_size))
                .context("could not set default_cache_size on the new database")?;
        }
        Ok(())
    }

    /// WAL mode is stored in the file header; set it last, outside any
    /// transaction. Other journal modes are per connection.
    pub(crate) fn apply_journal_mode(conn: &Connection, s: &Settings) -> anyhow::Result<()> {
        if s.journal_mode.is_wal() {
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                anyhow::bail!("could not switch the new database to WAL mode (it stayed `{mode}`)");
            }
        }
        Ok(())
    }

    /// Every table, in `sqlite_master` order; `sqlite_sequence` comes with
    /// the first AUTOINCREMENT table and the statistics tables come later.
    pub(crate) fn create_tables(&mut self, tx: &Connection) -> anyhow::Result<()> {
        for obj in self.schema.objects.iter().filter(|o| o.kind == Kind::Table) {
            if obj.is_internal() {
                continue;
            }
            if self.is_shadow(tx, obj)? {
                self.shadow_tables.insert(obj.name.clone());
                continue;
            }
            self.run(tx, obj)?;
            if obj.is_virtual() {
                self.virtual_tables.push(obj.name.clone());
            }
        }
        Ok(())
    }

    /// A table named `<vtab>_<suffix>` that the fork already has, created by
    /// a virtual table replayed before it. A real table named like
    /// `ft_extra` beside `ft` does not exist yet, so it is created.
    fn is_shadow(&self, tx: &Connection, obj: &Object) -> anyhow::Result<bool> {
        let lower = obj.name.to_ascii_lowercase();
        let candidate = self.virtual_tables.iter().any(|v| {
            let v = v.to_ascii_lowercase();
            lower.len() > v.len() + 1 && lower.starts_with(&v) && lower.as_bytes()[v.len()] == b'_'
        });
        if !candidate {
            return Ok(false);
        }
        let exists: bool = tx.query_row(
            "SELECT count(*) > 0 FROM main.sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [&obj.name],
            |r| r.get(0),
        )?;
        Ok(exists)
    }

    pub(crate) fn create_indexes(&mut self, tx: &Connection) -> anyhow::Result<()> {
        self.create_kind(tx, Kind::Index)
    }

    /// `sqlite_stat1` (and `sqlite_stat4`) cannot be created by name:
    /// `ANALYZE sqlite_schema` creates them. Rows are left to the data copy;
    /// stat4 is dropped again if the source has none.
    pub(crate) fn create_stat_tables(&mut self, tx: &Connection) -> anyhow::Result<()> {
        let has1 = self.schema.has_table("sqlite_stat1");
        let has4 = self.schema.has_table("sqlite_stat4");
        if !has1 && !has4 {
            return Ok(());
        }
        tx.execute_batch("ANALYZE main.sqlite_schema;")
            .context("could not create the statistics tables (ANALYZE sqlite_schema)")?;
        for (table, wanted) in [("sqlite_stat1", has1), ("sqlite_stat4", has4)] {
            let exists: bool = tx.query_row(
                "SELECT count(*) > 0 FROM main.sqlite_master WHERE type='table' AND name = ?1",
                [table],
                |r| r.get(0),
            )?;
            if exists && !wanted {
                tx.execute_batch(&format!("DROP TABLE main.{table};"))?;
            } else if exists {
                tx.execute_batch(&format!("DELETE FROM main.{table};"))?;
            }
        }
        Ok(())
    }

    pub(crate) fn create_views(&mut self, tx: &Connection) -> anyhow::Result<()> {
        self.create_kind(tx, Kind::View)
    }

    pub(crate) fn create_triggers(&mut self, tx: &Connection) -> anyhow::Result<()> {
        self.create_kind(tx, Kind::Trigger)
    }

    fn create_kind(&mut self, tx: &Connection, kind: Kind) -> anyhow::Result<()> {
        for obj in self.schema.objects.iter().filter(|o| o.kind == kind) {
            self.run(tx, obj)?;
        }
        Ok(())
    }

    /// Execute one object's SQL as exactly one statement.
    ///
    /// A collation or function only the source's application defines gets
    /// a stand-in, and a virtual table whose module or tokenizer is missing
    /// is written as `.dump` writes it (see `standin`).
    fn run(&mut self, tx: &Connection, obj: &Object) -> anyhow::Result<()> {
        check_object(obj)?;
        standin::allow_unknown_collations(tx)?;
        let mut added = 0;
        loop {
            let result = tx.prepare(&obj.sql).and_then(|mut stmt| stmt.raw_execute());
            let Err(e) = result else { return Ok(()) };
            if let Some(f) = standin::missing_function(&e) {
                let known = self.stand_ins.functions.iter().any(|g| g.eq_ignore_ascii_case(&f));
                if !known && added < standin::MAX_FUNCTIONS_PER_OBJECT {
                    standin::add_function(tx, &f)?;
                    self.stand_ins.functions.push(f);
                    added += 1;
                    continue;
                }
            }
            let hostile = matches!(e, rusqlite::Error::MultipleStatement) || e.to_string().contains("unsafe use of");
            if obj.is_virtual() && !hostile {
                return self.write_as_dump(tx, obj);
            }
            return Err(replay_error(obj, e));
        }
    }

    /// A virtual table this SQLite cannot create (its module or tokenizer
    /// is the application's): its exact `sqlite_master` row, rootpage 0,
    /// as the sqlite3 shell's `.dump` writes it. Its shadow tables are
    /// replayed from the source's SQL as ordinary tables.
    fn write_as_dump(&mut self, tx: &Connection, obj: &Object) -> anyhow::Result<()> {
        tx.execute_batch("PRAGMA writable_schema = ON;")?;
        let written = tx.execute(
            "INSERT INTO main.sqlite_master(type, name, tbl_name, rootpage, sql) VALUES('table', ?1, ?2, 0, ?3)",
            rusqlite::params![obj.name, obj.tbl_name, obj.sql],
        );
        tx.execute_batch("PRAGMA writable_schema = OFF;")?;
        written.with_context(|| format!("could not write {} into the fork's schema", obj.describe()))?;
        self.stand_ins.virtual_tables.push(obj.name.clone());
        Ok(())
    }

    /// Give the shadow tables of virtual tables written as `.dump` writes
    /// them the rows a fresh table of their module starts with (FTS5's
    /// `_data` and `_config`). For a schema-only fork; a data copy brings
    /// the source's rows instead.
    pub(crate) fn fill_starter_rows(&self, tx: &Connection) -> anyhow::Result<()> {
        for name in &self.stand_ins.virtual_tables {
            let Some(obj) = self.schema.objects.iter().find(|o| o.is_virtual() && &o.name == name) else { continue };
            for (table, columns, rows) in standin::fresh_shadow_rows(&obj.sql, &obj.name)? {
                if !self.schema.objects.iter().any(|o| o.kind == Kind::Table && o.name.eq_ignore_ascii_case(&table)) {
                    continue;
                }
                let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
                let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
                let sql = format!(
                    "INSERT INTO main.{}({}) VALUES({})",
                    quote_ident(&table),
                    cols.join(", "),
                    marks.join(", ")
                );
                let mut stmt = tx.prepare(&sql).with_context(|| {
                    format!("could not give the shadow table `{table}` of {} its starter rows", obj.describe())
                })?;
                for row in rows {
                    stmt.execute(rusqlite::params_from_iter(row))?;
                }
            }
        }
        Ok(())
    }

    /// The collations the replay on `conn` stood in for.
    pub(crate) fn collations(conn: &Connection) -> anyhow::Result<Vec<String>> {
        Ok(standin::collations_standing_in(conn)?)
    }

    /// After replay, inside the same transaction: the fork's `sqlite_master`
    /// must hold every source object with the same type, name, tbl_name and
    /// sql, and nothing else but what SQLite adds by itself.
    pub(crate) fn verify(&self, tx: &Connection) -> anyhow::Result<()> {
        // Triggers have a namespace of their own: a trigger may share its
        // name with a table, so objects are keyed by (namespace, name).
        let space = |kind: &str| if kind == "trigger" { "trigger" } else { "object" };
        let mut fork: HashMap<(&str, String), (String, String, Option<String>)> = HashMap::new();
        {
            let mut stmt = tx.prepare("SELECT type, name, tbl_name, sql FROM main.sqlite_master")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let kind: String = r.get(0)?;
                fork.insert((space(&kind), r.get::<_, String>(1)?.to_ascii_lowercase()), (kind, r.get(2)?, r.get(3)?));
            }
        }
        let mut expected: HashSet<(&str, String)> = HashSet::new();
        for obj in &self.schema.objects {
            let key = (space(obj.kind.as_str()), obj.name.to_ascii_lowercase());
            expected.insert(key.clone());
            let Some((kind, tbl_name, sql)) = fork.get(&key) else {
                if self.shadow_tables.contains(&obj.name) {
                    continue;
                }
                return Err(Error::failed(format!(
                    "the fork is missing {} after replay; the source's schema could not be reproduced",
                    obj.describe()
                ))
                .into());
            };
            if self.shadow_tables.contains(&obj.name) {
                // A shadow table is whatever this SQLite's module makes.
                continue;
            }
            if kind != obj.kind.as_str() || tbl_name != &obj.tbl_name || sql.as_deref() != Some(obj.sql.as_str()) {
                return Err(Error::SchemaRefused { object: obj.describe(), why: SchemaRefusal::ReplayDiffers }.into());
            }
        }
        for (key, (kind, tbl_name, sql)) in &fork {
            let name = &key.1;
            if expected.contains(key) || sql.is_none() || name.starts_with("sqlite_") {
                continue;
            }
            let shadow_of_ours = kind == "table"
                && self.virtual_tables.iter().any(|v| {
                    v.eq_ignore_ascii_case(tbl_name) || name.starts_with(&format!("{}_", v.to_ascii_lowercase()))
                });
            if !shadow_of_ours {
                let object = format!("{kind} `{name}`");
                return Err(Error::SchemaRefused { object, why: SchemaRefusal::ReplayExtra }.into());
            }
        }
        Ok(())
    }
}

/// Bytes reserved at the end of every page (header byte 20), through
/// SQLite's `SQLITE_FCNTL_RESERVE_BYTES` file control: it takes effect only
/// before the first table, and VACUUM and the backup API keep it.
fn set_reserved_bytes(conn: &Connection, n: u8) -> anyhow::Result<()> {
    if n == 0 {
        return Ok(());
    }
    let mut value: std::ffi::c_int = n.into();
    // SAFETY: a live connection handle, a NUL-terminated schema name and a
    // pointer to an int, which is what this file control reads and writes.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_RESERVE_BYTES,
            (&mut value as *mut std::ffi::c_int).cast(),
        )
    };
    if rc != rusqlite::ffi::SQLITE_OK {
        anyhow::bail!("could not reserve {n} bytes per page in the new database (SQLite error {rc})");
    }
    Ok(())
}

/// One sentence naming the object that failed and what to do about it.
fn replay_error(obj: &Object, e: rusqlite::Error) -> anyhow::Error {
    let msg = e.to_string();
    let hint = if msg.contains("no such collation sequence") {
        "the source uses a collation that only its application defines; sqlfork cannot create it. Fork from a copy with that collation removed"
    } else if msg.contains("no such function") {
        "the source uses a function that only its application defines; sqlfork cannot create it. Fork from a copy without it"
    } else if msg.contains("no such module") {
        "the source uses a virtual-table module this SQLite does not have (sqlfork has fts3, fts4, fts5 and rtree)"
    } else if msg.contains("unknown tokenizer") || msg.contains("tokenize") {
        "the source uses a full-text tokenizer that only its application defines"
    } else if msg.contains("unsafe use of") {
        "the schema calls a function that is not allowed in a schema (sqlfork runs with trusted_schema off); the source may be hostile"
    } else if matches!(e, rusqlite::Error::MultipleStatement) {
        "the SQL holds more than one statement; the source may be corrupt or hostile"
    } else {
        "the source's schema cannot be replayed by this SQLite"
    };
    // A schema sqlfork cannot replay is a failed fork (exit 1); a schema that
    // is not what it claims to be is refused as invalid input (exit 2).
    if matches!(e, rusqlite::Error::MultipleStatement) || msg.contains("unsafe use of") {
        return Error::invalid(format!("could not create {} in the fork: {msg}; {hint}", obj.describe())).into();
    }
    Error::failed(format!("could not create {} in the fork: {msg}; {hint}", obj.describe())).into()
}
