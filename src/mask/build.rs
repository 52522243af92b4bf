//! Building a masked or subset fork: nothing original left, by construction.
//!
//! The fork is a FRESH file. Only masked values are ever written to it:
//! - phase A creates the tables (no rows);
//! - phase B copies rows with `INSERT INTO main.t SELECT …` over the source
//!   attached read-only as `src`, with each masked column wrapped in the
//!   SQL function `sqlfork_mask(code, value)` registered on this connection
//!   (or replaced by NULL, a fixed value or the rule's expression), so an
//!   original value of a masked column is never handed to the fork's pager:
//!   not to its pages, not to its WAL, not to free space inside a page;
//! - phase C builds indexes from the masked rows, prunes rows whose foreign
//!   keys point at rows a subset left out, rebuilds external-content
//!   full-text tables from the masked content (their index and docsize
//!   shadow tables are never copied; FTS5's `_config`, settings only, is),
//!   then creates views and triggers. A full-text table that stores its
//!   own content and has masked columns is filled in phase B through the
//!   virtual table (its shadow tables, but for `_config`, are not copied),
//!   so its index is built from masked values only.
//!
//! A subset (`subset.rs`) first works out, in the temp schema, the rowids
//! the named tables keep; the copy takes those, and a table not named
//! leaves out the rows that reference a named table's row not kept.
//!
//! Statistics (`sqlite_stat1`/`stat4`) are not carried: stat4 samples hold
//! index keys, i.e. original values. Run `ANALYZE` in the fork if wanted.
//! The fork's own WAL (the copy runs in WAL mode) only ever holds fork
//! pages, and is checkpointed and removed when the final journal mode is
//! set. Subset bookkeeping lives in the connection's temp schema and holds
//! rowids only.

use super::maskers::{Keys, Masker, NAME_UNIQUE};
use super::{subset, Resolved};
use crate::copy::{self, Progress, SourceReader};
use crate::registry::CopyStats;
use crate::schema::{self, quote_ident, Replayer, SourceSchema};
use anyhow::Context;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::Connection;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// A full-text table, as far as a masked or subset fork cares.
#[derive(Debug, Clone)]
pub(crate) struct Fts {
    pub name: String,
    /// `content=` option: None for a regular table, `Some("")` for a
    /// contentless one, else the content table.
    pub content: Option<String>,
    pub columns: Vec<String>,
}

impl Fts {
    /// Parse `CREATE VIRTUAL TABLE x USING fts3/4/5(args)`.
    pub(crate) fn parse(name: &str, sql: &str) -> Option<Fts> {
        let lower = sql.to_ascii_lowercase();
        let at = lower.find(" using ")?;
        let rest = lower[at + 7..].trim_start();
        if !(rest.starts_with("fts3") || rest.starts_with("fts4") || rest.starts_with("fts5")) {
            return None;
        }
        let open = sql[at..].find('(')? + at;
        let close = sql.rfind(')')?;
        let mut content = None;
        let mut columns = Vec::new();
        for arg in split_args(&sql[open + 1..close]) {
            let arg = arg.trim();
            if let Some((k, v)) = arg.split_once('=') {
                if k.trim().eq_ignore_ascii_case("content") {
                    content = Some(super::unquote(v.trim()));
                }
            } else if let Some(first) = arg.split_whitespace().next() {
                columns.push(super::unquote(first));
            }
        }
        Some(Fts { name: name.to_string(), content, columns })
    }
}

/// Split at top-level commas, respecting quotes and parentheses.
fn split_args(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None::<char>);
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`' | '[') => quote = Some(if c == '[' { ']' } else { c }),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// What the build produced.
pub(crate) struct Built {
    pub stats: CopyStats,
    /// Rows in each table of the fork (subset forks).
    pub rows_kept: BTreeMap<String, u64>,
}

/// Where a masked or subset fork comes from and goes to.
pub(crate) struct Target<'a> {
    /// The new fork's file.
    pub path: &'a Path,
    /// The source's file.
    pub src: &'a Path,
    /// The source's change counter when its schema was read (rollback
    /// journal: the copy is exact if it has not moved by the end).
    pub change_counter: Option<u32>,
    /// Rows per committed page.
    pub page_rows: u64,
}

/// Build the fork at `target.path` (a new file) from the source.
pub(crate) fn build(
    target: Target,
    source_schema: &SourceSchema,
    reader: &mut SourceReader,
    resolved: &Resolved,
    progress: &mut dyn Progress,
) -> anyhow::Result<Built> {
    let Target { path, src, change_counter, page_rows } = target;
    // Phase A: the tables.
    crate::layout::remove_database_files(path);
    crate::copy::create_tables(path, source_schema)?;

    // Phase B: rows, masked on the way in.
    let conn = copy::open_copy_connection(path, src, reader.pinned_without_snapshot())?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA temp.cache_size = -8192;")?;
    register(&conn, resolved)?;
    let subsetting = !resolved.subset.is_empty();
    let rebuilt = rebuilt_fts(source_schema, resolved);
    let refilled = refilled_fts(source_schema, resolved);
    Tx { conn: &conn, reader }.run(|| prepare_refilled(&conn, source_schema, &refilled))?;
    let mut shadows = shadow_tables(&conn, &[rebuilt.as_slice(), refilled.as_slice()].concat())?;
    shadows.extend(refilled.iter().map(|f| format!("{}_config", f.name.to_ascii_lowercase())));

    let tx = Tx { conn: &conn, reader };
    let keep = if subsetting {
        tx.run(|| subset::compute_keep_sets(&conn, source_schema, &resolved.subset))
            .context("could not work out which rows the subset keeps")?
    } else {
        BTreeMap::new()
    };
    // Refilled full-text tables last: FTS5's copied `_config` must be in
    // place before rows go in through the module.
    let tables: Vec<&str> = source_schema
        .objects
        .iter()
        .filter(|o| o.kind == schema::Kind::Table && !o.is_virtual() && !o.is_internal())
        .filter(|o| !shadows.contains(&o.name.to_ascii_lowercase()))
        .map(|o| o.name.as_str())
        .chain(refilled.iter().map(|f| f.name.as_str()))
        .collect();
    let fks = if subsetting { subset::foreign_keys(&conn, "src", source_schema)? } else { vec![] };
    let mut plans = Vec::new();
    for t in &tables {
        let keep_table = resolved.subset.get(*t).map(|_| subset::keep_table(keep[*t]));
        let mut plan = TablePlan::new(&conn, t, resolved, keep_table, page_rows.clamp(1, i64::MAX as u64) as i64)?;
        plan.filter = subset::children_filter(t, &fks, &resolved.subset, &keep);
        plans.push(plan);
    }
    // Progress counts rows, each worth the source's bytes per row (so it
    // reads in MiB, as every other copy does). A table's rows left out by
    // a subset's filter are counted done when the table is: the total is
    // what the copy will really go through.
    let (planned, source_rows) = tx.run(|| {
        let mut planned = Vec::with_capacity(plans.len());
        let mut source_rows = 0u64;
        for p in &plans {
            let n = p.count(&conn)?;
            planned.push(n);
            source_rows += if p.keep.is_none() { n } else { p.source_count(&conn)? };
        }
        Ok((planned, source_rows))
    })?;
    let source_bytes = crate::layout::file_size(src).unwrap_or(0);
    progress.unit_bytes(if source_rows > 0 { source_bytes as f64 / source_rows as f64 } else { 0.0 });
    progress.start(planned.iter().sum(), 0);
    let mut copied = 0u64;
    for (p, planned) in plans.iter().zip(planned) {
        progress.table(&p.table);
        let (n, counted) =
            p.copy(&tx, progress).with_context(|| format!("could not copy rows of table `{}`", p.table))?;
        progress.advance(planned.saturating_sub(counted));
        copied += n;
    }
    tx.run(|| {
        if source_schema.has_table("sqlite_sequence") {
            conn.execute_batch(
                "DELETE FROM main.sqlite_sequence; INSERT INTO main.sqlite_sequence(name, seq) SELECT name, seq FROM src.sqlite_sequence;",
            )?;
        }
        Replayer::new(source_schema).create_stat_tables(&conn)?;
        Ok(())
    })?;
    progress.finish();
    let mut exact = reader.pinned() || !source_schema.settings.journal_mode.is_wal();
    reader.release();
    if !source_schema.settings.journal_mode.is_wal() {
        let now = copy::change_counter(src);
        if now.is_none() || now != change_counter {
            exact = false;
        }
    }
    conn.execute_batch("DETACH DATABASE src")?;

    // Phase C: indexes from masked values, pruning, full-text rebuilds,
    // views, triggers — one transaction.
    let mut r = Replayer::adopt(&conn, source_schema)?;
    let pruned = crate::copy::in_transaction(&conn, || {
        r.create_indexes(&conn)?;
        let pruned = if subsetting || !exact { subset::prune(&conn, source_schema)? } else { 0 };
        for fts in &rebuilt {
            conn.execute_batch(&format!("INSERT INTO main.{t}({t}) VALUES('rebuild');", t = quote_ident(&fts.name)))
                .with_context(|| {
                    format!("could not rebuild the full-text table `{}` from the masked rows", fts.name)
                })?;
        }
        r.create_views(&conn)?;
        r.create_triggers(&conn)?;
        r.verify(&conn)?;
        Ok(pruned)
    })?;
    let mut rows_kept = BTreeMap::new();
    if subsetting {
        let all_shadows = fork_shadows(&conn)?;
        for p in plans.iter().filter(|p| !all_shadows.contains(&p.table.to_ascii_lowercase())) {
            let n: i64 =
                conn.query_row(&format!("SELECT count(*) FROM main.{}", quote_ident(&p.table)), [], |r| r.get(0))?;
            rows_kept.insert(p.table.clone(), n as u64);
        }
    }
    crate::copy::finish_journal_mode(&conn, &source_schema.settings)?;
    conn.close().map_err(|(_, e)| e).context("could not close the fork")?;
    Ok(Built {
        stats: CopyStats {
            objects_created: 0,
            // A subset's rows are what it kept; its removals are deliberate,
            // not orphans (those are rows a changing source left dangling).
            rows_copied: if subsetting { rows_kept.values().sum() } else { copied.saturating_sub(pruned) },
            bytes_copied: crate::layout::file_size(path).unwrap_or(0),
            exact,
            orphans_pruned: if exact { 0 } else { pruned },
            ..CopyStats::default()
        },
        rows_kept,
    })
}

/// `sqlfork_mask(code, value)` on the copy connection.
fn register(conn: &Connection, resolved: &Resolved) -> anyhow::Result<()> {
    let keys = Keys::new(resolved.seed.as_deref().unwrap_or_default());
    conn.create_scalar_function(
        "sqlfork_mask",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_DIRECTONLY,
        move |ctx| {
            let code: i64 = ctx.get(0)?;
            let value: Value = ctx.get(1)?;
            Ok(keys.apply(code, value))
        },
    )?;
    Ok(())
}

/// External-content full-text tables whose content the fork changes: they
/// are rebuilt from the fork's rows instead of copied.
fn rebuilt_fts(schema: &SourceSchema, resolved: &Resolved) -> Vec<Fts> {
    schema
        .objects
        .iter()
        .filter(|o| o.is_virtual())
        .filter_map(|o| Fts::parse(&o.name, &o.sql))
        .filter(|f| match f.content.as_deref() {
            None | Some("") => false,
            Some(t) => !resolved.subset.is_empty() || resolved.masks.keys().any(|m| m.eq_ignore_ascii_case(t)),
        })
        .collect()
}

/// Full-text tables that store their own content and have masked columns:
/// their shadow tables are not copied; the masked rows are inserted
/// through the virtual table, which builds its index from them.
fn refilled_fts(schema: &SourceSchema, resolved: &Resolved) -> Vec<Fts> {
    schema
        .objects
        .iter()
        .filter(|o| o.is_virtual() && resolved.masks.contains_key(&o.name))
        .filter_map(super::own_content_fts)
        .collect()
}

/// Phase A emptied the shadow tables of the refilled full-text tables:
/// FTS5's `_config` (settings only) is copied, then 'rebuild' (from the
/// empty content) gives each the starter rows a fresh table has.
fn prepare_refilled(conn: &Connection, schema: &SourceSchema, refilled: &[Fts]) -> anyhow::Result<()> {
    for f in refilled {
        let t = quote_ident(&f.name);
        let config = format!("{}_config", f.name);
        if schema.has_table(&config) {
            let c = quote_ident(&config);
            conn.execute_batch(&format!("INSERT OR REPLACE INTO main.{c} SELECT * FROM src.{c};"))?;
        }
        conn.execute_batch(&format!("INSERT INTO main.{t}({t}) VALUES('rebuild');"))
            .with_context(|| format!("could not prepare the full-text table `{}`", f.name))?;
    }
    Ok(())
}

/// Lower-case names of every shadow table in the fork.
fn fork_shadows(conn: &Connection) -> anyhow::Result<HashSet<String>> {
    let mut stmt =
        conn.prepare("SELECT lower(name) FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")?;
    let all = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(all)
}

/// Lower-case names of the fork's shadow tables that belong to `fts`,
/// but for FTS5's `_config` (settings only, no content: it is copied, and
/// the full-text table needs it to rebuild).
fn shadow_tables(conn: &Connection, fts: &[Fts]) -> anyhow::Result<HashSet<String>> {
    Ok(fork_shadows(conn)?
        .into_iter()
        .filter(|s| {
            fts.iter().any(|f| {
                let v = f.name.to_ascii_lowercase();
                s.len() > v.len() + 1 && s.starts_with(&v) && s.as_bytes()[v.len()] == b'_'
            }) && !s.ends_with("_config")
        })
        .collect())
}

/// Source reads at the pinned snapshot, one transaction per call.
struct Tx<'a> {
    conn: &'a Connection,
    reader: &'a SourceReader,
}

impl Tx<'_> {
    fn run<T>(&self, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        self.conn.execute_batch("BEGIN")?;
        if let Some(snap) = &self.reader.snapshot {
            if let Err(e) = SourceReader::open_snapshot(self.conn, "src", snap) {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e).context("could not read the source at its snapshot");
            }
        }
        match f() {
            Ok(v) => {
                self.conn.execute_batch("COMMIT").context("could not commit rows to the fork")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

/// How one table is copied.
struct TablePlan {
    table: String,
    insert_cols: String,
    select_exprs: String,
    /// The rowid alias to page by, when the table has a reachable rowid.
    rowid: Option<String>,
    /// The fork's rowids are the source's (no masked INTEGER PRIMARY KEY):
    /// the last one copied is the fork's greatest.
    rowid_kept: bool,
    /// The keep table of a named subset table.
    keep: Option<String>,
    /// Rows per committed page (`rows_per_page` in config.toml).
    page_rows: i64,
    /// ` AND (…)`: a table not named in a subset leaves out the rows that
    /// reference a row a named table does not keep.
    filter: String,
}

impl TablePlan {
    fn new(
        conn: &Connection,
        table: &str,
        resolved: &Resolved,
        keep: Option<String>,
        page_rows: i64,
    ) -> anyhow::Result<TablePlan> {
        let info = super::columns(conn, "main", table)?;
        let names: Vec<String> = info.iter().map(|c| c.0.to_ascii_lowercase()).collect();
        let has_rowid = subset::has_rowid(conn, "main", table)?;
        let rowid = if has_rowid {
            ["_rowid_", "rowid", "oid"].iter().find(|a| !names.contains(&a.to_string())).map(|a| a.to_string())
        } else {
            None
        };
        // An INTEGER PRIMARY KEY column is the rowid: the column carries it.
        let pks: Vec<&(String, i64, bool, i64)> = info.iter().filter(|c| c.3 > 0).collect();
        let ipk = has_rowid && pks.len() == 1 && {
            let ty: String = conn.query_row(
                &format!("SELECT type FROM pragma_table_info({}, 'main') WHERE pk > 0", super::sql_string(table)),
                [],
                |r| r.get(0),
            )?;
            ty.eq_ignore_ascii_case("INTEGER")
        };
        let ipk_masked =
            ipk && pks.first().and_then(|c| resolved.mask_of(table, &c.0)).is_some_and(|m| m.masker != Masker::Keep);
        let rowid_kept = !ipk_masked;
        let mut insert = Vec::new();
        let mut select = Vec::new();
        if let (Some(alias), false) = (&rowid, ipk) {
            insert.push(quote_ident(alias));
            select.push(quote_ident(alias));
        }
        for (name, hidden, _, _) in &info {
            if *hidden != 0 {
                continue;
            }
            let q = quote_ident(name);
            insert.push(q.clone());
            select.push(match resolved.mask_of(table, name) {
                None => q,
                Some(m) => match &m.masker {
                    Masker::Keep => q,
                    Masker::Null => "NULL".into(),
                    Masker::Fixed(v) => literal(v),
                    Masker::Sql(e) => format!("({e})"),
                    Masker::Name if m.unique => format!("sqlfork_mask({NAME_UNIQUE}, {q})"),
                    other => format!("sqlfork_mask({}, {q})", other.code().unwrap_or(0)),
                },
            });
        }
        Ok(TablePlan {
            table: table.to_string(),
            insert_cols: insert.join(", "),
            select_exprs: select.join(", "),
            rowid,
            rowid_kept,
            keep,
            page_rows,
            filter: String::new(),
        })
    }

    fn count(&self, conn: &Connection) -> anyhow::Result<u64> {
        let sql = match &self.keep {
            Some(k) => format!("SELECT count(*) FROM {k}"),
            None => format!("SELECT count(*) FROM src.{}", quote_ident(&self.table)),
        };
        Ok(conn.query_row(&sql, [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// The table's rows in the source, whatever the subset keeps.
    fn source_count(&self, conn: &Connection) -> anyhow::Result<u64> {
        let sql = format!("SELECT count(*) FROM src.{}", quote_ident(&self.table));
        Ok(conn.query_row(&sql, [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Copy the table: rows inserted, and rows counted for progress (a
    /// filtered table counts the source rows it went through).
    fn copy(&self, tx: &Tx, progress: &mut dyn Progress) -> anyhow::Result<(u64, u64)> {
        let conn = tx.conn;
        let t = quote_ident(&self.table);
        let insert = format!("INSERT INTO main.{t}({}) SELECT {} FROM src.{t}", self.insert_cols, self.select_exprs);
        let Some(alias) = &self.rowid else {
            let all = format!("{insert} WHERE 1{}", self.filter);
            let n = tx.run(|| Ok(conn.execute(&all, [])? as u64))?;
            progress.advance(n);
            return Ok((n, n));
        };
        let a = quote_ident(alias);
        // A table filtered by a subset pages by source rows (below), so its
        // progress moves with the rows read, not only the few kept.
        if self.rowid_kept && self.filter.is_empty() {
            let n = self.copy_by_last_rowid(tx, &insert, &a, progress)?;
            return Ok((n, n));
        }
        // Page by the source's rowid: ?1 < rowid <= ?2, the bound found
        // first (the fork's rowids are masked, so they cannot tell).
        let (bound, filter) = match &self.keep {
            Some(k) => (
                format!("SELECT id FROM {k} WHERE id > ?1 ORDER BY id LIMIT 1 OFFSET {}", self.page_rows - 1),
                format!(" AND {a} IN (SELECT id FROM {k} WHERE id > ?1 AND id <= ?2)"),
            ),
            None => (
                format!("SELECT {a} FROM src.{t} WHERE {a} > ?1 ORDER BY {a} LIMIT 1 OFFSET {}", self.page_rows - 1),
                String::new(),
            ),
        };
        let page = format!("{insert} WHERE {a} > ?1 AND {a} <= ?2{filter}{}", self.filter);
        let mut lo = i64::MIN;
        let (mut total, mut counted) = (0u64, 0u64);
        loop {
            let (n, hi) = tx.run(|| {
                let hi: Option<i64> = conn.prepare_cached(&bound)?.query_row([lo], |r| r.get(0)).ok();
                let n = conn.prepare_cached(&page)?.execute([lo, hi.unwrap_or(i64::MAX)])? as u64;
                Ok((n, hi))
            })?;
            total += n;
            // A full page spans `page_rows` rows of the source (or of the
            // keep table); the last page's rest is counted by the caller.
            let went_through = if hi.is_some() { self.page_rows as u64 } else { n };
            counted += went_through;
            progress.advance(went_through);
            crate::env::test_delay();
            if progress.interrupted() {
                return Err(stopped());
            }
            match hi {
                Some(h) if h < i64::MAX => lo = h,
                _ => return Ok((total, counted)),
            }
        }
    }

    /// Keyset pages by rowid; the last rowid copied is the fork's greatest.
    fn copy_by_last_rowid(&self, tx: &Tx, insert: &str, a: &str, progress: &mut dyn Progress) -> anyhow::Result<u64> {
        let conn = tx.conn;
        let t = quote_ident(&self.table);
        let page = match &self.keep {
            Some(k) => {
                format!("{insert} WHERE {a} IN (SELECT id FROM {k} WHERE id > ?1 ORDER BY id LIMIT {})", self.page_rows)
            }
            None => format!("{insert} WHERE {a} > ?1{} ORDER BY {a} LIMIT {}", self.filter, self.page_rows),
        };
        let last = format!("SELECT max({a}) FROM main.{t}");
        let mut lo = i64::MIN;
        let mut total = 0u64;
        loop {
            let n = tx.run(|| {
                let n = conn.prepare_cached(&page)?.execute([lo])? as u64;
                if n > 0 {
                    lo = conn.prepare_cached(&last)?.query_row([], |r| r.get(0))?;
                }
                Ok(n)
            })?;
            total += n;
            progress.advance(n);
            crate::env::test_delay();
            if progress.interrupted() {
                return Err(stopped());
            }
            if n < self.page_rows as u64 {
                return Ok(total);
            }
        }
    }
}

/// Ctrl-C during a masked or subset copy: such a fork is not resumable
/// (its rules are not kept beside it), so it is removed like a failed one.
fn stopped() -> anyhow::Error {
    crate::error::Error::failed(
        "stopped (Ctrl-C); a masked or subset fork cannot be resumed, so the partial fork was removed",
    )
    .into()
}

/// A SQL literal for a fixed value.
fn literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => format!("{f:?}"),
        Value::Text(s) => super::sql_string(s),
        Value::Blob(b) => format!("X'{}'", super::maskers::hex(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fts_content_options() {
        let f =
            Fts::parse("ft", "CREATE VIRTUAL TABLE ft USING fts5(name, body, content='people', content_rowid='id')")
                .unwrap();
        assert_eq!(f.content.as_deref(), Some("people"));
        assert_eq!(f.columns, vec!["name", "body"]);
        let f = Fts::parse("ft", "CREATE VIRTUAL TABLE ft USING fts5(a, content='')").unwrap();
        assert_eq!(f.content.as_deref(), Some(""));
        assert!(Fts::parse("r", "CREATE VIRTUAL TABLE r USING rtree(id, a, b)").is_none());
    }
}
