//! `--format sql`: SQL that turns B into A.
//!
//! Unlike `sqldiff`'s patch it keeps what a migration relies on: tables
//! whose SQL changed (ADD/DROP/RENAME COLUMN, new DEFAULTs, WITHOUT ROWID)
//! are re-created from A's SQL with A's rows and rowids (a table that only
//! gained columns is altered with `ADD COLUMN` and its rows updated),
//! statistics rows lost with a dropped table are written again, generated columns
//! are never inserted, `sqlite_sequence` (AUTOINCREMENT counters) and
//! `user_version`/`application_id` end as A has them, renamed and dropped
//! tables follow, and triggers cannot fire while it applies: every trigger
//! (and view) of B is dropped first and A's are created last. It runs in
//! one transaction with foreign keys off (set before BEGIN, where the
//! PRAGMA takes effect).

use super::rows::{self, Sink, TablePlan};
use super::schema::kind_name;
use super::value::Val;
use super::{ChangeKind, Matching, Opened};
use crate::schema::{quote_ident, Kind, Object};
use anyhow::Context;
use std::collections::HashSet;
use std::io::Write;

/// Write the patch that turns B into A.
pub(crate) fn write_patch(a: &Opened, b: &Opened, out: &mut dyn Write) -> anyhow::Result<()> {
    let diff = super::schema::diff_schema(a, b);
    writeln!(out, "-- SQL that turns {} into {} (sqlfork db diff --format sql)", b.label, a.label)?;
    writeln!(out, "PRAGMA foreign_keys = OFF;")?;
    writeln!(out, "BEGIN;")?;

    let user = |o: &&Object, side: &Opened| !o.is_internal() && !side.shadows.contains(&o.name.to_lowercase());
    // Triggers and views of B go first, so nothing fires and nothing
    // depends on a table while tables change; A's are created last.
    for o in b.schema.objects.iter().filter(|o| user(o, b)) {
        match o.kind {
            Kind::Trigger => writeln!(out, "DROP TRIGGER IF EXISTS {};", quote_ident(&o.name))?,
            Kind::View => writeln!(out, "DROP VIEW IF EXISTS {};", quote_ident(&o.name))?,
            _ => {}
        }
    }
    let changed: HashSet<(String, String)> =
        diff.changed.iter().map(|c| (c.kind.clone(), c.name.to_lowercase())).collect();
    let added: HashSet<(String, String)> = diff.added.iter().map(|c| (c.kind.clone(), c.name.to_lowercase())).collect();
    for o in diff.removed.iter().filter(|o| o.kind == "index") {
        writeln!(out, "DROP INDEX IF EXISTS {};", quote_ident(&o.name))?;
    }
    for c in diff.changed.iter().filter(|c| c.kind == "index") {
        writeln!(out, "DROP INDEX IF EXISTS {};", quote_ident(&c.name))?;
    }
    for o in diff.removed.iter().filter(|o| o.kind.ends_with("table")) {
        writeln!(out, "DROP TABLE IF EXISTS {};", quote_ident(&o.name))?;
    }

    // The row pass's plans (read first: a table that only gained columns
    // is altered in place only when its rows can be compared).
    let mut notes = Vec::new();
    let all_plans = rows::plan_tables(a, b, &mut notes)?;

    // Tables A has with other SQL than B, or that B lacks: created from A's
    // SQL and filled with A's rows — unless B's table only lacks columns
    // that `ALTER TABLE … ADD COLUMN` gives it (then its rows are patched
    // below, like any table's).
    let mut rebuilt: HashSet<String> = HashSet::new();
    for o in a.schema.objects.iter().filter(|o| o.kind == Kind::Table && user(o, a)) {
        let key = (kind_name(o).to_string(), o.name.to_lowercase());
        let is_changed = changed.contains(&key);
        if !is_changed && !added.contains(&key) {
            continue;
        }
        if is_changed {
            let ob = b.schema.objects.iter().find(|x| x.kind == Kind::Table && x.name.eq_ignore_ascii_case(&o.name));
            let plan = all_plans.iter().find(|p| p.name.eq_ignore_ascii_case(&o.name));
            if let Some(alters) = ob.zip(plan).and_then(|(ob, plan)| add_columns(o, ob, plan)) {
                for alter in alters {
                    writeln!(out, "{alter};")?;
                }
                continue;
            }
            writeln!(out, "DROP TABLE IF EXISTS {};", quote_ident(&o.name))?;
        }
        writeln!(out, "{};", o.sql)?;
        rebuilt.insert(o.name.to_lowercase());
        let plan = rows::plan_one(a, &o.name, o.is_virtual())?;
        dump_table(a, &plan, insert_rowid(o), out).with_context(|| format!("could not read table `{}`", o.name))?;
    }

    // Dropping a table or an index drops its statistics rows too: then the
    // statistics tables are written whole, as A has them, below.
    let has = |o: &Opened, name: &str| o.schema.objects.iter().any(|x| x.name.eq_ignore_ascii_case(name));
    let restat = !rebuilt.is_empty()
        || diff.removed.iter().any(|o| o.kind == "index" || o.kind.ends_with("table"))
        || diff.changed.iter().any(|c| c.kind == "index");
    let stat_tables = ["sqlite_stat1", "sqlite_stat4"];
    let rewritten_stat = |name: &str| restat && stat_tables.iter().any(|t| t.eq_ignore_ascii_case(name));

    // Tables with the same SQL on both sides (or only new columns): their
    // changed rows.
    let plans: Vec<TablePlan> = all_plans
        .into_iter()
        .filter(|p| !rebuilt.contains(&p.name.to_lowercase()) && !p.name.eq_ignore_ascii_case("sqlite_sequence"))
        .filter(|p| !rewritten_stat(&p.name))
        .collect();
    for note in &notes {
        writeln!(out, "-- note: {note}")?;
    }
    let scope = super::pages::scope(a, b, &plans)?;
    for plan in &plans {
        let Some(ranges) = scope.tables.get(&plan.name) else { continue };
        let obj = a.schema.objects.iter().find(|o| o.kind == Kind::Table && o.name == plan.name);
        let with_rowid = obj.map(insert_rowid).unwrap_or(!plan.is_virtual);
        if plan.matching == Matching::Multiset {
            // No key SQL can reach: if anything differs, replace every row.
            let mut count = rows::Collect::new(0);
            rows::compare_table(a, b, plan, ranges, &mut count)?;
            if count.diff.changes() > 0 {
                writeln!(out, "DELETE FROM {};", quote_ident(&plan.name_b))?;
                dump_table(a, plan, false, out)?;
            }
            continue;
        }
        // Deletes, then updates, then inserts: a row that takes a UNIQUE
        // value another row gave up must come after that row changed.
        // In a table with a UNIQUE index besides its key, updated rows are
        // deleted and inserted again instead: updates in key order can
        // collide with each other (a value moving from one row to another).
        let replace_updates = has_unique_index(b, plan)?;
        for only in [ChangeKind::Delete, ChangeKind::Update, ChangeKind::Insert] {
            let mut sink = SqlSink { out: &mut *out, with_rowid, only, replace_updates };
            rows::compare_table(a, b, plan, ranges, &mut sink)?;
        }
    }

    // AUTOINCREMENT counters: as A has them.
    if let Some(seq) = a.schema.objects.iter().find(|o| o.name.eq_ignore_ascii_case("sqlite_sequence")) {
        if sequence_differs(a, b)? || !rebuilt.is_empty() {
            writeln!(out, "DELETE FROM sqlite_sequence;")?;
            let plan = rows::plan_one(a, &seq.name, false)?;
            dump_table(a, &plan, false, out)?;
        }
    }

    // Statistics tables only one side has: created by ANALYZE and filled
    // with A's rows, or dropped. (Those both sides have were compared above.)
    for stat in stat_tables {
        match (has(a, stat), has(b, stat)) {
            (true, true) if restat => {
                writeln!(out, "DELETE FROM {stat};")?;
                let plan = rows::plan_one(a, stat, false)?;
                dump_table(a, &plan, false, out)?;
            }
            (true, false) => {
                writeln!(out, "ANALYZE sqlite_schema;")?;
                writeln!(out, "DELETE FROM {stat};")?;
                let plan = rows::plan_one(a, stat, false)?;
                dump_table(a, &plan, false, out)?;
            }
            (false, true) => writeln!(out, "DROP TABLE {stat};")?,
            _ => {}
        }
    }

    // Indexes that are new, changed, or went with a re-created table; then
    // A's views and triggers.
    for o in a.schema.objects.iter().filter(|o| o.kind == Kind::Index && user(o, a)) {
        let key = ("index".to_string(), o.name.to_lowercase());
        if added.contains(&key) || changed.contains(&key) || rebuilt.contains(&o.tbl_name.to_lowercase()) {
            writeln!(out, "{};", o.sql)?;
        }
    }
    for kind in [Kind::View, Kind::Trigger] {
        for o in a.schema.objects.iter().filter(|o| o.kind == kind && user(o, a)) {
            writeln!(out, "{};", o.sql)?;
        }
    }
    let (sa, sb) = (&a.schema.settings, &b.schema.settings);
    if sa.user_version != sb.user_version {
        writeln!(out, "PRAGMA user_version = {};", sa.user_version)?;
    }
    if sa.application_id != sb.application_id {
        writeln!(out, "PRAGMA application_id = {};", sa.application_id)?;
    }
    // The PRAGMA stores the absolute value; a negative one (written by an
    // old SQLite) cannot be reproduced.
    if sa.default_cache_size != sb.default_cache_size && sa.default_cache_size >= 0 {
        writeln!(out, "PRAGMA main.default_cache_size = {};", sa.default_cache_size)?;
    }
    writeln!(out, "COMMIT;")?;
    for (name, before, after) in [
        ("page_size", sb.page_size.to_string(), sa.page_size.to_string()),
        ("auto_vacuum", sb.auto_vacuum.to_string(), sa.auto_vacuum.to_string()),
        ("encoding", sb.encoding.clone(), sa.encoding.clone()),
        ("journal_mode", journal(sb), journal(sa)),
    ] {
        if before != after {
            writeln!(out, "-- {name} differs ({before} → {after}); SQL in a transaction cannot change it")?;
        }
    }
    // Header fields no SQL sets at all: the reserved bytes are fixed when a
    // file's first table is created, and the schema format is SQLite's to
    // choose.
    for (name, before, after) in [
        ("reserved_bytes", sb.reserved_bytes.to_string(), sa.reserved_bytes.to_string()),
        ("schema_format", sb.schema_format.to_string(), sa.schema_format.to_string()),
        ("default_cache_size", sb.default_cache_size.to_string(), sa.default_cache_size.to_string()),
    ] {
        let settable = name == "default_cache_size" && sa.default_cache_size >= 0;
        if before != after && !settable {
            writeln!(out, "-- {name} differs ({before} → {after}); a SQL patch cannot set this header field")?;
        }
    }
    Ok(())
}

fn journal(s: &crate::schema::Settings) -> String {
    serde_json::to_value(s.journal_mode).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Whether B's table has a UNIQUE index other than its WITHOUT ROWID key.
fn has_unique_index(b: &Opened, plan: &TablePlan) -> anyhow::Result<bool> {
    if plan.is_virtual {
        return Ok(false);
    }
    let sql = format!(
        "SELECT count(*) FROM pragma_index_list('{}') WHERE \"unique\" AND NOT (origin = 'pk' AND ?1)",
        plan.name_b.replace('\'', "''")
    );
    let n: i64 = b.conn.query_row(&sql, [plan.without_rowid], |r| r.get(0))?;
    Ok(n > 0)
}

/// Whether inserts name the rowid: every rowid table, and FTS tables
/// (whose rowid is the document id); other virtual tables (R*Tree) carry
/// their id as a column.
fn insert_rowid(o: &Object) -> bool {
    !o.is_virtual() || o.sql.to_ascii_uppercase().contains("USING FTS")
}

fn sequence_differs(a: &Opened, b: &Opened) -> anyhow::Result<bool> {
    let read = |o: &Opened| -> anyhow::Result<Vec<(String, Option<i64>)>> {
        if !o.schema.objects.iter().any(|x| x.name.eq_ignore_ascii_case("sqlite_sequence")) {
            return Ok(vec![]);
        }
        let mut stmt = o.conn.prepare("SELECT name, seq FROM main.sqlite_sequence ORDER BY name, seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    Ok(read(a)? != read(b)?)
}

/// Column list and values of an INSERT: the key first when it is not one
/// of the columns (the rowid), then the columns.
fn insert_parts(plan: &TablePlan, with_rowid: bool, key: &[Val], vals: &[Val]) -> (Vec<String>, Vec<String>) {
    let mut cols = Vec::new();
    let mut lits = Vec::new();
    if plan.matching == Matching::Rowid && with_rowid {
        let name = &plan.key_names[0];
        if !plan.columns.iter().any(|c| c.eq_ignore_ascii_case(name)) {
            cols.push(plan.key_b[0].clone());
            lits.push(key[0].literal());
        }
    }
    for (c, v) in plan.compared().zip(vals) {
        cols.push(quote_ident(c));
        lits.push(v.literal());
    }
    (cols, lits)
}

fn insert_sql(table: &str, cols: &[String], lits: &[String]) -> String {
    if cols.is_empty() {
        format!("INSERT INTO {} DEFAULT VALUES;", quote_ident(table))
    } else {
        format!("INSERT INTO {}({}) VALUES({});", quote_ident(table), cols.join(","), lits.join(","))
    }
}

/// Every row of one of A's tables, as INSERTs, streamed in key order.
fn dump_table(a: &Opened, plan: &TablePlan, with_rowid: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let key = if plan.matching == Matching::Multiset { vec![] } else { plan.key_a.clone() };
    super::rows::each_row(&a.conn, plan, &key, |k, v| {
        let (cols, lits) = insert_parts(plan, with_rowid, k, v);
        writeln!(out, "{}", insert_sql(&plan.name, &cols, &lits))?;
        Ok(())
    })
}

/// Writes each changed row as one statement.
struct SqlSink<'a> {
    out: &'a mut dyn Write,
    with_rowid: bool,
    /// The kind of change this pass writes.
    only: ChangeKind,
    /// Write updates as a delete (in the delete pass) and an insert (in the
    /// insert pass).
    replace_updates: bool,
}

impl SqlSink<'_> {
    fn predicate(plan: &TablePlan, key: &[Val]) -> String {
        plan.key_b.iter().zip(key).map(|(k, v)| format!("{k} = {}", v.literal())).collect::<Vec<_>>().join(" AND ")
    }
}

impl Sink for SqlSink<'_> {
    fn change(
        &mut self,
        plan: &TablePlan,
        kind: ChangeKind,
        key: &[Val],
        before: Option<&[Val]>,
        after: Option<&[Val]>,
    ) -> anyhow::Result<()> {
        let kind = match (kind, self.replace_updates, self.only) {
            (ChangeKind::Update, true, ChangeKind::Delete) => ChangeKind::Delete,
            (ChangeKind::Update, true, ChangeKind::Insert) => ChangeKind::Insert,
            (ChangeKind::Update, true, _) => return Ok(()),
            (k, _, only) if k != only => return Ok(()),
            (k, _, _) => k,
        };
        let table = quote_ident(&plan.name_b);
        match kind {
            ChangeKind::Delete => {
                writeln!(self.out, "DELETE FROM {table} WHERE {};", Self::predicate(plan, key))?;
            }
            ChangeKind::Insert => {
                let (cols, lits) = insert_parts(plan, self.with_rowid, key, after.unwrap_or_default());
                writeln!(self.out, "{}", insert_sql(&plan.name_b, &cols, &lits))?;
            }
            ChangeKind::Update => {
                let (x, y) = (before.unwrap_or_default(), after.unwrap_or_default());
                let sets: Vec<String> = plan
                    .compared()
                    .zip(x.iter().zip(y))
                    .filter(|(_, (p, q))| p != q)
                    .map(|(c, (_, q))| format!("{} = {}", quote_ident(c), q.literal()))
                    .collect();
                if !sets.is_empty() {
                    writeln!(self.out, "UPDATE {table} SET {} WHERE {};", sets.join(", "), Self::predicate(plan, key))?;
                }
            }
        }
        Ok(())
    }
}

/// `ALTER TABLE … ADD COLUMN` statements that turn B's table `ob` into A's
/// `oa`, when that is all that changed: A's SQL is B's with column
/// definitions inserted where SQLite inserts them, replaying B's table and
/// the statements in memory gives exactly A's SQL, and the row pass
/// compares every new column (`plan.extra`, against its DEFAULT).
fn add_columns(oa: &Object, ob: &Object, plan: &TablePlan) -> Option<Vec<String>> {
    if oa.is_virtual() || ob.is_virtual() || plan.matching == Matching::Multiset {
        return None;
    }
    let defs = inserted_columns(&oa.sql, &ob.sql)?;
    if defs.len() != plan.extra.len() {
        return None;
    }
    let alters: Vec<String> =
        defs.iter().map(|d| format!("ALTER TABLE {} ADD COLUMN {d}", quote_ident(&ob.name))).collect();
    let mem = rusqlite::Connection::open_in_memory().ok()?;
    mem.execute_batch(&ob.sql).ok()?;
    for alter in &alters {
        mem.execute_batch(alter).ok()?;
    }
    let sql: String = mem
        .query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1", [&ob.name], |r| r.get(0))
        .ok()?;
    let names_match = plan.extra.iter().all(|e| {
        let xinfo =
            format!("SELECT count(*) FROM pragma_table_xinfo({}) WHERE name = ?1 AND hidden = 0", sql_str(&ob.name));
        mem.query_row(&xinfo, [&e.name], |r| r.get::<_, i64>(0)).is_ok_and(|n| n == 1)
    });
    (sql == oa.sql && names_match).then_some(alters)
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The column definitions A's CREATE TABLE has beyond B's, when A's text is
/// B's with `, DEF[, DEF…]` inserted at one place (what `ADD COLUMN` does).
fn inserted_columns(a: &str, b: &str) -> Option<Vec<String>> {
    if a.len() <= b.len() {
        return None;
    }
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let prefix = ab.iter().zip(bb).take_while(|(x, y)| x == y).count();
    let suffix = ab.iter().rev().zip(bb.iter().rev()).take(b.len() - prefix).take_while(|(x, y)| x == y).count();
    let (mut start, mut end) = (prefix, a.len() - suffix);
    // The common prefix may run into the insertion (`…, ` then `c, …`):
    // move the insertion left until it begins at its comma.
    while start > 0 && ab[start] != b',' && ab[start - 1] == ab[end - 1] {
        start -= 1;
        end -= 1;
    }
    let mid = a.get(start..end)?.trim_start().strip_prefix(',')?;
    let mut defs = Vec::new();
    let (mut depth, mut quote, mut from) = (0i32, None::<char>, 0usize);
    for (i, c) in mid.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '[') => quote = Some(']'),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                defs.push(mid[from..i].trim().to_string());
                from = i + 1;
            }
            _ => {}
        }
    }
    defs.push(mid[from..].trim().to_string());
    (quote.is_none() && depth == 0 && defs.iter().all(|d| !d.is_empty())).then_some(defs)
}
