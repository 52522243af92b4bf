//! Remotes (SPEC section 15): shared stores of snapshots on object storage,
//! so one machine pushes a snapshot and any other forks it.
//!
//! - `mod.rs`: remote URLs, `remote add/list/remove` (config.toml
//!   `[remotes.NAME]`), listing and deleting remote snapshots;
//! - `store.rs`: the object store (`object_store`: S3 or a directory) with
//!   a blocking face on a runtime of its own;
//! - `format.rs`: the layout and the objects' formats, checked as
//!   untrusted input;
//! - `push.rs`, `pull.rs`, `gc.rs`: the three operations;
//! - `creds.rs`: `~/.aws` files.
//!
//! The interface to the rest of the crate is narrow: push reads a local
//! snapshot's file and registry record; pull makes a local snapshot record
//! (with [`crate::registry::RemoteOrigin`]) that the fork pipeline resolves
//! like any snapshot (`Source::Remote`); the schema record is built with
//! [`crate::fork::schema_file`].

mod creds;
pub(crate) mod format;
mod gc;
mod pending;
mod pull;
mod push;
mod store;

pub use gc::GcReport;
pub(crate) use gc::{gc, GcOptions};
pub use pending::Transfer;
pub(crate) use pending::{find as find_interrupted, interrupted, resume, Finished};
pub(crate) use pull::{pull, PullOptions};
pub(crate) use push::{push, PushOptions};

use crate::address::{check_part, Address, RemoteSnapshotAddress};
use crate::error::{ConfigProblem, Error};
use crate::home::{Config, Home, RemoteConfig};
use format::Manifest;
use std::path::PathBuf;
use store::{Fault, Store};

pub(crate) use crate::home::{parse_remote_url as parse_url, RemoteUrl as Url};

/// Check a remote URL (config.toml, `remote add`).
pub(crate) fn check_url(url: &str) -> Result<(), Error> {
    parse_url(url).map(|_| ())
}

/// The remote `name`'s settings, or a not-found error listing the remotes.
pub(crate) fn config_of<'c>(config: &'c Config, name: &str) -> Result<&'c RemoteConfig, Error> {
    config
        .remotes
        .get(name)
        .ok_or_else(|| Error::RemoteNotFound { remote: name.into(), known: config.remotes.keys().cloned().collect() })
}

/// The URL of the remote `name`.
pub(crate) fn url_of(config: &Config, name: &str) -> Result<String, Error> {
    Ok(config_of(config, name)?.url.clone())
}

/// Open the remote `name`.
pub(crate) fn open(config: &Config, name: &str) -> anyhow::Result<Store> {
    Store::open(name, config_of(config, name)?)
}

/// The remote a push goes to: the one named, else the only one there is.
pub(crate) fn default_remote(config: &Config, named: Option<&str>) -> Result<String, Error> {
    match named {
        Some(n) => config_of(config, n).map(|_| n.to_string()),
        None => match config.remotes.len() {
            1 => Ok(config.remotes.keys().next().expect("one").clone()),
            _ => Err(Error::RemoteNotNamed { known: config.remotes.keys().cloned().collect() }),
        },
    }
}

/// A remote as `remote list` shows it (and its `--json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct RemoteInfo {
    pub name: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    pub require_masked: bool,
}

/// What `remote add` takes.
#[derive(Debug, Clone, Default)]
pub struct RemoteOptions {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub require_masked: bool,
}

/// `remote add NAME URL`: a `[remotes.NAME]` table in config.toml (the
/// rest of the file, comments included, kept as it is).
pub(crate) fn add(home: &Home, name: &str, url: &str, opts: &RemoteOptions) -> anyhow::Result<RemoteInfo> {
    check_part("remote name", name)
        .map_err(|e| Error::BadAddress(e.within(format!("`{name}` is not a valid remote name: {e}"))))?;
    check_url(url)?;
    if let Some(e) = &opts.endpoint {
        if !(e.starts_with("http://") || e.starts_with("https://")) {
            return Err(Error::invalid(format!("--endpoint `{e}` is not an http:// or https:// URL")).into());
        }
    }
    edit_config(home, |doc| {
        let remotes = doc.entry("remotes").or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        });
        let Some(remotes) = remotes.as_table_mut() else {
            return Err(Error::BadConfig { path: None, problem: ConfigProblem::RemotesNotATable }.into());
        };
        if remotes.contains_key(name) {
            return Err(Error::RemoteTaken { remote: name.into() }.into());
        }
        let mut t = toml_edit::Table::new();
        t["url"] = toml_edit::value(url);
        if let Some(r) = &opts.region {
            t["region"] = toml_edit::value(r.as_str());
        }
        if let Some(e) = &opts.endpoint {
            t["endpoint"] = toml_edit::value(e.as_str());
        }
        if opts.require_masked {
            t["require_masked"] = toml_edit::value(true);
        }
        remotes.insert(name, toml_edit::Item::Table(t));
        Ok(())
    })?;
    Ok(RemoteInfo {
        name: name.into(),
        url: url.into(),
        region: opts.region.clone(),
        endpoint: opts.endpoint.clone(),
        require_masked: opts.require_masked,
    })
}

/// `remote remove NAME`: its table leaves config.toml. What it holds, and
/// the snapshots pulled from it, stay.
pub(crate) fn remove(home: &Home, config: &Config, name: &str) -> anyhow::Result<RemoteInfo> {
    let info = info(name, config_of(config, name)?);
    edit_config(home, |doc| {
        if let Some(t) = doc.get_mut("remotes").and_then(|r| r.as_table_mut()) {
            t.remove(name);
        }
        Ok(())
    })?;
    Ok(info)
}

fn info(name: &str, r: &RemoteConfig) -> RemoteInfo {
    RemoteInfo {
        name: name.into(),
        url: r.url.clone(),
        region: r.region.clone(),
        endpoint: r.endpoint.clone(),
        require_masked: r.require_masked,
    }
}

/// `remote list`.
pub(crate) fn list(config: &Config) -> Vec<RemoteInfo> {
    config.remotes.iter().map(|(n, r)| info(n, r)).collect()
}

/// Change config.toml under the registry lock, written atomically, and
/// checked by loading it back before it replaces the old one.
fn edit_config(home: &Home, f: impl FnOnce(&mut toml_edit::DocumentMut) -> anyhow::Result<()>) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    home.ensure()?;
    crate::registry::Registry::update(home, |_| {
        let path = home.config_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::failed(format!("could not read {}: {e}", path.display())).into()),
        };
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| Error::BadConfig {
            path: Some(path.clone()),
            problem: ConfigProblem::NotToml { message: e.to_string() },
        })?;
        f(&mut doc)?;
        let out = doc.to_string();
        Config::parse(&out)?;
        let tmp = home.root().join(format!(".config.toml.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file =
                std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            file.write_all(out.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(home.root())?.sync_all()
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::failed(format!("could not write {}: {e}", path.display()))
        })?;
        Ok(())
    })
}

/// A snapshot on a remote, as `snapshot list REMOTE:NS/SLUG` shows it
/// (and its `--json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct RemoteSnapshot {
    /// `REMOTE:NS/SLUG:NAME`.
    pub address: String,
    pub name: String,
    pub size_bytes: u64,
    pub taken_at: String,
    pub pushed_at: String,
    /// The host that pushed it.
    pub host: String,
    pub expires_at: Option<String>,
    /// True when a masked fork made it.
    pub masked: bool,
}

fn summary(remote: &str, m: &Manifest) -> RemoteSnapshot {
    RemoteSnapshot {
        address: format!("{remote}:{}/{}:{}", m.namespace, m.slug, m.name),
        name: m.name.clone(),
        size_bytes: m.size(),
        taken_at: m.taken_at.clone(),
        pushed_at: m.pushed_at.clone(),
        host: m.host.clone(),
        expires_at: m.expires_at.clone(),
        masked: m.masked,
    }
}

/// Read and check a manifest; a missing one is [`Error::RemoteSnapshotNotFound`].
pub(crate) fn read_manifest(store: &Store, snap: &RemoteSnapshotAddress) -> anyhow::Result<(Manifest, String)> {
    let (db, name) = (&snap.snapshot.database, &snap.snapshot.name);
    let key = format::manifest_key(&db.namespace, &db.slug, name);
    let label = snap.to_string();
    match store.get(&key, format::MANIFEST_LIMIT) {
        Ok(bytes) => {
            let m = Manifest::parse(&bytes, &db.namespace, &db.slug, name, &label)?;
            Ok((m, format::hex(&format::hash(&bytes))))
        }
        Err(Fault::Missing) => {
            let existing = match list_snapshots(store, db) {
                Ok(all) if all.is_empty() => format!(
                    "{}:{db} has no snapshots; push one with `sqlfork push {db}:NAME {}`",
                    store.name, store.name
                ),
                Ok(all) => format!(
                    "{}:{db} has {}",
                    store.name,
                    all.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
                Err(_) => String::new(),
            };
            Err(Error::RemoteSnapshotNotFound { snapshot: label, existing }.into())
        }
        Err(f) => Err(f.into_error(&store.name, &format!("reading the manifest of {label}"))),
    }
}

/// The snapshots of `db` on the remote, oldest first. A manifest that does
/// not parse is left out (and named on stderr by the caller? no: skipped
/// quietly here; `pull` of it says what is wrong).
pub(crate) fn list_snapshots(store: &Store, db: &Address) -> anyhow::Result<Vec<RemoteSnapshot>> {
    Ok(manifests_of(store, db)?.iter().map(|m| summary(&store.name, m)).collect())
}

/// Every readable manifest of `db` on the remote, oldest first.
pub(crate) fn manifests_of(store: &Store, db: &Address) -> anyhow::Result<Vec<Manifest>> {
    let prefix = format!("snapshots/{}/{}", db.namespace, db.slug);
    let listed = store.list(&prefix).map_err(|f| f.into_error(&store.name, &format!("listing {db}")))?;
    let mut out = Vec::new();
    for l in listed {
        let Some(name) = l.key.strip_prefix(&format!("{prefix}/")).and_then(|n| n.strip_suffix(".json")) else {
            continue;
        };
        if crate::address::check_snapshot_name(name).is_err() || l.size > format::MANIFEST_LIMIT {
            continue;
        }
        let Ok(bytes) = store.get(&l.key, format::MANIFEST_LIMIT) else { continue };
        if let Ok(m) = Manifest::parse(&bytes, &db.namespace, &db.slug, name, name) {
            out.push(m);
        }
    }
    out.sort_by(|a, b| (&a.taken_at, &a.pushed_at, &a.name).cmp(&(&b.taken_at, &b.pushed_at, &b.name)));
    Ok(out)
}

/// Every database on the remote that has a snapshot (`remote list --snapshots`).
pub(crate) fn databases(store: &Store) -> anyhow::Result<Vec<Address>> {
    let err = |f: Fault| f.into_error(&store.name, "listing its databases");
    let mut out = Vec::new();
    for ns in store.folders("snapshots").map_err(err)? {
        for slug in store.folders(&format!("snapshots/{ns}")).map_err(err)? {
            if let Ok(a) = Address::new(&ns, &slug) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// `snapshot delete REMOTE:NS/SLUG:NAME`: its manifest goes; the data it
/// alone needed goes with the next `remote gc`.
pub(crate) fn delete_snapshot(config: &Config, snap: &RemoteSnapshotAddress) -> anyhow::Result<RemoteSnapshot> {
    let store = open(config, &snap.remote)?;
    let (m, _) = read_manifest(&store, snap)?;
    let key = format::manifest_key(&m.namespace, &m.slug, &m.name);
    store.delete(&key).map_err(|f| f.into_error(&store.name, &format!("deleting {snap}")))?;
    Ok(summary(&snap.remote, &m))
}

/// This host's name, for manifests and leases.
pub(crate) fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The database id a pulled snapshot records (no database has it): the
/// remote's URL, hashed.
pub(crate) fn pulled_database_id(url: &str) -> String {
    format!("remote-{}", &format::hex(&format::hash(url.as_bytes()))[..16])
}

/// True for [`pulled_database_id`]s.
pub(crate) fn is_pulled_id(id: &str) -> bool {
    id.starts_with("remote-")
}

/// The folder in the home where this machine keeps what it knows of the
/// remote at `url` (pack indexes, what it pushed there): named by the
/// URL's hash, so that renaming a remote keeps it.
pub(crate) fn cache_dir(home: &Home, url: &str) -> PathBuf {
    let h = format::hex(&format::hash(url.as_bytes()));
    home.root().join("remotes").join(&h[..16])
}

/// The page list kept beside a local snapshot (by its id), so a pull can
/// reuse its pages without reading it.
pub(crate) fn page_list_path(home: &Home, snapshot_id: &str) -> PathBuf {
    home.root().join("remotes").join("pages").join(format!("{snapshot_id}.list"))
}

/// Figures of a push or a pull (`--json`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferFigures {
    /// Bytes sent to (push) or received from (pull) the remote.
    pub bytes_transferred: u64,
    /// Pages the remote (push) or the home (pull) already held.
    pub pages_reused: u64,
    pub pages_total: u64,
    /// The snapshot's size.
    pub size_bytes: u64,
    pub time_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("s3://my-bucket/team/prod").unwrap(),
            Url::S3 { bucket: "my-bucket".into(), prefix: "team/prod".into() }
        );
        assert_eq!(parse_url("s3://my-bucket").unwrap(), Url::S3 { bucket: "my-bucket".into(), prefix: "".into() });
        assert_eq!(parse_url("file:///srv/snaps").unwrap(), Url::File("/srv/snaps".into()));
        for bad in ["s3://", "s3://B", "file://relative", "file:///a/../b", "http://x", "s3://b/a/../c"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
