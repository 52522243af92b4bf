//! Row comparison: both sides streamed in key order and merge-joined, so
//! memory stays bounded whatever the table's size.
//!
//! Rows are matched by rowid (or its INTEGER PRIMARY KEY alias), by the
//! declared key of a WITHOUT ROWID table, or, when a table has no key SQL
//! can reach, compared as multisets. Values compare exactly (type and
//! bytes; no collation).

use super::pages::Ranges;
use super::value::{row_vals, Val};
use super::{ChangeKind, ColumnChange, Matching, Opened, RowChange, TableDiff};
use crate::schema::{quote_ident, Kind};
use anyhow::Context;
use rusqlite::Connection;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// How to read one table on both sides.
#[derive(Debug, Clone)]
pub(crate) struct TablePlan {
    /// The name in A (B's may differ in case).
    pub(crate) name: String,
    pub(crate) name_b: String,
    pub(crate) matching: Matching,
    pub(crate) is_virtual: bool,
    pub(crate) without_rowid: bool,
    /// The key: the rowid expression on each side (`_rowid_`, or the
    /// INTEGER PRIMARY KEY column when every alias is a column's name), or
    /// the primary-key columns.
    pub(crate) key_a: Vec<String>,
    pub(crate) key_b: Vec<String>,
    /// The key's name in output (`rowid`, or the key columns).
    pub(crate) key_names: Vec<String>,
    /// Columns both sides have, in A's order (generated and hidden columns
    /// left out: they follow from the others and cannot be inserted).
    pub(crate) columns: Vec<String>,
    /// Columns of A that B lacks (added, or renamed), compared with what B
    /// gives for them: the added column's DEFAULT (or NULL), as a literal,
    /// or the renamed column of B. Empty when both tables have the same
    /// columns (in the SQL patch's row pass, non-empty only for a table
    /// that `ALTER TABLE … ADD COLUMN` brings to A's SQL).
    pub(crate) extra: Vec<Extra>,
}

/// A column of A that B does not have, and the expression that gives B's
/// side of the comparison.
#[derive(Debug, Clone)]
pub(crate) struct Extra {
    /// The column's name in A.
    pub(crate) name: String,
    /// What B's SELECT reads for it: a literal (the DEFAULT) or B's column.
    pub(crate) expr_b: String,
}

impl TablePlan {
    /// Every compared column's name in A, in the order rows carry them.
    pub(crate) fn compared(&self) -> impl Iterator<Item = &String> {
        self.columns.iter().chain(self.extra.iter().map(|e| &e.name))
    }
}

/// The tables present on both sides, as they will be compared. Virtual
/// tables whose module is unavailable are skipped with a note.
pub(crate) fn plan_tables(a: &Opened, b: &Opened, notes: &mut Vec<String>) -> anyhow::Result<Vec<TablePlan>> {
    let mut plans = Vec::new();
    for oa in a.schema.objects.iter().filter(|o| o.kind == Kind::Table) {
        if a.shadows.contains(&oa.name.to_lowercase()) {
            continue;
        }
        let Some(ob) = b.schema.objects.iter().find(|o| {
            o.kind == Kind::Table && o.name.eq_ignore_ascii_case(&oa.name) && o.is_virtual() == oa.is_virtual()
        }) else {
            continue;
        };
        if oa.is_virtual() && !(readable(&a.conn, &oa.name) && readable(&b.conn, &ob.name)) {
            notes.push(format!("virtual table `{}` was not compared: its module is not available to sqlfork", oa.name));
            continue;
        }
        let plan = plan_table(a, b, &oa.name, &ob.name, oa.is_virtual(), notes)
            .with_context(|| format!("could not read the layout of table `{}`", oa.name))?;
        if plan.matching == Matching::Multiset {
            notes.push(format!(
                "table `{}` has no key SQL can reach; its rows were compared as multisets (inserted and deleted only)",
                plan.name
            ));
        }
        plans.push(plan);
    }
    Ok(plans)
}

fn readable(conn: &Connection, table: &str) -> bool {
    conn.prepare(&format!("SELECT rowid FROM main.{} LIMIT 0", quote_ident(table))).is_ok()
}

struct Layout {
    /// (name, hidden) for every column.
    columns: Vec<(String, i64)>,
    /// (declared type, DEFAULT expression) for every column, in the same order.
    decls: Vec<(String, Option<String>)>,
    without_rowid: bool,
    /// Primary-key columns in key order.
    pk: Vec<String>,
}

fn layout(conn: &Connection, table: &str) -> anyhow::Result<Layout> {
    let mut columns = Vec::new();
    let mut decls = Vec::new();
    let mut pk: Vec<(i64, String)> = Vec::new();
    let mut stmt = conn.prepare(&format!("PRAGMA main.table_xinfo({})", quote_ident(table)))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(1)?;
        let pk_pos: i64 = r.get(5)?;
        let hidden: i64 = r.get(6)?;
        if pk_pos > 0 {
            pk.push((pk_pos, name.clone()));
        }
        decls.push((r.get::<_, Option<String>>(2)?.unwrap_or_default(), r.get::<_, Option<String>>(4)?));
        columns.push((name, hidden));
    }
    pk.sort();
    let without_rowid = conn
        .query_row("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1", [table], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap_or(0)
        != 0;
    Ok(Layout { columns, decls, without_rowid, pk: pk.into_iter().map(|(_, n)| n).collect() })
}

/// The expression that reads the rowid: the first of `_rowid_`, `rowid`,
/// `oid` no column is named, else an INTEGER PRIMARY KEY column.
fn rowid_expr(conn: &Connection, table: &str, l: &Layout) -> anyhow::Result<Option<String>> {
    let names: Vec<String> = l.columns.iter().map(|(n, _)| n.to_lowercase()).collect();
    if let Some(alias) = ["_rowid_", "rowid", "oid"].iter().find(|a| !names.contains(&a.to_string())) {
        return Ok(Some(alias.to_string()));
    }
    // Every alias is taken: an INTEGER PRIMARY KEY column is the rowid.
    Ok(integer_primary_key(conn, table, l)?.map(|c| quote_ident(&c)))
}

/// The INTEGER PRIMARY KEY column (the rowid's alias), if the table has one.
/// `INTEGER PRIMARY KEY DESC` and `INT PRIMARY KEY` are not aliases: SQLite
/// makes an index for those.
fn integer_primary_key(conn: &Connection, table: &str, l: &Layout) -> anyhow::Result<Option<String>> {
    if l.pk.len() == 1 && !l.without_rowid {
        let decl: String = conn.query_row(
            &format!("SELECT type FROM pragma_table_info({}) WHERE name = ?1", sql_string(table)),
            [&l.pk[0]],
            |r| r.get(0),
        )?;
        let desc_key: bool = conn
            .query_row(
                &format!("SELECT count(*) FROM pragma_index_list({}) WHERE origin = 'pk'", sql_string(table)),
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)?;
        if decl.eq_ignore_ascii_case("INTEGER") && !desc_key {
            return Ok(Some(l.pk[0].clone()));
        }
    }
    Ok(None)
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn plan_table(
    a: &Opened,
    b: &Opened,
    name_a: &str,
    name_b: &str,
    is_virtual: bool,
    notes: &mut Vec<String>,
) -> anyhow::Result<TablePlan> {
    let la = layout(&a.conn, name_a)?;
    let lb = layout(&b.conn, name_b)?;
    let columns: Vec<String> = la
        .columns
        .iter()
        .filter(|(n, h)| *h == 0 && lb.columns.iter().any(|(m, hb)| *hb == 0 && m.eq_ignore_ascii_case(n)))
        .map(|(n, _)| n.clone())
        .collect();
    let extra = if is_virtual { vec![] } else { extra_columns(name_a, &la, &lb, notes) };
    let mut plan = TablePlan {
        name: name_a.to_string(),
        name_b: name_b.to_string(),
        matching: Matching::Multiset,
        is_virtual,
        without_rowid: la.without_rowid,
        key_a: vec![],
        key_b: vec![],
        key_names: vec![],
        columns,
        extra,
    };
    let same_pk = la.pk.len() == lb.pk.len() && la.pk.iter().zip(&lb.pk).all(|(x, y)| x.eq_ignore_ascii_case(y));
    if la.without_rowid && lb.without_rowid && same_pk && !la.pk.is_empty() {
        plan.matching = Matching::Key;
        plan.key_a = la.pk.iter().map(|c| quote_ident(c)).collect();
        plan.key_b = plan.key_a.clone();
        plan.key_names = la.pk.clone();
    } else if !la.without_rowid && !lb.without_rowid {
        if is_virtual {
            plan.matching = Matching::Rowid;
            plan.key_a = vec!["rowid".into()];
            plan.key_b = plan.key_a.clone();
            plan.key_names = plan.key_a.clone();
        } else if let (Some(ka), Some(kb)) = (rowid_expr(&a.conn, name_a, &la)?, rowid_expr(&b.conn, name_b, &lb)?) {
            plan.matching = Matching::Rowid;
            plan.key_names = vec![match integer_primary_key(&a.conn, name_a, &la)? {
                Some(col) => col,
                None => "rowid".to_string(),
            }];
            plan.key_a = vec![ka];
            plan.key_b = vec![kb];
        }
    }
    Ok(plan)
}

/// The columns of A that B lacks, and what B gives for each.
///
/// When B lacks columns of A and A lacks none of B's, those columns were
/// added: a row's value is compared with what the column's DEFAULT (or
/// NULL) gives, so a migration's backfill counts as updates and an
/// untouched row does not. When each side lacks the same number of
/// columns at the same positions, they were renamed (`ALTER TABLE … RENAME
/// COLUMN` keeps the position) and are compared with each other. Anything
/// else cannot be told apart from drops and adds, and those columns are not
/// compared (with a note). Columns only B has (dropped) are never compared:
/// a drop is one schema change.
fn extra_columns(table: &str, la: &Layout, lb: &Layout, notes: &mut Vec<String>) -> Vec<Extra> {
    let visible = |l: &Layout| -> Vec<usize> { (0..l.columns.len()).filter(|&i| l.columns[i].1 == 0).collect() };
    let (va, vb) = (visible(la), visible(lb));
    let missing_in = |from: &Layout, idx: &[usize], other: &Layout| -> Vec<usize> {
        idx.iter()
            .enumerate()
            .filter(|(_, &i)| !other.columns.iter().any(|(m, h)| *h == 0 && m.eq_ignore_ascii_case(&from.columns[i].0)))
            .map(|(pos, _)| pos)
            .collect()
    };
    // Positions among the visible columns.
    let (only_a, only_b) = (missing_in(la, &va, lb), missing_in(lb, &vb, la));
    if only_a.is_empty() {
        return vec![];
    }
    if !only_b.is_empty() {
        if only_a == only_b {
            return only_a
                .iter()
                .map(|&p| Extra { name: la.columns[va[p]].0.clone(), expr_b: quote_ident(&lb.columns[vb[p]].0) })
                .collect();
        }
        notes.push(format!(
            "table `{table}` both gained and lost columns; the values of its new columns were not compared"
        ));
        return vec![];
    }
    let mut extra = Vec::new();
    for p in only_a {
        let i = va[p];
        let name = &la.columns[i].0;
        let (decl, dflt) = &la.decls[i];
        match default_value(decl, dflt.as_deref()) {
            Some(v) => extra.push(Extra { name: name.clone(), expr_b: v.literal() }),
            None => notes.push(format!(
                "column `{name}` of table `{table}` was added with a DEFAULT that is not constant; its values were not compared"
            )),
        }
    }
    extra
}

/// The value a column declared `decl DEFAULT dflt` gets in a row that does
/// not set it (the column's affinity applied), or `None` when the DEFAULT is
/// not one constant value (`CURRENT_TIMESTAMP`, `random()`) or cannot be
/// evaluated here.
fn default_value(decl: &str, dflt: Option<&str>) -> Option<Val> {
    let Some(dflt) = dflt else { return Some(Val::Null) };
    if dflt.to_ascii_uppercase().contains("CURRENT_") {
        return None;
    }
    let conn = Connection::open_in_memory().ok()?;
    conn.execute_batch(&format!("CREATE TABLE d(x {decl} DEFAULT {dflt})")).ok()?;
    let mut values = Vec::new();
    for _ in 0..2 {
        conn.execute_batch("DELETE FROM d; INSERT INTO d DEFAULT VALUES").ok()?;
        values.push(conn.query_row("SELECT x FROM d", [], |r| r.get_ref(0).map(Val::from)).ok()?);
    }
    (values[0] == values[1]).then(|| values.swap_remove(0))
}

/// Where changes go: counted and listed for the report, or written as SQL.
pub(crate) trait Sink {
    /// A row in A and not in B (`before` is None), in B and not in A
    /// (`after` is None), or in both with different values.
    fn change(
        &mut self,
        plan: &TablePlan,
        kind: ChangeKind,
        key: &[Val],
        before: Option<&[Val]>,
        after: Option<&[Val]>,
    ) -> anyhow::Result<()>;
}

/// Counts every change and keeps the first `limit` of each table.
pub(crate) struct Collect {
    limit: usize,
    pub(crate) diff: TableDiff,
}

impl Collect {
    pub(crate) fn new(limit: usize) -> Self {
        Collect {
            limit,
            diff: TableDiff { inserted: 0, deleted: 0, updated: 0, matched_by: Matching::Rowid, rows: vec![] },
        }
    }
    pub(crate) fn into_diff(mut self, matching: Matching) -> TableDiff {
        self.diff.matched_by = matching;
        self.diff
    }
}

impl Sink for Collect {
    fn change(
        &mut self,
        plan: &TablePlan,
        kind: ChangeKind,
        key: &[Val],
        before: Option<&[Val]>,
        after: Option<&[Val]>,
    ) -> anyhow::Result<()> {
        match kind {
            ChangeKind::Insert => self.diff.inserted += 1,
            ChangeKind::Delete => self.diff.deleted += 1,
            ChangeKind::Update => self.diff.updated += 1,
        }
        if self.diff.rows.len() >= self.limit {
            return Ok(());
        }
        let key: BTreeMap<String, Val> = plan.key_names.iter().cloned().zip(key.iter().cloned()).collect();
        let columns = plan
            .compared()
            .enumerate()
            .filter_map(|(i, c)| {
                let (x, y) = (before.map(|v| v[i].clone()), after.map(|v| v[i].clone()));
                if kind == ChangeKind::Update && x == y {
                    return None;
                }
                Some(ColumnChange { column: c.clone(), before: x, after: y })
            })
            .collect();
        self.diff.rows.push(RowChange { change: kind, key, columns });
        Ok(())
    }
}

/// A row as read: its key and its compared columns.
struct Row {
    key: Vec<Val>,
    vals: Vec<Val>,
}

fn select_sql(plan: &TablePlan, side_a: bool, ranged: bool) -> String {
    let (table, key) = if side_a { (&plan.name, &plan.key_a) } else { (&plan.name_b, &plan.key_b) };
    let mut cols: Vec<String> = plan.columns.iter().map(|c| quote_ident(c)).collect();
    cols.extend(plan.extra.iter().map(|e| if side_a { quote_ident(&e.name) } else { e.expr_b.clone() }));
    let mut sel: Vec<String> = key.to_vec();
    sel.extend(cols.iter().cloned());
    if sel.is_empty() {
        sel.push("NULL".into());
    }
    // Multisets sort by every column, named by position: B's side of an
    // added column is a literal, and a bare integer in ORDER BY (even
    // with a COLLATE) means a result column.
    let order: Vec<String> = if plan.matching == Matching::Multiset {
        (key.len() + 1..=key.len() + cols.len()).map(|i| i.to_string()).collect()
    } else {
        key.to_vec()
    };
    let mut sql = format!("SELECT {} FROM main.{}", sel.join(", "), quote_ident(table));
    if ranged {
        sql.push_str(&format!(" WHERE {} BETWEEN ?1 AND ?2", key[0]));
    }
    if !order.is_empty() {
        let order: Vec<String> = order.iter().map(|c| format!("{c} COLLATE BINARY")).collect();
        sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    }
    sql
}

/// Compare one table over `ranges` (rowid ranges, or all of it), sending
/// every difference to `sink`.
pub(crate) fn compare_table(
    a: &Opened,
    b: &Opened,
    plan: &TablePlan,
    ranges: &Ranges,
    sink: &mut dyn Sink,
) -> anyhow::Result<()> {
    let ranged = matches!(ranges, Ranges::Rowids(_));
    let result = (|| -> anyhow::Result<()> {
        // Prepared once per table, run once per range.
        let mut sa = a.conn.prepare(&select_sql(plan, true, ranged))?;
        let mut sb = b.conn.prepare(&select_sql(plan, false, ranged))?;
        match ranges {
            Ranges::All => merge(plan, &mut sa.query([])?, &mut sb.query([])?, sink),
            Ranges::Rowids(list) => list
                .iter()
                .try_for_each(|(lo, hi)| merge(plan, &mut sa.query([lo, hi])?, &mut sb.query([lo, hi])?, sink)),
        }
    })();
    result.with_context(|| format!("could not compare the rows of table `{}`", plan.name))
}

/// Every row of `plan`'s table in `conn`, ordered by the key columns `key`
/// (none: in the order SQLite reads them), given to `f` as its key and its
/// values (`plan.columns`).
pub(crate) fn each_row(
    conn: &Connection,
    plan: &TablePlan,
    key: &[String],
    mut f: impl FnMut(&[Val], &[Val]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut sel = key.to_vec();
    sel.extend(plan.columns.iter().map(|c| quote_ident(c)));
    if sel.is_empty() {
        sel.push("NULL".into());
    }
    let mut sql = format!("SELECT {} FROM main.{}", sel.join(", "), quote_ident(&plan.name));
    if !key.is_empty() {
        sql.push_str(&format!(" ORDER BY {}", key.join(", ")));
    }
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let nkey = key.len();
    while let Some(r) = rows.next()? {
        f(&row_vals(r, 0..nkey)?, &row_vals(r, nkey..nkey + plan.columns.len())?)?;
    }
    Ok(())
}

fn merge(
    plan: &TablePlan,
    ra: &mut rusqlite::Rows,
    rb: &mut rusqlite::Rows,
    sink: &mut dyn Sink,
) -> anyhow::Result<()> {
    let nkey = plan.key_a.len();
    let ncols = plan.columns.len() + plan.extra.len();
    let read = |rows: &mut rusqlite::Rows| -> anyhow::Result<Option<Row>> {
        Ok(match rows.next()? {
            None => None,
            Some(r) => Some(Row { key: row_vals(r, 0..nkey)?, vals: row_vals(r, nkey..nkey + ncols)? }),
        })
    };
    let multiset = plan.matching == Matching::Multiset;
    let (mut x, mut y) = (read(ra)?, read(rb)?);
    loop {
        let ord = match (&x, &y) {
            (None, None) => return Ok(()),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(ra_), Some(rb_)) => {
                if multiset {
                    cmp_vals(&ra_.vals, &rb_.vals)
                } else {
                    cmp_vals(&ra_.key, &rb_.key)
                }
            }
        };
        match ord {
            Ordering::Less => {
                let r = x.take().expect("a row");
                sink.change(plan, ChangeKind::Insert, &r.key, None, Some(&r.vals))?;
                x = read(ra)?;
            }
            Ordering::Greater => {
                let r = y.take().expect("a row");
                sink.change(plan, ChangeKind::Delete, &r.key, Some(&r.vals), None)?;
                y = read(rb)?;
            }
            Ordering::Equal => {
                let (ra_, rb_) = (x.take().expect("a row"), y.take().expect("a row"));
                if ra_.vals != rb_.vals || ra_.key != rb_.key {
                    if multiset {
                        // Equal in sort order (1 and 1.0) but not the same value.
                        sink.change(plan, ChangeKind::Delete, &rb_.key, Some(&rb_.vals), None)?;
                        sink.change(plan, ChangeKind::Insert, &ra_.key, None, Some(&ra_.vals))?;
                    } else {
                        sink.change(plan, ChangeKind::Update, &ra_.key, Some(&rb_.vals), Some(&ra_.vals))?;
                    }
                }
                x = read(ra)?;
                y = read(rb)?;
            }
        }
    }
}

fn cmp_vals(a: &[Val], b: &[Val]) -> Ordering {
    a.iter().zip(b).map(|(x, y)| x.sqlite_cmp(y)).find(|o| *o != Ordering::Equal).unwrap_or(Ordering::Equal)
}

/// A plan that reads one table of one side (for dumping its rows).
pub(crate) fn plan_one(side: &Opened, name: &str, is_virtual: bool) -> anyhow::Result<TablePlan> {
    plan_table(side, side, name, name, is_virtual, &mut Vec::new())
}
