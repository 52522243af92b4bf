//! Findings: what one file did, judged (SPEC 16's severities).
//!
//! Inputs are the file's run and section 11's diff of the fork after the
//! file (A) against the clone taken before it (B). Every check is scoped to
//! what the file touched, so a file that changes 100 rows of a 1 GB
//! database costs little:
//! - `integrity_check` runs per touched table (`PRAGMA integrity_check(T)`:
//!   the table and its indexes). In a database over [`FULL_CHECK_BYTES`]
//!   it is the linear `quick_check(T)` (index entries are then not
//!   matched with rows), and only on tables whose definition changed —
//!   unless the file turned off one of SQLite's own checks (`foreign_keys`,
//!   `writable_schema`, `ignore_check_constraints`): rows SQLite changed
//!   with its checks on are consistent, and scanning a 1 GB table again
//!   for 100 changed rows would cost more than the migration. A note says
//!   what was and was not checked;
//! - `foreign_key_check` runs on the tables whose rows or definition
//!   changed and on the tables that point at them, after and before, and
//!   only violations that were not there before are errors. In a large
//!   database it is skipped when foreign keys stayed on and no table was
//!   redefined or dropped (SQLite refused every violation itself);
//! - a dropped column's non-NULL values and a dropped table's rows are
//!   counted in B (only when something was dropped);
//! - a table the file dropped or renamed away and that exists again at the
//!   end was rebuilt by copying (the usual create-copy-drop-rename way to
//!   change a table in SQLite); outside auto-vacuum databases a moved root
//!   page says so too.

use super::script::Run;
use super::{FileReport, Finding, Severity};
use crate::diff::{DiffReport, Opened};
use crate::schema::quote_ident;
use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Above this size the checks are narrowed (see the module docs).
const FULL_CHECK_BYTES: i64 = 64 << 20;

pub(super) fn findings(
    a: &Opened,
    b: &Opened,
    diff: &DiffReport,
    run: &Run,
    budget: Duration,
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let mut out = Vec::new();
    let f = |severity, code, table: Option<&str>, message: String| Finding {
        severity,
        code,
        table: table.map(str::to_string),
        message,
    };
    if let Some((st, msg)) = &run.error {
        let text = one_line(&st.sql, 120);
        out.push(f(Severity::Error, "failed", None, format!("line {}: {msg} (in `{text}`)", st.line)));
    }
    if run.rolled_back {
        out.push(f(
            Severity::Warning,
            "open_transaction",
            None,
            "the file ends inside a transaction, which sqlite3 rolls back when it exits: its changes are lost (add COMMIT)"
                .into(),
        ));
    }
    if run.lock > budget {
        out.push(f(
            Severity::Warning,
            "lock_budget",
            None,
            format!(
                "the write lock was held for {}, over the {} budget: writers wait that long",
                human_ms(run.lock),
                human_ms(budget)
            ),
        ));
    }

    // Schema: drops, rebuilds, renames, additions.
    let roots_a = roots(&a.conn)?;
    let roots_b = roots(&b.conn)?;
    let renamed_to = |old: &str| -> Option<String> {
        let root = roots_b.get(&("table".to_string(), old.to_lowercase()))?.1;
        diff.schema
            .added
            .iter()
            .filter(|o| o.kind == "table")
            .find(|o| roots_a.get(&("table".to_string(), o.name.to_lowercase())).map(|r| r.1) == Some(root))
            .map(|o| o.name.clone())
    };
    let mut renamed_new = BTreeSet::new();
    for o in &diff.schema.removed {
        if o.kind == "table" {
            if let Some(new) = renamed_to(&o.name) {
                out.push(f(Severity::Info, "object_renamed", Some(&new), format!("table {} renamed to {new}", o.name)));
                renamed_new.insert(new.to_lowercase());
                continue;
            }
            let rows = count(&b.conn, &format!("SELECT count(*) FROM main.{}", quote_ident(&o.name)))?;
            if rows > 0 {
                out.push(f(
                    Severity::Warning,
                    "non_null_dropped",
                    Some(&o.name),
                    format!("table {} dropped with {} in it", o.name, plural(rows, "row")),
                ));
                continue;
            }
        }
        out.push(f(
            Severity::Info,
            "object_removed",
            table_of(o.kind.as_str(), &o.name),
            format!("{} {} removed", o.kind, o.name),
        ));
    }
    // Tables on both sides that the file dropped or renamed away and made
    // again: rebuilt by copying. A moved root page says so too, except in
    // an auto-vacuum database, where SQLite moves root pages itself (a DROP
    // moves the last root into the freed page; a rebuild can end on the
    // old one).
    let auto_vacuum = count(&b.conn, "PRAGMA main.auto_vacuum")? != 0;
    for ((kind, name), (shown, root_a)) in &roots_a {
        if kind != "table" || *root_a == 0 {
            continue;
        }
        if let Some((_, root_b)) = roots_b.get(&(kind.clone(), name.clone())) {
            let moved = root_b != root_a && *root_b != 0 && !auto_vacuum;
            if moved || run.tables_gone.contains(name) {
                let rows = count(&a.conn, &format!("SELECT count(*) FROM main.{}", quote_ident(shown)))?;
                out.push(f(
                    Severity::Warning,
                    "table_rebuilt",
                    Some(shown),
                    format!(
                        "table {shown} was rebuilt by copying its {}: the write lock is held while every row is copied",
                        plural(rows, "row")
                    ),
                ));
            }
        }
    }
    for c in &diff.schema.changed {
        if c.kind == "table" {
            for (col, n) in dropped_columns(a, b, &c.name, &run.columns_dropped)? {
                out.push(f(
                    Severity::Warning,
                    "non_null_dropped",
                    Some(&c.name),
                    format!("column {}.{col} dropped with {}", c.name, plural(n, "non-NULL value")),
                ));
            }
        }
        out.push(f(
            Severity::Info,
            "object_changed",
            table_of(&c.kind, &c.name),
            format!("{} {} changed", c.kind, c.name),
        ));
    }
    for o in &diff.schema.added {
        if o.kind == "table" && renamed_new.contains(&o.name.to_lowercase()) {
            continue;
        }
        if o.kind == "index" {
            let bytes = index_bytes(&a.conn, &o.name)?;
            let on: Option<String> = a
                .conn
                .query_row(
                    "SELECT tbl_name FROM main.sqlite_master WHERE type = 'index' AND name = ?1",
                    [&o.name],
                    |r| r.get(0),
                )
                .ok();
            let where_ = on.as_deref().map(|t| format!(" on {t}")).unwrap_or_default();
            out.push(f(
                Severity::Info,
                "index_added",
                on.as_deref(),
                format!("index {}{where_} added ({})", o.name, human_bytes(bytes)),
            ));
        } else if o.kind == "table" {
            let rows = count(&a.conn, &format!("SELECT count(*) FROM main.{}", quote_ident(&o.name)))?;
            out.push(f(
                Severity::Info,
                "object_added",
                Some(&o.name),
                format!("table {} added ({})", o.name, plural(rows, "row")),
            ));
        } else {
            out.push(f(Severity::Info, "object_added", None, format!("{} {} added", o.kind, o.name)));
        }
    }
    for (k, v) in &diff.settings {
        out.push(f(Severity::Info, "setting_changed", None, format!("{k} {} → {}", v.before, v.after)));
    }

    // Rows.
    for (t, d) in diff.tables.iter().filter(|(t, _)| !t.starts_with("sqlite_")) {
        if d.deleted > 0 {
            out.push(f(
                Severity::Warning,
                "rows_deleted",
                Some(t),
                format!("{} deleted from {t}", plural(d.deleted, "row")),
            ));
        }
        if d.inserted > 0 {
            out.push(f(
                Severity::Info,
                "rows_inserted",
                Some(t),
                format!("{} inserted into {t}", plural(d.inserted, "row")),
            ));
        }
        if d.updated > 0 {
            out.push(f(
                Severity::Info,
                "rows_updated",
                Some(t),
                format!("{} updated in {t}", plural(d.updated, "row")),
            ));
        }
    }

    // Checks, scoped to what the file touched.
    let tables_a = user_tables(&a.conn)?;
    let rows_touched: BTreeSet<String> = diff.tables.keys().map(|t| t.to_lowercase()).collect();
    let mut redefined = BTreeSet::new();
    for o in diff
        .schema
        .added
        .iter()
        .map(|o| (&o.kind, &o.name))
        .chain(diff.schema.changed.iter().map(|c| (&c.kind, &c.name)))
    {
        if o.0 == "table" {
            redefined.insert(o.1.to_lowercase());
        }
    }
    let dropped: BTreeSet<String> =
        diff.schema.removed.iter().filter(|o| o.kind == "table").map(|o| o.name.to_lowercase()).collect();
    let small =
        count(&a.conn, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")? <= FULL_CHECK_BYTES;
    // In a large database, a table whose rows changed while SQLite's own
    // checks were on (constraints, foreign keys, a locked schema) is not
    // scanned again: SQLite kept it consistent. Tables whose definition
    // changed are, and every touched table when the file relaxed a check.
    let check_rows_tables = small || run.checks_off || run.foreign_keys_off;
    let mut touched = redefined.clone();
    if check_rows_tables {
        touched.extend(rows_touched.iter().cloned());
    }
    let check = if small { "integrity_check" } else { "quick_check" };
    let mut checked = Vec::new();
    for t in tables_a.iter().filter(|t| touched.contains(&t.to_lowercase())) {
        let problems = pragma_rows(&a.conn, &format!("PRAGMA main.{check}({})", quote_ident(t)))?;
        checked.push(t.clone());
        if !(problems.len() == 1 && problems[0] == "ok") {
            let shown: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
            let more = if problems.len() > 3 { format!(" (and {} more)", problems.len() - 3) } else { String::new() };
            out.push(f(
                Severity::Error,
                "integrity_check",
                Some(t),
                format!("PRAGMA {check}({t}) is not ok: {}{more}", shown.join("; ")),
            ));
        }
    }
    if !small {
        let unchecked: Vec<&String> =
            rows_touched.iter().filter(|t| !touched.contains(*t) && !t.starts_with("sqlite_")).collect();
        if !checked.is_empty() {
            report.notes.push(format!(
                "the database is over {} MiB, so tables were checked with PRAGMA quick_check (index entries not matched with rows): {}",
                FULL_CHECK_BYTES >> 20,
                checked.join(", ")
            ));
        }
        if !unchecked.is_empty() {
            report.notes.push(format!(
                "not scanned again (rows changed with SQLite's constraint and foreign key checks on): {}",
                unchecked.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    // Foreign keys: with them on throughout and no table redefined or
    // dropped, SQLite refused every violation itself; otherwise the touched
    // tables and those that point at them (or at a dropped table) are
    // checked, after and before.
    let fk_needed = small || run.foreign_keys_off || run.checks_off || !redefined.is_empty() || !dropped.is_empty();
    let mut all_touched = rows_touched.clone();
    all_touched.extend(redefined.iter().cloned());
    let mut fk_tables = Vec::new();
    if fk_needed {
        for t in &tables_a {
            let parents = fk_parents(&a.conn, t)?;
            let lower = t.to_lowercase();
            if all_touched.contains(&lower)
                || parents
                    .iter()
                    .any(|p| all_touched.contains(&p.to_lowercase()) || dropped.contains(&p.to_lowercase()))
            {
                fk_tables.push(t.clone());
            }
        }
    }
    let tables_b: BTreeSet<String> = user_tables(&b.conn)?.into_iter().map(|t| t.to_lowercase()).collect();
    for t in &fk_tables {
        let after = fk_violations(&a.conn, t)?;
        if after.is_empty() {
            continue;
        }
        let before = if tables_b.contains(&t.to_lowercase()) { fk_violations(&b.conn, t)? } else { BTreeMap::new() };
        for (parent, n) in &after {
            let was = before.get(parent).copied().unwrap_or(0);
            if *n > was {
                out.push(f(
                    Severity::Error,
                    "foreign_key_violation",
                    Some(t),
                    format!(
                        "{} of {t} point at no row of {parent} ({} new; PRAGMA foreign_key_check)",
                        plural(*n, "row"),
                        n - was
                    ),
                ));
            }
        }
    }

    out.push(f(
        Severity::Info,
        "file_size",
        None,
        format!("file size {} → {}", human_bytes(report.size_before), human_bytes(report.size_after)),
    ));
    out.sort_by_key(|x| std::cmp::Reverse(x.severity));
    report.findings = out;
    Ok(())
}

fn table_of<'a>(kind: &str, name: &'a str) -> Option<&'a str> {
    (kind == "table").then_some(name)
}

/// (type, lower-cased name) → (name, rootpage).
fn roots(conn: &Connection) -> anyhow::Result<BTreeMap<(String, String), (String, i64)>> {
    let mut stmt = conn.prepare("SELECT type, name, coalesce(rootpage, 0) FROM main.sqlite_master")?;
    let rows = stmt.query_map([], |r| {
        let (kind, name, root): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        Ok(((kind, name.to_lowercase()), (name, root)))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn count(conn: &Connection, sql: &str) -> anyhow::Result<i64> {
    Ok(conn.query_row(sql, [], |r| r.get(0))?)
}

fn pragma_rows(conn: &Connection, sql: &str) -> anyhow::Result<Vec<String>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ordinary tables (not virtual, not SQLite's own, not shadow tables).
fn user_tables(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn fk_parents(conn: &Connection, table: &str) -> anyhow::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)")?;
    let rows = stmt.query_map([table], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Violations of `table`'s foreign keys, per parent table.
fn fk_violations(conn: &Connection, table: &str) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    let mut stmt = conn.prepare(&format!("PRAGMA main.foreign_key_check({})", quote_ident(table)))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let parent: String = r.get(2)?;
        *out.entry(parent).or_insert(0) += 1;
    }
    Ok(out)
}

/// Columns of `table` in B that A no longer has (a renamed column, at the
/// same place under another name, is not dropped, unless the file dropped
/// it: `dropped`), with how many non-NULL values each held.
fn dropped_columns(
    a: &Opened,
    b: &Opened,
    table: &str,
    dropped: &BTreeSet<(String, String)>,
) -> anyhow::Result<Vec<(String, i64)>> {
    let cols = |conn: &Connection| -> anyhow::Result<Vec<String>> {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
        let rows = stmt.query_map([table], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let (ca, cb) = (cols(&a.conn)?, cols(&b.conn)?);
    let has = |list: &[String], c: &str| list.iter().any(|x| x.eq_ignore_ascii_case(c));
    let gone: Vec<(usize, &String)> = cb.iter().enumerate().filter(|(_, c)| !has(&ca, c)).collect();
    let new: Vec<usize> = ca.iter().enumerate().filter(|(_, c)| !has(&cb, c)).map(|(i, _)| i).collect();
    let mut out = Vec::new();
    for (pos, c) in gone {
        let was_dropped = dropped.contains(&(table.to_lowercase(), c.to_lowercase()));
        if ca.len() == cb.len() && new.contains(&pos) && !was_dropped {
            continue; // renamed in place
        }
        let n = count(&b.conn, &format!("SELECT count({}) FROM main.{}", quote_ident(c), quote_ident(table)))?;
        if n > 0 {
            out.push((c.clone(), n));
        }
    }
    Ok(out)
}

/// The bytes of an index's b-tree.
fn index_bytes(conn: &Connection, index: &str) -> anyhow::Result<u64> {
    let n: i64 =
        conn.query_row("SELECT coalesce(sum(pgsize), 0) FROM dbstat('main') WHERE name = ?1", [index], |r| r.get(0))?;
    Ok(n as u64)
}

fn plural(n: impl Into<i128>, what: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{} {what}s", thousands(n))
    }
}

/// 1234567 → `1,234,567`.
pub(super) fn thousands(n: i128) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

pub(super) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

pub(super) fn human_ms(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn one_line(sql: &str, max: usize) -> String {
    let s: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_well() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(plural(1u64, "row"), "1 row");
        assert_eq!(plural(2500u64, "row"), "2,500 rows");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_ms(Duration::from_millis(2300)), "2.3 s");
    }
}
