//! The row copy: how each table's rows are ordered and paged
//! ([`TablePlan`]), the keyset-paged copy itself ([`Copier`]), and the
//! foreign-key orphan pruning a copy that is not exact needs.

use crate::layout;
use crate::schema::{self, open_fork, quote_ident, Object, Replayer, SourceSchema};
use anyhow::Context;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};
use std::path::Path;

use super::{Progress, SourceReader};

/// How a table's rows are ordered and addressed.
#[derive(Debug, Clone)]
enum Key {
    /// A rowid table: order by this spelling of the rowid.
    Rowid(String),
    /// A WITHOUT ROWID table: its primary key columns, in declared order,
    /// direction and collation.
    Primary(Vec<KeyColumn>),
    /// A rowid table whose rowid SQL cannot reach (every alias is a column
    /// name and there is no INTEGER PRIMARY KEY): copied in one statement.
    Unreachable,
}

#[derive(Debug, Clone)]
struct KeyColumn {
    name: String,
    desc: bool,
    collation: String,
}

/// One table's copy plan.
#[derive(Debug, Clone)]
pub(crate) struct TablePlan {
    pub name: String,
    columns: Vec<String>,
    key: Key,
}

/// Work out how to copy every table with rows of its own: real tables and
/// virtual tables' shadow tables, not virtual tables themselves nor SQLite's
/// internal tables (those are copied separately).
pub(crate) fn plan(conn: &Connection, schema: &SourceSchema) -> anyhow::Result<Vec<TablePlan>> {
    let mut plans = Vec::new();
    for obj in schema.objects.iter().filter(|o| o.kind == crate::schema::Kind::Table) {
        if obj.is_virtual() || obj.is_internal() {
            continue;
        }
        plans.push(plan_table(conn, obj).with_context(|| format!("could not plan the copy of table `{}`", obj.name))?);
    }
    Ok(plans)
}

fn plan_table(conn: &Connection, obj: &Object) -> anyhow::Result<TablePlan> {
    let t = quote_ident(&obj.name);
    // hidden: 0 normal, 1 hidden (virtual tables), 2/3 generated columns —
    // only normal columns can be inserted.
    let mut columns = Vec::new();
    let mut names = Vec::new();
    {
        let mut stmt = conn.prepare(&format!("PRAGMA main.table_xinfo({t})"))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let name: String = r.get(1)?;
            let hidden: i64 = r.get(6)?;
            names.push(name.to_ascii_lowercase());
            if hidden == 0 {
                columns.push(name);
            }
        }
    }
    let without_rowid: bool = conn
        .query_row("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1", [&obj.name], |r| {
            r.get::<_, i64>(0)
        })
        .map(|v| v != 0)?;
    let key = if without_rowid {
        Key::Primary(primary_key(conn, &obj.name)?)
    } else {
        match ["_rowid_", "rowid", "oid"].iter().find(|a| !names.contains(&a.to_string())) {
            Some(alias) => Key::Rowid(alias.to_string()),
            None => match integer_primary_key(conn, &obj.name)? {
                Some(col) => Key::Rowid(col),
                None => Key::Unreachable,
            },
        }
    };
    Ok(TablePlan { name: obj.name.clone(), columns, key })
}

/// The key columns of a WITHOUT ROWID table's primary key.
fn primary_key(conn: &Connection, table: &str) -> anyhow::Result<Vec<KeyColumn>> {
    let index: String = conn.query_row(
        &format!("SELECT name FROM pragma_index_list({}) WHERE origin = 'pk'", sql_string(table)),
        [],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT name, desc, coll FROM pragma_index_xinfo({}) WHERE key = 1 ORDER BY seqno",
        sql_string(&index)
    ))?;
    let cols = stmt
        .query_map([], |r| Ok(KeyColumn { name: r.get(0)?, desc: r.get::<_, i64>(1)? != 0, collation: r.get(2)? }))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(cols)
}

/// The INTEGER PRIMARY KEY column of a rowid table, if it has one.
fn integer_primary_key(conn: &Connection, table: &str) -> anyhow::Result<Option<String>> {
    let mut stmt = conn.prepare(&format!("SELECT name, type, pk FROM pragma_table_info({})", sql_string(table)))?;
    let pks: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?)))?
        .filter_map(|r| r.ok())
        .filter(|(_, _, pk)| *pk > 0)
        .map(|(n, t, _)| (n, t))
        .collect();
    Ok(match pks.as_slice() {
        [(name, ty)] if ty.eq_ignore_ascii_case("INTEGER") => Some(name.clone()),
        _ => None,
    })
}

/// A string literal for SQL.
pub(crate) fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl TablePlan {
    fn column_list(&self, with_key: bool) -> String {
        let mut cols: Vec<String> = Vec::new();
        if with_key {
            if let Key::Rowid(alias) = &self.key {
                cols.push(quote_ident(alias));
            }
        }
        cols.extend(self.columns.iter().map(|c| quote_ident(c)));
        cols.join(", ")
    }

    fn order_by(&self) -> String {
        match &self.key {
            Key::Rowid(alias) => quote_ident(alias),
            Key::Primary(cols) => cols
                .iter()
                .map(|c| format!("{} COLLATE {} {}", quote_ident(&c.name), quote_ident(&c.collation), dir(c.desc)))
                .collect::<Vec<_>>()
                .join(", "),
            Key::Unreachable => String::new(),
        }
    }

    /// The reverse order: the first row is the last one copied.
    fn order_by_reversed(&self) -> String {
        match &self.key {
            Key::Rowid(alias) => format!("{} DESC", quote_ident(alias)),
            Key::Primary(cols) => cols
                .iter()
                .map(|c| format!("{} COLLATE {} {}", quote_ident(&c.name), quote_ident(&c.collation), dir(!c.desc)))
                .collect::<Vec<_>>()
                .join(", "),
            Key::Unreachable => String::new(),
        }
    }

    fn key_columns(&self) -> Vec<String> {
        match &self.key {
            Key::Rowid(alias) => vec![quote_ident(alias)],
            Key::Primary(cols) => cols.iter().map(|c| quote_ident(&c.name)).collect(),
            Key::Unreachable => vec![],
        }
    }

    /// `key > last` in the table's order, with parameters ?1..?n holding
    /// the last key. For a multi-column key the first column also gets a
    /// plain range bound so that the primary-key index is used.
    fn after_last(&self) -> String {
        match &self.key {
            Key::Rowid(alias) => format!("{} > ?1", quote_ident(alias)),
            Key::Primary(cols) => {
                let cmp = |c: &KeyColumn, i: usize, strict: bool| {
                    let op = match (c.desc, strict) {
                        (false, true) => ">",
                        (false, false) => ">=",
                        (true, true) => "<",
                        (true, false) => "<=",
                    };
                    format!("{} COLLATE {} {op} ?{}", quote_ident(&c.name), quote_ident(&c.collation), i + 1)
                };
                let mut alternatives = Vec::new();
                for (i, c) in cols.iter().enumerate() {
                    let mut terms: Vec<String> = cols[..i]
                        .iter()
                        .enumerate()
                        .map(|(j, p)| {
                            format!("{} = ?{} COLLATE {}", quote_ident(&p.name), j + 1, quote_ident(&p.collation))
                        })
                        .collect();
                    terms.push(cmp(c, i, true));
                    alternatives.push(format!("({})", terms.join(" AND ")));
                }
                if cols.len() > 1 {
                    format!("{} AND ({})", cmp(&cols[0], 0, false), alternatives.join(" OR "))
                } else {
                    alternatives.join("")
                }
            }
            Key::Unreachable => "1".into(),
        }
    }
}

fn dir(desc: bool) -> &'static str {
    if desc {
        "DESC"
    } else {
        "ASC"
    }
}

/// Copies pages of rows from `src` into `main` over one connection.
pub(crate) struct Copier<'a> {
    conn: &'a Connection,
    source: &'a SourceReader,
    page_rows: u64,
}

impl<'a> Copier<'a> {
    pub(crate) fn new(conn: &'a Connection, source: &'a SourceReader, page_rows: u64) -> Self {
        Copier { conn, source, page_rows }
    }

    pub(crate) fn connection(&self) -> &Connection {
        self.conn
    }

    /// Begin a page transaction that reads the source at the pinned
    /// snapshot (when there is one).
    pub(crate) fn begin(&self) -> anyhow::Result<()> {
        self.conn.execute_batch("BEGIN")?;
        if let Some(snap) = &self.source.snapshot {
            if let Err(e) = SourceReader::open_snapshot(self.conn, "src", snap) {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e).context("could not read the source at its snapshot");
            }
        }
        Ok(())
    }

    pub(crate) fn commit(&self) -> anyhow::Result<()> {
        self.conn.execute_batch("COMMIT").context("could not commit a page to the fork")?;
        Ok(())
    }

    pub(crate) fn rollback(&self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// Rows of `plan` already in the fork (a resumed copy).
    pub(crate) fn rows_in_fork(&self, plan: &TablePlan) -> anyhow::Result<u64> {
        let n: i64 =
            self.conn.query_row(&format!("SELECT count(*) FROM main.{}", quote_ident(&plan.name)), [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// The last key copied into the fork, or None when the table is empty.
    fn last_key(&self, plan: &TablePlan) -> anyhow::Result<Option<Vec<Value>>> {
        let cols = plan.key_columns();
        let sql = format!(
            "SELECT {} FROM main.{} ORDER BY {} LIMIT 1",
            cols.join(", "),
            quote_ident(&plan.name),
            plan.order_by_reversed()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        match rows.next()? {
            Some(r) => Ok(Some((0..cols.len()).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<_>>()?)),
            None => Ok(None),
        }
    }

    /// Copy every remaining row of one table, page by page.
    pub(crate) fn copy_table(&self, plan: &TablePlan, progress: &mut dyn Progress) -> anyhow::Result<u64> {
        let t = quote_ident(&plan.name);
        if matches!(plan.key, Key::Unreachable) {
            // Nothing to page by: one statement, and only if not done yet.
            self.begin()?;
            let done = self.rows_in_fork(plan)? > 0;
            let n = if done {
                0
            } else {
                let cols = plan.column_list(false);
                self.conn.execute(&format!("INSERT INTO main.{t}({cols}) SELECT {cols} FROM src.{t}"), [])? as u64
            };
            self.commit()?;
            progress.advance(n);
            if progress.interrupted() {
                return Err(super::interrupted());
            }
            return Ok(n);
        }
        let cols = plan.column_list(true);
        let first =
            format!("INSERT INTO main.{t}({cols}) SELECT {cols} FROM src.{t} ORDER BY {} LIMIT ?1", plan.order_by());
        let key_count = plan.key_columns().len();
        let next = format!(
            "INSERT INTO main.{t}({cols}) SELECT {cols} FROM src.{t} WHERE {} ORDER BY {} LIMIT ?{}",
            plan.after_last(),
            plan.order_by(),
            key_count + 1
        );
        let mut total = 0u64;
        let mut last = self.last_key(plan)?;
        loop {
            self.begin()?;
            let result = (|| -> anyhow::Result<u64> {
                let n = match &last {
                    None => self.conn.prepare_cached(&first)?.execute([self.page_rows as i64])?,
                    Some(key) => {
                        let mut params: Vec<Value> = key.clone();
                        params.push(Value::Integer(self.page_rows as i64));
                        self.conn.prepare_cached(&next)?.execute(params_from_iter(params))?
                    }
                };
                Ok(n as u64)
            })();
            let n = match result {
                Ok(n) => n,
                Err(e) => {
                    self.rollback();
                    return Err(e.context(format!("could not copy rows of table `{}`", plan.name)));
                }
            };
            if n > 0 {
                last = self.last_key(plan)?;
            }
            self.commit()?;
            total += n;
            progress.advance(n);
            crate::env::test_delay();
            if progress.interrupted() {
                return Err(super::interrupted());
            }
            if n < self.page_rows {
                return Ok(total);
            }
        }
    }
}

/// Delete rows whose foreign keys point at a parent row the fork does not
/// have, until none are left (a deleted row can orphan its own children).
/// Foreign-key enforcement and triggers must be off. Returns rows deleted.
pub(crate) fn prune_orphans(conn: &Connection) -> anyhow::Result<u64> {
    let mut pruned = 0u64;
    for _round in 0..64 {
        let orphans: Vec<(String, Option<i64>, i64)> = {
            let mut stmt = conn.prepare("PRAGMA main.foreign_key_check")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(3)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if orphans.is_empty() {
            return Ok(pruned);
        }
        let mut by_key: Vec<(String, i64)> = Vec::new();
        for (table, rowid, fkid) in &orphans {
            match rowid {
                Some(id) => {
                    pruned += conn
                        .execute(&format!("DELETE FROM main.{} WHERE _rowid_ = ?1", quote_ident(table)), [id])?
                        as u64;
                }
                None => {
                    if !by_key.contains(&(table.clone(), *fkid)) {
                        by_key.push((table.clone(), *fkid));
                    }
                }
            }
        }
        // WITHOUT ROWID children: foreign_key_check gives no rowid; delete
        // by the foreign key itself.
        for (table, fkid) in by_key {
            pruned += delete_orphans_by_key(conn, &table, fkid)?;
        }
    }
    anyhow::bail!("foreign-key orphans remained after 64 pruning rounds")
}

fn delete_orphans_by_key(conn: &Connection, table: &str, fkid: i64) -> anyhow::Result<u64> {
    let mut stmt = conn.prepare(&format!(
        "SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list({}) WHERE id = ?1 ORDER BY seq",
        sql_string(table)
    ))?;
    let cols: Vec<(String, String, Option<String>)> =
        stmt.query_map([fkid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    let Some((parent, _, _)) = cols.first().cloned() else { return Ok(0) };
    let parent_cols: Vec<String> = if cols.iter().all(|(_, _, to)| to.is_some()) {
        cols.iter().map(|(_, _, to)| to.clone().unwrap_or_default()).collect()
    } else {
        let mut s = conn.prepare(&format!(
            "SELECT name FROM pragma_table_info({}) WHERE pk > 0 ORDER BY pk",
            sql_string(&parent)
        ))?;
        let cols = s.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        cols
    };
    let not_null: Vec<String> =
        cols.iter().map(|(_, from, _)| format!("c.{} IS NOT NULL", quote_ident(from))).collect();
    let matches: Vec<String> = cols
        .iter()
        .zip(&parent_cols)
        .map(|((_, from, _), to)| format!("p.{} = c.{}", quote_ident(to), quote_ident(from)))
        .collect();
    let sql = format!(
        "DELETE FROM main.{t} AS c WHERE {nn} AND NOT EXISTS (SELECT 1 FROM main.{p} AS p WHERE {m})",
        t = quote_ident(table),
        p = quote_ident(&parent),
        nn = not_null.join(" AND "),
        m = matches.join(" AND ")
    );
    Ok(conn.execute(&sql, [])? as u64)
}

// ---------------------------------------------------------------------------
// The fresh file a row copy writes into (the rows method, masked forks)

/// Phase A of a data fork: a fresh file with the source's settings and
/// tables (and empty shadow tables, ready for the source's rows), in one
/// transaction. The copy runs in WAL mode with synchronous=NORMAL: commits
/// need no fsync, and a power cut loses at most the last pages, never the
/// file.
pub(crate) fn create_tables(path: &Path, schema: &SourceSchema) -> anyhow::Result<()> {
    layout::create_new_file(path)?;
    let mut conn = open_fork(path)?;
    Replayer::apply_file_settings(&conn, &schema.settings)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    let tx = conn.transaction()?;
    let mut r = Replayer::new(schema);
    r.create_tables(&tx)?;
    // A fresh FTS5 or R*Tree table has starter rows; the source's replace them.
    for shadow in &r.shadow_tables {
        tx.execute_batch(&format!("DELETE FROM main.{};", schema::quote_ident(shadow)))?;
    }
    Replayer::apply_header_values(&tx, &schema.settings)?;
    tx.commit().context("could not commit the tables to the new database")?;
    conn.close().map_err(|(_, e)| e)?;
    Replayer::raise_schema_format(path, &schema.settings)?;
    Ok(())
}

/// The final journal mode: the source's WAL, or the default rollback
/// journal (the copy itself ran in WAL).
pub(crate) fn finish_journal_mode(conn: &Connection, settings: &schema::Settings) -> anyhow::Result<()> {
    let want = if settings.journal_mode.is_wal() { "WAL" } else { "DELETE" };
    let got: String = conn.query_row(&format!("PRAGMA main.journal_mode = {want}"), [], |r| r.get(0))?;
    if !got.eq_ignore_ascii_case(want) {
        anyhow::bail!("could not set the fork's journal mode to {want} (it stayed {got})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyset_predicate_respects_direction() {
        let plan = TablePlan {
            name: "t".into(),
            columns: vec!["a".into(), "b".into()],
            key: Key::Primary(vec![
                KeyColumn { name: "a".into(), desc: false, collation: "BINARY".into() },
                KeyColumn { name: "b".into(), desc: true, collation: "NOCASE".into() },
            ]),
        };
        let p = plan.after_last();
        assert!(p.starts_with("\"a\" COLLATE \"BINARY\" >= ?1 AND"), "{p}");
        assert!(p.contains("(\"a\" = ?1 COLLATE \"BINARY\" AND \"b\" COLLATE \"NOCASE\" < ?2)"), "{p}");
        assert_eq!(plan.order_by(), "\"a\" COLLATE \"BINARY\" ASC, \"b\" COLLATE \"NOCASE\" DESC");
    }
}
