//! Real-world databases: every file of the corpus folder
//! (`$SQLFORK_CORPUS`, else `<crate>/../shared/corpus`) is copied into a
//! temp dir (with any -wal/-shm/-journal beside it; the originals are never
//! opened), forked schema-only, and compared with its copy. Each known file
//! has an expected outcome below, so a regression fails its test. Without
//! the folder (or a listed file) a test cannot do its job: it says so
//! loudly, and fails under `CI=true` (CI clones beside `shared/`).

mod common;

use common::*;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// What forking a corpus file must do.
enum Expect {
    /// Fork cleanly; `sqlite_master` and settings equal.
    Forks(ShadowSql),
    /// Fork cleanly although the schema needs pieces only its application
    /// defines (a collation, a tokenizer): `sqlite_master` and settings
    /// equal, and integrity_check (collations stood in for by binary order
    /// on the checking connection) is clean, or fails as on the source
    /// where only the application can check.
    ForksForItsApp,
    /// Refused with exit `code` (2 for a file that is not SQLite, 1 for a
    /// schema sqlfork cannot replay); stderr names every needle, and (when given)
    /// one of the objects whose SQL mentions `culprit`.
    Refused { code: i32, needles: &'static [&'static str], culprit: Option<&'static str> },
}

/// Shadow tables of FTS/R*Tree written by another program or SQLite
/// version may differ in SQL from what this SQLite's module creates.
enum ShadowSql {
    Same,
    MayDiffer,
}

/// The corpus folder, or None (after [`skip_or_fail`]) when it is missing.
fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SQLFORK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.is_dir() {
        return Some(dir);
    }
    // Every corpus test lands here: the first says where the corpus comes
    // from, the others point at it (one line each, not the same paragraph
    // fifteen times).
    static FIRST: std::sync::Once = std::sync::Once::new();
    let mut why = "no corpus folder (see the first corpus banner)".to_string();
    FIRST.call_once(|| {
        why = format!(
            "the corpus folder {} does not exist. The corpus is a folder of real-world SQLite files kept beside \
             the repository, not in it (`../shared/corpus` next to the clone); set SQLFORK_CORPUS to a copy to \
             run the corpus tests (README, \"Set up and try it\")",
            dir.display()
        )
    });
    skip_or_fail(&why);
    None
}

const SIDE_FILES: [&str; 3] = ["-wal", "-shm", "-journal"];

fn is_database_candidate(name: &str) -> bool {
    !name.ends_with(".md") && !name.ends_with(".txt") && !SIDE_FILES.iter().any(|s| name.ends_with(s))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Copy `original` (and its side files) into the env's temp dir; return
/// the copy.
fn copy_in(env: &Env, original: &Path) -> PathBuf {
    let name = original.file_name().unwrap().to_str().unwrap();
    let copy = env.path(name);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let from = sibling(original, suffix);
        if from.exists() {
            let to = sibling(&copy, suffix);
            std::fs::copy(&from, &to).unwrap();
            let mut perm = std::fs::metadata(&to).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&to, perm).unwrap();
        }
    }
    copy
}

/// True when the file's header says WAL mode (bytes 18 and 19 are 2).
fn header_says_wal(path: &Path) -> bool {
    let b = std::fs::read(path).unwrap_or_default();
    b.len() > 19 && b[18] == 2 && b[19] == 2
}

/// Objects of `path` whose SQL mentions `needle` (case-insensitive).
fn objects_mentioning(path: &Path, needle: &str) -> Vec<String> {
    let Ok(conn) = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return vec![];
    };
    let Ok(mut stmt) = conn.prepare("SELECT name FROM sqlite_master WHERE instr(lower(sql), lower(?1)) > 0") else {
        return vec![];
    };
    stmt.query_map([needle], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
}

fn check_file(original: &Path, expect: &Expect) {
    let original_bytes = file_bytes(original);
    let env = Env::new();
    let src = copy_in(&env, original);
    let wal = header_says_wal(&src);
    let before = tree_snapshot(env.dir.path(), &[&env.home]);
    let name = src.file_name().unwrap().to_string_lossy().into_owned();

    match expect {
        Expect::Forks(shadow) => {
            let forked = fork_and_compare(&env, &src, "dst", matches!(shadow, ShadowSql::MayDiffer));
            if forked.shadow_sql_diffs.is_empty() {
                eprintln!("{name}: forked; sqlite_master and settings equal");
            } else {
                eprintln!(
                    "{name}: forked; shadow tables whose SQL differs from the source (written by another \
                     program or SQLite version), non-shadow objects equal: {:?}",
                    forked.shadow_sql_diffs
                );
            }
        }
        Expect::ForksForItsApp => {
            let run = env.run(&["db", "fork", &src_arg(&env, &src), "dst", "--json"]).ok();
            let fork = PathBuf::from(run.json()["path"].as_str().expect("JSON has path"));
            assert_eq!(run.json()["copy"]["objectsCreated"].as_u64(), Some(user_object_count(&src)), "{name}");
            let (a, b) = (master_set(&src), master_set(&fork));
            assert!(a == b, "{name}: sqlite_master differs:\n{}", master_diff(&a, &b));
            assert_eq!(settings(&fork), settings(&src), "{name}: settings differ");
            // The empty fork is sound; where checking needs the application
            // (a tokenizer), it fails exactly as on the source. (The
            // source's rows are out of binary order, so its check is not
            // compared when it runs.)
            let (ca, cb) = (check_for_app(&src), check_for_app(&fork));
            let want = if ca.starts_with("error:") { ca } else { "ok".to_string() };
            assert_eq!(cb, want, "{name}: integrity_check of the fork");
            eprintln!("{name}: forked for its application; sqlite_master and settings equal; integrity_check: {cb}");
        }
        Expect::Refused { code, needles, culprit } => {
            let run = env.run(&["db", "fork", &src_arg(&env, &src), "dst", "--json"]).code(*code).one_line_error();
            for n in *needles {
                assert!(run.stderr.contains(n), "{name}: stderr should mention {n:?}: {}", run.stderr);
            }
            if let Some(c) = culprit {
                let objects = objects_mentioning(&src, c);
                assert!(!objects.is_empty(), "test setup: {name} has objects mentioning {c}");
                assert!(
                    objects.iter().any(|o| run.stderr.contains(&format!("`{o}`"))),
                    "{name}: stderr should name one of the objects using {c} ({objects:?}): {}",
                    run.stderr
                );
            }
            assert_eq!(env.registry_len(), 0, "{name}: no registry entry after a refusal");
            assert!(env.database_files().is_empty(), "{name}: no database file after a refusal");
            eprintln!("{name}: refused as expected: {}", run.stderr.trim_end());
        }
    }

    // Nothing else written beside the copy (a WAL-mode source gets -wal and
    // -shm files from SQLite's read-only open; see the ignored test
    // fidelity::wal_source_leaves_no_files_beside_it).
    let after = tree_snapshot(env.dir.path(), &[&env.home]);
    let stray: Vec<String> = snapshot_diff(&before, &after)
        .into_iter()
        .filter(|d| {
            !(wal
                && (d == &format!("created {}", sibling(&src, "-wal").display())
                    || d == &format!("created {}", sibling(&src, "-shm").display())))
        })
        .collect();
    assert!(stray.is_empty(), "{name}: files beside the source changed: {stray:?}");
    assert!(file_bytes(original) == original_bytes, "the original {} changed", original.display());
}

/// `PRAGMA integrity_check` (or its error) on a read-only connection that
/// stands in for unknown collations with binary order.
fn check_for_app(path: &Path) -> String {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.collation_needed(|c, name| c.create_collation(name, |a: &str, b: &str| a.cmp(b))).unwrap();
    let mut stmt = match conn.prepare("PRAGMA integrity_check") {
        Ok(s) => s,
        Err(e) => return format!("error: {e}"),
    };
    match stmt.query_map([], |r| r.get::<_, String>(0)).and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>()) {
        Ok(lines) => lines.join("; "),
        Err(e) => format!("error: {e}"),
    }
}

fn run_case(file: &str, expect: Expect) {
    let Some(dir) = corpus_dir() else { return };
    let original = dir.join(file);
    if !require(original.exists(), &format!("{file} is not in the corpus folder {}", dir.display())) {
        return;
    }
    check_file(&original, &expect);
}

/// The expectation for every file of the shared corpus.
macro_rules! corpus {
    ($($test:ident: $file:literal => $expect:expr;)*) => {
        const KNOWN: &[&str] = &[$($file),*];
        $(
            #[test]
            fn $test() {
                run_case($file, $expect);
            }
        )*
    };
}

corpus! {
    // Indexes using the PHONEBOOK collation that only Android defines:
    // replayed with a stand-in that the fork never stores.
    android_contacts2_a: "android_contacts2_a.db" => Expect::ForksForItsApp;
    // Views and triggers call calibre-only functions: fine until used.
    calibre_metadata: "calibre_metadata.db" => Expect::Forks(ShadowSql::Same);
    chinook: "chinook.sqlite" => Expect::Forks(ShadowSql::Same);
    django_ecommerce: "django_ecommerce_db.sqlite3" => Expect::Forks(ShadowSql::Same);
    // page_size 32768, WAL in the header.
    ff2023_favicons: "ff2023_favicons.sqlite" => Expect::Forks(ShadowSql::Same);
    firefox3_places: "firefox3_places.sqlite" => Expect::Forks(ShadowSql::Same);
    gitea: "gitea.db" => Expect::Forks(ShadowSql::Same);
    // GeoPackage writes its R*Tree shadow tables with typed columns
    // (`nodeno INTEGER PRIMARY KEY, data BLOB`); this SQLite's rtree
    // module creates them untyped.
    gpkg_super: "gpkg_super.gpkg" => Expect::Forks(ShadowSql::MayDiffer);
    northwind_2023: "northwind_2023.db" => Expect::Forks(ShadowSql::Same);
    proj: "proj.db" => Expect::Forks(ShadowSql::Same);
    rails_structure_fts5: "rails_structure_fts5.db" => Expect::Forks(ShadowSql::Same);
    sakila: "sakila.db" => Expect::Forks(ShadowSql::Same);
    sqlcipher4_encrypted: "sqlcipher4_encrypted_testkey.db" =>
        Expect::Refused { code: 2, needles: &["not a SQLite database"], culprit: None };
    // FTS3 with Thunderbird's own tokenizer: written as `.dump` writes it,
    // its shadow tables from the source's own SQL.
    tb_global_messages: "tb_global-messages-db.sqlite" => Expect::ForksForItsApp;
}

/// Files in the corpus folder that the table above does not know must at
/// least fork cleanly (shadow-table SQL may differ).
#[test]
fn unlisted_corpus_files_fork_cleanly() {
    let Some(dir) = corpus_dir() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            is_database_candidate(&n) && !KNOWN.contains(&n.as_ref())
        })
        .collect();
    files.sort();
    for f in files {
        eprintln!("note: {} has no expectation in tests/corpus.rs; it must fork cleanly", f.display());
        check_file(&f, &Expect::Forks(ShadowSql::MayDiffer));
    }
}
