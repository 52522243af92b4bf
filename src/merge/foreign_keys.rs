//! Foreign keys during a merge: enforcement is off (no ON DELETE action may
//! fire on the parent), so the tables a merge can break are found first
//! (`ForeignKeys`, `Shape`) and checked with `PRAGMA foreign_key_check`
//! before and after.

use super::decide::differing;
use crate::diff::rows::{Sink, TablePlan};
use crate::diff::{ChangeKind, Val};
use crate::schema::quote_ident;
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};

/// The database's foreign keys: (child, parent) pairs, and per table the
/// columns a foreign key names (as child or as parent).
pub(super) struct ForeignKeys {
    pairs: Vec<(String, String)>,
    pub(super) columns: HashMap<String, HashSet<String>>,
}

impl ForeignKeys {
    pub(super) fn read(conn: &Connection) -> anyhow::Result<ForeignKeys> {
        let mut stmt = conn.prepare(
            "SELECT m.name, f.\"table\", f.\"from\", f.\"to\" FROM main.sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table'",
        )?;
        let rows: Vec<(String, String, String, Option<String>)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
        let mut columns: HashMap<String, HashSet<String>> = HashMap::new();
        let mut pairs = Vec::new();
        for (child, parent, from, to) in rows {
            columns.entry(child.to_lowercase()).or_default().insert(from.to_lowercase());
            // A foreign key to the parent's primary key (`to` NULL) is
            // touched only by inserts and deletes: a merge never updates a key.
            if let Some(to) = to {
                columns.entry(parent.to_lowercase()).or_default().insert(to.to_lowercase());
            } else {
                columns.entry(parent.to_lowercase()).or_default();
            }
            pairs.push((child, parent));
        }
        Ok(ForeignKeys { pairs, columns })
    }

    /// Child tables whose foreign keys a write to `written` can break:
    /// those written, and those pointing at a written table.
    pub(super) fn children_of(&self, written: &[String]) -> Vec<String> {
        let w: HashSet<String> = written.iter().map(|t| t.to_lowercase()).collect();
        let mut out: Vec<String> = self
            .pairs
            .iter()
            .filter(|(child, parent)| w.contains(&child.to_lowercase()) || w.contains(&parent.to_lowercase()))
            .map(|(child, _)| child.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Whether a table's changes can break a foreign key: a row inserted or
/// deleted, or a column a foreign key names updated.
pub(super) struct Shape<'a> {
    pub(super) fk_columns: Option<&'a HashSet<String>>,
    pub(super) relevant: bool,
}

impl Sink for Shape<'_> {
    fn change(
        &mut self,
        plan: &TablePlan,
        kind: ChangeKind,
        _key: &[Val],
        before: Option<&[Val]>,
        after: Option<&[Val]>,
    ) -> anyhow::Result<()> {
        let Some(cols) = self.fk_columns else { return Ok(()) };
        if self.relevant {
            return Ok(());
        }
        self.relevant = match (kind, before, after) {
            (ChangeKind::Update, Some(b), Some(f)) => {
                let names: Vec<&String> = plan.compared().collect();
                differing(b, f).iter().any(|&c| cols.contains(&names[c].to_lowercase()))
            }
            _ => true,
        };
        Ok(())
    }
}

pub(super) type Violation = (String, i64, String, i64);

pub(super) fn fk_violations(conn: &Connection, tables: &[String]) -> anyhow::Result<HashSet<Violation>> {
    let mut out = HashSet::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("PRAGMA main.foreign_key_check({})", quote_ident(t)))?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            out.insert((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0), r.get(2)?, r.get(3)?));
        }
    }
    Ok(out)
}
