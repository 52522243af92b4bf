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

use super::alter::added_columns;
use super::decide::{constraint_kind, copy_unkeyed, retry_deferred, stream_inserts, Deferred, MergeSink};
use super::foreign_keys::{fk_violations, ForeignKeys, Shape};
use super::{Conflict, ConflictKind, Prefer, SchemaAction, TableMerge};
use crate::diff::rows::{self, TablePlan};
use crate::diff::schema::kind_name;
use crate::diff::{ChangeKind, Matching, Opened, Val};
use crate::schema::{quote_ident, Kind, Object, SourceSchema};
use rusqlite::Connection;
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
