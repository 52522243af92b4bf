//! One SQLite value, compared exactly and written back as a SQL literal.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::ToSql;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::cmp::Ordering;

/// A value as stored: its type matters (`1` and `'1'` and `1.0` differ) and
/// text is compared byte for byte (no collation).
#[derive(Debug, Clone)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    /// Text as stored (normally UTF-8; kept as bytes so nothing is lost).
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl PartialEq for Val {
    /// Exact equality: same type and same bytes.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Val::Null, Val::Null) => true,
            (Val::Int(a), Val::Int(b)) => a == b,
            (Val::Real(a), Val::Real(b)) => a.to_bits() == b.to_bits(),
            (Val::Text(a), Val::Text(b)) => a == b,
            (Val::Blob(a), Val::Blob(b)) => a == b,
            _ => false,
        }
    }
}

impl From<ValueRef<'_>> for Val {
    fn from(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::Null => Val::Null,
            ValueRef::Integer(i) => Val::Int(i),
            ValueRef::Real(f) => Val::Real(f),
            ValueRef::Text(t) => Val::Text(t.to_vec()),
            ValueRef::Blob(b) => Val::Blob(b.to_vec()),
        }
    }
}

/// Bound as a parameter exactly as stored (text as its bytes).
impl ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(i) => ValueRef::Integer(*i),
            Val::Real(f) => ValueRef::Real(*f),
            Val::Text(t) => ValueRef::Text(t),
            Val::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// The values of a result row's columns `cols`, as stored.
pub(crate) fn row_vals(row: &rusqlite::Row, cols: std::ops::Range<usize>) -> rusqlite::Result<Vec<Val>> {
    cols.map(|i| row.get_ref(i).map(Val::from)).collect()
}

impl Val {
    /// SQLite's sort order under the BINARY collation, the order
    /// `ORDER BY x COLLATE BINARY` returns rows in: NULL, numbers (integers
    /// and reals by value), text (bytes), blobs (bytes).
    pub fn sqlite_cmp(&self, other: &Val) -> Ordering {
        fn class(v: &Val) -> u8 {
            match v {
                Val::Null => 0,
                Val::Int(_) | Val::Real(_) => 1,
                Val::Text(_) => 2,
                Val::Blob(_) => 3,
            }
        }
        match (self, other) {
            (Val::Int(a), Val::Int(b)) => a.cmp(b),
            (Val::Real(a), Val::Real(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Val::Int(a), Val::Real(b)) => cmp_int_real(*a, *b),
            (Val::Real(a), Val::Int(b)) => cmp_int_real(*b, *a).reverse(),
            (Val::Text(a), Val::Text(b)) | (Val::Blob(a), Val::Blob(b)) => a.cmp(b),
            _ => class(self).cmp(&class(other)),
        }
    }

    /// The value as a SQL literal that reads back as the same value.
    pub fn literal(&self) -> String {
        match self {
            Val::Null => "NULL".into(),
            Val::Int(i) => i.to_string(),
            Val::Real(f) => real_literal(*f),
            Val::Text(t) => match std::str::from_utf8(t) {
                Ok(s) if !s.contains('\0') => format!("'{}'", s.replace('\'', "''")),
                _ => format!("CAST(X'{}' AS TEXT)", hex(t)),
            },
            Val::Blob(b) => format!("X'{}'", hex(b)),
        }
    }
}

fn cmp_int_real(i: i64, r: f64) -> Ordering {
    // Exact for every i64: compare as reals, then break ties on the integer.
    let ir = i as f64;
    match ir.partial_cmp(&r) {
        Some(Ordering::Equal) | None => {
            if r >= 9.223372036854776e18 {
                Ordering::Less
            } else if r < -9.223372036854776e18 {
                Ordering::Greater
            } else {
                i.cmp(&(r as i64)).then(if r.fract() > 0.0 { Ordering::Less } else { Ordering::Equal })
            }
        }
        Some(o) => o,
    }
}

fn real_literal(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 { "9e999".into() } else { "-9e999".into() };
    }
    // `{:?}` prints the shortest text that reads back as the same f64, and
    // always with a '.' or an exponent, so SQLite reads it as a REAL.
    let s = format!("{f:?}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl Serialize for Val {
    /// JSON: null, a number, a string (text; bytes that are not UTF-8 are
    /// replaced), or `{"blob": "hex"}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Val::Null => s.serialize_none(),
            Val::Int(i) => s.serialize_i64(*i),
            Val::Real(f) if f.is_finite() => s.serialize_f64(*f),
            Val::Real(f) => s.serialize_str(&f.to_string()),
            Val::Text(t) => s.serialize_str(&String::from_utf8_lossy(t)),
            Val::Blob(b) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("blob", &hex(b))?;
                m.end()
            }
        }
    }
}

/// The schema of a value in `db diff`'s JSON (MCP output schemas).
#[cfg(feature = "cli")]
impl rmcp::schemars::JsonSchema for Val {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SqliteValue".into()
    }
    fn json_schema(_: &mut rmcp::schemars::SchemaGenerator) -> rmcp::schemars::Schema {
        rmcp::schemars::json_schema!({
            "description": "A SQLite value: null, a number, text, or {\"blob\": hex}",
            "anyOf": [
                {"type": ["null", "number", "string"]},
                {"type": "object", "properties": {"blob": {"type": "string"}}, "required": ["blob"]}
            ]
        })
    }
}

impl std::fmt::Display for Val {
    /// Human output: the SQL literal, shortened when long.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lit = self.literal();
        if lit.chars().count() > 60 {
            let short: String = lit.chars().take(57).collect();
            write!(f, "{short}…")
        } else {
            f.write_str(&lit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn equality_is_exact() {
        assert_ne!(Val::Int(1), Val::Text(b"1".to_vec()));
        assert_ne!(Val::Int(1), Val::Real(1.0));
        assert_ne!(Val::Text(b"a".to_vec()), Val::Text(b"A".to_vec()));
        assert_ne!(Val::Text(b"x".to_vec()), Val::Blob(b"x".to_vec()));
        assert_eq!(Val::Null, Val::Null);
    }

    #[test]
    fn literals_read_back_as_the_same_value() {
        let conn = Connection::open_in_memory().unwrap();
        let vals = [
            Val::Null,
            Val::Int(i64::MIN),
            Val::Int(42),
            Val::Real(0.1),
            Val::Real(1e300),
            Val::Real(3.0),
            Val::Real(-0.5),
            Val::Real(f64::INFINITY),
            Val::Text("it's é".as_bytes().to_vec()),
            Val::Text(vec![0xff, 0x00, b'a']),
            Val::Blob(vec![0, 1, 2, 255]),
            Val::Blob(vec![]),
        ];
        for v in vals {
            let back: Val =
                conn.query_row(&format!("SELECT {}", v.literal()), [], |r| Ok(Val::from(r.get_ref(0)?))).unwrap();
            assert_eq!(back, v, "{}", v.literal());
        }
    }

    #[test]
    fn order_matches_sqlite_binary_order() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t(v); INSERT INTO t VALUES (NULL),(3),(2.5),(-1),('b'),('B'),(x'00'),('a'),(9007199254740993),(9007199254740992.0);",
        )
        .unwrap();
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v COLLATE BINARY").unwrap();
        let sorted: Vec<Val> =
            stmt.query_map([], |r| Ok(Val::from(r.get_ref(0)?))).unwrap().map(|r| r.unwrap()).collect();
        for w in sorted.windows(2) {
            assert_ne!(w[0].sqlite_cmp(&w[1]), Ordering::Greater, "{:?} {:?}", w[0], w[1]);
        }
    }
}
