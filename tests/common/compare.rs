//! A fork against its source, independently of sqlfork: the user objects
//! and shadow tables of a schema, row counts, a whole-database [`Image`]
//! (schema, settings, a digest of every table's rows), and the schema-only
//! [`fork_and_compare`].

use super::db::{assert_sound, master, master_diff, master_set, quote_name, ro, settings, sound, sql_str, MasterRow};
use super::env::{Env, Run};
use super::files::file_bytes;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// Tables a virtual-table module creates by itself (shadow tables), found
/// independently of sqlfork: each virtual table of the source is created
/// alone in a fresh in-memory database and the tables that appear with it
/// are its shadow tables. When a virtual table cannot be created alone
/// (say, FTS4 with external content and no column list), SQLite's own
/// `PRAGMA table_list` verdict is used for it. Names are lower-cased.
pub fn module_tables(path: &Path) -> BTreeSet<String> {
    let conn = ro(path);
    let vtabs: Vec<(String, String)> = {
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
    };
    let listed_shadow: Vec<String> = {
        let mut stmt =
            conn.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'").unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(|r| r.unwrap().to_lowercase()).collect()
    };
    let mut out = BTreeSet::new();
    for (name, sql) in vtabs {
        let prefix = format!("{}_", name.to_lowercase());
        let mem = Connection::open_in_memory().unwrap();
        if mem.execute_batch(&sql).is_ok() {
            let mut stmt = mem.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").unwrap();
            for n in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
                let n = n.unwrap().to_lowercase();
                if n.starts_with(&prefix) {
                    out.insert(n);
                }
            }
        } else {
            out.extend(listed_shadow.iter().filter(|n| n.starts_with(&prefix)).cloned());
        }
    }
    out
}

/// The user objects a schema-only fork must create: every `sqlite_master`
/// row with SQL, except SQLite's own tables (`sqlite_*`) and the shadow
/// tables a virtual table makes by itself.
pub fn user_object_count(path: &Path) -> u64 {
    let shadows = module_tables(path);
    master(path)
        .into_iter()
        .filter(|(ty, name, _, sql)| {
            let lower = name.to_lowercase();
            sql.is_some() && !lower.starts_with("sqlite_") && !(ty == "table" && shadows.contains(&lower))
        })
        .count() as u64
}

/// Row counts of every user table (real and virtual, shadow tables and
/// `sqlite_*` aside) of `path`.
pub fn user_table_rows(path: &Path) -> Vec<(String, i64)> {
    let shadows = module_tables(path);
    let conn = ro(path);
    let names: Vec<String> = {
        let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
    };
    names
        .into_iter()
        .filter(|n: &String| !n.to_lowercase().starts_with("sqlite_") && !shadows.contains(&n.to_lowercase()))
        .map(|n| {
            let c: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {}", quote_name(&n)), [], |r| r.get(0))
                .unwrap_or_else(|e| panic!("count rows of {n} in {}: {e}", path.display()));
            (n, c)
        })
        .collect()
}

/// What "equal to the source" compares: `sqlite_master` (rootpage
/// aside), the settings, and every table's rows with their rowids (as a
/// count and a digest per table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub master: BTreeSet<MasterRow>,
    pub settings: Vec<(String, String)>,
    pub tables: BTreeMap<String, (u64, u64)>,
}

fn digest_value(h: &mut std::collections::hash_map::DefaultHasher, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => 0u8.hash(h),
        ValueRef::Integer(i) => (1u8, i).hash(h),
        ValueRef::Real(f) => (2u8, f.to_bits()).hash(h),
        ValueRef::Text(t) => (3u8, t).hash(h),
        ValueRef::Blob(b) => (4u8, b).hash(h),
    }
}

/// The image of a database file (opened read-only).
pub fn image(path: &Path) -> Image {
    let conn = ro(path);
    // Real tables (SQLite's own and virtual tables' shadow tables
    // included; virtual tables themselves are their shadow tables).
    let tables: Vec<(String, bool)> = {
        let mut stmt = conn
            .prepare("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'shadow')")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0))).unwrap().map(|r| r.unwrap()).collect()
    };
    let mut digests = BTreeMap::new();
    for (name, without_rowid) in tables {
        if name == "sqlite_schema" || name == "sqlite_temp_schema" {
            continue;
        }
        let q = quote_name(&name);
        let ncols: usize = conn
            .query_row(&format!("SELECT count(*) FROM pragma_table_xinfo({})", sql_str(&name)), [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap() as usize;
        let sql = if without_rowid {
            let order: Vec<String> = (1..=ncols).map(|i| i.to_string()).collect();
            format!("SELECT * FROM {q} ORDER BY {}", order.join(", "))
        } else {
            format!("SELECT _rowid_, * FROM {q} ORDER BY _rowid_")
        };
        let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql} on {}: {e}", path.display()));
        let width = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let mut n = 0u64;
        while let Some(r) = rows.next().unwrap() {
            for i in 0..width {
                digest_value(&mut h, r.get_ref(i).unwrap());
            }
            n += 1;
        }
        digests.insert(name, (n, h.finish()));
    }
    drop(conn);
    Image { master: master_set(path), settings: settings(path), tables: digests }
}

/// Assert `fork` is sound and equals the source image `want` (with its
/// rows, or, with `schema_only`, with every table but SQLite's own
/// empty; sources for schema-only checks have no virtual tables).
pub fn assert_same(want: &Image, fork: &Path, schema_only: bool, what: &str) {
    sound(fork).unwrap_or_else(|e| panic!("{what}: {e}"));
    let got = image(fork);
    assert!(
        got.master == want.master,
        "{what}: sqlite_master of {} differs:\n{}",
        fork.display(),
        master_diff(&want.master, &got.master)
    );
    assert_eq!(got.settings, want.settings, "{what}: settings of {}", fork.display());
    if schema_only {
        let user: Vec<_> = got.tables.iter().filter(|(n, (rows, _))| *rows > 0 && !n.starts_with("sqlite_")).collect();
        assert!(user.is_empty(), "{what}: a schema-only fork has rows: {user:?}");
    } else {
        let diff: Vec<_> = want
            .tables
            .iter()
            .filter(|(n, v)| got.tables.get(*n) != Some(v))
            .map(|(n, v)| format!("{n}: source {v:?}, fork {:?}", got.tables.get(n)))
            .collect();
        assert!(diff.is_empty() && got.tables.len() == want.tables.len(), "{what}: rows differ: {diff:?}");
    }
}

/// The argument that names `src` for `db fork`: `./REL` relative to the
/// temp dir the binary runs in.
pub fn src_arg(env: &Env, src: &Path) -> String {
    let rel = src.strip_prefix(env.dir.path()).expect("source lives in the test's temp dir");
    format!("./{}", rel.display())
}

/// What a schema-only fork produced, after [`fork_and_compare`] checked it.
pub struct Forked {
    pub run: Run,
    pub fork: PathBuf,
    /// Shadow tables whose SQL differs between source and fork (allowed
    /// only when the caller said so).
    pub shadow_sql_diffs: Vec<String>,
}

/// Fork `src` schema-only with `db fork ./SRC DST --json` and check the
/// fork object by object against the source: `sqlite_master` (type, name,
/// tbl_name, sql) equal as sets, the settings equal, `integrity_check` and
/// `foreign_key_check` clean, zero rows in every user table, the JSON's
/// `copy.objectsCreated` equal to the source's number of user objects, the
/// source's bytes unchanged. With `allow_shadow_sql_diff`, shadow tables of
/// virtual tables may differ in SQL only (written by another SQLite
/// version); they are reported, and everything else is compared strictly.
pub fn fork_and_compare(env: &Env, src: &Path, dst: &str, allow_shadow_sql_diff: bool) -> Forked {
    let src_master = master_set(src);
    let src_settings = settings(src);
    let shadows = module_tables(src);
    let expected_objects = user_object_count(src);
    let src_bytes = file_bytes(src);

    let run = env.run(&["db", "fork", &src_arg(env, src), dst, "--json"]).ok();
    let json = run.json();
    let fork = PathBuf::from(json["path"].as_str().expect("JSON has path"));
    assert!(fork.starts_with(&env.home), "fork {} is not under home {}", fork.display(), env.home.display());
    assert_eq!(json["status"], "healthy", "fork status\n{}", run.stdout);
    assert_eq!(json["includeData"], false, "schema-only fork\n{}", run.stdout);
    assert_eq!(json["copy"]["rowsCopied"], 0, "schema-only fork copies no rows\n{}", run.stdout);
    assert_eq!(
        json["copy"]["objectsCreated"].as_u64(),
        Some(expected_objects),
        "objectsCreated should be the number of user objects (sqlite_* and shadow tables aside)\n{}",
        run.stdout
    );

    let fork_master = master_set(&fork);
    let is_shadow = |r: &MasterRow| r.0 == "table" && shadows.contains(&r.1.to_lowercase());
    let mut shadow_sql_diffs = Vec::new();
    if allow_shadow_sql_diff {
        let strip =
            |s: &BTreeSet<MasterRow>| -> BTreeSet<MasterRow> { s.iter().filter(|r| !is_shadow(r)).cloned().collect() };
        let (a, b) = (strip(&src_master), strip(&fork_master));
        assert!(a == b, "sqlite_master differs (shadow tables aside) for {}:\n{}", src.display(), master_diff(&a, &b));
        // Shadow tables: same names and types, SQL may differ.
        let names = |s: &BTreeSet<MasterRow>| -> BTreeSet<(String, String, String)> {
            s.iter().filter(|r| is_shadow(r)).map(|r| (r.0.clone(), r.1.clone(), r.2.clone())).collect()
        };
        assert_eq!(names(&src_master), names(&fork_master), "shadow tables differ for {}", src.display());
        for r in src_master.iter().filter(|r| is_shadow(r)) {
            if !fork_master.contains(r) {
                shadow_sql_diffs.push(r.1.clone());
            }
        }
    } else {
        assert!(
            src_master == fork_master,
            "sqlite_master differs for {}:\n{}",
            src.display(),
            master_diff(&src_master, &fork_master)
        );
    }
    assert_eq!(settings(&fork), src_settings, "settings of the fork differ from {}", src.display());
    assert_sound(&fork);
    let rows: Vec<_> = user_table_rows(&fork).into_iter().filter(|(_, n)| *n != 0).collect();
    assert!(rows.is_empty(), "a schema-only fork must have no rows in user tables, found {rows:?}");
    assert!(file_bytes(src) == src_bytes, "the source {} changed", src.display());
    Forked { run, fork, shadow_sql_diffs }
}
