//! Safe copies of production: masked and subset forks.
//!
//! A masked or subset fork is a copy method of its own: it is built from
//! the rows into a fresh file, and only masked values are ever written to
//! that file (see `mask::build`). This module reads and checks the rules:
//! - a rules file (`--mask FILE`, or `mask = "FILE"` in config.toml): a
//!   `seed` and, per table and column, a masker;
//! - subset filters (`--subset TABLE:WHERE`, repeatable).
//!
//! Every rule is checked against the source's schema before anything is
//! written: the table and column exist, the masker is known, every WHERE
//! and `sql` expression prepares (and every `sql` expression evaluates on
//! every row), a seed is present. A bad rule is [`Error::Invalid`] (exit 2)
//! naming the rule.

pub(crate) mod build;
pub mod check;
pub mod maskers;
pub(crate) mod subset;

use crate::error::Error;
use crate::schema::{quote_ident, SourceSchema};
pub use maskers::Masker;
use rusqlite::types::Value;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed rules file.
#[derive(Debug, Clone)]
pub struct Rules {
    pub path: PathBuf,
    pub seed: String,
    /// Table → column → masker, in file order.
    pub tables: Vec<(String, Vec<(String, Masker)>)>,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// One `--subset TABLE:WHERE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsetRule {
    pub table: String,
    pub filter: String,
}

impl SubsetRule {
    /// Parse `TABLE:WHERE`.
    pub fn parse(arg: &str) -> Result<SubsetRule, Error> {
        match arg.split_once(':') {
            Some((t, w)) if !t.trim().is_empty() && !w.trim().is_empty() => {
                Ok(SubsetRule { table: t.trim().to_string(), filter: w.trim().to_string() })
            }
            _ => Err(Error::BadRule(format!(
                "--subset `{arg}` is not TABLE:WHERE; write for example --subset 'orders:created_at >= \"2026-01-01\"'"
            ))),
        }
    }
    pub fn to_arg(&self) -> String {
        format!("{}:{}", self.table, self.filter)
    }
}

/// What a data fork should do to the rows, if anything.
#[derive(Debug, Clone, Default)]
pub struct SafeOptions {
    pub rules: Option<Rules>,
    pub subset: Vec<SubsetRule>,
    /// Refuse to fork while personal-looking columns have no rule.
    pub strict: bool,
}

impl SafeOptions {
    pub fn is_active(&self) -> bool {
        self.rules.is_some() || !self.subset.is_empty()
    }

    /// What the fork's entry records.
    pub fn record(&self) -> SafeRecord {
        let subset: Vec<String> = self.subset.iter().map(SubsetRule::to_arg).collect();
        SafeRecord {
            masked: self.rules.is_some(),
            rules_sha256: self.rules.as_ref().map(|r| r.sha256.clone()),
            mask_file: self.rules.as_ref().map(|r| r.path.clone()),
            subset_sha256: if subset.is_empty() { None } else { Some(sha256_hex(subset.join("\n").as_bytes())) },
            subset,
            rows_kept: BTreeMap::new(),
        }
    }

    /// The options a recorded fork was made with (a later `branch put`
    /// without flags makes the same kind of fork). The rules file is read
    /// again, so its current content applies.
    pub fn from_record(rec: &SafeRecord) -> Result<SafeOptions, Error> {
        let rules = match &rec.mask_file {
            Some(p) => Some(Rules::load(p)?),
            None => None,
        };
        let subset = rec.subset.iter().map(|s| SubsetRule::parse(s)).collect::<Result<_, _>>()?;
        Ok(SafeOptions { rules, subset, strict: false })
    }
}

pub use crate::registry::SafeRecord;

/// A string literal for SQL.
pub(crate) fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// An SQL token without its quotes (`"a""b"` → `a"b`, `'x'`, `[x]`, `` `x` ``).
pub(crate) fn unquote(tok: &str) -> String {
    let t = tok.trim();
    let b = t.as_bytes();
    if b.len() >= 2 {
        let (first, last) = (b[0], b[b.len() - 1]);
        let close = match first {
            b'"' => Some(b'"'),
            b'\'' => Some(b'\''),
            b'`' => Some(b'`'),
            b'[' => Some(b']'),
            _ => None,
        };
        if close == Some(last) {
            let inner = &t[1..t.len() - 1];
            return if first == b'[' {
                inner.to_string()
            } else {
                inner.replace(&format!("{0}{0}", first as char), &(first as char).to_string())
            };
        }
    }
    t.to_string()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    maskers::hex(&Sha256::digest(bytes))
}

impl Rules {
    /// Read and parse a rules file. Syntax only: `validate` checks it
    /// against a source.
    pub fn load(path: &Path) -> Result<Rules, Error> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::BadRule(format!("could not read the mask rules {}: {e}; check the --mask path", path.display()))
        })?;
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| Error::BadRule(format!("the mask rules {} are not UTF-8 text", path.display())))?;
        // Named by its whole path in every error, as the rule checks name it.
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut rules = Rules::parse(&text).map_err(|m| Error::BadRule(format!("{}: {m}", path.display())))?;
        rules.path = path;
        rules.sha256 = sha256_hex(&bytes);
        Ok(rules)
    }

    pub fn parse(text: &str) -> Result<Rules, String> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| format!("not valid TOML: {}", e.message()))?;
        let mut seed = None;
        let mut tables = Vec::new();
        for (key, value) in &doc {
            match (key.as_str(), value) {
                ("seed", toml::Value::String(s)) if !s.is_empty() => seed = Some(s.clone()),
                ("seed", _) => return Err("`seed` must be a non-empty string".into()),
                ("tables", toml::Value::Table(t)) => {
                    for (table, cols) in t {
                        let toml::Value::Table(cols) = cols else {
                            return Err(format!("`tables.{table}` must be a table of column = masker"));
                        };
                        let mut list = Vec::new();
                        for (col, m) in cols {
                            list.push((col.clone(), parse_masker(table, col, m)?));
                        }
                        tables.push((table.clone(), list));
                    }
                }
                (other, _) => {
                    return Err(format!("unknown key `{other}` (a rules file has `seed` and `[tables.NAME]`)"))
                }
            }
        }
        let Some(seed) = seed else {
            return Err("no `seed`: add seed = \"a secret kept out of the repository\" (masking is keyed by it)".into());
        };
        Ok(Rules { path: PathBuf::new(), seed, tables, sha256: String::new() })
    }
}

fn parse_masker(table: &str, col: &str, m: &toml::Value) -> Result<Masker, String> {
    let rule = format!("tables.{table}.{col}");
    let known = "null, hash, email, name, phone, keep, { fixed = VALUE } or { sql = \"EXPR\" }";
    match m {
        toml::Value::String(s) => match s.as_str() {
            "null" => Ok(Masker::Null),
            "hash" => Ok(Masker::Hash),
            "email" => Ok(Masker::Email),
            "name" => Ok(Masker::Name),
            "phone" => Ok(Masker::Phone),
            "keep" => Ok(Masker::Keep),
            other => Err(format!("rule {rule}: unknown masker `{other}`; use one of {known}")),
        },
        toml::Value::Table(t) if t.len() == 1 => {
            let (k, v) = t.iter().next().expect("one entry");
            match (k.as_str(), v) {
                ("sql", toml::Value::String(e)) => Ok(Masker::Sql(e.clone())),
                ("fixed", v) => Ok(Masker::Fixed(match v {
                    toml::Value::String(s) => Value::Text(s.clone()),
                    toml::Value::Integer(i) => Value::Integer(*i),
                    toml::Value::Float(f) => Value::Real(*f),
                    toml::Value::Boolean(b) => Value::Integer(*b as i64),
                    _ => return Err(format!("rule {rule}: `fixed` takes a string, a number or a boolean")),
                })),
                _ => Err(format!("rule {rule}: unknown masker `{k}`; use one of {known}")),
            }
        }
        _ => Err(format!("rule {rule}: unknown masker; use one of {known}")),
    }
}

// ---------------------------------------------------------------------------
// Validation against the source

/// A masked column, resolved against the source.
#[derive(Debug, Clone)]
pub(crate) struct ColumnMask {
    /// The column's name as the source spells it.
    pub column: String,
    pub masker: Masker,
    /// The column is in a UNIQUE constraint or unique index.
    pub unique: bool,
}

/// The rules, resolved against one source: table names as the source
/// spells them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolved {
    pub seed: Option<String>,
    /// Table → its masked columns (`keep` columns are left out).
    pub masks: BTreeMap<String, Vec<ColumnMask>>,
    /// Table → WHERE.
    pub subset: BTreeMap<String, String>,
}

impl Resolved {
    pub(crate) fn mask_of(&self, table: &str, column: &str) -> Option<&ColumnMask> {
        self.masks.get(table)?.iter().find(|m| m.column.eq_ignore_ascii_case(column))
    }
}

/// The source's name for a table, if it has one (tables only, not views).
fn source_table<'a>(schema: &'a SourceSchema, name: &str) -> Option<&'a crate::schema::Object> {
    schema.objects.iter().find(|o| o.kind == crate::schema::Kind::Table && o.name.eq_ignore_ascii_case(name))
}

/// (name, hidden, notnull, pk) of every column of a source table.
pub(crate) fn columns(
    conn: &Connection,
    schema_name: &str,
    table: &str,
) -> rusqlite::Result<Vec<(String, i64, bool, i64)>> {
    let mut stmt = conn.prepare(&format!("PRAGMA {schema_name}.table_xinfo({})", quote_ident(table)))?;
    let rows = stmt.query_map([], |r| Ok((r.get(1)?, r.get(6)?, r.get::<_, i64>(3)? != 0, r.get(5)?)))?;
    rows.collect()
}

/// Columns under a UNIQUE constraint or unique index (lower case).
fn unique_columns(conn: &Connection, schema_name: &str, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare(&format!("PRAGMA {schema_name}.index_list({})", quote_ident(table)))?;
    let idx: Vec<(String, bool)> =
        stmt.query_map([], |r| Ok((r.get(1)?, r.get::<_, i64>(2)? != 0)))?.collect::<rusqlite::Result<_>>()?;
    for (name, unique) in idx.into_iter().filter(|(_, u)| *u) {
        let _ = unique;
        let mut s = conn.prepare(&format!("PRAGMA {schema_name}.index_info({})", quote_ident(&name)))?;
        let cols: Vec<Option<String>> = s.query_map([], |r| r.get(2))?.collect::<rusqlite::Result<_>>()?;
        out.extend(cols.into_iter().flatten().map(|c| c.to_ascii_lowercase()));
    }
    Ok(out)
}

/// Check every rule against the source (`conn` reads it as schema `db`)
/// and resolve names. Nothing is written.
pub(crate) fn validate(
    conn: &Connection,
    db: &str,
    schema: &SourceSchema,
    opts: &SafeOptions,
) -> Result<Resolved, Error> {
    let mut out = Resolved::default();
    let bad = |m: String| Error::BadRule(m);
    if let Some(rules) = &opts.rules {
        out.seed = Some(rules.seed.clone());
        // Every rule error names the rules file first, as its parse
        // errors do: `m.toml: rule tables.T.C: …`.
        let file = rules.path.display();
        for (table, cols) in &rules.tables {
            let obj = source_table(schema, table).filter(|o| !o.is_internal()).ok_or_else(|| {
                bad(format!(
                    "{file}: rule tables.{table}: the source has no table `{table}`; fix the table name in the rules"
                ))
            })?;
            if let Some(msg) = shadow_rule(schema, table, cols, &obj.name) {
                return Err(bad(format!("{file}: {msg}")));
            }
            if obj.is_virtual() && own_content_fts(obj).is_none() {
                return Err(bad(format!(
                    "{file}: rule tables.{table}: `{}` is a virtual table; mask the table it takes its content from instead",
                    obj.name
                )));
            }
            let info = columns(conn, db, &obj.name).map_err(|e| bad(format!("{file}: rule tables.{table}: {e}")))?;
            let uniques =
                unique_columns(conn, db, &obj.name).map_err(|e| bad(format!("{file}: rule tables.{table}: {e}")))?;
            let mut masks = Vec::new();
            for (col, masker) in cols {
                let rule = format!("{file}: rule tables.{table}.{col}");
                let Some((name, hidden, notnull, pk)) = info.iter().find(|c| c.0.eq_ignore_ascii_case(col)).cloned()
                else {
                    return Err(bad(format!(
                        "{rule}: table `{}` has no column `{col}`; fix the column name in the rules",
                        obj.name
                    )));
                };
                if hidden != 0 {
                    return Err(bad(format!(
                        "{rule}: `{name}` is a generated column; mask the columns it is computed from"
                    )));
                }
                let unique = uniques.contains(&name.to_ascii_lowercase()) || pk > 0;
                match masker {
                    Masker::Null if notnull || pk > 0 => {
                        return Err(bad(format!(
                            "{rule}: `{name}` is NOT NULL or a primary key, so `null` cannot mask it; use hash"
                        )))
                    }
                    Masker::Fixed(_) if unique => {
                        return Err(bad(format!(
                            "{rule}: `{name}` must be unique, so one fixed value cannot mask it; use hash"
                        )))
                    }
                    Masker::Sql(expr) => {
                        check_expression(conn, db, &obj.name, expr, &rule)?;
                        if unique {
                            check_distinct(conn, db, &obj.name, expr, &rule, &name)?;
                        }
                    }
                    _ => {}
                }
                if *masker != Masker::Keep {
                    masks.push(ColumnMask { column: name, masker: masker.clone(), unique });
                }
            }
            out.masks.entry(obj.name.clone()).or_default().extend(masks);
        }
    }
    for rule in &opts.subset {
        let arg = rule.to_arg();
        let obj = source_table(schema, &rule.table).filter(|o| !o.is_internal()).ok_or_else(|| {
            bad(format!("--subset `{arg}`: the source has no table `{}`; fix the table name", rule.table))
        })?;
        if obj.is_virtual() || !subset::has_rowid(conn, db, &obj.name).unwrap_or(false) {
            return Err(bad(format!(
                "--subset `{arg}`: `{}` is a virtual or WITHOUT ROWID table, which a subset cannot filter; filter a table it refers to",
                obj.name
            )));
        }
        let sql = format!("SELECT 1 FROM {db}.{} WHERE ({})", quote_ident(&obj.name), rule.filter);
        conn.prepare(&sql).map_err(|e| {
            let msg = sqlite_message(&e);
            match msg.strip_prefix("no such column: ") {
                Some(col) => {
                    bad(format!("--subset `{arg}`: table `{}` has no column `{col}`; fix the column name", obj.name))
                }
                None => bad(format!("--subset `{arg}`: the WHERE does not parse: {msg}")),
            }
        })?;
        if out.subset.insert(obj.name.clone(), rule.filter.clone()).is_some() {
            return Err(bad(format!(
                "--subset `{arg}`: table `{}` is named twice; join the conditions with AND",
                obj.name
            )));
        }
    }
    let file = opts.rules.as_ref().map_or_else(|| "the mask rules".to_string(), |r| r.path.display().to_string());
    check_fts(schema, &out, &file)?;
    check_foreign_keys(conn, db, schema, &out, &file)?;
    Ok(out)
}

/// Both ends of a foreign key must be masked alike (a child may be
/// `null`): else every child row would point at a parent the fork does not
/// have.
fn check_foreign_keys(
    conn: &Connection,
    db: &str,
    schema: &SourceSchema,
    resolved: &Resolved,
    file: &str,
) -> Result<(), Error> {
    if resolved.masks.is_empty() {
        return Ok(());
    }
    let fks = subset::foreign_keys(conn, db, schema).map_err(|e| Error::failed(format!("{e:#}")))?;
    for fk in fks {
        for (from, to) in fk.from.iter().zip(&fk.to) {
            let child = resolved.mask_of(&fk.child, from).map(|m| &m.masker);
            let parent = resolved.mask_of(&fk.parent, to).map(|m| &m.masker);
            if child == parent || child == Some(&Masker::Null) {
                continue;
            }
            let (rule, other) = match child {
                Some(_) => (format!("{file}: rule tables.{}.{from}", fk.child), format!("{}.{to}", fk.parent)),
                None => (format!("{file}: rule tables.{}.{to}", fk.parent), format!("{}.{from}", fk.child)),
            };
            let how = |m: Option<&Masker>| m.map(|m| format!("`{}`", m.label())).unwrap_or_else(|| "no masker".into());
            return Err(Error::BadRule(format!(
                "{rule}: {}.{from} references {}.{to}, but one is masked with {} and the other with {}; mask {other} the same way so the foreign key holds",
                fk.child,
                fk.parent,
                how(child),
                how(parent)
            )));
        }
    }
    Ok(())
}

/// A `sql` masker must prepare against the table and evaluate on every row.
fn check_expression(conn: &Connection, db: &str, table: &str, expr: &str, rule: &str) -> Result<(), Error> {
    let sql = format!("SELECT count(({expr})) FROM {db}.{}", quote_ident(table));
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| Error::BadRule(format!("{rule}: the sql expression does not parse: {}", sqlite_message(&e))))?;
    stmt.query_row([], |r| r.get::<_, i64>(0))
        .map_err(|e| Error::BadRule(format!("{rule}: the sql expression fails on a row: {}", sqlite_message(&e))))?;
    Ok(())
}

/// A `sql` masker on a UNIQUE column must not make two rows equal.
fn check_distinct(conn: &Connection, db: &str, table: &str, expr: &str, rule: &str, col: &str) -> Result<(), Error> {
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM (SELECT ({expr}) AS v FROM {db}.{}) WHERE v IS NOT NULL GROUP BY v HAVING count(*) > 1 LIMIT 1)",
        quote_ident(table)
    );
    let dups: i64 = conn
        .query_row(&sql, [], |r| r.get(0))
        .map_err(|e| Error::BadRule(format!("{rule}: {}", sqlite_message(&e))))?;
    if dups > 0 {
        return Err(Error::BadRule(format!(
            "{rule}: `{col}` must be unique, but the sql expression gives two rows the same value; use hash or make the expression unique (e.g. include the id)"
        )));
    }
    Ok(())
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        // Not the statement sqlfork wrapped the user's text in.
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// A full-text table (FTS3/4/5) that stores its own content: a mask rule
/// names its columns, and a masked fork fills it through the virtual table.
pub(crate) fn own_content_fts(obj: &crate::schema::Object) -> Option<build::Fts> {
    build::Fts::parse(&obj.name, &obj.sql).filter(|f| f.content.is_none())
}

/// The full-text table whose shadow table `name` is, if any.
pub(crate) fn fts_of_shadow(schema: &SourceSchema, name: &str) -> Option<build::Fts> {
    let lower = name.to_ascii_lowercase();
    schema.objects.iter().filter(|o| o.is_virtual()).filter_map(|o| build::Fts::parse(&o.name, &o.sql)).find(|f| {
        let v = f.name.to_ascii_lowercase();
        lower.len() > v.len() + 1 && lower.starts_with(&v) && lower.as_bytes()[v.len()] == b'_'
    })
}

/// The column of `fts` a shadow table's column holds (`c0`, `c0email` → the first).
pub(crate) fn fts_column_of_shadow(fts: &build::Fts, shadow_col: &str) -> String {
    let digits: String = shadow_col.chars().skip(1).take_while(char::is_ascii_digit).collect();
    let n = if shadow_col.starts_with(['c', 'C']) { digits.parse::<usize>().ok() } else { None };
    n.and_then(|n| fts.columns.get(n)).or(fts.columns.first()).cloned().unwrap_or_default()
}

/// A rule naming a full-text table's shadow table: refused, pointing at
/// the virtual table's column (the index holds the values too).
fn shadow_rule(schema: &SourceSchema, table: &str, cols: &[(String, Masker)], name: &str) -> Option<String> {
    let fts = fts_of_shadow(schema, name)?;
    let col = cols.first().map(|(c, _)| c.as_str()).unwrap_or_default();
    let target = match fts.content.as_deref() {
        Some(t) if !t.is_empty() => return Some(format!(
            "rule tables.{table}.{col}: `{name}` is a shadow table of the full-text table `{}`; mask the table `{t}` it takes its content from instead",
            fts.name
        )),
        _ => fts_column_of_shadow(&fts, col),
    };
    Some(format!(
        "rule tables.{table}.{col}: `{name}` is a shadow table of the full-text table `{}`; mask {}.{target} instead",
        fts.name, fts.name
    ))
}

/// A contentless FTS table (`content=''`) holds only its index: it cannot
/// be rebuilt from masked rows, so a masked fork refuses one that has a
/// column named like a masked column.
fn check_fts(schema: &SourceSchema, resolved: &Resolved, file: &str) -> Result<(), Error> {
    for vt in schema.objects.iter().filter(|o| o.is_virtual()) {
        let Some(fts) = build::Fts::parse(&vt.name, &vt.sql) else { continue };
        if fts.content.as_deref() != Some("") {
            continue;
        }
        for (table, cols) in &resolved.masks {
            if let Some(c) = cols.iter().find(|c| fts.columns.iter().any(|f| f.eq_ignore_ascii_case(&c.column))) {
                return Err(Error::BadRule(format!(
                    "{file}: rule tables.{table}.{}: the contentless full-text table `{}` indexes a column of that name and cannot be rebuilt from masked rows; drop it from the source or fork without --mask",
                    c.column, vt.name
                )));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Entry points for the fork pipeline and the CLI

/// Check a fork's safe options against its source, before anything is
/// written. None when the fork is neither masked nor a subset.
/// `pinned` is the connection holding the source's moment, if one does;
/// `with_data` and `detach` are the fork's.
pub(crate) fn prepare(
    src: &Path,
    pinned: Option<&Connection>,
    schema: &SourceSchema,
    safe: &SafeOptions,
    (with_data, detach): (bool, bool),
) -> anyhow::Result<Option<Resolved>> {
    if !safe.is_active() {
        return Ok(None);
    }
    if !with_data {
        return Err(Error::invalid("--mask and --subset transform the rows: add --with-data").into());
    }
    if detach {
        return Err(Error::invalid("a masked or subset fork cannot --detach; run it in the foreground").into());
    }
    let own;
    let conn = match pinned {
        Some(c) => c,
        None => {
            own = crate::schema::open_source(src)?;
            &own
        }
    };
    let resolved = validate(conn, "main", schema, safe)?;
    if safe.strict {
        let left = check::unruled(conn, "main", schema, safe.rules.as_ref())?;
        if !left.is_empty() {
            let columns = left.iter().map(|f| format!("{}.{} ({})", f.table, f.column, f.kind)).collect();
            return Err(Error::Unmasked { columns }.into());
        }
    }
    Ok(Some(resolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_masker_and_refuses_unknown_ones() {
        let r = Rules::parse(
            "seed = \"k\"\n[tables.c]\na = \"null\"\nb = \"hash\"\nc = { fixed = 3 }\nd = { sql = \"'x'\" }\ne = \"keep\"\n",
        )
        .unwrap();
        assert_eq!(r.tables[0].1.len(), 5);
        assert!(Rules::parse("seed = \"k\"\n[tables.c]\na = \"scramble\"\n").unwrap_err().contains("tables.c.a"));
        assert!(Rules::parse("[tables.c]\na = \"hash\"\n").unwrap_err().contains("seed"));
    }

    #[test]
    fn subset_args_need_a_colon() {
        assert_eq!(SubsetRule::parse("t: a > 1").unwrap(), SubsetRule { table: "t".into(), filter: "a > 1".into() });
        assert!(SubsetRule::parse("t").is_err());
    }
}
