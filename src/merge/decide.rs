//! Rows: each of the fork's changed rows decided against the parent's row
//! with the same key (cell by cell, `--prefer` picking a side in a
//! conflict) and written through the caller's connection; statements a
//! UNIQUE constraint refuses are retried after the others. Also the rows of
//! a table the fork added.

use super::apply::Applied;
use super::{Conflict, ConflictKind, Prefer};
use crate::diff::rows::{self, Sink, TablePlan};
use crate::diff::{row_vals, ChangeKind, Matching, Opened, Val};
use crate::schema::{quote_ident, Object};
use rusqlite::Connection;
use std::collections::BTreeMap;

/// Every row of the fork's table, sent to `sink` as an insert.
pub(super) fn stream_inserts(fork: &Opened, plan: &TablePlan, sink: &mut dyn Sink) -> anyhow::Result<()> {
    rows::each_row(&fork.conn, plan, &plan.key_a, |key, vals| {
        sink.change(plan, ChangeKind::Insert, key, None, Some(vals))
    })
}

/// A new table whose rows have no key: copied whole.
pub(super) fn copy_unkeyed(
    fork: &Opened,
    conn: &Connection,
    plan: &TablePlan,
    out: &mut Applied,
) -> anyhow::Result<()> {
    let cols: Vec<String> = plan.columns.iter().map(|c| quote_ident(c)).collect();
    let marks = vec!["?"; cols.len()].join(",");
    let mut ins =
        conn.prepare(&format!("INSERT INTO main.{}({}) VALUES({marks})", quote_ident(&plan.name), cols.join(",")))?;
    let mut n = 0;
    rows::each_row(&fork.conn, plan, &[], |_, vals| {
        ins.execute(rusqlite::params_from_iter(vals))?;
        n += 1;
        Ok(())
    })?;
    out.tables.entry(plan.name.clone()).or_default().inserted += n;
    Ok(())
}

/// A statement a UNIQUE constraint refused, to try again after the others.
pub(super) struct Deferred {
    sql: String,
    params: Vec<Val>,
    table: String,
    key: BTreeMap<String, Val>,
    kind: ChangeKind,
    error: String,
}

pub(super) fn constraint_kind(e: &rusqlite::Error) -> Option<ConflictKind> {
    use rusqlite::ffi;
    let rusqlite::Error::SqliteFailure(f, _) = e else { return None };
    if f.code != rusqlite::ErrorCode::ConstraintViolation {
        return None;
    }
    Some(match f.extended_code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_ROWID => {
            ConflictKind::Unique
        }
        ffi::SQLITE_CONSTRAINT_NOTNULL => ConflictKind::NotNull,
        ffi::SQLITE_CONSTRAINT_CHECK => ConflictKind::Check,
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ConflictKind::ForeignKey,
        _ => ConflictKind::Constraint,
    })
}

pub(super) fn retry_deferred(conn: &Connection, deferred: &mut Vec<Deferred>, out: &mut Applied) -> anyhow::Result<()> {
    loop {
        let before = deferred.len();
        let mut left = Vec::new();
        for d in deferred.drain(..) {
            match conn.execute(&d.sql, rusqlite::params_from_iter(&d.params)) {
                Ok(_) => count(out, &d.table, d.kind),
                Err(e) if constraint_kind(&e).is_some() => left.push(Deferred { error: e.to_string(), ..d }),
                Err(e) => return Err(e.into()),
            }
        }
        *deferred = left;
        if deferred.is_empty() || deferred.len() == before {
            break;
        }
    }
    for d in deferred.drain(..) {
        out.conflicts.push(Conflict {
            kind: ConflictKind::Unique,
            table: d.table.clone(),
            key: d.key,
            column: None,
            base: None,
            fork: None,
            parent: None,
            resolution: None,
            detail: Some(format!("the merged row breaks a constraint: {}", d.error)),
        });
    }
    Ok(())
}

fn count(out: &mut Applied, table: &str, kind: ChangeKind) {
    let t = out.tables.entry(table.to_string()).or_default();
    match kind {
        ChangeKind::Insert => t.inserted += 1,
        ChangeKind::Delete => t.deleted += 1,
        ChangeKind::Update => t.updated += 1,
    }
}

/// Decides each of the fork's changed rows against the parent's row with
/// the same key, and writes the result.
pub(super) struct MergeSink<'a> {
    conn: &'a Connection,
    prefer: Prefer,
    pub(super) pass: ChangeKind,
    /// The key as the parent's SQL names it.
    key: Vec<String>,
    /// Compared columns, quoted, in the plan's order.
    cols: Vec<String>,
    /// The rowid is named in inserts (rowid tables and FTS tables).
    insert_rowid: bool,
    /// A rowid table without a declared key: a fork's insert whose rowid
    /// the parent took for another row gets a new rowid (nothing can refer
    /// to an undeclared rowid).
    rekey: bool,
    select: String,
    out: &'a mut Applied,
    deferred: &'a mut Vec<Deferred>,
}

impl<'a> MergeSink<'a> {
    pub(super) fn new(
        conn: &'a Connection,
        prefer: Prefer,
        plan: &TablePlan,
        obj: Option<&Object>,
        out: &'a mut Applied,
        deferred: &'a mut Vec<Deferred>,
    ) -> anyhow::Result<Self> {
        let cols: Vec<String> = plan.compared().map(|c| quote_ident(c)).collect();
        let key = plan.key_b.clone();
        let pred: Vec<String> = key.iter().enumerate().map(|(i, k)| format!("{k} = ?{}", i + 1)).collect();
        let sel = if cols.is_empty() { "1".to_string() } else { cols.join(", ") };
        let select = format!("SELECT {sel} FROM main.{} WHERE {}", quote_ident(&plan.name), pred.join(" AND "));
        let is_virtual = plan.is_virtual;
        let insert_rowid = plan.matching == Matching::Rowid
            && (!is_virtual || obj.is_some_and(|o| o.sql.to_ascii_uppercase().contains("USING FTS")));
        let declared_key = plan.key_names.first().is_some_and(|k| k != "rowid");
        let rekey = plan.matching == Matching::Rowid && !is_virtual && !declared_key;
        Ok(MergeSink { conn, prefer, pass: ChangeKind::Delete, key, cols, insert_rowid, rekey, select, out, deferred })
    }

    fn parent_row(&self, key: &[Val]) -> anyhow::Result<Option<Vec<Val>>> {
        let mut stmt = self.conn.prepare_cached(&self.select)?;
        let mut q = stmt.query(rusqlite::params_from_iter(key))?;
        Ok(match q.next()? {
            None => None,
            Some(r) => Some(row_vals(r, 0..self.cols.len())?),
        })
    }

    fn where_key(&self, first: usize) -> String {
        self.key.iter().enumerate().map(|(i, k)| format!("{k} = ?{}", first + i)).collect::<Vec<_>>().join(" AND ")
    }

    /// Run one write; a constraint error is kept to be retried.
    fn write(
        &mut self,
        plan: &TablePlan,
        kind: ChangeKind,
        sql: String,
        params: Vec<Val>,
        key: &[Val],
    ) -> anyhow::Result<()> {
        match self.conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(&params)) {
            Ok(_) => count(self.out, &plan.name, kind),
            Err(e) => match constraint_kind(&e) {
                Some(ConflictKind::Unique) => self.deferred.push(Deferred {
                    sql,
                    params,
                    table: plan.name.clone(),
                    key: key_map(plan, key),
                    kind,
                    error: e.to_string(),
                }),
                Some(k) => self.out.conflicts.push(Conflict {
                    kind: k,
                    table: plan.name.clone(),
                    key: key_map(plan, key),
                    column: None,
                    base: None,
                    fork: None,
                    parent: None,
                    resolution: None,
                    detail: Some(format!("the merged row breaks a constraint: {e}")),
                }),
                None => return Err(e.into()),
            },
        }
        Ok(())
    }

    fn insert(&mut self, plan: &TablePlan, key: &[Val], vals: &[Val], keep_key: bool) -> anyhow::Result<()> {
        let mut cols = Vec::new();
        let mut params = Vec::new();
        if self.insert_rowid && keep_key {
            let name = &plan.key_names[0];
            if !plan.columns.iter().any(|c| c.eq_ignore_ascii_case(name)) {
                cols.push(plan.key_b[0].clone());
                params.push(key[0].clone());
            }
        }
        for (c, v) in self.cols.iter().zip(vals) {
            if !keep_key && plan.key_names.first().is_some_and(|k| quote_ident(k) == *c) {
                continue;
            }
            cols.push(c.clone());
            params.push(v.clone());
        }
        let sql = if cols.is_empty() {
            format!("INSERT INTO main.{} DEFAULT VALUES", quote_ident(&plan.name))
        } else {
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            format!("INSERT INTO main.{}({}) VALUES({})", quote_ident(&plan.name), cols.join(","), marks.join(","))
        };
        self.write(plan, ChangeKind::Insert, sql, params, key)
    }

    fn update(&mut self, plan: &TablePlan, key: &[Val], set: &[(usize, Val)]) -> anyhow::Result<()> {
        if set.is_empty() {
            return Ok(());
        }
        let sets: Vec<String> =
            set.iter().enumerate().map(|(i, (c, _))| format!("{} = ?{}", self.cols[*c], i + 1)).collect();
        let mut params: Vec<Val> = set.iter().map(|(_, v)| v.clone()).collect();
        let sql = format!(
            "UPDATE main.{} SET {} WHERE {}",
            quote_ident(&plan.name),
            sets.join(", "),
            self.where_key(set.len() + 1)
        );
        params.extend(key.iter().cloned());
        self.write(plan, ChangeKind::Update, sql, params, key)
    }

    fn delete(&mut self, plan: &TablePlan, key: &[Val]) -> anyhow::Result<()> {
        let sql = format!("DELETE FROM main.{} WHERE {}", quote_ident(&plan.name), self.where_key(1));
        self.write(plan, ChangeKind::Delete, sql, key.to_vec(), key)
    }

    /// Record a data conflict (one per column involved) and say which side
    /// wins, if any.
    #[allow(clippy::too_many_arguments)]
    fn conflict(
        &mut self,
        plan: &TablePlan,
        kind: ConflictKind,
        key: &[Val],
        column: usize,
        base: Option<&Val>,
        fork: Option<&Val>,
        parent: Option<&Val>,
    ) {
        let names: Vec<&String> = plan.compared().collect();
        self.out.conflicts.push(Conflict {
            kind,
            table: plan.name.clone(),
            key: key_map(plan, key),
            column: names.get(column).map(|s| s.to_string()),
            base: base.cloned(),
            fork: fork.cloned(),
            parent: parent.cloned(),
            resolution: self.prefer.side(),
            detail: None,
        });
    }
}

fn key_map(plan: &TablePlan, key: &[Val]) -> BTreeMap<String, Val> {
    plan.key_names.iter().cloned().zip(key.iter().cloned()).collect()
}

/// Columns where two rows differ.
pub(super) fn differing(x: &[Val], y: &[Val]) -> Vec<usize> {
    (0..x.len().min(y.len())).filter(|&i| x[i] != y[i]).collect()
}

impl Sink for MergeSink<'_> {
    fn change(
        &mut self,
        plan: &TablePlan,
        kind: ChangeKind,
        key: &[Val],
        before: Option<&[Val]>,
        after: Option<&[Val]>,
    ) -> anyhow::Result<()> {
        if kind != self.pass {
            return Ok(());
        }
        let parent = self.parent_row(key)?;
        let fork_wins = self.prefer == Prefer::Fork;
        match (kind, before, after, parent) {
            // The fork deleted the row.
            (ChangeKind::Delete, Some(b), _, Some(p)) => {
                let changed = differing(b, &p);
                if changed.is_empty() {
                    return self.delete(plan, key);
                }
                for c in changed {
                    self.conflict(plan, ConflictKind::DeleteUpdate, key, c, Some(&b[c]), None, Some(&p[c]));
                }
                if fork_wins {
                    self.delete(plan, key)?;
                }
            }
            (ChangeKind::Delete, _, _, None) => {} // deleted on both sides
            // The fork changed the row.
            (ChangeKind::Update, Some(b), Some(f), None) => {
                for c in differing(b, f) {
                    self.conflict(plan, ConflictKind::UpdateDelete, key, c, Some(&b[c]), Some(&f[c]), None);
                }
                if fork_wins {
                    self.insert(plan, key, f, true)?;
                }
            }
            (ChangeKind::Update, Some(b), Some(f), Some(p)) => {
                let mut set = Vec::new();
                for c in differing(b, f) {
                    if p[c] == b[c] {
                        set.push((c, f[c].clone()));
                    } else if p[c] != f[c] {
                        self.conflict(plan, ConflictKind::Cell, key, c, Some(&b[c]), Some(&f[c]), Some(&p[c]));
                        if fork_wins {
                            set.push((c, f[c].clone()));
                        }
                    }
                }
                self.update(plan, key, &set)?;
            }
            // The fork inserted the row.
            (ChangeKind::Insert, _, Some(f), None) => self.insert(plan, key, f, true)?,
            (ChangeKind::Insert, _, Some(f), Some(p)) => {
                let diff = differing(f, &p);
                if diff.is_empty() {
                    return Ok(());
                }
                if self.rekey {
                    // Both sides appended a row under the same rowid; the
                    // rowid is no one's key: the fork's row gets a new one.
                    return self.insert(plan, key, f, false);
                }
                for &c in &diff {
                    self.conflict(plan, ConflictKind::Insert, key, c, None, Some(&f[c]), Some(&p[c]));
                }
                if fork_wins {
                    let set: Vec<(usize, Val)> = diff.iter().map(|&c| (c, f[c].clone())).collect();
                    self.update(plan, key, &set)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
