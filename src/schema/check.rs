//! Checking a source's objects before anything runs: each must be exactly
//! one `CREATE` of the type and name `sqlite_master` claims.

use crate::error::Error;
use std::ffi::CString;

use super::{Kind, Object, SourceSchema};

/// Refuse anything that is not exactly one `CREATE` of the claimed type and
/// name. Runs before the fork file exists.
pub(crate) fn check_objects(schema: &SourceSchema) -> Result<(), Error> {
    for obj in &schema.objects {
        check_object(obj)?;
    }
    Ok(())
}

fn refuse(obj: &Object, why: &str) -> Error {
    Error::SchemaRefused { object: obj.describe(), why: crate::error::SchemaRefusal::Sql { why: why.to_string() } }
}

pub(crate) fn check_object(obj: &Object) -> Result<(), Error> {
    if obj.sql.contains('\0') {
        return Err(refuse(obj, "contains a NUL byte"));
    }
    if !is_single_statement(&obj.sql) {
        return Err(refuse(obj, "holds more than one statement"));
    }
    let mut lx = Lexer::new(&obj.sql);
    let words: Vec<String> = (0..3).map_while(|_| lx.next_token()).collect();
    let kw = |i: usize| words.get(i).map(|w| w.to_ascii_uppercase()).unwrap_or_default();
    if kw(0) != "CREATE" {
        return Err(refuse(obj, "is not a CREATE statement"));
    }
    // CREATE [UNIQUE|VIRTUAL] TABLE/INDEX/VIEW/TRIGGER; TEMP objects never
    // live in the main schema.
    let (type_word, consumed) = match (obj.kind, kw(1).as_str()) {
        (Kind::Index, "UNIQUE") | (Kind::Table, "VIRTUAL") => (kw(2), 3),
        _ => (kw(1), 2),
    };
    if type_word != obj.kind.as_str().to_ascii_uppercase() {
        return Err(refuse(obj, &format!("does not create a {}", obj.kind.as_str())));
    }
    // Re-lex to the name: skip the words read, then IF NOT EXISTS.
    let mut lx = Lexer::new(&obj.sql);
    for _ in 0..consumed {
        lx.next_token();
    }
    let mut name = lx.next_token();
    if name.as_deref().is_some_and(|w| w.eq_ignore_ascii_case("IF")) {
        let not = lx.next_token();
        let exists = lx.next_token();
        if !(not.is_some_and(|w| w.eq_ignore_ascii_case("NOT"))
            && exists.is_some_and(|w| w.eq_ignore_ascii_case("EXISTS")))
        {
            return Err(refuse(obj, "is malformed"));
        }
        name = lx.next_token();
    }
    let Some(mut name) = name.map(|n| unquote(&n)) else {
        return Err(refuse(obj, "names no object"));
    };
    if lx.peek_is('.') {
        // schema.name: only the main schema is acceptable.
        if !name.eq_ignore_ascii_case("main") {
            return Err(refuse(obj, &format!("creates it in schema `{name}` instead of main")));
        }
        lx.next_token();
        name = lx.next_token().map(|n| unquote(&n)).unwrap_or_default();
    }
    if !name.eq_ignore_ascii_case(&obj.name) {
        return Err(refuse(obj, &format!("creates `{name}` instead")));
    }
    if obj.is_internal() && !is_replayable_internal(obj) {
        return Err(refuse(obj, "uses a name reserved for SQLite's internal tables"));
    }
    Ok(())
}

fn is_replayable_internal(obj: &Object) -> bool {
    obj.kind == Kind::Table
        && matches!(
            obj.name.to_ascii_lowercase().as_str(),
            "sqlite_sequence" | "sqlite_stat1" | "sqlite_stat2" | "sqlite_stat3" | "sqlite_stat4"
        )
}

/// True when `sql` is one statement: nothing but whitespace and comments
/// follows the first complete statement (SQLite's own `sqlite3_complete`
/// decides where that ends, trigger bodies included).
pub(crate) fn is_single_statement(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b';' {
            continue;
        }
        let Ok(prefix) = CString::new(&bytes[..=i]) else { return false };
        // SAFETY: `prefix` is a valid NUL-terminated string for the call.
        let complete = unsafe { rusqlite::ffi::sqlite3_complete(prefix.as_ptr()) } != 0;
        if complete {
            let mut rest = Lexer::new(&sql[i + 1..]);
            return rest.next_token().is_none();
        }
    }
    true
}

/// A tiny SQL tokenizer: enough to read the leading keywords and the name
/// of a CREATE statement, skipping comments and honouring quotes.
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer { s, pos: 0 }
    }

    fn skip_space(&mut self) {
        let b = self.s.as_bytes();
        loop {
            while self.pos < b.len() && (b[self.pos] as char).is_ascii_whitespace() {
                self.pos += 1;
            }
            if self.s[self.pos..].starts_with("--") {
                match self.s[self.pos..].find('\n') {
                    Some(k) => self.pos += k + 1,
                    None => self.pos = b.len(),
                }
            } else if self.s[self.pos..].starts_with("/*") {
                match self.s[self.pos + 2..].find("*/") {
                    Some(k) => self.pos += k + 4,
                    None => self.pos = b.len(),
                }
            } else {
                return;
            }
        }
    }

    fn peek_is(&mut self, c: char) -> bool {
        self.skip_space();
        self.s[self.pos..].starts_with(c)
    }

    /// The next token as written (quotes kept), or None at the end.
    fn next_token(&mut self) -> Option<String> {
        self.skip_space();
        let rest = &self.s[self.pos..];
        let first = rest.chars().next()?;
        let len = match first {
            '"' | '\'' | '`' => quoted_len(rest, first),
            '[' => rest.find(']').map(|k| k + 1).unwrap_or(rest.len()),
            c if c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii() => rest
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$' || !c.is_ascii()))
                .map(|(k, _)| k)
                .unwrap_or(rest.len()),
            c => c.len_utf8(),
        };
        self.pos += len;
        Some(rest[..len].to_string())
    }
}

fn quoted_len(s: &str, q: char) -> usize {
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == q {
            if chars.peek().is_some_and(|(_, n)| *n == q) {
                chars.next();
            } else {
                return i + 1;
            }
        }
    }
    s.len()
}

/// The leading words of a statement, upper-cased.
pub(super) fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut lx = Lexer::new(sql);
    (0..n).map_while(|_| lx.next_token()).map(|w| w.to_ascii_uppercase()).collect()
}

/// Remove SQL quoting from an identifier token.
pub(crate) fn unquote(tok: &str) -> String {
    let mut chars = tok.chars();
    match (chars.next(), tok.chars().last()) {
        (Some(q @ ('"' | '\'' | '`')), Some(l)) if l == q && tok.len() >= 2 => {
            let inner = &tok[1..tok.len() - 1];
            inner.replace(&format!("{q}{q}"), &q.to_string())
        }
        (Some('['), Some(']')) => tok[1..tok.len() - 1].to_string(),
        _ => tok.to_string(),
    }
}

/// Quote an identifier for SQL: always, whatever it contains.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(kind: Kind, name: &str, sql: &str) -> Object {
        Object { kind, name: name.into(), tbl_name: name.into(), sql: sql.into() }
    }

    #[test]
    fn single_statement_detection() {
        assert!(is_single_statement("CREATE TABLE t(a DEFAULT ';')"));
        assert!(is_single_statement("CREATE TABLE t(a); -- trailing comment"));
        assert!(is_single_statement(
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES(1); UPDATE u SET a = 2; END"
        ));
        assert!(!is_single_statement("CREATE TABLE t(a); ATTACH 'x' AS y"));
        assert!(!is_single_statement(
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; PRAGMA writable_schema=1"
        ));
    }

    #[test]
    fn create_must_match_type_and_name() {
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE \"t\"(a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "my t", "CREATE TABLE [my t](a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE main.t(a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE IF NOT EXISTS t(a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "ft", "CREATE VIRTUAL TABLE ft USING fts5(x)")).is_ok());
        assert!(check_object(&obj(Kind::Index, "i", "create unique index i on t(a)")).is_ok());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE u(a)")).is_err());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE TABLE temp.t(a)")).is_err());
        assert!(check_object(&obj(Kind::Table, "t", "CREATE VIEW t AS SELECT 1")).is_err());
        assert!(check_object(&obj(Kind::View, "v", "ATTACH 'x' AS v")).is_err());
        assert!(check_object(&obj(Kind::Table, "sqlite_master2", "CREATE TABLE sqlite_master2(a)")).is_err());
    }

    #[test]
    fn identifiers_are_quoted_and_unquoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(unquote("\"a\"\"b\""), "a\"b");
        assert_eq!(unquote("[x y]"), "x y");
        assert_eq!(unquote("`t`"), "t");
    }
}
