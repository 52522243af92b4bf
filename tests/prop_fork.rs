//! Property test: random schemas and data, forked by the real binary (schema
//! only, and with data by both copy methods), must compare equal to the
//! source: sqlite_master, settings, and every table's rows with rowids.
//! `PROPTEST_CASES=500 cargo test --release --test prop_fork` runs it longer.

mod common;

use common::*;
use proptest::prelude::*;
use rusqlite::Connection;
use std::path::Path;

#[derive(Debug, Clone)]
struct Column {
    name: String,
    decl: &'static str,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
    kind: u8, // 0 rowid, 1 integer primary key autoincrement, 2 without rowid, 3 strict
    generated: bool,
    index_on: Option<usize>,
}

fn table_sql(t: &Table) -> String {
    let mut defs: Vec<String> = Vec::new();
    match t.kind {
        1 => defs.push("id INTEGER PRIMARY KEY AUTOINCREMENT".into()),
        2 => defs.push("k TEXT NOT NULL".into()),
        _ => {}
    }
    for c in &t.columns {
        let decl = if t.kind == 3 && c.decl.is_empty() { "ANY" } else { c.decl };
        defs.push(format!("\"{}\" {decl}", c.name));
    }
    if t.generated {
        defs.push(format!("g TEXT GENERATED ALWAYS AS (typeof(\"{}\")) VIRTUAL", t.columns[0].name));
    }
    if t.kind == 2 {
        defs.push("PRIMARY KEY (k DESC)".into());
    }
    let suffix = match t.kind {
        2 => " WITHOUT ROWID",
        3 => " STRICT",
        _ => "",
    };
    format!("CREATE TABLE \"{}\"({}){suffix};", t.name, defs.join(", "))
}

fn value_for(decl: &str, strict: bool, seed: u64) -> String {
    let pick = seed % 6;
    let text = |s: u64| format!("'v{s}é''\"{}'", s % 7);
    match (decl, strict) {
        ("INTEGER", true) => {
            if pick == 0 {
                "NULL".into()
            } else {
                format!("{}", seed as i64 - 500)
            }
        }
        ("REAL", true) => format!("{}.5", seed % 1000),
        ("TEXT", true) => text(seed),
        ("BLOB", true) => format!("x'{:08x}'", seed as u32),
        _ => match pick {
            0 => "NULL".into(),
            1 => format!("{}", seed as i64 - 10_000),
            2 => format!("{}.25", seed % 999),
            3 => text(seed),
            4 => format!("x'{:06x}'", seed as u32 & 0xffffff),
            _ => "''".into(),
        },
    }
}

fn arb_table(i: usize) -> impl Strategy<Value = Table> {
    let decls = prop::sample::select(vec!["INTEGER", "TEXT", "REAL", "BLOB", ""]);
    (prop::collection::vec(decls, 1..5), 0u8..4, any::<bool>(), prop::option::of(0usize..4)).prop_map(
        move |(decls, kind, generated, index_on)| Table {
            name: format!("t{i} x"),
            columns: decls.iter().enumerate().map(|(j, d)| Column { name: format!("c{j}"), decl: d }).collect(),
            kind,
            generated,
            index_on,
        },
    )
}

fn arb_db() -> impl Strategy<Value = (Vec<Table>, u64, u16, bool)> {
    (1usize..4)
        .prop_flat_map(|n| {
            let tables: Vec<_> = (0..n).map(arb_table).collect();
            (tables, 0u64..60, prop::sample::select(vec![512u16, 1024, 4096, 8192]), any::<bool>())
        })
        .prop_map(|(t, rows, ps, wal)| (t, rows, ps, wal))
}

fn build(path: &Path, tables: &[Table], rows: u64, page_size: u16, wal: bool) {
    let mut sql = format!("PRAGMA page_size = {page_size}; PRAGMA user_version = {rows};");
    for t in tables {
        sql.push_str(&table_sql(t));
        if let Some(i) = t.index_on.filter(|i| *i < t.columns.len()) {
            sql.push_str(&format!("CREATE INDEX \"{}_i\" ON \"{}\"(\"c{i}\");", t.name, t.name));
        }
    }
    for t in tables {
        for r in 0..rows {
            let mut cols: Vec<String> = Vec::new();
            let mut vals: Vec<String> = Vec::new();
            if t.kind == 2 {
                cols.push("k".into());
                vals.push(format!("'key{r:04}'"));
            }
            for (j, c) in t.columns.iter().enumerate() {
                cols.push(format!("\"{}\"", c.name));
                vals.push(value_for(c.decl, t.kind == 3, r * 31 + j as u64 * 7 + 3));
            }
            if t.kind == 0 {
                // Sparse and negative rowids.
                cols.push("rowid".into());
                vals.push(format!("{}", (r as i64 - 20) * 3));
            }
            sql.push_str(&format!("INSERT INTO \"{}\"({}) VALUES ({});", t.name, cols.join(","), vals.join(",")));
        }
        if rows > 4 && t.kind != 2 {
            sql.push_str(&format!("DELETE FROM \"{}\" WHERE rowid % 3 = 0;", t.name));
        }
    }
    sql.push_str("ANALYZE;");
    if wal {
        sql.push_str("PRAGMA journal_mode = WAL;");
    }
    make_db(path, &sql);
}

/// Every table's rows (rowid when it has one, then every column quoted), in
/// key order, including sqlite_sequence and sqlite_stat1.
fn contents(path: &Path) -> Vec<(String, Vec<String>)> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: Vec<(String, bool)> = conn
        .prepare("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT IN ('sqlite_schema', 'sqlite_master') ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut out = Vec::new();
    for (t, without_rowid) in tables {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_xinfo('{}')", t.replace('\'', "''")))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|r| format!("quote(\"{}\")", r.unwrap()))
            .collect();
        let key = if without_rowid { "1".to_string() } else { "quote(_rowid_)".to_string() };
        let order = if without_rowid { "1".to_string() } else { "_rowid_".to_string() };
        let sql = format!(
            "SELECT {key} || '|' || {} FROM \"{}\" ORDER BY {order}",
            cols.join(" || '|' || "),
            t.replace('"', "\"\"")
        );
        let rows: Vec<String> =
            conn.prepare(&sql).unwrap().query_map([], |r| r.get::<_, String>(0)).unwrap().map(|r| r.unwrap()).collect();
        let mut rows = rows;
        if without_rowid || t.starts_with("sqlite_stat") {
            rows.sort();
        }
        out.push((t, rows));
    }
    out
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_databases_fork_exactly((tables, rows, page_size, wal) in arb_db()) {
        let env = Env::new();
        let src = env.path("src.db");
        build(&src, &tables, rows, page_size, wal);
        let src_master = master(&src);
        let src_settings = settings(&src);
        let src_rows = contents(&src);
        let before = std::fs::read(&src).unwrap();

        // Schema only.
        env.run(&["db", "fork", "./src.db", "schema"]).ok();
        let p = env.db_path("local/schema");
        prop_assert_eq!(master(&p), src_master.clone());
        prop_assert_eq!(settings(&p), src_settings.clone());
        assert_sound(&p);

        // With data, page copy (the default).
        env.run(&["db", "fork", "./src.db", "pages", "--with-data"]).ok();
        let p = env.db_path("local/pages");
        prop_assert_eq!(master(&p), src_master.clone());
        prop_assert_eq!(settings(&p), src_settings.clone());
        prop_assert_eq!(contents(&p), src_rows.clone());
        assert_sound(&p);

        // With data, row copy.
        std::fs::write(env.home.join("config.toml"), "copy_method = \"rows\"\nrows_per_page = 7\n").unwrap();
        env.run(&["db", "fork", "./src.db", "rows", "--with-data"]).ok();
        let p = env.db_path("local/rows");
        prop_assert_eq!(master(&p), src_master);
        prop_assert_eq!(settings(&p), src_settings);
        prop_assert_eq!(contents(&p), src_rows);
        assert_sound(&p);

        prop_assert!(std::fs::read(&src).unwrap() == before, "the source's bytes changed");
    }
}
