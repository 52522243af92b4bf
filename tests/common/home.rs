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

impl Env {
    /// The registry file, parsed (empty when there is none).
    pub fn registry(&self) -> toml::Value {
        let text = std::fs::read_to_string(self.home.join("registry.toml")).unwrap_or_default();
        toml::from_str(&text).expect("registry.toml parses")
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

    /// Rewrite the registry by hand, as another process (or a person) would.
    pub fn edit_registry(&self, f: impl FnOnce(&mut Vec<toml::Value>)) {
        let path = self.home.join("registry.toml");
        let mut reg: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        f(reg.get_mut("databases").and_then(|d| d.as_array_mut()).expect("registry has databases"));
        std::fs::write(&path, toml::to_string(&reg).unwrap()).unwrap();
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
        self.home.join("databases").join(format!("{id}.lock"))
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
    let path = env.home.join("registry.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return vec![],
        Err(e) => panic!("read {}: {e}", path.display()),
    };
    let reg: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("registry.toml does not parse ({e}):\n{text}"));
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

/// Files in home that no registry entry owns: under `databases/`,
/// anything not named `<id>.…` for an owned entry's id (its file, its
/// SQLite journal files, its claim and copy state), and in home itself
/// anything but the registry, its lock, the config and `databases/`.
pub fn stray_files(env: &Env) -> Vec<String> {
    let entries = entries(env);
    let mut out: Vec<String> = names_in(&env.home)
        .into_iter()
        // `remotes/`: what the home knows of its remotes (caches; a
        // partial pull is checked by the remote tests themselves).
        .filter(|n| !["registry.toml", "registry.lock", "config.toml", "databases", "remotes"].contains(&n.as_str()))
        .collect();
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
                "lock" | "copy.json" | "copy.json.tmp" => true,
                _ => false,
            },
        };
        if !ok {
            out.push(format!("databases/{name}"));
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
