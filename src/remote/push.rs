//! `push NS/SLUG:NAME [REMOTE]`: upload a local snapshot.
//!
//! 1. Refuse early: a remote that requires masked snapshots and a snapshot
//!    no masked fork made; a name the remote holds already (exit 4).
//! 2. Write a lease (`leases/ID.json`): while it is live, `remote gc`
//!    removes no unreferenced object, so nothing this push reuses or has
//!    uploaded so far can vanish under it. Then wait while a gc sweeps
//!    (it may have listed the leases just before this one was written).
//! 3. Learn which pages the remote holds already for this lineage: the
//!    pack indexes of the newest manifests of NS/SLUG, and of the packs
//!    this home uploaded there before (an interrupted push's included:
//!    that is how a push resumes), checked to still exist.
//! 4. Read the snapshot page by page, hash each (SHA-256); a page the
//!    remote lacks goes into the current pack; a full pack (8 MiB) is
//!    uploaded with its index while the next one fills (two at a time).
//! 5. Upload the page list and the schema record (a schema-only SQLite
//!    file), then the manifest, last, with a conditional create: of two
//!    racing pushes of one name exactly one wins, the other is exit 4.
//! 6. Remove the lease; keep the page list beside the local snapshot (so a
//!    later pull reuses its pages without reading it).

use super::format::{self, Entry, Hash, Lease, Manifest, ObjectRef, PackIndex, PageList};
use super::store::{Fault, Store};
use super::{cache_dir, page_list_path, RemoteSnapshot, TransferFigures};
use crate::address::{RemoteSnapshotAddress, SnapshotAddress};
use crate::copy::Progress;
use crate::error::Error;
use crate::home::{Config, Home};
use crate::registry::Registry;
use crate::ttl;
use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What `push` takes.
#[derive(Debug, Clone)]
pub(crate) struct PushOptions {
    pub snapshot: SnapshotAddress,
    /// The remote; `None` when only one is configured.
    pub remote: Option<String>,
    /// Expire on the remote this long after the push (`remote gc` removes it).
    pub ttl: Option<Duration>,
}

/// How many manifests of the same database a push reads to learn what the
/// remote holds (the newest ones: tonight's push shares its pages with
/// last night's).
const MANIFESTS_READ: usize = 4;
/// Packs uploading while the next one fills.
const IN_FLIGHT: usize = 2;

/// Pages the remote holds: page hash → pack.
#[derive(Default)]
pub(super) struct Known {
    pub map: HashMap<Hash, u32>,
    pub packs: Vec<String>,
}

impl Known {
    pub(super) fn add(&mut self, pack: &str, entries: &[Entry]) {
        let n = self.packs.len() as u32;
        self.packs.push(pack.to_string());
        for e in entries {
            self.map.entry(e.hash).or_insert(n);
        }
    }
}

/// A pack's name and its index.
pub(super) type PackEntries = (String, Vec<Entry>);

/// The indexes of `packs`, from the home's cache or the remote (in
/// parallel), cached as they come. A pack whose index is missing is
/// returned in the second list.
pub(super) fn load_indexes(
    store: &Store,
    cache: &Path,
    packs: &[String],
) -> anyhow::Result<(Vec<PackEntries>, Vec<String>)> {
    let mut found = Vec::new();
    let missing = for_each_index(store, cache, packs, |p, entries| {
        found.push((p, entries));
        Ok(())
    })?;
    Ok((found, missing))
}

/// Hand the index of each of `packs` to `f` as it comes (from the home's
/// cache, or from the remote in parallel, then cached), so that no more
/// than a few are in memory at once. Returns the packs whose index is
/// missing.
pub(super) fn for_each_index(
    store: &Store,
    cache: &Path,
    packs: &[String],
    mut f: impl FnMut(String, Vec<Entry>) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<String>> {
    let dir = cache.join("idx");
    let mut fetch = Vec::new();
    for p in packs {
        match std::fs::read(dir.join(format!("{p}.idx"))).ok().and_then(|b| PackIndex::parse(&b).ok()) {
            Some(e) => f(p.clone(), e)?,
            None => fetch.push(p.clone()),
        }
    }
    let mut missing = Vec::new();
    if fetch.is_empty() {
        return Ok(missing);
    }
    let _ = std::fs::create_dir_all(&dir);
    let futures: Vec<_> = fetch
        .iter()
        .map(|p| {
            let key = format::data_key(p, "idx");
            let f = store.get_range_later(&key, 0..format::INDEX_LIMIT);
            let p = p.clone();
            async move { (p, f.await) }
        })
        .collect();
    store.block_on(async {
        let mut results = futures_util::stream::iter(futures).buffer_unordered(super::store::PARALLEL * 2);
        while let Some((p, r)) = results.next().await {
            match r {
                Ok(bytes) => {
                    let entries = PackIndex::parse(&bytes)
                        .map_err(|reason| Error::RemoteDamaged { snapshot: format!("pack {p}"), reason })?;
                    let _ = write_atomic(&dir.join(format!("{p}.idx")), &bytes);
                    f(p, entries)?;
                }
                Err(Fault::Missing) => missing.push(p),
                Err(e) => return Err(e.into_error(&store.name, &format!("reading the index of pack {p}"))),
            }
        }
        Ok(())
    })?;
    Ok(missing)
}

/// Write a file whole, through a temporary beside it.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        // Nothing half-written stays (a full disk, an I/O error).
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The packs this home uploaded to the remote (one hash a line).
fn pushed_list(cache: &Path) -> PathBuf {
    cache.join("pushed")
}

fn read_pushed(cache: &Path) -> Vec<String> {
    std::fs::read_to_string(pushed_list(cache))
        .unwrap_or_default()
        .lines()
        .filter(|l| format::unhex(l).is_some())
        .map(str::to_string)
        .collect()
}

/// The SQLite page size in a database file's header.
pub(super) fn page_size_of(path: &Path) -> anyhow::Result<u32> {
    let mut head = [0u8; 100];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .with_context(|| format!("could not read {}", path.display()))?;
    let raw = u32::from(u16::from_be_bytes([head[16], head[17]]));
    let size = if raw == 1 { 65536 } else { raw };
    if !size.is_power_of_two() || !(512..=65536).contains(&size) {
        return Err(Error::failed(format!("{} has no valid SQLite page size", path.display())).into());
    }
    Ok(size)
}

/// Push a snapshot. See the module docs for the steps. While it runs, a
/// record of it lets `db resume` find it if it is interrupted.
pub(crate) fn push(
    home: &Home,
    config: &Config,
    opts: &PushOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<(RemoteSnapshot, TransferFigures)> {
    let remote = super::default_remote(config, opts.remote.as_deref())?;
    let transfer = super::pending::Transfer::Push {
        snapshot: opts.snapshot.to_string(),
        remote: remote.clone(),
        ttl_secs: opts.ttl.map(|d| d.as_secs()),
    };
    let running = super::pending::begin(home, &transfer)?;
    super::pull::keep_big_buffers_out_of_the_heap();
    let result = push_to(home, config, opts, remote, progress);
    running.end(&result);
    result
}

fn push_to(
    home: &Home,
    config: &Config,
    opts: &PushOptions,
    remote: String,
    progress: &mut dyn Progress,
) -> anyhow::Result<(RemoteSnapshot, TransferFigures)> {
    let started = Instant::now();
    let rcfg = super::config_of(config, &remote)?.clone();
    let reg = Registry::load(home)?;
    let (db, snap) = reg.find_snapshot(&opts.snapshot)?;
    let (db, snap) = (db.clone(), snap.clone());
    drop(reg);
    let masked = snap.safe.as_ref().or(db.safe.as_ref()).is_some_and(|s| s.masked);
    if rcfg.require_masked && !masked {
        return Err(Error::RemoteRefused {
            remote: remote.clone(),
            snapshot: opts.snapshot.to_string(),
            why: format!(
                "it requires masked snapshots and {} is not a masked fork; fork it with `sqlfork db fork {} NEW --with-data --mask FILE`, snapshot that fork and push its snapshot",
                db.address(),
                db.address()
            ),
        }
        .into());
    }
    let target = RemoteSnapshotAddress {
        remote: remote.clone(),
        snapshot: SnapshotAddress { database: db.address().database(), name: snap.name.clone() },
    };
    let (ns, slug, name) = (db.namespace.clone(), db.slug.clone(), snap.name.clone());
    let manifest_key = format::manifest_key(&ns, &slug, &name);
    let store = super::open(config, &remote)?;
    let fail = |what: &str| {
        let store_name = store.name.clone();
        let what = what.to_string();
        move |f: Fault| f.into_error(&store_name, &what)
    };
    match store.head(&manifest_key) {
        Ok(_) => return Err(Error::RemoteSnapshotTaken { snapshot: target.to_string() }.into()),
        Err(Fault::Missing) => {}
        Err(f) => return Err(f.into_error(&store.name, &format!("looking for {target}"))),
    }

    // 2. The lease.
    let lease_key = format!("leases/{}.json", crate::registry::new_id());
    let lease =
        Lease { host: super::host_name(), snapshot: target.to_string(), started_at: ttl::format_time(ttl::now()) };
    let lease_bytes = Bytes::from(serde_json::to_vec(&lease).expect("a lease serialises"));
    store.put(&lease_key, lease_bytes.clone()).map_err(fail("writing a lease"))?;
    // A gc sweeping now may not have seen the lease: learn only after it.
    if let Err(e) = super::gc::wait_for_sweeps(&store) {
        let _ = store.delete(&lease_key);
        return Err(e);
    }
    let tmp_dir = home.root().join("remotes").join("tmp");
    let list_file = tmp_dir.join(format!("{}.list", crate::registry::new_id()));
    let out = (|| {
        let cache = cache_dir(home, &rcfg.url);
        std::fs::create_dir_all(&cache).with_context(|| format!("could not create {}", cache.display()))?;
        std::fs::create_dir_all(&tmp_dir).with_context(|| format!("could not create {}", tmp_dir.display()))?;
        let known = learn(&store, &cache, &target)?;
        let job = Job { store: &store, cache: &cache, file: &snap.path, list_file: &list_file, target: &target };
        upload(&job, known, &lease_key, &lease_bytes, progress).map(|u| (u, cache))
    })();
    let result = out.and_then(|(up, cache)| {
        let pushed_at = ttl::now();
        let manifest = Manifest {
            format: Manifest::FORMAT,
            namespace: ns.clone(),
            slug: slug.clone(),
            name: name.clone(),
            taken_at: snap.taken_at.clone(),
            pushed_at: ttl::format_time(pushed_at),
            host: super::host_name(),
            expires_at: opts.ttl.map(|d| ttl::format_time(pushed_at + d)),
            masked,
            rules_sha256: snap.safe.as_ref().or(db.safe.as_ref()).and_then(|s| s.rules_sha256.clone()),
            page_size: up.page_size,
            page_count: up.page_count,
            schema: up.schema,
            pages: up.pages,
            packs: up.packs,
        };
        let bytes = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
        let manifest_len = bytes.len() as u64;
        crate::env::test_pause("remote-before-manifest");
        match store.create(&manifest_key, Bytes::from(bytes)) {
            Ok(()) => {}
            Err(Fault::Exists) => return Err(Error::RemoteSnapshotTaken { snapshot: target.to_string() }.into()),
            Err(f) => return Err(f.into_error(&store.name, &format!("writing the manifest of {target}"))),
        }
        // Keep the page list beside the local snapshot for later pulls.
        let keep = page_list_path(home, &snap.id);
        if let Some(dir) = keep.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::rename(&up.list_file, &keep);
        let _ = cache;
        let figures = TransferFigures {
            bytes_transferred: up.bytes + manifest_len,
            pages_reused: up.reused,
            pages_total: up.page_count,
            size_bytes: manifest.size(),
            time_ms: started.elapsed().as_millis() as u64,
        };
        Ok((super::summary(&remote, &manifest), figures))
    });
    let _ = store.delete(&lease_key);
    // The page list went beside the snapshot, or is of no use.
    let _ = std::fs::remove_file(&list_file);
    result
}

/// What [`upload`] works on.
struct Job<'a> {
    store: &'a Store,
    cache: &'a Path,
    /// The snapshot's file.
    file: &'a Path,
    /// Where the page list is written.
    list_file: &'a Path,
    target: &'a RemoteSnapshotAddress,
}

/// What the remote holds for this lineage (step 3).
fn learn(store: &Store, cache: &Path, target: &RemoteSnapshotAddress) -> anyhow::Result<Known> {
    let mut known = Known::default();
    let manifests = super::manifests_of(store, &target.snapshot.database)?;
    let mut live: Vec<String> = Vec::new();
    for m in manifests.iter().rev().take(MANIFESTS_READ) {
        live.extend(m.packs.iter().cloned());
    }
    let live_set: HashSet<&String> = live.iter().collect();
    // Packs this home uploaded before that no manifest read names: an
    // interrupted push's, or one's whose snapshot was deleted. They count
    // only while they are still there.
    let mine: Vec<String> = read_pushed(cache).into_iter().filter(|p| !live_set.contains(p)).collect();
    let mut wanted = live.clone();
    wanted.extend(mine.iter().cloned());
    wanted.sort();
    wanted.dedup();
    let (found, _missing) = load_indexes(store, cache, &wanted)?;
    let mine_set: HashSet<&String> = mine.iter().collect();
    let checks: Vec<_> = found
        .iter()
        .filter(|(p, _)| mine_set.contains(p))
        .map(|(p, _)| {
            let f = store.get_range_later(&format::data_key(p, "pack"), 0..1);
            let p = p.clone();
            async move { (p, f.await) }
        })
        .collect();
    let present: HashSet<String> = store
        .block_on(futures_util::stream::iter(checks).buffer_unordered(super::store::PARALLEL * 2).collect::<Vec<_>>())
        .into_iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(p, _)| p)
        .collect();
    for (p, entries) in &found {
        if live_set.contains(p) || present.contains(p) {
            known.add(p, entries);
        }
    }
    Ok(known)
}

/// What [`upload`] sent.
struct Uploaded {
    page_size: u32,
    page_count: u64,
    schema: ObjectRef,
    pages: ObjectRef,
    packs: Vec<String>,
    /// The page list, in a local file.
    list_file: PathBuf,
    bytes: u64,
    reused: u64,
}

/// A pack being filled.
#[derive(Default)]
struct Pack {
    data: Vec<u8>,
    entries: Vec<Entry>,
}

/// Steps 4 and 5 (all but the manifest).
fn upload(
    job: &Job,
    mut known: Known,
    lease_key: &str,
    lease: &Bytes,
    progress: &mut dyn Progress,
) -> anyhow::Result<Uploaded> {
    let Job { store, cache, file, list_file, target } = *job;
    let page_size = page_size_of(file)?;
    let ps = page_size as usize;
    let mut f = std::fs::File::open(file).with_context(|| format!("could not open {}", file.display()))?;
    let size = f.metadata()?.len();
    if size == 0 || size % u64::from(page_size) != 0 {
        return Err(Error::failed(format!(
            "{} is {size} bytes, not a whole number of {page_size}-byte pages",
            file.display()
        ))
        .into());
    }
    let page_count = size / u64::from(page_size);
    let mut list = BufWriter::new(std::fs::File::create(list_file)?);
    let mut list_hash = <sha2::Sha256 as sha2::Digest>::new();
    let header = PageList::header(page_count);
    list.write_all(&header)?;
    sha2::Digest::update(&mut list_hash, &header);

    let mut used: HashSet<u32> = HashSet::new();
    let mut this_push: HashSet<Hash> = HashSet::new();
    let mut packs: Vec<String> = Vec::new();
    let mut in_flight: std::collections::VecDeque<tokio::task::JoinHandle<Result<(String, u64), Fault>>> =
        Default::default();
    let mut pack = Pack::default();
    let mut bytes_sent = 0u64;
    let mut reused = 0u64;
    let mut last_lease = Instant::now();
    let pushed = pushed_list(cache);
    let mut pushed_file = std::fs::OpenOptions::new().create(true).append(true).open(&pushed)?;

    progress.unit("pages");
    progress.unit_bytes(f64::from(page_size));
    progress.start(page_count, 0);
    let chunk_pages = 256usize;
    // Tests close packs sooner, so that a small snapshot has several.
    let pack_bytes = crate::env::test_chunk_pages().map_or(format::PACK_BYTES, |n| (n as usize).max(1) * ps);
    let mut buf = vec![0u8; ps * chunk_pages];
    let mut done = 0u64;
    let handle = store.handle();
    let wait_one = |in_flight: &mut std::collections::VecDeque<_>,
                    packs: &mut Vec<String>,
                    bytes_sent: &mut u64,
                    pushed_file: &mut std::fs::File|
     -> anyhow::Result<()> {
        let Some(h): Option<tokio::task::JoinHandle<Result<(String, u64), Fault>>> = in_flight.pop_front() else {
            return Ok(());
        };
        let (name, n) = store
            .block_on(h)
            .map_err(|e| Error::failed(format!("an upload task failed: {e}")))?
            .map_err(|f| f.into_error(&store.name, &format!("uploading a pack of {target}")))?;
        *bytes_sent += n;
        writeln!(pushed_file, "{name}")?;
        pushed_file.sync_data()?;
        packs.push(name);
        crate::env::test_pause("remote-pack-uploaded");
        Ok(())
    };
    while done < page_count {
        if progress.interrupted() {
            return Err(Error::Interrupted {
                address: target.snapshot.database.clone(),
                how_far: None,
                resume: format!("sqlfork db resume {}", target.snapshot),
            }
            .into());
        }
        let n = ((page_count - done) as usize).min(chunk_pages);
        f.read_exact(&mut buf[..n * ps]).with_context(|| format!("could not read {}", file.display()))?;
        for page in buf[..n * ps].chunks_exact(ps) {
            let h = format::hash(page);
            list.write_all(&h)?;
            sha2::Digest::update(&mut list_hash, h);
            if let Some(&p) = known.map.get(&h) {
                used.insert(p);
                reused += 1;
                continue;
            }
            if !this_push.insert(h) {
                reused += 1;
                continue;
            }
            pack.entries.push(Entry { hash: h, offset: pack.data.len() as u64, len: page_size });
            pack.data.extend_from_slice(page);
            if pack.data.len() >= pack_bytes {
                if in_flight.len() >= IN_FLIGHT {
                    wait_one(&mut in_flight, &mut packs, &mut bytes_sent, &mut pushed_file)?;
                }
                let full = std::mem::take(&mut pack);
                in_flight.push_back(handle.spawn(send_pack(store, full)));
            }
        }
        done += n as u64;
        progress.advance(n as u64);
        crate::env::test_delay();
        if last_lease.elapsed() > Duration::from_secs(600) {
            let _ = store.put(lease_key, lease.clone());
            last_lease = Instant::now();
        }
    }
    if !pack.entries.is_empty() {
        in_flight.push_back(handle.spawn(send_pack(store, std::mem::take(&mut pack))));
    }
    while !in_flight.is_empty() {
        wait_one(&mut in_flight, &mut packs, &mut bytes_sent, &mut pushed_file)?;
    }
    progress.finish();
    let mut used: Vec<u32> = used.into_iter().collect();
    used.sort();
    packs.extend(used.into_iter().map(|i| std::mem::take(&mut known.packs[i as usize])));
    list.flush()?;
    drop(list);
    let list_sha = format::hex(&sha2::Digest::finalize(list_hash).into());
    let list_size = PageList::size_for(page_count);
    bytes_sent += store
        .put_file(&format::data_key(&list_sha, "list"), list_file)
        .map_err(|f| f.into_error(&store.name, &format!("uploading the page list of {target}")))?;
    let schema_file = list_file.with_extension("schema");
    let schema = (|| -> anyhow::Result<ObjectRef> {
        super::super::fork::schema_file(file, &schema_file)?;
        let bytes = std::fs::read(&schema_file)?;
        let sha = format::hex(&format::hash(&bytes));
        let size = bytes.len() as u64;
        store
            .put(&format::data_key(&sha, "schema"), Bytes::from(bytes))
            .map_err(|f| f.into_error(&store.name, &format!("uploading the schema of {target}")))?;
        Ok(ObjectRef { sha256: sha, size })
    })();
    crate::layout::remove_database_files(&schema_file);
    let schema = schema?;
    bytes_sent += schema.size;
    Ok(Uploaded {
        page_size,
        page_count,
        schema,
        pages: ObjectRef { sha256: list_sha, size: list_size },
        packs,
        list_file: list_file.to_path_buf(),
        bytes: bytes_sent,
        reused,
    })
}

/// Upload a pack and then its index; the pack's name is its bytes' hash.
fn send_pack(store: &Store, pack: Pack) -> impl std::future::Future<Output = Result<(String, u64), Fault>> + Send {
    let name = format::hex(&format::hash(&pack.data));
    let index = Bytes::from(PackIndex::encode(&pack.entries));
    let n = pack.data.len() as u64 + index.len() as u64;
    let put_pack = store.put_later(&format::data_key(&name, "pack"), Bytes::from(pack.data));
    let put_index = store.put_later(&format::data_key(&name, "idx"), index);
    async move {
        put_pack.await?;
        put_index.await?;
        Ok((name, n))
    }
}
