//! Subsets that keep foreign keys whole.
//!
//! What a subset keeps, precisely:
//! 1. a table named by `--subset TABLE:WHERE` keeps the rows matching WHERE
//!    (the *seed* rows);
//! 2. every row a kept row references through a foreign key is kept too,
//!    transitively and across cycles, in any table, named or not — so a
//!    named table can keep rows beyond its WHERE;
//! 3. a table not named keeps all its rows, except those that reference
//!    (directly or through other rows) a row that was not kept: they are
//!    removed, so `PRAGMA foreign_key_check` is clean.
//!
//! Steps 1 and 2 run on the source in the copy connection's temp schema:
//! one table of rowids per source table (`temp.sqlfork_keep_N`), filled by
//! rounds that follow foreign keys from the rows added in the round before
//! (only rowids are stored: no value of any column leaves the source). The
//! copy then takes named tables' kept rows and unnamed tables' rows; step 3
//! is the orphan pruning after the indexes are built.
//!
//! Foreign keys from or to a WITHOUT ROWID table are not followed in step
//! 2 (there is no rowid to keep); such tables are never named, so they are
//! copied whole and step 3 still leaves no dangling reference.

use crate::schema::{quote_ident, SourceSchema};
use rusqlite::Connection;
use std::collections::BTreeMap;

/// True when `table` has a rowid.
pub(crate) fn has_rowid(conn: &Connection, db: &str, table: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT wr = 0 FROM pragma_table_list WHERE name = ?1 AND schema = ?2", [table, db], |r| r.get(0))
}

/// A foreign key from `child(from…)` to `parent(to…)`.
#[derive(Debug, Clone)]
pub(crate) struct ForeignKey {
    pub child: String,
    pub parent: String,
    pub from: Vec<String>,
    pub to: Vec<String>,
}

impl ForeignKey {
    /// The join condition from the child row (alias `child`) to the parent
    /// row it references (alias `parent`).
    fn join(&self, parent: &str, child: &str) -> String {
        self.from
            .iter()
            .zip(&self.to)
            .map(|(f, t)| format!("{parent}.{} = {child}.{}", quote_ident(t), quote_ident(f)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

pub(crate) fn foreign_keys(conn: &Connection, db: &str, schema: &SourceSchema) -> anyhow::Result<Vec<ForeignKey>> {
    let mut out = Vec::new();
    for t in
        schema.objects.iter().filter(|o| o.kind == crate::schema::Kind::Table && !o.is_virtual() && !o.is_internal())
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list({}, '{db}') ORDER BY id, seq",
            super::sql_string(&t.name)
        ))?;
        let rows: Vec<(i64, String, String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut by_id: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        for (id, parent, from, to) in rows {
            let fk = by_id.entry(id).or_insert_with(|| ForeignKey {
                child: t.name.clone(),
                parent: parent.clone(),
                from: vec![],
                to: vec![],
            });
            fk.from.push(from);
            fk.to.extend(to);
        }
        for mut fk in by_id.into_values() {
            // The parent as the source spells it; a key naming no table is
            // left to the orphan pruning.
            let Some(p) = schema.objects.iter().find(|o| {
                o.kind == crate::schema::Kind::Table && !o.is_virtual() && o.name.eq_ignore_ascii_case(&fk.parent)
            }) else {
                continue;
            };
            fk.parent = p.name.clone();
            if fk.to.len() != fk.from.len() {
                // REFERENCES parent with no columns: the parent's primary key.
                let mut s = conn.prepare(&format!(
                    "SELECT name FROM pragma_table_info({}, '{db}') WHERE pk > 0 ORDER BY pk",
                    super::sql_string(&fk.parent)
                ))?;
                fk.to = s.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                if fk.to.is_empty() {
                    fk.to = vec!["_rowid_".into()];
                }
            }
            if fk.to.len() == fk.from.len() {
                out.push(fk);
            }
        }
    }
    Ok(out)
}

/// The temp table holding the kept rowids of the `i`th table.
pub(crate) fn keep_table(i: usize) -> String {
    format!("temp.sqlfork_keep_{i}")
}

/// Fill the keep tables (steps 1 and 2). `conn` has the source attached as
/// `src` and is inside a read transaction. Returns, for every table that
/// has a keep table, its index: the copy of a *named* table takes only the
/// rowids in it.
pub(crate) fn compute_keep_sets(
    conn: &Connection,
    schema: &SourceSchema,
    named: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, usize>> {
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for t in
        schema.objects.iter().filter(|o| o.kind == crate::schema::Kind::Table && !o.is_virtual() && !o.is_internal())
    {
        if has_rowid(conn, "src", &t.name)? {
            let i = index.len();
            conn.execute_batch(&format!(
                "CREATE TABLE {k}(id INTEGER PRIMARY KEY, round INTEGER NOT NULL); CREATE INDEX {k}_round ON sqlfork_keep_{i}(round);",
                k = keep_table(i)
            ))?;
            index.insert(t.name.clone(), i);
        }
    }
    for (table, filter) in named {
        let i = index[table];
        conn.execute(
            &format!(
                "INSERT INTO {} SELECT _rowid_, 0 FROM src.{} WHERE ({filter})",
                keep_table(i),
                quote_ident(table)
            ),
            [],
        )?;
    }
    let fks: Vec<ForeignKey> = foreign_keys(conn, "src", schema)?
        .into_iter()
        .filter(|fk| index.contains_key(&fk.child) && index.contains_key(&fk.parent))
        .collect();
    let mut round = 0i64;
    loop {
        round += 1;
        let mut added = 0usize;
        for fk in &fks {
            let (kc, kp) = (keep_table(index[&fk.child]), keep_table(index[&fk.parent]));
            let on = fk.join("p", "c");
            added += conn.execute(
                &format!(
                    "INSERT OR IGNORE INTO {kp} SELECT p._rowid_, ?1 FROM {kc} AS k JOIN src.{c} AS c ON c._rowid_ = k.id \
                     JOIN src.{p} AS p ON {on} WHERE k.round = ?2",
                    c = quote_ident(&fk.child),
                    p = quote_ident(&fk.parent),
                    on = on
                ),
                [round, round - 1],
            )?;
        }
        if added == 0 {
            break;
        }
    }
    Ok(index)
}

/// Step 3 begun during the copy: a table not named leaves out the rows
/// whose foreign keys point at a named table's row that is not kept (the
/// bulk of what a subset removes: an order's lines when the order goes).
/// Returns ` AND (…)` for the copy's WHERE, or nothing. Rows that
/// reference a removed row of a table not named are pruned afterwards.
pub(crate) fn children_filter(
    table: &str,
    fks: &[ForeignKey],
    named: &BTreeMap<String, String>,
    keep: &BTreeMap<String, usize>,
) -> String {
    if named.contains_key(table) {
        return String::new();
    }
    let c = quote_ident(table);
    let mut out = String::new();
    for fk in fks.iter().filter(|fk| fk.child == table && named.contains_key(&fk.parent)) {
        let Some(k) = keep.get(&fk.parent) else { continue };
        let nulls: Vec<String> = fk.from.iter().map(|f| format!("{c}.{} IS NULL", quote_ident(f))).collect();
        let on = fk.join("sqlfork_p", &c);
        out.push_str(&format!(
            " AND ({} OR EXISTS (SELECT 1 FROM src.{} AS sqlfork_p WHERE {} AND sqlfork_p._rowid_ IN (SELECT id FROM {})))",
            nulls.join(" OR "),
            quote_ident(&fk.parent),
            on,
            keep_table(*k)
        ));
    }
    out
}

/// Step 3, in the fork (`main`): delete rows whose foreign keys point at a
/// row the fork does not have, round after round until none is deleted
/// (a deleted row can orphan its own children). One `DELETE … WHERE NOT
/// EXISTS` per foreign key and round, so memory does not grow with the
/// number of orphans. Returns rows deleted.
pub(crate) fn prune(conn: &Connection, schema: &SourceSchema) -> anyhow::Result<u64> {
    let fks = foreign_keys(conn, "main", schema)?;
    let mut pruned = 0u64;
    loop {
        let mut round = 0u64;
        for fk in &fks {
            let not_null: Vec<String> = fk.from.iter().map(|f| format!("c.{} IS NOT NULL", quote_ident(f))).collect();
            let on = fk.join("p", "c");
            round += conn.execute(
                &format!(
                    "DELETE FROM main.{c} AS c WHERE {nn} AND NOT EXISTS (SELECT 1 FROM main.{p} AS p WHERE {on})",
                    c = quote_ident(&fk.child),
                    p = quote_ident(&fk.parent),
                    nn = not_null.join(" AND "),
                    on = on
                ),
                [],
            )? as u64;
        }
        pruned += round;
        if round == 0 {
            break;
        }
    }
    // Whatever the statements above cannot see (a key naming a missing
    // table) is left to the general pruning; it is small.
    let left: i64 = conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
    if left > 0 {
        pruned += crate::copy::prune_orphans(conn)?;
    }
    Ok(pruned)
}
