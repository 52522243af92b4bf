//! Schema objects added, removed and changed, and settings that differ.

use super::{ObjectChange, ObjectView, Opened, SchemaDiff, SettingChange};
use crate::schema::{Kind, Object, Settings};
use rusqlite::Connection;
use std::collections::{BTreeMap, HashSet};

/// Lower-cased names of the shadow tables of this database's virtual
/// tables, as SQLite itself reports them (`PRAGMA table_list`, type
/// `shadow`; the bundled SQLite has the FTS3/4/5 and R*Tree modules). A
/// real table that merely looks like one (`ft_extra`) is not included.
pub(crate) fn shadow_tables(conn: &Connection) -> rusqlite::Result<HashSet<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    names.map(|n| n.map(|n| n.to_lowercase())).collect()
}

/// Objects a user wrote: not SQLite's own (`sqlite_sequence`, `sqlite_stat*`)
/// nor shadow tables.
fn user_objects(side: &Opened) -> BTreeMap<(String, String), &Object> {
    side.schema
        .objects
        .iter()
        .filter(|o| !o.is_internal() && !is_shadow(side, o))
        .map(|o| ((kind_name(o).to_string(), o.name.to_lowercase()), o))
        .collect()
}

fn is_shadow(side: &Opened, o: &Object) -> bool {
    o.kind == Kind::Table && side.shadows.contains(&o.name.to_lowercase())
}

/// `table`, `virtual table`, `index`, `view` or `trigger`.
pub(crate) fn kind_name(o: &Object) -> &'static str {
    if o.is_virtual() {
        "virtual table"
    } else {
        o.kind.as_str()
    }
}

/// Added (in A only), removed (in B only) and changed objects, in A's
/// `sqlite_master` order (B's for removed ones).
pub(crate) fn diff_schema(a: &Opened, b: &Opened) -> SchemaDiff {
    let (oa, ob) = (user_objects(a), user_objects(b));
    let mut out = SchemaDiff::default();
    let order = |side: &Opened, key: &(String, String)| {
        side.schema.objects.iter().position(|o| o.name.to_lowercase() == key.1).unwrap_or(usize::MAX)
    };
    let mut keys_a: Vec<_> = oa.keys().collect();
    keys_a.sort_by_key(|k| order(a, k));
    for k in keys_a {
        let o = oa[k];
        match ob.get(k) {
            None => out.added.push(view(o)),
            Some(before) if before.sql != o.sql => out.changed.push(ObjectChange {
                kind: k.0.clone(),
                name: o.name.clone(),
                before: before.sql.clone(),
                after: o.sql.clone(),
            }),
            Some(_) => {}
        }
    }
    let mut keys_b: Vec<_> = ob.keys().filter(|k| !oa.contains_key(*k)).collect();
    keys_b.sort_by_key(|k| order(b, k));
    out.removed = keys_b.into_iter().map(|k| view(ob[k])).collect();
    out
}

fn view(o: &Object) -> ObjectView {
    ObjectView { kind: kind_name(o).to_string(), name: o.name.clone(), sql: o.sql.clone() }
}

/// Settings that differ, by their PRAGMA name.
pub(crate) fn diff_settings(a: &Settings, b: &Settings) -> BTreeMap<String, SettingChange> {
    use serde_json::json;
    let pairs = [
        ("page_size", json!(b.page_size), json!(a.page_size)),
        ("auto_vacuum", json!(b.auto_vacuum), json!(a.auto_vacuum)),
        ("encoding", json!(b.encoding), json!(a.encoding)),
        ("user_version", json!(b.user_version), json!(a.user_version)),
        ("application_id", json!(b.application_id), json!(a.application_id)),
        ("journal_mode", json!(b.journal_mode), json!(a.journal_mode)),
        ("reserved_bytes", json!(b.reserved_bytes), json!(a.reserved_bytes)),
        ("schema_format", json!(b.schema_format), json!(a.schema_format)),
        ("default_cache_size", json!(b.default_cache_size), json!(a.default_cache_size)),
    ];
    pairs
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .map(|(name, before, after)| (name.to_string(), SettingChange { before, after }))
        .collect()
}
