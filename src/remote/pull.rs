//! `pull REMOTE:NS/SLUG:NAME`: bring a remote snapshot into the home as a
//! local snapshot that remembers its remote (so later forks of it are
//! local and instant).
//!
//! 1. Read and check the manifest. A local copy of this very manifest is
//!    the answer (nothing downloaded).
//! 2. Schema only (what a schema-only fork needs): the schema record alone
//!    is downloaded and checked against its hash. No page list, no pages.
//! 3. Otherwise, under a claim on the pull, the snapshot is built in
//!    `remotes/partial/ID.part` (outside `databases/`, so the orphan sweep
//!    leaves it for a resume):
//!    - the page list is downloaded and checked against its hash;
//!    - a partial file left by an interrupted pull keeps every page that
//!      already matches its hash (that is the resume);
//!    - pages the home holds (its snapshots of the same NS/SLUG, by their
//!      page lists) are copied locally, each checked against its hash;
//!    - the rest are read from the packs in coalesced ranges, four at a
//!      time, each page checked against its hash before it is written.
//! 4. The file is checked like any source, made 0400, moved under
//!    `databases/` and recorded in one registry write.
//!
//! A page that does not match its hash, or a missing object, is
//! [`Error::RemoteDamaged`] naming the snapshot, and the partial file goes;
//! a transient failure (after `object_store`'s retries) keeps it, and the
//! same command resumes.

use super::format::{self, Hash, Manifest, PageList};
use super::push::{for_each_index, page_size_of};
use super::store::{Fault, Store};
use super::{cache_dir, page_list_path, TransferFigures};
use crate::address::RemoteSnapshotAddress;
use crate::claim::Claim;
use crate::copy::Progress;
use crate::error::Error;
use crate::home::{Config, Home};
use crate::registry::Registry;
use crate::registry::{RemoteOrigin, Snapshot};
use anyhow::Context;
use futures_util::StreamExt;
use std::io::Read;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What `pull` takes.
#[derive(Debug, Clone)]
pub(crate) struct PullOptions {
    pub snapshot: RemoteSnapshotAddress,
    /// Only the schema record (a schema-only fork's source).
    pub schema_only: bool,
}

/// The largest range read from a pack in one request.
const RANGE_BYTES: u64 = 4 << 20;
/// Two wanted pages this close in a pack are read in one range.
const GAP_BYTES: u64 = 256 << 10;

/// Pull a remote snapshot. Returns its local record, the figures, and
/// whether it was already here. While a pull of the data runs, a record of
/// it lets `db resume` find it if it is interrupted.
pub(crate) fn pull(
    home: &Home,
    config: &Config,
    opts: &PullOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<(Snapshot, TransferFigures, bool)> {
    if opts.schema_only {
        return pull_into(home, config, opts, progress);
    }
    home.ensure()?;
    let running = super::pending::begin(home, &super::pending::Transfer::Pull { snapshot: opts.snapshot.to_string() })?;
    let result = pull_into(home, config, opts, progress);
    running.end(&result);
    result
}

fn pull_into(
    home: &Home,
    config: &Config,
    opts: &PullOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<(Snapshot, TransferFigures, bool)> {
    let started = Instant::now();
    let snap = &opts.snapshot;
    let url = super::url_of(config, &snap.remote)?;
    let store = super::open(config, &snap.remote)?;
    let (manifest, manifest_sha) = super::read_manifest(&store, snap)?;
    let here = |reg: &Registry| {
        reg.pulled(&url, &snap.snapshot, opts.schema_only)
            .filter(|s| s.remote.as_ref().is_some_and(|r| r.manifest_sha256 == manifest_sha))
            .cloned()
    };
    if let Some(s) = here(&Registry::load(home)?) {
        let figures = TransferFigures {
            pages_total: if s.remote.as_ref().is_some_and(|r| r.schema_only) { 0 } else { manifest.page_count },
            pages_reused: if s.remote.as_ref().is_some_and(|r| r.schema_only) { 0 } else { manifest.page_count },
            size_bytes: s.size_bytes,
            time_ms: started.elapsed().as_millis() as u64,
            ..Default::default()
        };
        return Ok((s, figures, true));
    }
    home.ensure()?;
    // One pull of one manifest at a time in this home.
    let pull_id = format::hex(&format::hash(format!("{url}\n{snap}\n{manifest_sha}\n{}", opts.schema_only).as_bytes()))
        [..32]
        .to_string();
    let Some(claim) = Claim::wait(home, &pull_id, Instant::now() + Duration::from_secs(3600))? else {
        return Err(Error::BeingPulled { snapshot: snap.to_string() }.into());
    };
    if let Some(s) = here(&Registry::load(home)?) {
        return Ok((s, TransferFigures { time_ms: started.elapsed().as_millis() as u64, ..Default::default() }, true));
    }
    let partial_dir = home.root().join("remotes").join("partial");
    let partial = partial_dir.join(format!("{pull_id}.part"));
    let label = snap.to_string();
    // Refused before it starts when the file cannot fit (what a partial
    // file left by an interrupted pull holds already counts).
    let what = format!("a copy of {label}");
    if !opts.schema_only {
        use std::os::unix::fs::MetadataExt;
        let have = std::fs::metadata(&partial).map(|m| m.blocks() * 512).unwrap_or(0);
        crate::space::check(home.root(), manifest.size().saturating_sub(have), &what)?;
    }
    std::fs::create_dir_all(&partial_dir).map_err(|e| crate::space::explain(e.into(), home.root(), &what, None))?;
    let built = if opts.schema_only {
        fetch_schema(&store, &manifest, &partial, &label)
    } else {
        fetch_pages(home, &store, &manifest, &url, &partial, &label, progress)
    };
    let (mut figures, list) = match built {
        Ok(x) => x,
        Err(e) => {
            // Damage is final: nothing half-made stays. Anything else (the
            // network, Ctrl-C) keeps the partial file for the next run.
            if Error::any_in(&e, |e| matches!(e, Error::RemoteDamaged { .. })) {
                let _ = std::fs::remove_file(&partial);
                let _ = std::fs::remove_file(partial.with_extension("list"));
            }
            // A full disk: one sentence, and the partial file goes (it
            // holds the space the user must free).
            if crate::space::is_full(&e) {
                let _ = std::fs::remove_file(&partial);
                let _ = std::fs::remove_file(partial.with_extension("list"));
                drop(claim);
                return Err(crate::space::explain(e, home.root(), &what, Some(manifest.size())));
            }
            drop(claim);
            // The home's own file system failing (EIO): say where.
            if e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some()) && crate::error::typed(&e).is_none() {
                return Err(e.context(format!(
                    "could not write the pulled copy of {label} under {}; once it is fixed, `sqlfork pull {label}` resumes",
                    partial_dir.display()
                )));
            }
            return Err(e);
        }
    };
    // 4. Checked like any source, then frozen and recorded.
    let finish = (|| -> anyhow::Result<Snapshot> {
        crate::schema::check_source_file(&partial).map_err(|e| Error::RemoteDamaged {
            snapshot: label.clone(),
            reason: format!("it is not a database sqlfork can fork ({e})"),
        })?;
        std::fs::File::open(&partial)?.sync_all()?;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o400))?;
        let id = crate::registry::new_id();
        // Held from before the file is under `databases/` until its record
        // is saved, so that no other process sweeps it as an orphan.
        let _holding = Claim::take(home, &id)?.context("a fresh snapshot id is already claimed")?;
        let path = crate::layout::database_file(home, &id);
        if let Some(list) = &list {
            let keep = page_list_path(home, &id);
            std::fs::create_dir_all(keep.parent().expect("a folder"))?;
            std::fs::rename(list, &keep)?;
        }
        std::fs::rename(&partial, &path)?;
        crate::layout::sync_dir(&home.databases_dir())?;
        let size = crate::layout::file_size(&path).unwrap_or(0);
        let record = Snapshot {
            id: id.clone(),
            database_id: super::pulled_database_id(&url),
            namespace: manifest.namespace.clone(),
            slug: manifest.slug.clone(),
            branch: None,
            name: manifest.name.clone(),
            path: path.clone(),
            taken_at: manifest.taken_at.clone(),
            seq: 0,
            expires_at: None,
            size_bytes: size,
            copy: None,
            safe: manifest.masked.then(|| crate::mask::SafeRecord {
                masked: true,
                rules_sha256: manifest.rules_sha256.clone(),
                ..Default::default()
            }),
            remote: Some(RemoteOrigin {
                remote: snap.remote.clone(),
                url: url.clone(),
                manifest_sha256: manifest_sha.clone(),
                schema_only: opts.schema_only,
            }),
        };
        let old = Registry::update(home, |reg| {
            // A copy of an older manifest of the same name (deleted and
            // pushed again on the remote) is replaced.
            let (old, kept): (Vec<Snapshot>, Vec<Snapshot>) =
                std::mem::take(&mut reg.snapshots).into_iter().partition(|s| {
                    s.remote.as_ref().is_some_and(|r| r.url == url && r.schema_only == opts.schema_only)
                        && s.namespace == record.namespace
                        && s.slug == record.slug
                        && s.name == record.name
                });
            reg.snapshots = kept;
            reg.snapshots.push(Snapshot { seq: reg.next_snapshot_seq(), ..record.clone() });
            Ok(old)
        })?;
        for s in old {
            s.remove_files();
            let _ = std::fs::remove_file(page_list_path(home, &s.id));
        }
        Ok(record)
    })();
    drop(claim);
    let record = finish
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&partial);
            let _ = std::fs::remove_file(partial.with_extension("list"));
        })
        .map_err(|e| crate::space::explain(e, home.root(), &what, None))?;
    figures.time_ms = started.elapsed().as_millis() as u64;
    Ok((record, figures, false))
}

/// Step 2: the schema record alone.
fn fetch_schema(
    store: &Store,
    m: &Manifest,
    partial: &Path,
    label: &str,
) -> anyhow::Result<(TransferFigures, Option<PathBuf>)> {
    let bytes = get_object(store, &format::data_key(&m.schema.sha256, "schema"), m.schema.size, label)?;
    if format::hex(&format::hash(&bytes)) != m.schema.sha256 {
        return Err(damaged(label, "its schema record does not match its hash"));
    }
    let _ = std::fs::remove_file(partial);
    std::fs::write(partial, &bytes)?;
    Ok((TransferFigures { bytes_transferred: bytes.len() as u64, ..Default::default() }, None))
}

fn damaged(label: &str, reason: impl Into<String>) -> anyhow::Error {
    Error::RemoteDamaged { snapshot: label.to_string(), reason: reason.into() }.into()
}

/// Read a whole object of a known size; a missing one is damage.
fn get_object(store: &Store, key: &str, size: u64, label: &str) -> anyhow::Result<bytes::Bytes> {
    match store.get(key, size) {
        Ok(b) if b.len() as u64 == size => Ok(b),
        Ok(b) => Err(damaged(label, format!("object {key} is {} bytes, its manifest says {size}", b.len()))),
        Err(Fault::Missing) => Err(damaged(label, format!("object {key} is missing"))),
        Err(Fault::Other(m)) if m.contains("more than") => {
            Err(damaged(label, format!("object {key} is larger than its manifest says")))
        }
        Err(f) => Err(f.into_error(&store.name, &format!("reading {key} of {label}"))),
    }
}

/// Wanted pages, sorted by hash: (hash, page number). 36 bytes a page,
/// the one table a pull holds that grows with the snapshot (with a flag
/// and, while the packs' indexes are read, 16 bytes a page of plan).
struct Wanted {
    items: Vec<(Hash, u32)>,
    /// Per item: written yet.
    done: Vec<bool>,
}

impl Wanted {
    /// The range of items with hash `h`.
    fn find(&self, h: &Hash) -> std::ops::Range<usize> {
        let start = self.items.partition_point(|(x, _)| x < h);
        let end = self.items[start..].partition_point(|(x, _)| x == h) + start;
        start..end
    }
}

/// A page to read from a pack: its offset there, and its first row in
/// [`Wanted`].
type Planned = (u64, u32);

/// Ranges of up to 4 MiB (a pull's) and 8 MiB packs (a push's) are held in
/// buffers that are freed at once. By
/// default glibc raises its mmap threshold each time such a buffer is
/// freed, so the next ones come from the heaps of the runtime's threads,
/// which keep them: a pull's peak memory then grew with the snapshot (about
/// 700 bytes a page, measured). A fixed threshold keeps them mapped and
/// unmapped, as they should be.
pub(super) fn keep_big_buffers_out_of_the_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets an allocator parameter; any value is valid.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}

/// A page list read from a file, one hash at a time.
struct ListReader {
    r: std::io::BufReader<std::fs::File>,
}

impl ListReader {
    /// Open the page list at `path` of a snapshot of `pages` pages,
    /// checking its header and size.
    fn open(path: &Path, pages: u64) -> Result<ListReader, String> {
        let bad = || "its page list is not a page list".to_string();
        let f = std::fs::File::open(path).map_err(|_| bad())?;
        if f.metadata().map_err(|_| bad())?.len() != PageList::size_for(pages) {
            return Err(bad());
        }
        let mut r = std::io::BufReader::with_capacity(256 << 10, f);
        let mut head = [0u8; 16];
        r.read_exact(&mut head).map_err(|_| bad())?;
        if head.to_vec() != PageList::header(pages) {
            return Err("its page list does not add up to its page count".into());
        }
        Ok(ListReader { r })
    }

    /// The next page's hash.
    fn next(&mut self) -> std::io::Result<Hash> {
        let mut h = [0u8; 32];
        self.r.read_exact(&mut h)?;
        Ok(h)
    }
}

/// Step 3: every page, from the partial file, the home, or the packs.
/// Returns the figures and the page list's file (beside `partial`).
#[allow(clippy::too_many_arguments)]
fn fetch_pages(
    home: &Home,
    store: &Store,
    m: &Manifest,
    url: &str,
    partial: &Path,
    label: &str,
    progress: &mut dyn Progress,
) -> anyhow::Result<(TransferFigures, Option<PathBuf>)> {
    let mut figures = TransferFigures { pages_total: m.page_count, size_bytes: m.size(), ..Default::default() };
    keep_big_buffers_out_of_the_heap();
    // The page list goes to a file as it comes (8 MiB for 1 GB: not held).
    let list_path = partial.with_extension("list");
    let key = format::data_key(&m.pages.sha256, "list");
    let (n, sha) = match store.get_to_file(&key, m.pages.size, &list_path) {
        Ok(x) => x,
        Err(Fault::Missing) => return Err(damaged(label, format!("object {key} is missing"))),
        Err(Fault::Other(msg)) if msg.contains("more than") => {
            return Err(damaged(label, format!("object {key} is larger than its manifest says")))
        }
        Err(f) => return Err(f.into_error(&store.name, &format!("reading {key} of {label}"))),
    };
    figures.bytes_transferred += n;
    if format::hex(&sha) != m.pages.sha256 {
        return Err(damaged(label, "its page list does not match its hash"));
    }
    let mut list = ListReader::open(&list_path, m.page_count).map_err(|r| damaged(label, r))?;
    let ps = m.page_size as usize;
    let size = m.size();
    // An interrupted pull's file, if the same size: keep what matches.
    let resumed = std::fs::metadata(partial).is_ok_and(|md| md.len() == size);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(!resumed)
        .open(partial)
        .with_context(|| format!("could not create {}", partial.display()))?;
    if !resumed {
        file.set_len(size)?;
    }
    progress.unit("pages");
    progress.unit_bytes(f64::from(m.page_size));
    let mut wanted = Wanted { items: Vec::new(), done: Vec::new() };
    {
        let mut part = resumed.then(|| std::io::BufReader::with_capacity(1 << 20, &file));
        let mut page = vec![0u8; ps];
        for i in 0..m.page_count {
            let h = list.next()?;
            let have = match &mut part {
                Some(r) => {
                    r.read_exact(&mut page)?;
                    format::hash(&page) == h
                }
                None => false,
            };
            if !have {
                // At most SQLite's page count (checked with the manifest): a u32.
                wanted.items.push((h, i as u32));
            }
        }
    }
    drop(list);
    wanted.items.shrink_to_fit();
    wanted.items.sort_unstable();
    wanted.done = vec![false; wanted.items.len()];
    let mut reused = m.page_count - wanted.items.len() as u64;
    progress.start(m.page_count, reused);

    // Pages the home holds.
    let mut page = vec![0u8; ps];
    for (path, list_file, pages) in local_candidates(home, &m.namespace, &m.slug, m.page_size) {
        let Ok(src) = std::fs::File::open(&path) else { continue };
        let Ok(mut list) = ListReader::open(&list_file, pages) else { continue };
        for pos in 0..pages {
            let Ok(h) = list.next() else { break };
            let range = wanted.find(&h);
            if range.is_empty() || wanted.done[range.start] {
                continue;
            }
            if src.read_exact_at(&mut page, pos * ps as u64).is_err() || format::hash(&page) != h {
                continue;
            }
            for i in range {
                file.write_all_at(&page, u64::from(wanted.items[i].1) * ps as u64)?;
                wanted.done[i] = true;
                reused += 1;
                progress.advance(1);
            }
        }
    }
    figures.pages_reused = reused;

    // The rest from the packs: per pack, (offset, first wanted item) of
    // the pages it should serve, by offset. Indexes are read one by one.
    let cache = cache_dir(home, url);
    let mut plan: Vec<(String, Vec<Planned>)> = Vec::new();
    let mut located = vec![false; wanted.items.len()];
    let missing = for_each_index(store, &cache, &m.packs, |pack, entries| {
        let mut mine = Vec::new();
        for e in entries {
            let range = wanted.find(&e.hash);
            if range.is_empty() || wanted.done[range.start] || located[range.start] {
                continue;
            }
            if e.len != m.page_size {
                return Err(damaged(label, format!("pack {pack} holds a page of {} bytes", e.len)));
            }
            located[range.start] = true;
            mine.push((e.offset, range.start as u32));
        }
        if !mine.is_empty() {
            mine.sort_unstable();
            plan.push((pack, mine));
        }
        Ok(())
    })?;
    if let Some(p) = missing.first() {
        return Err(damaged(label, format!("object {} is missing", format::data_key(p, "idx"))));
    }
    let first_unlocated = (0..wanted.items.len()).find(|&i| {
        let first = i == 0 || wanted.items[i - 1].0 != wanted.items[i].0;
        first && !wanted.done[i] && !located[i]
    });
    if let Some(i) = first_unlocated {
        return Err(damaged(label, format!("page {} is in none of its packs", u64::from(wanted.items[i].1) + 1)));
    }
    drop(located);
    // Coalesced ranges.
    let page_len = u64::from(m.page_size);
    let mut ranges: Vec<(String, std::ops::Range<u64>, Vec<Planned>)> = Vec::new();
    for (pack, entries) in plan {
        let mut cur: Option<(std::ops::Range<u64>, Vec<Planned>)> = None;
        for (offset, item) in entries {
            let end = offset + page_len;
            match &mut cur {
                Some((r, es)) if offset <= r.end + GAP_BYTES && end - r.start <= RANGE_BYTES => {
                    r.end = end;
                    es.push((offset, item));
                }
                _ => {
                    if let Some((r, es)) = cur.take() {
                        ranges.push((pack.clone(), r, es));
                    }
                    cur = Some((offset..end, vec![(offset, item)]));
                }
            }
        }
        if let Some((r, es)) = cur {
            ranges.push((pack.clone(), r, es));
        }
    }
    let futures: Vec<_> = ranges
        .into_iter()
        .map(|(pack, r, es)| {
            let key = format::data_key(&pack, "pack");
            let f = store.get_range_later(&key, r.clone());
            async move { (key, r, es, f.await) }
        })
        .collect();
    let mut downloaded = 0u64;
    let mut stopped = false;
    store.block_on(async {
        let mut stream = futures_util::stream::iter(futures).buffer_unordered(super::store::PARALLEL);
        while let Some((key, r, es, got)) = stream.next().await {
            let bytes = match got {
                Ok(b) => b,
                Err(Fault::Missing) => return Err(damaged(label, format!("object {key} is missing"))),
                Err(f) => return Err(f.into_error(&store.name, &format!("reading {key} of {label}"))),
            };
            if bytes.len() as u64 != r.end - r.start {
                return Err(damaged(label, format!("object {key} is shorter than its index says")));
            }
            downloaded += bytes.len() as u64;
            for (offset, item) in es {
                let at = (offset - r.start) as usize;
                let data = &bytes[at..at + ps];
                let h = wanted.items[item as usize].0;
                if format::hash(data) != h {
                    return Err(damaged(label, format!("a page in object {key} does not match its hash")));
                }
                let range = wanted.find(&h);
                let n = range.len() as u64;
                for i in range {
                    file.write_all_at(data, u64::from(wanted.items[i].1) * ps as u64)?;
                }
                progress.advance(n);
            }
            crate::env::test_pause("remote-range-written");
            if progress.interrupted() {
                stopped = true;
                break;
            }
        }
        Ok::<(), anyhow::Error>(())
    })?;
    if stopped {
        return Err(Error::Interrupted {
            address: crate::address::Address::new(&m.namespace, &m.slug).expect("checked"),
            how_far: None,
            resume: format!("sqlfork db resume {label}"),
        }
        .into());
    }
    progress.finish();
    file.sync_all()?;
    figures.bytes_transferred += downloaded;
    Ok((figures, Some(list_path)))
}

/// Local snapshots of NS/SLUG (this home's own and pulled ones) with the
/// same page size: their files, page lists (computed and kept the first
/// time) and page counts.
fn local_candidates(home: &Home, ns: &str, slug: &str, page_size: u32) -> Vec<(PathBuf, PathBuf, u64)> {
    let Ok(reg) = Registry::load(home) else { return Vec::new() };
    let mut out = Vec::new();
    let mut snaps: Vec<&Snapshot> = reg
        .snapshots
        .iter()
        .filter(|s| s.namespace == ns && s.slug == slug && !s.remote.as_ref().is_some_and(|r| r.schema_only))
        .collect();
    // The newest first: they share the most with what is pulled.
    snaps.sort_by_key(|s| std::cmp::Reverse(s.order_key()));
    for s in snaps.into_iter().take(4) {
        if page_size_of(&s.path).ok() != Some(page_size) {
            continue;
        }
        let keep = page_list_path(home, &s.id);
        let pages = crate::layout::file_size(&s.path).unwrap_or(0) / u64::from(page_size);
        if ListReader::open(&keep, pages).is_err() {
            if let Some(dir) = keep.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if write_list(&s.path, page_size, pages, &keep).is_err() {
                continue;
            }
        }
        out.push((s.path.clone(), keep, pages));
    }
    out
}

/// Write the page list of the first `pages` pages of a file to `dest`
/// (through a temporary beside it).
fn write_list(path: &Path, page_size: u32, pages: u64, dest: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let f = std::fs::File::open(path)?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, f);
    let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
    let written = (|| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        w.write_all(&PageList::header(pages))?;
        let mut page = vec![0u8; page_size as usize];
        for _ in 0..pages {
            r.read_exact(&mut page)?;
            w.write_all(&format::hash(&page))?;
        }
        w.flush()?;
        std::fs::rename(&tmp, dest)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
