//! The home's state as files, read (and, where a test plays another
//! process, written) without the binary: the registry and its entries,
//! the files under `databases/`, claims, the copy state and the config.

use super::env::Env;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What a failed command must leave exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub registry_len: usize,
    /// Every file under home/databases.
    pub database_files: Vec<String>,
    /// Every name directly in home (registry.toml, config.toml, temp files…).
    pub home_files: Vec<String>,
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// A JSON value as TOML (nulls dropped, as the TOML registry never wrote them).
fn json_to_toml(v: serde_json::Value) -> Option<toml::Value> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => toml::Value::Boolean(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or_default()),
        },
        J::String(s) => toml::Value::String(s),
        J::Array(a) => toml::Value::Array(a.into_iter().filter_map(json_to_toml).collect()),
        J::Object(o) => {
            toml::Value::Table(o.into_iter().filter_map(|(k, v)| json_to_toml(v).map(|v| (k, v))).collect())
        }
    })
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    serde_json::to_value(v).expect("a TOML value is JSON")
}

/// The registry of `home` (`registry.sqlite`, else a `registry.toml` not
/// migrated yet) as the TOML registry looked: `databases` and `snapshots`
/// arrays of records. `None` when there is none.
pub fn read_registry(home: &std::path::Path) -> Option<toml::Value> {
    let db = home.join("registry.sqlite");
    if !db.exists() {
        let text = std::fs::read_to_string(home.join("registry.toml")).ok()?;
        return Some(toml::from_str(&text).unwrap_or_else(|e| panic!("registry.toml does not parse ({e}):\n{text}")));
    }
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
        .unwrap_or_else(|e| panic!("open {}: {e}", db.display()));
    conn.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    let records = |table: &str| -> toml::Value {
        let mut stmt = conn.prepare(&format!("SELECT record FROM {table} ORDER BY rowid")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        toml::Value::Array(
            rows.map(|r| {
                let text = r.unwrap();
                let v: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("a registry record is not JSON ({e}): {text}"));
                json_to_toml(v).expect("a record is an object")
            })
            .collect(),
        )
    };
    let mut t = toml::map::Map::new();
    t.insert("version".into(), toml::Value::Integer(1));
    t.insert("databases".into(), records("databases"));
    t.insert("snapshots".into(), records("snapshots"));
    Some(toml::Value::Table(t))
}

impl Env {
    /// The registry, as the TOML registry looked (empty when there is none).
    pub fn registry(&self) -> toml::Value {
        read_registry(&self.home).unwrap_or_else(|| toml::Value::Table(Default::default()))
    }

    /// The registry's entries (empty when there is none).
    pub fn registry_entries(&self) -> Vec<toml::Value> {
        self.registry().get("databases").and_then(|d| d.as_array()).cloned().unwrap_or_default()
    }

    pub fn registry_len(&self) -> usize {
        self.registry_entries().len()
    }

    /// The registry entry with this id; panics when there is none.
    pub fn entry(&self, id: &str) -> toml::Value {
        self.registry_entries()
            .into_iter()
            .find(|e| e.get("id").and_then(|v| v.as_str()) == Some(id))
            .unwrap_or_else(|| panic!("no registry entry with id {id}"))
    }

    /// The registry entry at `ns/slug` (no branch), if any.
    pub fn entry_at(&self, ns: &str, slug: &str) -> Option<toml::Value> {
        self.registry_entries()
            .into_iter()
            .find(|e| e.get("namespace").and_then(|v| v.as_str()) == Some(ns) && e["slug"].as_str() == Some(slug))
    }

    /// Rewrite the registry's entries by hand, as another process (or a
    /// person) would: entries removed, changed or added, by id.
    pub fn edit_registry(&self, f: impl FnOnce(&mut Vec<toml::Value>)) {
        let mut list = self.registry_entries();
        f(&mut list);
        let conn = rusqlite::Connection::open(self.home.join("registry.sqlite")).expect("open registry.sqlite");
        conn.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        let ids: Vec<String> = list.iter().map(|e| e["id"].as_str().expect("an id").to_string()).collect();
        let mut stmt = tx.prepare("SELECT id FROM databases").unwrap();
        let old: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
        drop(stmt);
        for id in old.iter().filter(|id| !ids.contains(id)) {
            tx.execute("DELETE FROM databases WHERE id = ?1", [id]).unwrap();
        }
        for e in &list {
            let s = |k: &str| e.get(k).and_then(|v| v.as_str()).map(String::from);
            let branch = s("branch").unwrap_or_default();
            let parent = e.get("forked_from").and_then(|p| p.get("id")).and_then(|v| v.as_str()).map(String::from);
            tx.execute(
                "INSERT INTO databases (id, namespace, slug, branch, parent_id, hidden, expires_at, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, slug = excluded.slug,
                     branch = excluded.branch, parent_id = excluded.parent_id, hidden = excluded.hidden,
                     expires_at = excluded.expires_at, record = excluded.record",
                rusqlite::params![
                    s("id"),
                    s("namespace"),
                    s("slug"),
                    branch,
                    parent,
                    branch.contains('~'),
                    s("expires_at"),
                    toml_to_json(e).to_string()
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    /// Remove the entry with this id by hand (its files stay).
    pub fn remove_entry(&self, id: &str) {
        self.edit_registry(|list| list.retain(|e| e["id"].as_str() != Some(id)));
    }

    /// Set one field of the entry with this address (namespace, slug and
    /// optional branch) by hand.
    pub fn set_entry_field(&self, ns: &str, slug: &str, branch: Option<&str>, key: &str, value: toml::Value) {
        self.edit_registry(|list| {
            let e = list
                .iter_mut()
                .find(|e| {
                    e["namespace"].as_str() == Some(ns)
                        && e["slug"].as_str() == Some(slug)
                        && e.get("branch").and_then(|b| b.as_str()) == branch
                })
                .unwrap_or_else(|| panic!("no entry {ns}/{slug}@{branch:?}"));
            e.as_table_mut().unwrap().insert(key.into(), value);
        });
    }

    /// Addresses in the registry, sorted.
    pub fn addresses(&self) -> Vec<String> {
        let mut v: Vec<String> = self.registry_entries().iter().map(address_of).collect();
        v.sort();
        v
    }

    /// Files under home/databases (sorted names).
    pub fn database_files(&self) -> Vec<String> {
        names_in(&self.home.join("databases"))
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            registry_len: self.registry_len(),
            database_files: self.database_files(),
            home_files: names_in(&self.home),
        }
    }

    /// Write `config.toml` in home (creating home).
    pub fn config(&self, text: &str) {
        std::fs::create_dir_all(&self.home).expect("create home");
        std::fs::write(self.home.join("config.toml"), text).expect("write config.toml");
    }

    /// The build claim file of database `id`.
    pub fn claim_path(&self, id: &str) -> PathBuf {
        std::fs::create_dir_all(self.home.join("claims")).expect("create home/claims");
        self.home.join("claims").join(format!("{id}.lock"))
    }

    /// Hold the build claim of database `id`, as a process building,
    /// resetting or deleting it does; released when the file is dropped.
    pub fn hold_claim(&self, id: &str) -> std::fs::File {
        let claim = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.claim_path(id))
            .expect("open the claim file");
        claim.lock().expect("take the claim");
        claim
    }

    /// True when a process holds the build claim of `id` (a look that holds
    /// it for a moment, as `sqlfork db show` does).
    pub fn claimed(&self, id: &str) -> bool {
        let Ok(file) = std::fs::OpenOptions::new().read(true).write(true).open(self.claim_path(id)) else {
            return false;
        };
        matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
    }

    /// `<id>.copy.json`, the copy state beside an unfinished data fork.
    pub fn copy_state(&self, id: &str) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.home.join("databases").join(format!("{id}.copy.json"))).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// True once the copy state of `id` says some pages or rows are in.
    pub fn copy_started(&self, id: &str) -> bool {
        self.copy_state(id).is_some_and(|st| {
            st["pages_written"].as_u64().unwrap_or(0) > 0 || st["rows_done"].as_u64().unwrap_or(0) > 0
        })
    }
}

/// `NS/SLUG[@REF]` of a registry entry.
fn address_of(e: &toml::Value) -> String {
    let get = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("entry lacks {k}: {e}"));
    let mut s = format!("{}/{}", get("namespace"), get("slug"));
    if let Some(b) = e.get("branch").and_then(|b| b.as_str()) {
        s.push('@');
        s.push_str(b);
    }
    s
}

/// One registry entry, as the crash and concurrency checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub address: String,
    pub path: PathBuf,
    pub owned: bool,
    pub healthy: bool,
    pub include_data: bool,
    pub branch: Option<String>,
}

impl Entry {
    /// The hidden fork a branch reset builds (`REF~reset`).
    pub fn is_reset_temp(&self) -> bool {
        self.branch.as_deref().is_some_and(|b| b.contains('~'))
    }
}

/// The registry after a crash: it must parse, every entry must be
/// `healthy` or `provisioning`, ids and addresses must be unique.
pub fn entries(env: &Env) -> Vec<Entry> {
    let Some(reg) = read_registry(&env.home) else { return vec![] };
    let text = reg.to_string();
    let list = reg.get("databases").and_then(|d| d.as_array()).cloned().unwrap_or_default();
    let mut out = Vec::new();
    let (mut ids, mut addrs) = (BTreeSet::new(), BTreeSet::new());
    for e in list {
        let get = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("entry lacks {k}: {e}"));
        let status = get("status");
        assert!(status == "healthy" || status == "provisioning", "bad status {status:?} in {e}");
        let entry = Entry {
            id: get("id").to_string(),
            address: address_of(&e),
            path: PathBuf::from(get("path")),
            owned: e.get("owned").and_then(|v| v.as_bool()).unwrap_or(false),
            healthy: status == "healthy",
            include_data: e.get("include_data").and_then(|v| v.as_bool()).unwrap_or(false),
            branch: e.get("branch").and_then(|b| b.as_str()).map(String::from),
        };
        assert!(ids.insert(entry.id.clone()), "id {} twice in the registry:\n{text}", entry.id);
        assert!(addrs.insert(entry.address.clone()), "{} twice in the registry:\n{text}", entry.address);
        out.push(entry);
    }
    out
}

/// What home holds besides strays: the registry (with SQLite's WAL and
/// shared-memory files), its lock, the TOML registry it was migrated from,
/// the config, `databases/`, `claims/`, `remotes/` and `pools/`.
pub const HOME_FILES: [&str; 11] = [
    "registry.sqlite",
    "registry.sqlite-wal",
    "registry.sqlite-shm",
    "registry.lock",
    "registry.toml.migrated",
    "config.toml",
    "databases",
    "claims",
    "registry.toml",
    // What the home knows of its remotes (caches; a partial pull is
    // checked by the remote tests themselves).
    "remotes",
    // Pool leases and locks (checked by the pool tests themselves).
    "pools",
];

/// Files in home that no registry entry owns: under `databases/`,
/// anything not named `<id>.…` for an owned entry's id (its file, its
/// SQLite journal files, its claim, copy state and base), and in home itself
/// anything but the registry, its lock, the config and `databases/`.
pub fn stray_files(env: &Env) -> Vec<String> {
    let entries = entries(env);
    let mut out: Vec<String> = names_in(&env.home).into_iter().filter(|n| !HOME_FILES.contains(&n.as_str())).collect();
    for name in env.database_files() {
        let (id, rest) = name.split_once('.').unwrap_or((name.as_str(), ""));
        let owner = entries.iter().find(|e| e.id == id && e.owned);
        // A snapshot's file is named by the snapshot's id (and a claim file
        // may stay beside it).
        if owner.is_none() && snapshot_ids(env).contains(id) && ["sqlite", "lock"].contains(&rest) {
            continue;
        }
        let ok = match owner {
            None => false,
            Some(e) => match rest {
                "sqlite" | "sqlite-journal" | "sqlite-wal" | "sqlite-shm" => {
                    e.path.file_name().map(|n| n.to_string_lossy().into_owned()) == Some(format!("{id}.sqlite"))
                }
                // A data fork's base (`db merge`), when it keeps one.
                "lock" | "copy.json" | "copy.json.tmp" | "base.sqlite" => true,
                _ => false,
            },
        };
        if !ok {
            out.push(format!("databases/{name}"));
        }
    }
    for name in names_in(&env.home.join("claims")) {
        let id = name.strip_suffix(".lock").unwrap_or(&name);
        if !entries.iter().any(|e| e.id == id && e.owned) && !snapshot_ids(env).contains(id) {
            out.push(format!("claims/{name}"));
        }
    }
    out.sort();
    out
}

/// The ids of the snapshots in the registry (`[[snapshots]]`).
pub fn snapshot_ids(env: &Env) -> std::collections::BTreeSet<String> {
    env.registry()
        .get("snapshots")
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|s| s.get("id")?.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// Assert [`stray_files`] finds nothing.
pub fn assert_no_strays(env: &Env, what: &str) {
    let strays = stray_files(env);
    assert!(strays.is_empty(), "{what}: files no entry owns: {strays:?}");
}
