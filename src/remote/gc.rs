//! `remote gc REMOTE`: remove expired snapshots, then every stored object
//! no snapshot needs.
//!
//! Mark and sweep over the layout (`format.rs`):
//!
//! 1. list `snapshots/`; a manifest whose expiry has passed is deleted;
//!    every other one marks its schema record, page list, packs and their
//!    indexes. A manifest that cannot be read stops the sweep (what it
//!    needs is unknown), and is named;
//! 2. list `leases/`: a lease written in the last hour is a push in
//!    progress, which may reference any unreferenced object, so nothing
//!    is swept; older leases (a killed push's) are removed;
//! 3. list `data/` and remove each object nobody marked that is older than
//!    the grace period (default one hour): a push uploads its packs before
//!    its manifest, and they must outlive any gc that listed the
//!    manifests before that manifest was written.
//!
//! Listing is per prefix (`snapshots/NS/SLUG/`, `data/XX/`), so its cost
//! grows with the number of objects, not with their size: a store of
//! terabytes in 8 MiB packs is some hundred thousand keys, a few hundred
//! list requests.

use super::format::{self, Manifest};
use super::store::Fault;
use super::RemoteSnapshot;
use crate::home::Config;
use crate::ttl;
use std::collections::HashSet;
use std::time::Duration;

/// A lease younger than this is a push in progress.
const LEASE_LIVE: Duration = Duration::from_secs(3600);

/// What `remote gc` takes.
#[derive(Debug, Clone)]
pub(crate) struct GcOptions {
    pub remote: String,
    /// Unreferenced objects younger than this are kept.
    pub grace: Duration,
    /// Say what would go; remove nothing.
    pub dry_run: bool,
}

/// What `remote gc` did (and its `--json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct GcReport {
    /// Expired snapshots removed.
    pub expired: Vec<RemoteSnapshot>,
    /// Objects no snapshot needed, removed.
    pub objects_removed: u64,
    pub bytes_removed: u64,
    /// Why unreferenced data was kept, when it was (a push in progress, a
    /// manifest that cannot be read).
    pub kept_because: Option<String>,
}

/// Collect garbage on a remote. See the module docs.
pub(crate) fn gc(config: &Config, opts: &GcOptions) -> anyhow::Result<GcReport> {
    let store = super::open(config, &opts.remote)?;
    let err = |what: &'static str| {
        let name = store.name.clone();
        move |f: Fault| f.into_error(&name, what)
    };
    // Expiry is on sqlfork's clock (SQLFORK_NOW in tests); the age of an
    // object or a lease is on the real one, as the store's times are.
    let now = ttl::now();
    let real_now = std::time::SystemTime::now();
    let mut report = GcReport::default();
    let mut marked: HashSet<String> = HashSet::new();
    for l in store.list("snapshots").map_err(err("listing its snapshots"))? {
        let parts: Vec<&str> = l.key.split('/').collect();
        let parsed = match parts.as_slice() {
            ["snapshots", ns, slug, file] if file.ends_with(".json") => {
                let name = &file[..file.len() - 5];
                match store.get(&l.key, format::MANIFEST_LIMIT) {
                    Ok(b) => Manifest::parse(&b, ns, slug, name, &l.key).map_err(|e| e.to_string()),
                    Err(Fault::Missing) => continue,
                    Err(f) => return Err(f.into_error(&store.name, "reading a manifest")),
                }
            }
            _ => Err(format!("{} is not a manifest", l.key)),
        };
        let m = match parsed {
            Ok(m) => m,
            Err(why) => {
                report.kept_because = Some(format!("{} cannot be read ({why}); delete it or fix it", l.key));
                continue;
            }
        };
        if m.is_expired(now) {
            if !opts.dry_run {
                store.delete(&l.key).map_err(err("deleting an expired snapshot"))?;
            }
            report.expired.push(super::summary(&opts.remote, &m));
            continue;
        }
        marked.insert(format::data_key(&m.schema.sha256, "schema"));
        marked.insert(format::data_key(&m.pages.sha256, "list"));
        for p in &m.packs {
            marked.insert(format::data_key(p, "pack"));
            marked.insert(format::data_key(p, "idx"));
        }
    }
    for l in store.list("leases").map_err(err("listing its leases"))? {
        let age = real_now.duration_since(l.modified).unwrap_or_default();
        if age < LEASE_LIVE {
            report.kept_because.get_or_insert_with(|| "a push is in progress".to_string());
        } else if !opts.dry_run {
            let _ = store.delete(&l.key);
        }
    }
    if report.kept_because.is_some() {
        return Ok(report);
    }
    let mut doomed = Vec::new();
    for l in store.list("data").map_err(err("listing its data"))? {
        let old = real_now.duration_since(l.modified).unwrap_or_default() >= opts.grace;
        if !marked.contains(&l.key) && old {
            report.objects_removed += 1;
            report.bytes_removed += l.size;
            doomed.push(l.key);
        }
    }
    if !opts.dry_run && !doomed.is_empty() {
        store.delete_many(&doomed).map_err(err("removing unreferenced data"))?;
    }
    Ok(report)
}
