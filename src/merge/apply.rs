//! The three-way merge itself: the fork's changes since its base, applied
//! to the parent's current state inside a write transaction the caller
//! holds (and commits or rolls back).
//!
//! 1. **Schema.** Objects the fork added, changed or dropped (base → fork)
//!    are applied where the parent's object is still the base's (or absent
//!    for an addition); the same object changed differently on both sides
//!    is a schema conflict, which `--prefer` never resolves. A changed table
//!    is merged only when the change is added columns (`ALTER TABLE … ADD
//!    COLUMN`, what SQLite itself writes into the table's SQL); other table
//!    rebuilds are a schema conflict. A dropped table is not dropped (a
//!    note says so).
//! 2. **Rows.** The diff engine finds the fork's changed rows: the page
//!    and extent scoping (`diff::pages`) narrows each table to the rowid
//!    ranges whose pages differ, and the merge-join (`diff::rows`) streams
//!    base and fork rows there. Each change is then looked up in the parent
//!    by key (an index seek) and decided cell by cell: deletes first, then
//!    updates, then inserts (a UNIQUE value one row gives up may be taken by
//!    another); a statement a UNIQUE constraint refuses is retried after the
//!    others, and one still refused is a constraint conflict.
//! 3. **Constraints.** NOT NULL, CHECK and UNIQUE are enforced by SQLite as
//!    each row is written; foreign keys (enforcement is off so that no
//!    ON DELETE action fires on the parent) are checked with
//!    `PRAGMA foreign_key_check` on the tables concerned, before and after:
//!    a violation the merge introduced is a conflict.
//!
//! The parent's triggers do not fire: the caller's connection has triggers
//! disabled (`SQLITE_DBCONFIG_ENABLE_TRIGGER`), so their effects arrive as
//! data, as they happened on the fork.

use super::{Conflict, ConflictKind, Prefer, SchemaAction, TableMerge};
use crate::diff::rows::{self, Sink, TablePlan};
use crate::diff::schema::kind_name;
use crate::diff::{ChangeKind, Matching, Opened, Val};
use crate::schema::{quote_ident, Kind, Object, SourceSchema};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What applying did (inside the caller's transaction).
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub(crate) schema: Vec<SchemaAction>,
    pub(crate) tables: BTreeMap<String, TableMerge>,
    pub(crate) conflicts: Vec<Conflict>,
    pub(crate) notes: Vec<String>,
    pub(crate) method: Option<crate::diff::Method>,
}

/// A value bound as a parameter exactly as stored (text as its bytes).
struct P<'a>(&'a Val);

impl ToSql for P<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Val::Null => ValueRef::Null,
            Val::Int(i) => ValueRef::Integer(*i),
            Val::Real(f) => ValueRef::Real(*f),
            Val::Text(t) => ValueRef::Text(t),
            Val::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

type ObjKey = (String, String);

fn user_objects<'a>(schema: &'a SourceSchema, shadows: &HashSet<String>) -> BTreeMap<ObjKey, &'a Object> {
    schema
        .objects
        .iter()
        .filter(|o| !(o.is_internal() || o.kind == Kind::Table && shadows.contains(&o.name.to_lowercase())))
        .map(|o| ((kind_name(o).to_string(), o.name.to_lowercase()), o))
        .collect()
}

/// Apply base → fork onto the parent through `conn` (in a transaction).
pub(crate) fn apply(
    base: &Opened,
    fork: &Opened,
    conn: &Connection,
    parent_path: &std::path::Path,
    prefer: Prefer,
) -> anyhow::Result<Applied> {
    let mut out = Applied::default();
    let started = std::time::Instant::now();
    let trace = |what: &str| crate::env::trace(&format!("merge {what} at +{:?}", started.elapsed()));
    let parent_schema = crate::schema::read_schema_in_transaction(conn, parent_path)?;
    let parent_shadows = crate::diff::schema::shadow_tables(conn)?;
    trace("parent schema read");
    let ob = user_objects(&base.schema, &base.shadows);
    let of = user_objects(&fork.schema, &fork.shadows);
    let op = user_objects(&parent_schema, &parent_shadows);
    let sql_of = |m: &BTreeMap<ObjKey, &Object>, k: &ObjKey| m.get(k).map(|o| o.sql.clone());

    // 1. Schema.
    let mut post: Vec<&Object> = Vec::new();
    let mut new_tables: Vec<&Object> = Vec::new();
    let mut keys: Vec<&ObjKey> = of.keys().chain(ob.keys()).collect();
    let order: HashMap<String, usize> =
        fork.schema.objects.iter().enumerate().rev().map(|(i, o)| (o.name.to_lowercase(), i)).collect();
    keys.sort_by_key(|k| order.get(&k.1).copied().unwrap_or(usize::MAX));
    keys.dedup();
    let mut seen = HashSet::new();
    for k in keys {
        if !seen.insert(k.clone()) {
            continue;
        }
        let (b, f, p) = (sql_of(&ob, k), sql_of(&of, k), sql_of(&op, k));
        if b == f {
            continue; // the fork did not change it
        }
        let (kind, name) = (k.0.clone(), of.get(k).or(ob.get(k)).map(|o| o.name.clone()).unwrap_or_default());
        if p == f {
            // The parent already has the fork's version. A table both
            // sides added alike still gets the fork's rows (no base: every
            // row is an insert, decided against the parent's rows).
            if b.is_none() && of[k].kind == Kind::Table {
                new_tables.push(of[k]);
            }
            continue;
        }
        let action = |what: &str| SchemaAction { kind: kind.clone(), name: name.clone(), action: what.to_string() };
        let conflict = |why: &str| Conflict {
            kind: ConflictKind::Schema,
            table: name.clone(),
            key: BTreeMap::new(),
            column: None,
            base: b.clone().map(|s| Val::Text(s.into_bytes())),
            fork: f.clone().map(|s| Val::Text(s.into_bytes())),
            parent: p.clone().map(|s| Val::Text(s.into_bytes())),
            resolution: None,
            detail: Some(format!("{kind} `{name}`: {why}")),
        };
        if p != b {
            out.conflicts.push(conflict(match (&b, &f) {
                (None, _) => "added on both sides with different SQL",
                (_, None) => "dropped on the fork and changed on the parent",
                _ => "changed differently on both sides",
            }));
            continue;
        }
        // The parent still has the base's version: apply the fork's.
        match (b.as_deref(), f.as_deref()) {
            (None, Some(_)) => {
                let o = of[k];
                if o.kind == Kind::Table {
                    conn.execute_batch(&o.sql)?;
                    new_tables.push(o);
                } else {
                    post.push(o);
                }
                out.schema.push(action("added"));
            }
            (Some(_), None) => {
                let o = ob[k];
                match o.kind {
                    Kind::Table => out.notes.push(format!(
                        "the fork dropped {kind} `{name}`; a merge does not drop tables: drop it in the parent yourself if you mean to"
                    )),
                    _ => {
                        conn.execute_batch(&format!("DROP {} IF EXISTS {}", o.kind.as_str(), quote_ident(&o.name)))?;
                        out.schema.push(action("dropped"));
                    }
                }
            }
            (Some(bs), Some(fs)) => {
                let o = of[k];
                if o.kind == Kind::Table {
                    match (o.is_virtual(), added_columns(bs, fs)) {
                        (false, Some(cols)) => {
                            for c in &cols {
                                conn.execute_batch(&format!("ALTER TABLE {} ADD COLUMN {c}", quote_ident(&o.name)))?;
                            }
                            out.schema.push(action(&format!("added column{} {}", plural(cols.len()), cols.join(", "))));
                        }
                        _ => out.conflicts.push(conflict(
                            "rebuilt on the fork in a way a merge cannot apply (only added columns are merged)",
                        )),
                    }
                } else {
                    conn.execute_batch(&format!("DROP {} IF EXISTS {}", o.kind.as_str(), quote_ident(&o.name)))?;
                    post.push(o);
                    out.schema.push(action("changed"));
                }
            }
            (None, None) => {}
        }
    }
    // Settings a migration sets.
    for (name, b, f) in [
        ("user_version", base.schema.settings.user_version, fork.schema.settings.user_version),
        ("application_id", base.schema.settings.application_id, fork.schema.settings.application_id),
    ] {
        let p: i64 = conn.query_row(&format!("PRAGMA main.{name}"), [], |r| r.get(0))?;
        if b == f || p == f {
            continue;
        }
        if p == b {
            conn.execute_batch(&format!("PRAGMA main.{name} = {f}"))?;
            out.schema.push(SchemaAction { kind: "setting".into(), name: name.into(), action: format!("{b} → {f}") });
        } else {
            out.conflicts.push(Conflict {
                kind: ConflictKind::Schema,
                table: name.to_string(),
                key: BTreeMap::new(),
                column: None,
                base: Some(Val::Int(b)),
                fork: Some(Val::Int(f)),
                parent: Some(Val::Int(p)),
                resolution: None,
                detail: Some(format!("setting {name} changed differently on both sides")),
            });
        }
    }

    trace("schema merged");
    // 2. Rows: which tables and ranges can hold the fork's changes.
    let plans: Vec<TablePlan> = rows::plan_tables(fork, base, &mut out.notes)?
        .into_iter()
        .filter(|p| !p.name.to_lowercase().starts_with("sqlite_"))
        .collect();
    let scope = crate::diff::pages::scope(fork, base, &plans)?;
    out.method = Some(scope.method);
    if let Some(why) = &scope.full_reason {
        out.notes.push(format!("compared every row: {why}"));
    }
    trace("scope decided");
    let touched: Vec<&TablePlan> = plans.iter().filter(|p| scope.tables.contains_key(&p.name)).collect();
    // Foreign keys: only writes that can break one are checked (rows
    // inserted or deleted, or updates of a column a foreign key names),
    // found by a first pass over the fork's changes (as scoped: cheap).
    let fks = ForeignKeys::read(conn)?;
    let mut written: Vec<String> = new_tables.iter().map(|o| o.name.clone()).collect();
    if !fks.columns.is_empty() {
        for plan in &touched {
            if plan.matching == Matching::Multiset {
                continue;
            }
            let mut shape = Shape { fk_columns: fks.columns.get(&plan.name.to_lowercase()), relevant: false };
            rows::compare_table(fork, base, plan, &scope.tables[&plan.name], &mut shape)?;
            if shape.relevant {
                written.push(plan.name.clone());
            }
        }
    }
    let fk_tables = fks.children_of(&written);
    let fk_before = fk_violations(conn, &fk_tables)?;

    trace("foreign keys read");
    let mut deferred: Vec<Deferred> = Vec::new();
    for plan in touched {
        if plan.matching == Matching::Multiset {
            out.conflicts.push(Conflict {
                kind: ConflictKind::Schema,
                table: plan.name.clone(),
                key: BTreeMap::new(),
                column: None,
                base: None,
                fork: None,
                parent: None,
                resolution: None,
                detail: Some(format!(
                    "table `{}` has no key SQL can reach (no usable rowid or primary key), so its rows cannot be matched",
                    plan.name
                )),
            });
            continue;
        }
        let ranges = &scope.tables[&plan.name];
        let fork_obj = fork.schema.objects.iter().find(|o| o.kind == Kind::Table && o.name == plan.name);
        let mut sink = MergeSink::new(conn, prefer, plan, fork_obj, &mut out, &mut deferred)?;
        for pass in [ChangeKind::Delete, ChangeKind::Update, ChangeKind::Insert] {
            sink.pass = pass;
            rows::compare_table(fork, base, plan, ranges, &mut sink)?;
        }
    }
    // Tables the fork added: every row is an insert (into a table the
    // parent lacked, or added with the same SQL).
    for o in &new_tables {
        let plan = rows::plan_one(fork, &o.name, o.is_virtual())?;
        if plan.matching == Matching::Multiset {
            copy_unkeyed(fork, conn, &plan, &mut out)?;
            continue;
        }
        let mut sink = MergeSink::new(conn, prefer, &plan, Some(o), &mut out, &mut deferred)?;
        sink.pass = ChangeKind::Insert;
        stream_inserts(fork, &plan, &mut sink)?;
    }
    trace("rows applied");
    retry_deferred(conn, &mut deferred, &mut out)?;

    // AUTOINCREMENT counters: never behind the fork's.
    merge_sequences(base, fork, conn)?;

    // Indexes, views and triggers the fork added or changed.
    for o in post {
        if let Err(e) = conn.execute_batch(&o.sql) {
            out.conflicts.push(Conflict {
                kind: constraint_kind(&e).unwrap_or(ConflictKind::Schema),
                table: o.tbl_name.clone(),
                key: BTreeMap::new(),
                column: None,
                base: None,
                fork: None,
                parent: None,
                resolution: None,
                detail: Some(format!("{} `{}` could not be created on the merged state: {e}", kind_name(o), o.name)),
            });
        }
    }

    trace("objects created");
    // 3. Foreign keys the merge broke.
    let fk_after = fk_violations(conn, &fk_tables)?;
    for v in fk_after.difference(&fk_before) {
        let (table, rowid, parent, _) = v;
        out.conflicts.push(Conflict {
            kind: ConflictKind::ForeignKey,
            table: table.clone(),
            key: BTreeMap::from([("rowid".to_string(), Val::Int(*rowid))]),
            column: None,
            base: None,
            fork: None,
            parent: None,
            resolution: None,
            detail: Some(format!(
                "row {rowid} of `{table}` refers to a row of `{parent}` that the merged state does not have"
            )),
        });
    }
    Ok(out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Every row of the fork's table, sent to `sink` as an insert.
fn stream_inserts(fork: &Opened, plan: &TablePlan, sink: &mut dyn Sink) -> anyhow::Result<()> {
    let mut sel = plan.key_a.clone();
    sel.extend(plan.columns.iter().map(|c| quote_ident(c)));
    let sql =
        format!("SELECT {} FROM main.{} ORDER BY {}", sel.join(", "), quote_ident(&plan.name), plan.key_a.join(", "));
    let mut stmt = fork.conn.prepare(&sql)?;
    let mut q = stmt.query([])?;
    let nkey = plan.key_a.len();
    while let Some(r) = q.next()? {
        let key: Vec<Val> = (0..nkey).map(|i| r.get_ref(i).map(Val::from)).collect::<Result<_, _>>()?;
        let vals: Vec<Val> =
            (nkey..nkey + plan.columns.len()).map(|i| r.get_ref(i).map(Val::from)).collect::<Result<_, _>>()?;
        sink.change(plan, ChangeKind::Insert, &key, None, Some(&vals))?;
    }
    Ok(())
}

/// A new table whose rows have no key: copied whole.
fn copy_unkeyed(fork: &Opened, conn: &Connection, plan: &TablePlan, out: &mut Applied) -> anyhow::Result<()> {
    let cols: Vec<String> = plan.columns.iter().map(|c| quote_ident(c)).collect();
    let mut stmt = fork.conn.prepare(&format!("SELECT {} FROM main.{}", cols.join(", "), quote_ident(&plan.name)))?;
    let mut q = stmt.query([])?;
    let marks = vec!["?"; cols.len()].join(",");
    let mut ins =
        conn.prepare(&format!("INSERT INTO main.{}({}) VALUES({marks})", quote_ident(&plan.name), cols.join(",")))?;
    let mut n = 0;
    while let Some(r) = q.next()? {
        let vals: Vec<Val> = (0..cols.len()).map(|i| r.get_ref(i).map(Val::from)).collect::<Result<_, _>>()?;
        let params: Vec<P> = vals.iter().map(P).collect();
        ins.execute(rusqlite::params_from_iter(params.iter()))?;
        n += 1;
    }
    out.tables.entry(plan.name.clone()).or_default().inserted += n;
    Ok(())
}

/// The column definitions the fork's table SQL adds to the base's, when
/// that is all that changed (what `ALTER TABLE … ADD COLUMN` writes: the
/// base's SQL with `, coldef` inserted).
pub(crate) fn added_columns(base: &str, fork: &str) -> Option<Vec<String>> {
    let (b, f) = (base.as_bytes(), fork.as_bytes());
    let mut pre = 0;
    while pre < b.len() && pre < f.len() && b[pre] == f[pre] {
        pre += 1;
    }
    let mut suf = 0;
    while suf < b.len() - pre && suf < f.len() - pre && b[b.len() - 1 - suf] == f[f.len() - 1 - suf] {
        suf += 1;
    }
    if pre + suf != b.len() {
        return None; // the base's text is not all kept
    }
    let mut mid = &fork[pre..fork.len() - suf];
    // The common prefix may have eaten the comma's leading spaces, or the
    // suffix a trailing part of the last definition: move to a comma.
    let mut start = pre;
    while !mid.trim_start().starts_with(',') {
        let c = fork[..start].chars().next_back()?;
        start -= c.len_utf8();
        mid = &fork[start..fork.len() - suf];
        if start + 64 < pre {
            return None;
        }
    }
    let body = mid.trim_start().strip_prefix(',')?;
    let cols = split_top_level(body)?;
    (!cols.is_empty() && cols.iter().all(|c| !c.is_empty())).then_some(cols)
}

/// Split at commas outside parentheses, quotes and brackets.
fn split_top_level(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut cur) = (0i32, None::<char>, String::new());
    for c in s.chars() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q || (q == '[' && c == ']') {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' | '[' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '(' => {
                    depth += 1;
                    cur.push(c);
                }
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        return None;
                    }
                    cur.push(c);
                }
                ',' if depth == 0 => out.push(std::mem::take(&mut cur).trim().to_string()),
                _ => cur.push(c),
            },
        }
    }
    if depth != 0 || quote.is_some() {
        return None;
    }
    out.push(cur.trim().to_string());
    Some(out)
}

/// A statement a UNIQUE constraint refused, to try again after the others.
struct Deferred {
    sql: String,
    params: Vec<Val>,
    table: String,
    key: BTreeMap<String, Val>,
    kind: ChangeKind,
    error: String,
}

fn constraint_kind(e: &rusqlite::Error) -> Option<ConflictKind> {
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

fn retry_deferred(conn: &Connection, deferred: &mut Vec<Deferred>, out: &mut Applied) -> anyhow::Result<()> {
    loop {
        let before = deferred.len();
        let mut left = Vec::new();
        for d in deferred.drain(..) {
            let params: Vec<P> = d.params.iter().map(P).collect();
            match conn.execute(&d.sql, rusqlite::params_from_iter(params.iter())) {
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
struct MergeSink<'a> {
    conn: &'a Connection,
    prefer: Prefer,
    pass: ChangeKind,
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
    fn new(
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
        let params: Vec<P> = key.iter().map(P).collect();
        let mut q = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let n = self.cols.len();
        Ok(match q.next()? {
            None => None,
            Some(r) => Some((0..n).map(|i| r.get_ref(i).map(Val::from)).collect::<Result<_, _>>()?),
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
        let bound: Vec<P> = params.iter().map(P).collect();
        match self.conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(bound.iter())) {
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
fn differing(x: &[Val], y: &[Val]) -> Vec<usize> {
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

/// The database's foreign keys: (child, parent) pairs, and per table the
/// columns a foreign key names (as child or as parent).
struct ForeignKeys {
    pairs: Vec<(String, String)>,
    columns: HashMap<String, HashSet<String>>,
}

impl ForeignKeys {
    fn read(conn: &Connection) -> anyhow::Result<ForeignKeys> {
        let mut stmt = conn.prepare(
            "SELECT m.name, f.\"table\", f.\"from\", f.\"to\" FROM main.sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table'",
        )?;
        let rows: Vec<(String, String, String, Option<String>)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
        let mut columns: HashMap<String, HashSet<String>> = HashMap::new();
        let mut pairs = Vec::new();
        for (child, parent, from, to) in rows {
            columns.entry(child.to_lowercase()).or_default().insert(from.to_lowercase());
            // A foreign key to the parent's primary key (`to` NULL) is
            // touched only by inserts and deletes: a merge never updates a key.
            if let Some(to) = to {
                columns.entry(parent.to_lowercase()).or_default().insert(to.to_lowercase());
            } else {
                columns.entry(parent.to_lowercase()).or_default();
            }
            pairs.push((child, parent));
        }
        Ok(ForeignKeys { pairs, columns })
    }

    /// Child tables whose foreign keys a write to `written` can break:
    /// those written, and those pointing at a written table.
    fn children_of(&self, written: &[String]) -> Vec<String> {
        let w: HashSet<String> = written.iter().map(|t| t.to_lowercase()).collect();
        let mut out: Vec<String> = self
            .pairs
            .iter()
            .filter(|(child, parent)| w.contains(&child.to_lowercase()) || w.contains(&parent.to_lowercase()))
            .map(|(child, _)| child.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Whether a table's changes can break a foreign key: a row inserted or
/// deleted, or a column a foreign key names updated.
struct Shape<'a> {
    fk_columns: Option<&'a HashSet<String>>,
    relevant: bool,
}

impl Sink for Shape<'_> {
    fn change(
        &mut self,
        plan: &TablePlan,
        kind: ChangeKind,
        _key: &[Val],
        before: Option<&[Val]>,
        after: Option<&[Val]>,
    ) -> anyhow::Result<()> {
        let Some(cols) = self.fk_columns else { return Ok(()) };
        if self.relevant {
            return Ok(());
        }
        self.relevant = match (kind, before, after) {
            (ChangeKind::Update, Some(b), Some(f)) => {
                let names: Vec<&String> = plan.compared().collect();
                differing(b, f).iter().any(|&c| cols.contains(&names[c].to_lowercase()))
            }
            _ => true,
        };
        Ok(())
    }
}

type Violation = (String, i64, String, i64);

fn fk_violations(conn: &Connection, tables: &[String]) -> anyhow::Result<HashSet<Violation>> {
    let mut out = HashSet::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("PRAGMA main.foreign_key_check({})", quote_ident(t)))?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            out.insert((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0), r.get(2)?, r.get(3)?));
        }
    }
    Ok(out)
}

/// AUTOINCREMENT counters the fork moved: the parent's becomes the larger.
fn merge_sequences(base: &Opened, fork: &Opened, conn: &Connection) -> anyhow::Result<()> {
    let read = |c: &Connection, s: &SourceSchema| -> anyhow::Result<HashMap<String, i64>> {
        if !s.objects.iter().any(|o| o.name.eq_ignore_ascii_case("sqlite_sequence")) {
            return Ok(HashMap::new());
        }
        let mut stmt = c.prepare("SELECT name, seq FROM main.sqlite_sequence")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0))))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let (b, f) = (read(&base.conn, &base.schema)?, read(&fork.conn, &fork.schema)?);
    let has: bool =
        conn.query_row("SELECT count(*) FROM main.sqlite_master WHERE name = 'sqlite_sequence'", [], |r| {
            r.get::<_, i64>(0)
        })? > 0;
    if !has {
        return Ok(());
    }
    for (name, seq) in f {
        if b.get(&name) == Some(&seq) {
            continue;
        }
        let n = conn.execute(
            "UPDATE main.sqlite_sequence SET seq = max(seq, ?1) WHERE name = ?2",
            rusqlite::params![seq, name],
        )?;
        if n == 0 {
            conn.execute("INSERT INTO main.sqlite_sequence(name, seq) VALUES(?1, ?2)", rusqlite::params![name, seq])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_columns_are_found_in_the_sql_alter_table_writes() {
        assert_eq!(
            added_columns("CREATE TABLE t(a, b)", "CREATE TABLE t(a, b, c TEXT DEFAULT 'x,y')"),
            Some(vec!["c TEXT DEFAULT 'x,y'".to_string()])
        );
        assert_eq!(
            added_columns("CREATE TABLE t(a INT, b INT)", "CREATE TABLE t(a INT, b INT, c INT, d REAL CHECK (d > 0))"),
            Some(vec!["c INT".to_string(), "d REAL CHECK (d > 0)".to_string()])
        );
        assert_eq!(added_columns("CREATE TABLE t(a, b)", "CREATE TABLE t(a, c)"), None);
        assert_eq!(added_columns("CREATE TABLE t(a, b)", "CREATE TABLE t(b, a)"), None);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(a INTEGER PRIMARY KEY, b) ; ALTER TABLE t ADD COLUMN c TEXT NOT NULL DEFAULT 'q'; ALTER TABLE t ADD COLUMN d")
            .unwrap();
        let sql: String = conn.query_row("SELECT sql FROM sqlite_master", [], |r| r.get(0)).unwrap();
        assert_eq!(
            added_columns("CREATE TABLE t(a INTEGER PRIMARY KEY, b)", &sql),
            Some(vec!["c TEXT NOT NULL DEFAULT 'q'".to_string(), "d".to_string()])
        );
    }
}
