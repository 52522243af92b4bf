//! Stand-ins for the pieces of a schema that only the source's application
//! defines: a collation (Android's `PHONEBOOK`), a SQL function named in an
//! index expression, a CHECK or a generated column, a full-text tokenizer
//! (Thunderbird's `mozporter`) or a virtual-table module (SpatiaLite's
//! `VirtualSpatialIndex`).
//!
//! SQLite refuses to `CREATE` an object that names a collation or function
//! it does not have, and `CREATE VIRTUAL TABLE` runs the module's
//! constructor. The source's application has those pieces; sqlfork does
//! not, and it must still write the same schema. So the replay uses
//! stand-ins, and this module promises that none of them reaches a fork:
//! - a stand-in collation (binary order) or function (deterministic,
//!   variadic, always NULL) is registered only on the connection that
//!   replays the schema, while the tables are empty; it is never stored,
//!   and the fork's `sqlite_master` holds the source's SQL unchanged;
//! - a virtual table whose module or tokenizer is missing is written as the
//!   sqlite3 shell's `.dump` writes it: its exact `sqlite_master` row
//!   (rootpage 0) under `writable_schema`, its shadow tables replayed from
//!   the source's own SQL as ordinary tables, and (FTS) the rows a fresh
//!   table of that module starts with, taken from the same table made with
//!   a built-in tokenizer in a scratch database (FTS5's starter rows in
//!   `_data` and `_config` do not depend on the tokenizer);
//! - a row copy, which would build indexes through a stand-in collation or
//!   function, is refused for such schemas (`fork/source.rs`); a
//!   page copy needs none of it.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::Connection;

/// Collations every SQLite has.
const BUILTIN_COLLATIONS: [&str; 3] = ["BINARY", "NOCASE", "RTRIM"];

/// How many stand-in functions one object may need before replay gives up.
pub(crate) const MAX_FUNCTIONS_PER_OBJECT: usize = 32;

/// Let `conn` create (and read through) objects that name a collation it
/// lacks: SQLite asks for it by name and gets one that compares bytes.
/// Harmless for collations `conn` has; idempotent.
pub(crate) fn allow_unknown_collations(conn: &Connection) -> rusqlite::Result<()> {
    conn.collation_needed(|c, name| c.create_collation(name, |a: &str, b: &str| a.as_bytes().cmp(b.as_bytes())))
}

/// The collations `conn` was given stand-ins for so far.
pub(crate) fn collations_standing_in(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_collation_list")?;
    let names: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let mut out: Vec<String> =
        names.into_iter().filter(|n| !BUILTIN_COLLATIONS.iter().any(|b| b.eq_ignore_ascii_case(n))).collect();
    out.sort();
    Ok(out)
}

/// The function a failed statement lacked, from SQLite's "no such
/// function: NAME" (SQLite has no "function needed" hook, unlike
/// collations, so its message is the only place that names it).
pub(crate) fn missing_function(e: &rusqlite::Error) -> Option<String> {
    let msg = match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg,
        rusqlite::Error::SqlInputError { msg, .. } => msg,
        _ => return None,
    };
    let name = msg.strip_prefix("no such function: ")?.trim();
    let ok = !name.is_empty() && name.len() <= 255 && name.chars().all(|c| !c.is_whitespace() && c != '\0');
    ok.then(|| name.to_string())
}

/// Register a stand-in for function `name` on `conn`: any number of
/// arguments, deterministic and innocuous (so an index expression or a
/// generated column may name it under `trusted_schema = OFF`), and always
/// NULL. It is only ever called on rows of a row copy, which sqlfork
/// refuses for schemas that need it.
pub(crate) fn add_function(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function(name, -1, flags, |_| Ok(Value::Null))
}

/// `CREATE VIRTUAL TABLE … USING module(args)`, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VirtualTable {
    pub(crate) module: String,
    pub(crate) args: Vec<String>,
}

/// Split a virtual table's SQL into its module name and arguments (as
/// written; quotes kept). `None` when it is not such a statement.
pub(crate) fn parse_virtual(sql: &str) -> Option<VirtualTable> {
    let toks = tokens(sql);
    let using = toks.iter().position(|(t, _)| t.eq_ignore_ascii_case("USING"))?;
    let (module, _) = toks.get(using + 1)?;
    let module = crate::schema::unquote(module);
    let Some((open, at)) = toks.get(using + 2) else {
        return Some(VirtualTable { module, args: vec![] });
    };
    if open != "(" {
        return Some(VirtualTable { module, args: vec![] });
    }
    let body = &sql[at + 1..];
    let close = body.rfind(')')?;
    Some(VirtualTable { module, args: split_args(&body[..close]) })
}

/// The SQL of a fresh FTS3/FTS4/FTS5 table like `sql` but with this
/// SQLite's default tokenizer (`simple` for FTS3/4, `unicode61` for FTS5),
/// named `name`: a table of the same module whose shadow tables start in
/// the same state. `None` for any other module.
pub(crate) fn with_builtin_tokenizer(sql: &str, name: &str) -> Option<String> {
    let vt = parse_virtual(sql)?;
    let module = vt.module.to_ascii_lowercase();
    if !matches!(module.as_str(), "fts3" | "fts4" | "fts5") {
        return None;
    }
    let args: Vec<&String> = vt.args.iter().filter(|a| !is_tokenize_arg(a)).collect();
    let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
    Some(format!("CREATE VIRTUAL TABLE {} USING {}({})", crate::schema::quote_ident(name), module, args.join(", ")))
}

/// `tokenize=…` (FTS3/4/5) or `tokenize …` (the old FTS3 form).
fn is_tokenize_arg(arg: &str) -> bool {
    let a = arg.trim_start();
    let head: String = a.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if !head.eq_ignore_ascii_case("tokenize") {
        return false;
    }
    let rest = &a[head.len()..];
    rest.is_empty() || rest.starts_with(|c: char| c == '=' || c.is_whitespace())
}

/// Shadow tables with their rows: (table, columns, rows).
pub(crate) type ShadowRows = Vec<(String, Vec<String>, Vec<Vec<Value>>)>;

/// The rows each shadow table of a fresh virtual table made by `sql`
/// (named `name`) starts with, read from a scratch in-memory database.
/// Empty when the scratch table cannot be made (an unknown module).
pub(crate) fn fresh_shadow_rows(sql: &str, name: &str) -> anyhow::Result<ShadowRows> {
    let Some(fresh) = with_builtin_tokenizer(sql, name) else { return Ok(vec![]) };
    let scratch = Connection::open_in_memory()?;
    crate::schema::harden(&scratch)?;
    if scratch.execute_batch(&fresh).is_err() {
        return Ok(vec![]);
    }
    let tables: Vec<String> = {
        let mut stmt = scratch.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> ?1")?;
        let names = stmt.query_map([name], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        names
    };
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = scratch.prepare(&format!("SELECT * FROM main.{}", crate::schema::quote_ident(&table)))?;
        let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let n = columns.len();
        let rows: Vec<Vec<Value>> = stmt
            .query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>())?
            .collect::<rusqlite::Result<_>>()?;
        out.push((table, columns, rows));
    }
    Ok(out)
}

/// Tokens of `sql` with their byte offsets: words, quoted names and
/// strings (quotes kept), single punctuation characters; comments skipped.
fn tokens(sql: &str) -> Vec<(String, usize)> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if sql[i..].starts_with("--") {
            i = sql[i..].find('\n').map(|k| i + k + 1).unwrap_or(b.len());
        } else if sql[i..].starts_with("/*") {
            i = sql[i + 2..].find("*/").map(|k| i + k + 4).unwrap_or(b.len());
        } else if matches!(c, b'"' | b'\'' | b'`' | b'[') {
            let end = quoted_end(sql, i);
            out.push((sql[i..end].to_string(), i));
            i = end;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                i += 1;
            }
            out.push((sql[start..i].to_string(), start));
        } else {
            out.push(((c as char).to_string(), i));
            i += 1;
        }
    }
    out
}

/// The end (exclusive) of the quoted token starting at `i`.
fn quoted_end(s: &str, i: usize) -> usize {
    let b = s.as_bytes();
    let close = if b[i] == b'[' { b']' } else { b[i] };
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == close {
            if close != b']' && j + 1 < b.len() && b[j + 1] == close {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// Split a module argument list at top-level commas (quotes and nested
/// parentheses respected), trimming each argument.
fn split_args(body: &str) -> Vec<String> {
    let b = body.as_bytes();
    let (mut out, mut depth, mut start, mut i) = (Vec::new(), 0i32, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' | b'[' => {
                i = quoted_end(body, i);
                continue;
            }
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => {
                out.push(body[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let last = body[start..].trim();
    if !last.is_empty() || !out.is_empty() {
        out.push(last.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_tables_are_taken_apart() {
        let vt = parse_virtual("CREATE VIRTUAL TABLE \"m(x\" USING fts3(a, b, tokenize=mozporter \"x,y\")").unwrap();
        assert_eq!(vt.module, "fts3");
        assert_eq!(vt.args, vec!["a", "b", "tokenize=mozporter \"x,y\""]);
        let vt = parse_virtual("create virtual table s using VirtualSpatialIndex").unwrap();
        assert_eq!(vt.module, "VirtualSpatialIndex");
        assert!(vt.args.is_empty());
        let vt = parse_virtual("CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'custom a, b', prefix='2 3')").unwrap();
        assert_eq!(vt.args, vec!["x", "tokenize = 'custom a, b'", "prefix='2 3'"]);
    }

    #[test]
    fn the_tokenizer_is_swapped_for_the_default_one() {
        assert_eq!(
            with_builtin_tokenizer("CREATE VIRTUAL TABLE t USING FTS4(a, tokenize=mozporter, prefix=\"2\")", "t"),
            Some("CREATE VIRTUAL TABLE \"t\" USING fts4(a, prefix=\"2\")".into())
        );
        assert_eq!(
            with_builtin_tokenizer("CREATE VIRTUAL TABLE t USING fts3(a, tokenize mozporter)", "t"),
            Some("CREATE VIRTUAL TABLE \"t\" USING fts3(a)".into())
        );
        assert_eq!(
            with_builtin_tokenizer("CREATE VIRTUAL TABLE t USING fts5(tokenizer_col, tokenize='x')", "t"),
            Some("CREATE VIRTUAL TABLE \"t\" USING fts5(tokenizer_col)".into())
        );
        assert_eq!(with_builtin_tokenizer("CREATE VIRTUAL TABLE t USING rtree(id, a, b)", "t"), None);
    }

    #[test]
    fn missing_functions_are_named() {
        let conn = Connection::open_in_memory().unwrap();
        let e = conn.execute_batch("CREATE TABLE t(a); CREATE INDEX i ON t(my_fn(a, 1))").unwrap_err();
        assert_eq!(missing_function(&e).as_deref(), Some("my_fn"));
        add_function(&conn, "my_fn").unwrap();
        conn.execute_batch("PRAGMA trusted_schema = OFF; CREATE INDEX i ON t(my_fn(a, 1))").unwrap();
    }

    #[test]
    fn unknown_collations_get_a_binary_stand_in() {
        let conn = Connection::open_in_memory().unwrap();
        allow_unknown_collations(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t(a TEXT COLLATE phonebook); CREATE INDEX i ON t(a COLLATE other)").unwrap();
        assert_eq!(collations_standing_in(&conn).unwrap(), vec!["other", "phonebook"]);
    }
}
