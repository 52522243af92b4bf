//! Schema-only fork fidelity: a matrix of tricky schemas, each built from
//! SQL at run time, forked with the real binary, and compared object by
//! object with the source (see `common::fork_and_compare`).

mod common;

use common::*;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Build `src.db` from `sql`, fork it and compare. Returns the env (keep it
/// alive), the source and the fork.
fn check(sql: &str) -> (Env, PathBuf, PathBuf) {
    let env = Env::new();
    let src = env.db("src.db", sql);
    let forked = fork_and_compare(&env, &src, "dst", false);
    (env, src, forked.fork)
}

/// The source had rows, so "the fork has none" means something.
fn assert_source_has_rows(src: &Path) {
    let total: i64 = user_table_rows(src).iter().map(|(_, n)| n).sum();
    assert!(total > 0, "test setup: the source should have rows");
}

macro_rules! fidelity {
    ($($(#[$meta:meta])* $name:ident: $sql:expr;)*) => {$(
        $(#[$meta])*
        #[test]
        fn $name() {
            let (_env, src, _fork) = check($sql);
            assert_source_has_rows(&src);
        }
    )*};
}

fidelity! {
    fts5_normal: "
        CREATE VIRTUAL TABLE ft USING fts5(title, body);
        INSERT INTO ft VALUES ('hello', 'world'), ('a b', 'c d');";

    fts5_external_content: "
        CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, body TEXT);
        CREATE VIRTUAL TABLE docs_fts USING fts5(title, body, content='docs', content_rowid='id');
        CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
          INSERT INTO docs_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
        END;
        CREATE TRIGGER docs_ad AFTER DELETE ON docs BEGIN
          INSERT INTO docs_fts(docs_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        END;
        INSERT INTO docs(title, body) VALUES ('x', 'y'), ('p', 'q');";

    fts5_contentless: "
        CREATE VIRTUAL TABLE fc USING fts5(a, b, content='');
        CREATE VIRTUAL TABLE fcd USING fts5(a, content='', contentless_delete=1);
        CREATE VIRTUAL TABLE fcu USING fts5(a, content='', contentless_unindexed=1, b UNINDEXED);
        INSERT INTO fc(rowid, a, b) VALUES (1, 'x y', 'z'), (-7, 'neg', 'row');
        INSERT INTO fcd(rowid, a) VALUES (5, 'q');
        INSERT INTO fcu(rowid, a, b) VALUES (9, 'u', 'kept');";

    fts5_options_and_tokenizers: "
        CREATE VIRTUAL TABLE fp USING fts5(a, b UNINDEXED,
          tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3', detail = column, columnsize = 0);
        CREATE VIRTUAL TABLE ftri USING fts5(x, tokenize = 'trigram case_sensitive 1', detail = none);
        CREATE VIRTUAL TABLE fasc USING fts5(x, tokenize = \"ascii separators '.;'\");
        CREATE VIRTUAL TABLE fuc USING fts5(x, tokenize = \"unicode61 tokenchars '-_' categories 'L* N* Co'\");
        CREATE VIRTUAL TABLE fv USING fts5vocab(fp, 'row');
        CREATE VIRTUAL TABLE fvi USING fts5vocab('ftri', 'instance');
        INSERT INTO fp VALUES ('running dogs', 'ignored');
        INSERT INTO ftri VALUES ('trigram text');
        INSERT INTO fasc VALUES ('a.b;c');
        INSERT INTO fuc VALUES ('snake_case kebab-case');";

    fts4_variants: "
        CREATE VIRTUAL TABLE f4 USING fts4(a, b, tokenize=porter, prefix=\"2,4\", order=DESC);
        CREATE TABLE f4src(a, b);
        CREATE VIRTUAL TABLE f4ext USING fts4(content=\"f4src\", a, b);
        CREATE VIRTUAL TABLE f4nc USING fts4(a, b, notindexed=b, matchinfo=fts3, languageid=\"lid\");
        CREATE VIRTUAL TABLE f4u USING fts4(x, tokenize=unicode61 \"remove_diacritics=2\" \"tokenchars=-\");
        CREATE VIRTUAL TABLE f4aux USING fts4aux(f4);
        INSERT INTO f4 VALUES ('running dogs', 'cats');
        INSERT INTO f4src VALUES ('a', 'b');
        INSERT INTO f4ext(docid, a, b) VALUES (1, 'a', 'b');
        INSERT INTO f4nc(a, b, lid) VALUES ('x', 'y', 3);
        INSERT INTO f4u VALUES ('naïve-ly');";

    fts3_variants: "
        CREATE VIRTUAL TABLE f3 USING fts3(a, b, tokenize=simple);
        CREATE VIRTUAL TABLE f3p USING fts3(x, tokenize=porter);
        CREATE VIRTUAL TABLE f3bare USING fts3;
        INSERT INTO f3 VALUES ('x', 'y');
        INSERT INTO f3p VALUES ('running');
        INSERT INTO f3bare VALUES ('content');";

    rtree_and_rtree_i32: "
        CREATE VIRTUAL TABLE rt USING rtree(id, minx, maxx, miny, maxy);
        CREATE VIRTUAL TABLE rti USING rtree_i32(id, x0, x1, +label, +payload);
        CREATE VIRTUAL TABLE rt3 USING rtree(id, x0, x1, y0, y1, z0, z1);
        INSERT INTO rt VALUES (1, 0, 1, 0, 1), (2, -5.5, 5.5, 2, 3);
        INSERT INTO rti VALUES (1, -5, 5, 'a', x'00ff');
        INSERT INTO rt3 VALUES (7, 0, 1, 0, 1, 0, 1);";

    // Real tables whose names look like shadow tables: before and after
    // the virtual table, in another case, and beside an R*Tree.
    real_table_named_like_a_shadow_table: "
        CREATE TABLE ft_extra(id INTEGER PRIMARY KEY, note TEXT);
        CREATE VIRTUAL TABLE ft USING fts5(x);
        CREATE TABLE ft_more(y);
        CREATE TABLE \"FT_Data2\"(z);
        CREATE INDEX ft_extra_note ON ft_extra(note);
        CREATE VIRTUAL TABLE rt USING rtree(id, a, b);
        CREATE TABLE rt_nodes(q);
        CREATE VIRTUAL TABLE f4 USING fts4(x);
        CREATE TABLE f4_data(x);
        INSERT INTO ft_extra(note) VALUES ('n');
        INSERT INTO ft VALUES ('v');
        INSERT INTO rt_nodes VALUES (1);";

    // An FTS5 external-content table whose content table is a real table
    // named exactly like an FTS5 shadow table (`ft_content`), created
    // after the virtual table.
    external_content_table_named_like_a_shadow_table: "
        CREATE VIRTUAL TABLE ft USING fts5(body, content='ft_content', content_rowid='id');
        CREATE TABLE ft_content(id INTEGER PRIMARY KEY, body TEXT);
        INSERT INTO ft_content(body) VALUES ('hello world');
        INSERT INTO ft(ft) VALUES ('rebuild');";

    without_rowid: "
        CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
        CREATE TABLE kd(a INT, b TEXT COLLATE NOCASE, c, PRIMARY KEY (a DESC, b ASC)) WITHOUT ROWID;
        CREATE TABLE kdesc(a INT PRIMARY KEY DESC, b UNIQUE) WITHOUT ROWID;
        CREATE INDEX kd_c ON kd(c DESC);
        INSERT INTO kv VALUES ('a', x'01');
        INSERT INTO kd VALUES (1, 'x', 2), (2, 'y', 3);
        INSERT INTO kdesc VALUES (-1, 'z');";

    strict_tables: "
        CREATE TABLE s(id INTEGER PRIMARY KEY, n INT NOT NULL, r REAL, t TEXT, b BLOB, a ANY) STRICT;
        CREATE TABLE sw(k TEXT PRIMARY KEY, v INTEGER) STRICT, WITHOUT ROWID;
        CREATE TABLE ws(k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID, STRICT;
        INSERT INTO s VALUES (1, 2, 3.5, 't', x'00', 'any');
        INSERT INTO sw VALUES ('k', 1);";

    generated_columns: "
        CREATE TABLE g(a INT, b INT,
          c INT GENERATED ALWAYS AS (a + b) VIRTUAL,
          d TEXT AS (upper(b)) STORED,
          e AS (a * 2),
          f INT GENERATED ALWAYS AS (c * 10) STORED NOT NULL);
        CREATE INDEX g_c ON g(c);
        CREATE INDEX g_d ON g(d) WHERE f > 0;
        INSERT INTO g(a, b) VALUES (1, 2);";

    autoincrement: "
        CREATE TABLE ai(id INTEGER PRIMARY KEY AUTOINCREMENT, x);
        CREATE TABLE ai2(id INTEGER PRIMARY KEY AUTOINCREMENT, y);
        INSERT INTO ai(x) VALUES (1), (2);
        DELETE FROM ai WHERE x = 2;
        INSERT INTO ai2(id, y) VALUES (100, 'z');";

    quoted_unicode_and_keyword_names: r#"
        CREATE TABLE "my table"("my col" INT, "a""b" TEXT, "select" INT, "order" TEXT, [from] INT, `group` INT);
        CREATE TABLE "a""b"(x);
        CREATE TABLE "😀"("🔑" INTEGER PRIMARY KEY, "naïve" TEXT, "日本語" TEXT);
        CREATE TABLE "select"("order" INT, "where" TEXT);
        CREATE TABLE "order"(x);
        CREATE TABLE 'single quoted'(x);
        CREATE TABLE [bracket name](x);
        CREATE TABLE `back tick`(x);
        CREATE TABLE "  padded  "(x);
        CREATE TABLE "with.dot"(x);
        CREATE TABLE "x -- not a comment"(x);
        CREATE TABLE "/* nor this */"(x);
        CREATE TABLE "semi;colon"(x);
        CREATE TABLE "main"(x);
        CREATE TABLE "temp"(x);
        CREATE TABLE IF NOT EXISTS "if"(x);
        CREATE TABLE "CREATE TABLE"(x);
        CREATE TABLE 😀unquoted(x);
        CREATE TABLE a$b(x);
        CREATE TABLE `a``b`(x);
        CREATE TABLE 'it''s'(x);
        CREATE TABLE "Ä"(x);
        CREATE TABLE "ä"(x);
        CREATE INDEX "É" ON "Ä"(x);
        CREATE INDEX "é" ON "ä"(x);
        CREATE TABLE c1(a -- a comment; with a semicolon
          , b /* ; block */, "c;" TEXT DEFAULT ';');
        CREATE INDEX "idx ; weird" ON "my table"("select");
        CREATE INDEX "😀idx" ON "😀"("naïve");
        CREATE VIEW "view ""q""" AS SELECT "order" FROM "select";
        CREATE VIEW "select view"("order", "from") AS SELECT "order", "where" FROM "select";
        CREATE TRIGGER "trg 😀" AFTER INSERT ON "😀" BEGIN INSERT INTO "a""b" VALUES (new."naïve"); END;
        CREATE TRIGGER "order trigger" AFTER DELETE ON "order" BEGIN SELECT 1; END;
        CREATE VIRTUAL TABLE "fts ""quoted""" USING fts5("co l", "select");
        INSERT INTO "😀" VALUES (1, 'n', 'j');
        INSERT INTO "fts ""quoted""" VALUES ('a', 'b');
    "#;

    partial_and_expression_indexes: "
        CREATE TABLE p(a INT, b TEXT, c REAL, deleted INT);
        CREATE INDEX p_live ON p(a) WHERE deleted IS NULL;
        CREATE UNIQUE INDEX p_lower ON p(lower(b), a DESC) WHERE a > 0 AND b IS NOT NULL;
        CREATE INDEX p_expr ON p(a + c, substr(b, 1, 3) COLLATE NOCASE);
        CREATE INDEX p_json ON p(json_extract(b, '$.k')) WHERE json_valid(b);
        CREATE INDEX IF NOT EXISTS p_cast ON p(CAST(c AS INTEGER), abs(a));
        INSERT INTO p VALUES (1, '{\"k\": 1}', 2.5, NULL);";

    collations: "
        CREATE TABLE c(a TEXT COLLATE NOCASE PRIMARY KEY, b TEXT COLLATE RTRIM UNIQUE, c TEXT COLLATE BINARY);
        CREATE INDEX c_b ON c(b COLLATE NOCASE, a COLLATE RTRIM);
        CREATE VIEW cv AS SELECT a FROM c ORDER BY b COLLATE NOCASE;
        INSERT INTO c VALUES ('A', 'b  ', 'c');";

    views_on_views: "
        CREATE TABLE base(id INTEGER PRIMARY KEY, v INT);
        CREATE VIEW v0 AS SELECT * FROM v_later;
        CREATE VIEW v1 AS SELECT id, v * 2 AS w FROM base;
        CREATE VIEW v2(x, y) AS SELECT id, w FROM v1 WHERE w > 0;
        CREATE VIEW v3 AS WITH RECURSIVE cnt(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM cnt WHERE n < 3)
          SELECT * FROM cnt JOIN v2 ON x = n;
        CREATE VIEW v_later AS SELECT count(*) AS n FROM v3;
        CREATE VIEW v_window AS SELECT id, sum(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM base;
        INSERT INTO base(v) VALUES (1), (2);";

    instead_of_triggers_on_a_view: "
        CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INT);
        CREATE VIEW items_v AS SELECT id, name, qty FROM items;
        CREATE TRIGGER items_v_ins INSTEAD OF INSERT ON items_v BEGIN
          INSERT INTO items(name, qty) VALUES (new.name, new.qty);
        END;
        CREATE TRIGGER items_v_upd INSTEAD OF UPDATE OF qty ON items_v FOR EACH ROW WHEN new.qty >= 0 BEGIN
          UPDATE items SET qty = new.qty WHERE id = old.id;
        END;
        CREATE TRIGGER items_v_del INSTEAD OF DELETE ON items_v BEGIN DELETE FROM items WHERE id = old.id; END;
        INSERT INTO items_v(name, qty) VALUES ('a', 1);";

    trigger_bodies_with_semicolons_in_strings_and_case: "
        CREATE TABLE log(id INTEGER PRIMARY KEY, msg TEXT);
        CREATE TABLE t(a, b);
        CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN
          INSERT INTO log(msg) VALUES ('a;b; END; ATTACH ''x.db'' AS y;');
          INSERT INTO log(msg) SELECT CASE WHEN new.a > 0 THEN 'pos;' WHEN new.a < 0 THEN 'neg END' ELSE 'zero' END;
          UPDATE log SET msg = msg || ';' WHERE id = (SELECT max(id) FROM log); -- a comment; END
          /* block ; END ; */
          SELECT CASE new.b WHEN 1 THEN RAISE(IGNORE) ELSE 1 END;
        END;
        CREATE TRIGGER \"t;bu\" BEFORE UPDATE OF a, b ON t FOR EACH ROW WHEN new.a IS NOT old.a BEGIN
          SELECT RAISE(ABORT, 'no; way; END;');
        END;
        CREATE TRIGGER t_case AFTER DELETE ON t BEGIN
          INSERT INTO log(msg) VALUES (CASE (SELECT count(*) FROM t) WHEN 0 THEN 'empty' ELSE (CASE WHEN old.a THEN 'x' END) END);
        END;
        CREATE TRIGGER IF NOT EXISTS t_end AFTER INSERT ON log WHEN new.msg = 'END' BEGIN SELECT 'end;'; END;
        INSERT INTO t VALUES (1, 2);";

    check_and_foreign_keys: "
        PRAGMA foreign_keys = ON;
        CREATE TABLE parent(id INTEGER PRIMARY KEY, code TEXT UNIQUE NOT NULL CHECK (length(code) BETWEEN 1 AND 8));
        CREATE TABLE child(
          id INTEGER PRIMARY KEY,
          pid INT NOT NULL REFERENCES parent(id) ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED,
          pcode TEXT,
          CONSTRAINT ck CHECK (pid > 0),
          FOREIGN KEY (pcode) REFERENCES parent(code) ON DELETE RESTRICT);
        CREATE TABLE self(id INTEGER PRIMARY KEY, up INT REFERENCES self(id));
        CREATE TABLE fwd(id INTEGER PRIMARY KEY, later_id INT REFERENCES later(id));
        CREATE TABLE later(id INTEGER PRIMARY KEY, j TEXT CHECK (json_valid(j)), d TEXT DEFAULT (datetime('now')),
          ts TEXT DEFAULT CURRENT_TIMESTAMP, neg INT DEFAULT -1, s TEXT DEFAULT 'x;y');
        CREATE TABLE comp(a, b, PRIMARY KEY (a, b));
        CREATE TABLE comp_child(x, y, FOREIGN KEY (x, y) REFERENCES comp(a, b));
        INSERT INTO parent VALUES (1, 'p1');
        INSERT INTO child VALUES (1, 1, 'p1');
        INSERT INTO later(id, j) VALUES (1, '{}');
        INSERT INTO fwd VALUES (1, 1);";

    alter_table_history: r#"
        CREATE TABLE old_name(a INT, b TEXT);
        CREATE INDEX old_idx ON old_name(b);
        CREATE VIEW old_view AS SELECT a, b FROM old_name;
        CREATE TRIGGER old_trg AFTER INSERT ON old_name BEGIN
          UPDATE old_name SET b = upper(new.b) WHERE rowid = new.rowid;
        END;
        INSERT INTO old_name VALUES (1, 'x');
        ALTER TABLE old_name ADD COLUMN c REAL DEFAULT 3.5;
        ALTER TABLE old_name ADD COLUMN "d e" TEXT COLLATE NOCASE;
        ALTER TABLE old_name RENAME COLUMN b TO bee;
        ALTER TABLE old_name RENAME TO new_name;
        CREATE TABLE dropper(a, b, c);
        ALTER TABLE dropper DROP COLUMN b;
        ALTER TABLE new_name RENAME TO "renamed ""twice""";
        CREATE VIRTUAL TABLE rt USING rtree(id, a, b);
        ALTER TABLE rt RENAME TO rt_renamed;
        INSERT INTO dropper VALUES (1, 2);
    "#;

    misc_create_forms: "
        CREATE TABLE src(a, b);
        INSERT INTO src VALUES (1, 'x');
        CREATE TABLE copy AS SELECT a, b AS bee, a + 1 AS c FROM src;
        CREATE TABLE main.qualified(x);
        CREATE INDEX main.qualified_x ON qualified(x);
        CREATE TABLE typeless(a, b, c);
        CREATE TABLE \"t\" ( \"spaced\"   INTEGER   ) ;";

    column_named_rowid: "
        CREATE TABLE r1(rowid TEXT, v);
        CREATE TABLE r2(rowid INT, _rowid_ INT, oid INT, v);
        CREATE TABLE r3(id INTEGER PRIMARY KEY DESC, rowid);
        CREATE TABLE r4(id INT PRIMARY KEY, \"ROWID\" BLOB);
        CREATE INDEX r2_rowid ON r2(rowid, oid);
        INSERT INTO r1 VALUES ('a', 1);
        INSERT INTO r2 VALUES (1, 2, 3, 4);";

    page_size_512: "
        PRAGMA page_size = 512;
        CREATE TABLE t(a TEXT, b BLOB);
        CREATE INDEX t_a ON t(a);
        CREATE VIRTUAL TABLE ft USING fts5(a);
        INSERT INTO t VALUES (hex(randomblob(300)), randomblob(800));";

    page_size_65536: "
        PRAGMA page_size = 65536;
        CREATE TABLE t(a);
        INSERT INTO t VALUES (1);";

    auto_vacuum_full: "
        PRAGMA auto_vacuum = FULL;
        CREATE TABLE t(a);
        INSERT INTO t VALUES (1);";

    auto_vacuum_incremental: "
        PRAGMA auto_vacuum = INCREMENTAL;
        CREATE TABLE t(a);
        CREATE VIRTUAL TABLE rt USING rtree(id, a, b);
        INSERT INTO t VALUES (1);";

    encoding_utf16le: "
        PRAGMA encoding = 'UTF-16le';
        CREATE TABLE \"ünï 😀\"(\"kéy\" TEXT PRIMARY KEY COLLATE NOCASE, v);
        CREATE VIRTUAL TABLE ft USING fts5(x, tokenize = 'unicode61 remove_diacritics 2');
        CREATE VIEW \"vüe\" AS SELECT * FROM \"ünï 😀\";
        INSERT INTO \"ünï 😀\" VALUES ('é', 1);";

    encoding_utf16be: "
        PRAGMA encoding = 'UTF-16be';
        CREATE TABLE \"ünï 😀\"(\"kéy\" TEXT PRIMARY KEY, v);
        CREATE VIRTUAL TABLE f4 USING fts4(x);
        CREATE TRIGGER tr AFTER INSERT ON \"ünï 😀\" BEGIN SELECT 'ß;'; END;
        INSERT INTO \"ünï 😀\" VALUES ('é', 1);";

    header_values_negative: "
        PRAGMA user_version = -1;
        PRAGMA application_id = -2147483648;
        CREATE TABLE t(a);
        INSERT INTO t VALUES (1);";

    header_values_large: "
        PRAGMA user_version = 2147483647;
        PRAGMA application_id = 1196444487;
        CREATE TABLE t(a);
        INSERT INTO t VALUES (1);";

    journal_mode_wal: "
        PRAGMA journal_mode = WAL;
        CREATE TABLE t(a);
        CREATE VIRTUAL TABLE ft USING fts5(x);
        INSERT INTO t VALUES (1);";

    all_file_settings_at_once: "
        PRAGMA page_size = 1024;
        PRAGMA auto_vacuum = INCREMENTAL;
        PRAGMA encoding = 'UTF-16be';
        PRAGMA user_version = -42;
        PRAGMA application_id = 123456789;
        PRAGMA journal_mode = WAL;
        CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT);
        CREATE INDEX t_a ON t(a);
        INSERT INTO t(a) VALUES ('x');
        ANALYZE;";

    stat1_only: "
        CREATE TABLE t(a, b);
        CREATE INDEX t_a ON t(a);
        CREATE TABLE noindex(x);
        INSERT INTO t VALUES (1, 2), (1, 3), (2, 4);
        INSERT INTO noindex VALUES (1);
        ANALYZE;
        DROP TABLE IF EXISTS sqlite_stat4;";

    stat1_and_stat4: "
        CREATE TABLE t(a, b);
        CREATE INDEX t_a ON t(a);
        CREATE INDEX t_ab ON t(a, b DESC);
        INSERT INTO t VALUES (1, 2), (1, 3), (2, 4);
        ANALYZE;";
}

/// Triggers live in their own namespace: a trigger may share its name with
/// a table or a view (seen in real schemas: a trigger named after the table
/// it guards).
#[test]
fn trigger_named_like_its_table_or_view() {
    check(
        "CREATE TABLE t(a); CREATE TRIGGER t AFTER INSERT ON t BEGIN SELECT 1; END;
         CREATE VIEW v AS SELECT a FROM t; CREATE TRIGGER v INSTEAD OF INSERT ON v BEGIN SELECT 1; END;
         INSERT INTO t VALUES (1);",
    );
}

/// `ALTER TABLE ... RENAME` of an FTS5 table rewrites its shadow tables'
/// SQL with double quotes (`CREATE TABLE "ft2_data"(...)`), while a fresh
/// FTS5 table writes single quotes (`CREATE TABLE 'ft2_data'(...)`). A
/// fork cannot create shadow tables itself, so only those may differ, in
/// SQL only; everything else must be equal.
#[test]
fn renamed_fts5_table_shadow_sql_may_differ_only() {
    let env = Env::new();
    let src = env.db(
        "src.db",
        "CREATE VIRTUAL TABLE ft USING fts5(x); INSERT INTO ft VALUES ('a');
         ALTER TABLE ft RENAME TO ft2;
         CREATE TRIGGER keep AFTER INSERT ON ft2_content BEGIN SELECT 1; END;",
    );
    let forked = fork_and_compare(&env, &src, "dst", true);
    let mut diffs = forked.shadow_sql_diffs.clone();
    diffs.sort();
    eprintln!("shadow tables whose SQL differs after an FTS5 rename: {diffs:?}");
    for d in &diffs {
        assert!(d.starts_with("ft2_"), "only ft2's shadow tables may differ, got {d}");
    }
}

#[test]
fn autoincrement_fork_has_sqlite_sequence() {
    let (_env, src, fork) =
        check("CREATE TABLE ai(id INTEGER PRIMARY KEY AUTOINCREMENT, x); INSERT INTO ai(x) VALUES (1);");
    for p in [&src, &fork] {
        let n: i64 = scalar(p, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'");
        assert_eq!(n, 1, "sqlite_sequence in {}", p.display());
    }
}

#[test]
fn statistics_tables_are_carried_as_in_the_source() {
    let (_env, _src, fork) = check(
        "CREATE TABLE t(a); CREATE INDEX t_a ON t(a); INSERT INTO t VALUES (1); ANALYZE; DROP TABLE sqlite_stat4;",
    );
    let stat1: i64 = scalar(&fork, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'");
    let stat4: i64 = scalar(&fork, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat4'");
    assert_eq!((stat1, stat4), (1, 0), "the fork has stat1 and no stat4, like its source");
}

#[test]
fn settings_really_are_non_default() {
    // Guard the matrix: the settings cases above must produce non-default
    // values in the source, or comparing them proves nothing.
    let (_env, src, fork) = check(
        "PRAGMA page_size = 512; PRAGMA auto_vacuum = INCREMENTAL; PRAGMA encoding = 'UTF-16be';
         PRAGMA user_version = -7; PRAGMA application_id = 99; PRAGMA journal_mode = WAL;
         CREATE TABLE t(a); INSERT INTO t VALUES (1);",
    );
    for p in [&src, &fork] {
        let s = settings(p);
        let get = |k: &str| s.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("page_size"), "Integer(512)", "{}", p.display());
        assert_eq!(get("auto_vacuum"), "Integer(2)", "{}", p.display());
        assert_eq!(get("encoding"), "Text(\"UTF-16be\")", "{}", p.display());
        assert_eq!(get("user_version"), "Integer(-7)", "{}", p.display());
        assert_eq!(get("application_id"), "Integer(99)", "{}", p.display());
        assert_eq!(get("journal_mode"), "Text(\"wal\")", "{}", p.display());
    }
}

#[test]
fn page_size_65536_and_auto_vacuum_full_reach_the_fork() {
    let (_env, _src, fork) =
        check("PRAGMA page_size = 65536; PRAGMA auto_vacuum = FULL; CREATE TABLE t(a); INSERT INTO t VALUES (1);");
    assert_eq!(scalar::<i64>(&fork, "PRAGMA page_size"), 65536);
    assert_eq!(scalar::<i64>(&fork, "PRAGMA auto_vacuum"), 1);
    assert_eq!(scalar::<String>(&fork, "PRAGMA encoding"), "UTF-8");
}

#[test]
fn utf16le_reaches_the_fork() {
    let (_env, _src, fork) = check("PRAGMA encoding = 'UTF-16le'; CREATE TABLE t(a); INSERT INTO t VALUES (1);");
    assert_eq!(scalar::<String>(&fork, "PRAGMA encoding"), "UTF-16le");
}

#[test]
fn virtual_tables_in_the_fork_work() {
    // The fork's virtual tables are usable, not just present in
    // sqlite_master: they accept rows and answer queries.
    let (_env, _src, fork) = check(
        "CREATE VIRTUAL TABLE ft USING fts5(x, tokenize = 'porter');
         CREATE VIRTUAL TABLE f4 USING fts4(x);
         CREATE VIRTUAL TABLE rt USING rtree(id, a, b);
         INSERT INTO ft VALUES ('running'); INSERT INTO rt VALUES (1, 0, 1);",
    );
    let conn = Connection::open(&fork).unwrap();
    conn.execute_batch(
        "INSERT INTO ft VALUES ('runs fast'); INSERT INTO f4 VALUES ('hello'); INSERT INTO rt VALUES (1, 0, 1);",
    )
    .unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM ft WHERE ft MATCH 'run'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    let n: i64 = conn.query_row("SELECT count(*) FROM f4 WHERE f4 MATCH 'hello'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    let n: i64 = conn.query_row("SELECT count(*) FROM rt WHERE a <= 0.5 AND b >= 0.5", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn empty_zero_byte_database() {
    let env = Env::new();
    let src = env.path("src.db");
    std::fs::write(&src, b"").unwrap();
    let forked = fork_and_compare(&env, &src, "dst", false);
    assert_eq!(forked.run.json()["copy"]["objectsCreated"], 0);
    assert!(master(&forked.fork).is_empty());
    assert_eq!(file_bytes(&src).len(), 0, "the zero-byte source stays zero bytes");
}

#[test]
fn database_with_no_schema_but_header_values() {
    let (_env, src, fork) = check("PRAGMA user_version = 7; PRAGMA application_id = 5;");
    assert!(!file_bytes(&src).is_empty());
    assert_eq!(scalar::<i64>(&fork, "PRAGMA user_version"), 7);
}

#[test]
fn very_large_schema_2000_tables() {
    let mut sql = String::from("BEGIN;\n");
    for i in 0..2000 {
        sql.push_str(&format!("CREATE TABLE t{i:04}(id INTEGER PRIMARY KEY, v TEXT, w INT UNIQUE);\n"));
        if i % 4 == 0 {
            sql.push_str(&format!("CREATE INDEX t{i:04}_v ON t{i:04}(v);\n"));
        }
        if i % 20 == 0 {
            sql.push_str(&format!("CREATE VIEW v{i:04} AS SELECT * FROM t{i:04};\n"));
            sql.push_str(&format!(
                "CREATE TRIGGER tr{i:04} AFTER INSERT ON t{i:04} BEGIN UPDATE t{i:04} SET v = 'x;' WHERE id = new.id; END;\n"
            ));
        }
        if i % 200 == 0 {
            sql.push_str(&format!("CREATE VIRTUAL TABLE ft{i:04} USING fts5(x);\n"));
        }
    }
    sql.push_str("INSERT INTO t0000(v) VALUES ('row');\nCOMMIT;");
    let (_env, src, fork) = check(&sql);
    let n: i64 = scalar(&fork, "SELECT count(*) FROM sqlite_master");
    assert_eq!(n, scalar::<i64>(&src, "SELECT count(*) FROM sqlite_master"));
    assert!(n > 2000 + 500 + 100 + 100 + 10, "test setup: large schema, got {n} objects");
}

/// SQLite leaves an empty `-wal` and a `-shm` beside a WAL-mode database
/// that a read-only connection opened when none existed. sqlfork then
/// leaves those files beside the user's source, even when it refuses the
/// fork.
#[test]
fn wal_source_leaves_no_files_beside_it() {
    let env = Env::new();
    let ok = env.db("ok.db", "PRAGMA journal_mode = WAL; CREATE TABLE t(a); INSERT INTO t VALUES (1);");
    // Refused: a table's SQL smuggles in a second statement.
    let bad = env.path("bad.db");
    {
        let conn = Connection::open(&bad).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t(a TEXT COLLATE NOCASE);
             PRAGMA writable_schema = ON;
             UPDATE sqlite_master SET sql = 'CREATE TABLE t(a TEXT); ATTACH ''x.db'' AS x' WHERE name = 't';",
        )
        .unwrap();
    }
    let before = tree_snapshot(env.dir.path(), &[&env.home]);
    assert!(!env.path("ok.db-wal").exists() && !env.path("bad.db-wal").exists(), "test setup: WAL checkpointed");
    env.run(&["db", "fork", &src_arg(&env, &ok), "dst", "--json"]).ok();
    env.run(&["db", "fork", &src_arg(&env, &bad), "dst2", "--json"]).code(2);
    let after = tree_snapshot(env.dir.path(), &[&env.home]);
    let diff = snapshot_diff(&before, &after);
    assert!(diff.is_empty(), "files beside the sources changed: {diff:?}");
}

/// A WAL-mode source whose schema is still only in its -wal file (a
/// writer holds it open, no checkpoint yet): the fork sees that schema.
#[test]
fn wal_source_with_schema_not_yet_checkpointed() {
    let env = Env::new();
    let src = env.path("src.db");
    let writer = Connection::open(&src).unwrap();
    writer
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t(a); CREATE INDEX t_a ON t(a); CREATE VIRTUAL TABLE ft USING fts5(x);
             INSERT INTO t VALUES (1); INSERT INTO ft VALUES ('w');",
        )
        .unwrap();
    assert!(std::fs::metadata(env.path("src.db-wal")).unwrap().len() > 0, "test setup: schema sits in the WAL");
    let forked = fork_and_compare(&env, &src, "dst", false);
    let n: i64 = scalar(&forked.fork, "SELECT count(*) FROM sqlite_master WHERE name IN ('t', 't_a', 'ft')");
    assert_eq!(n, 3);
    drop(writer);
}
