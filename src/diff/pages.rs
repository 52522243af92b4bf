//! Which tables can hold a change, found from the files' pages.
//!
//! Both files are read directly while a read transaction is held on each
//! (see [`super::Opened`]): with a rollback journal no writer can change the
//! file then; in WAL mode a checkpoint may copy frames into the file, but
//! only pages that are in the WAL, and every page number in either side's
//! WAL counts as changed (its file copy is never trusted).
//!
//! The argument that makes skipping sound: a rowid table's rows live in the
//! cells of its leaf pages (and their overflow chains). A leaf page that is
//! a leaf of the same table in both files and byte-identical holds the same
//! rows on both sides. So only the key ranges of the other leaves — changed,
//! or not a leaf of that table on the other side — need comparing. Changed
//! pages that belong to no b-tree we walked (overflow pages) are mapped to
//! their table with `dbstat`, and that table is compared in full. WITHOUT
//! ROWID tables keep rows in interior pages too: any change in their tree
//! means comparing the whole table. Index pages are ignored: indexes follow
//! from their tables.
//!
//! On XFS and btrfs (FIEMAP), byte ranges that both files map to the same
//! physical extent, marked shared, are equal without being read.

use super::btree::{children, header_offset, leaf_rowid_range, u32_at};
use super::rows::TablePlan;
use super::{Method, Opened};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;

/// Which rows of a table to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ranges {
    All,
    /// Inclusive rowid ranges, sorted and disjoint.
    Rowids(Vec<(i64, i64)>),
}

/// The tables to compare (by the plan's name) and how they were chosen.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub(crate) method: Method,
    /// Why every table is compared in full, when it is.
    pub(crate) full_reason: Option<String>,
    pub(crate) tables: HashMap<String, Ranges>,
}

impl Scope {
    pub(crate) fn full(plans: &[TablePlan], why: &str) -> Scope {
        Scope {
            method: Method::Full,
            full_reason: Some(why.to_string()),
            tables: plans.iter().map(|p| (p.name.clone(), Ranges::All)).collect(),
        }
    }
}

/// A set of page numbers.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageSet(Vec<u64>);

impl PageSet {
    pub(crate) fn insert(&mut self, p: u32) {
        let (w, b) = ((p / 64) as usize, p % 64);
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << b;
    }
    pub(crate) fn contains(&self, p: u32) -> bool {
        self.0.get((p / 64) as usize).is_some_and(|w| w & (1 << (p % 64)) != 0)
    }
    pub(crate) fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0
            .iter()
            .enumerate()
            .flat_map(|(i, w)| (0..64u32).filter(move |b| w & (1 << b) != 0).map(move |b| i as u32 * 64 + b))
    }
}

/// One side's file as pages.
struct Pages<'a> {
    file: &'a File,
    len: u64,
    size: usize,
    count: u32,
    /// Pages in this side's WAL: the file's copy is stale.
    wal: PageSet,
}

impl Pages<'_> {
    /// The page as the file holds it, or None when the file's copy cannot
    /// be trusted (in the WAL, or past the end of the file).
    fn read(&self, p: u32) -> Option<Vec<u8>> {
        if p == 0 || p > self.count || self.wal.contains(p) {
            return None;
        }
        let off = (p as u64 - 1) * self.size as u64;
        if off + self.size as u64 > self.len {
            return None;
        }
        let mut buf = vec![0u8; self.size];
        self.file.read_exact_at(&mut buf, off).ok()?;
        Some(buf)
    }
}

/// Page numbers that have a frame in the `-wal` file beside `path` (every
/// frame, committed or not: a superset is safe).
pub(crate) fn wal_pages(path: &std::path::Path) -> std::io::Result<PageSet> {
    let mut wal_path = path.as_os_str().to_owned();
    wal_path.push("-wal");
    let mut set = PageSet::default();
    let f = match File::open(std::path::PathBuf::from(wal_path)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(set),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    if len < 32 {
        return Ok(set);
    }
    let mut hdr = [0u8; 32];
    f.read_exact_at(&mut hdr, 0)?;
    let size = u32::from_be_bytes(hdr[8..12].try_into().expect("4 bytes")) as u64;
    let size = if size == 1 { 65536 } else { size };
    if size < 512 {
        return Ok(set);
    }
    let mut off = 32u64;
    let mut fh = [0u8; 4];
    while off + 24 + size <= len {
        f.read_exact_at(&mut fh, off)?;
        set.insert(u32::from_be_bytes(fh));
        off += 24 + size;
    }
    Ok(set)
}

/// What one side's b-trees say about each page.
#[derive(Default)]
struct Owners {
    /// Tree objects: (type, name, tbl_name).
    trees: Vec<(String, String, String)>,
    /// Page → tree index + 1 (0: none), and whether it is a leaf.
    owner: Vec<u32>,
    leaf: PageSet,
    /// Tables whose tree could not be read from the file (a page in the WAL).
    unreadable: HashSet<String>,
    /// Leaves per tree.
    leaves: Vec<u32>,
    free: PageSet,
    /// The freelist could not be read (page 1 or a trunk in the WAL).
    free_unknown: bool,
}

impl Owners {
    fn tree_of(&self, p: u32) -> Option<usize> {
        match self.owner.get(p as usize) {
            Some(&o) if o > 0 => Some(o as usize - 1),
            _ => None,
        }
    }
}

/// Walk every b-tree's interior pages (leaves are known from their parents
/// without being read: all leaves of a b-tree are at one depth).
fn walk(side: &Opened, pages: &Pages) -> anyhow::Result<Option<Owners>> {
    let mut o = Owners { owner: vec![0; pages.count as usize + 1], ..Default::default() };
    let roots: Vec<(String, String, String, i64)> = {
        let mut stmt =
            side.conn.prepare("SELECT type, name, tbl_name, rootpage FROM main.sqlite_master WHERE rootpage > 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        let mut roots: Vec<(String, String, String, i64)> = rows.collect::<Result<_, _>>()?;
        // The schema's own tree (root page 1): its pages are accounted for,
        // never rows (the schema is compared in full anyway).
        roots.push(("schema".into(), "sqlite_schema".into(), "sqlite_schema".into(), 1));
        roots
    };
    let mut seen_roots = HashSet::new();
    for (kind, name, tbl, root) in roots {
        if !seen_roots.insert(root) {
            continue; // one tree listed twice
        }
        let t = o.trees.len();
        o.trees.push((kind.clone(), name.clone(), tbl));
        o.leaves.push(0);
        let tag = t as u32 + 1;
        let mut stack = vec![root as u32];
        let mut failed = false;
        while let Some(p) = stack.pop() {
            if p as usize >= o.owner.len() || o.owner[p as usize] != 0 {
                return Ok(None); // a page in two trees: corrupt, or not what we think
            }
            o.owner[p as usize] = tag;
            let Some(buf) = pages.read(p) else {
                failed = true;
                continue;
            };
            let h = header_offset(p);
            match buf[h] {
                10 | 13 => {
                    o.leaf.insert(p);
                    o.leaves[t] += 1;
                }
                2 | 5 => {
                    let Some(kids) = children(&buf, p) else { return Ok(None) };
                    let first = pages.read(kids[0]);
                    match first.map(|b| b[header_offset(kids[0])]) {
                        Some(10 | 13) => {
                            for k in kids {
                                if k as usize >= o.owner.len() || o.owner[k as usize] != 0 {
                                    return Ok(None);
                                }
                                o.owner[k as usize] = tag;
                                o.leaf.insert(k);
                                o.leaves[t] += 1;
                            }
                        }
                        Some(_) => stack.extend(kids),
                        None => {
                            failed = true;
                        }
                    }
                }
                _ => return Ok(None),
            }
        }
        if failed && kind == "table" {
            o.unreadable.insert(name.to_lowercase());
        }
    }
    // The freelist: trunk pages list leaf pages.
    match pages.read(1) {
        None => o.free_unknown = true,
        Some(p1) => {
            let mut trunk = u32_at(&p1, 32);
            let mut guard = 0;
            while trunk != 0 && guard <= pages.count {
                guard += 1;
                o.free.insert(trunk);
                let Some(t) = pages.read(trunk) else {
                    o.free_unknown = true;
                    break;
                };
                let n = (u32_at(&t, 4) as usize).min((pages.size - 8) / 4);
                for i in 0..n {
                    o.free.insert(u32_at(&t, 8 + 4 * i));
                }
                trunk = u32_at(&t, 0);
            }
        }
    }
    Ok(Some(o))
}

/// A read-only memory map of `len` bytes of a file from `offset` (a
/// multiple of the page size). The file cannot shrink while it is mapped: a
/// read transaction is held on it, and only pages below the snapshot's page
/// count that the file holds are mapped.
struct Map(memmap2::Mmap);

impl Map {
    fn window(file: &File, offset: u64, len: usize) -> Option<Map> {
        if len == 0 || !offset.is_multiple_of(4096) {
            return None;
        }
        // SAFETY: a shared read-only mapping, never written through; the
        // file cannot shrink under it (see above). Page tables are filled
        // at once (MAP_POPULATE).
        let map = unsafe { memmap2::MmapOptions::new().offset(offset).len(len).populate().map(file) };
        map.ok().map(Map)
    }

    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Add to `changed` the pages from 2 to `common` whose bytes differ between
/// the files `a` and `b` (pages of `size` bytes; page 1, the header, is
/// left to the caller). Byte ranges both files keep in one shared extent
/// (XFS, btrfs) are equal without being read; the rest is compared in runs
/// of up to 256 pages through a memory map of both files (no copy out of
/// the page cache; one window at a time, so memory stays small), or read
/// into buffers where mapping fails. Returns the bytes skipped as shared.
pub(crate) fn differing_pages(
    a: &File,
    b: &File,
    size: usize,
    common: u32,
    changed: &mut PageSet,
) -> std::io::Result<u64> {
    let shared = super::fiemap::shared_ranges(a, b);
    let mut shared_bytes = 0u64;
    const CHUNK: u32 = 256;
    let mut buffers = None;
    let mut si = 0;
    let mut is_shared = |p: u32| {
        let (lo, hi) = ((p as u64 - 1) * size as u64, p as u64 * size as u64);
        while si < shared.len() && shared[si].1 <= lo {
            si += 1;
        }
        si < shared.len() && shared[si].0 <= lo && shared[si].1 >= hi
    };
    let mut p = 2u32;
    while p <= common {
        if is_shared(p) {
            shared_bytes += size as u64;
            p += 1;
            continue;
        }
        let first = p;
        while p <= common && p - first < CHUNK && !is_shared(p) {
            p += 1;
        }
        let (lo, n) = ((first as u64 - 1) * size as u64, (p - first) as usize * size);
        let mut compare = |xs: &[u8], ys: &[u8]| {
            for (k, (x, y)) in xs.chunks(size).zip(ys.chunks(size)).enumerate() {
                if x != y {
                    changed.insert(first + k as u32);
                }
            }
        };
        match (Map::window(a, lo, n), Map::window(b, lo, n)) {
            (Some(ma), Some(mb)) => compare(ma.bytes(), mb.bytes()),
            _ => {
                let (ba, bb) =
                    buffers.get_or_insert_with(|| (vec![0u8; CHUNK as usize * size], vec![0u8; CHUNK as usize * size]));
                a.read_exact_at(&mut ba[..n], lo)?;
                b.read_exact_at(&mut bb[..n], lo)?;
                compare(&ba[..n], &bb[..n]);
            }
        }
    }
    Ok(shared_bytes)
}

/// Decide which tables (and which rowid ranges of them) to compare.
pub(crate) fn scope(a: &Opened, b: &Opened, plans: &[TablePlan]) -> anyhow::Result<Scope> {
    let (sa, sb) = (&a.schema.settings, &b.schema.settings);
    if sa.page_size != sb.page_size {
        return Ok(Scope::full(plans, "the page sizes differ"));
    }
    if sa.reserved_bytes != sb.reserved_bytes {
        return Ok(Scope::full(plans, "the reserved bytes per page differ"));
    }
    let size = sa.page_size as usize;
    let count = |o: &Opened| -> anyhow::Result<u32> {
        Ok(o.conn.query_row("PRAGMA main.page_count", [], |r| r.get::<_, i64>(0))? as u32)
    };
    let pa = Pages { file: &a.file, len: a.file.metadata()?.len(), size, count: count(a)?, wal: wal_pages(&a.path)? };
    let pb = Pages { file: &b.file, len: b.file.metadata()?.len(), size, count: count(b)?, wal: wal_pages(&b.path)? };
    let max = pa.count.max(pb.count);

    // 1. Changed pages.
    let mut changed = PageSet::default();
    for p in pa.wal.iter().chain(pb.wal.iter()) {
        changed.insert(p);
    }
    for p in pa.count.min(pb.count) + 1..=max {
        changed.insert(p);
    }
    let common = pa.count.min(pb.count).min((pa.len / size as u64) as u32).min((pb.len / size as u64) as u32);
    let shared_bytes = differing_pages(&a.file, &b.file, size, common, &mut changed)?;
    if changed.len() as u64 > (max as u64 / 2).max(64) {
        return Ok(Scope::full(plans, "the files share few pages (a VACUUM, or unrelated files)"));
    }
    let method = if shared_bytes > 0 { Method::Extents } else { Method::Pages };

    // 2. Map changed pages, and leaves whose owner differs, to tables.
    let (Some(oa), Some(ob)) = (walk(a, &pa)?, walk(b, &pb)?) else {
        return Ok(Scope::full(plans, "a b-tree could not be followed"));
    };
    let mut marks = Marks::default();
    for (x, px, ox, oy) in [(0usize, &pa, &oa, &ob), (1, &pb, &ob, &oa)] {
        let mut unaccounted = HashSet::new();
        let ptrmap = ptrmap_pages(if x == 0 { a } else { b }, size, px.count);
        let lock_page = (1_073_741_824 / size as u64 + 1) as u32;
        // Pages of this side's trees that are changed, or not the same
        // kind of page of the same tree on the other side.
        for p in 2..=px.count {
            let mine = ox.tree_of(p);
            let differs = changed.contains(p) || !same_place(ox, oy, p);
            if !differs {
                continue;
            }
            match mine {
                Some(t) => marks.page(ox, t, x, p),
                None => {
                    let known_free = ox.free.contains(p) && !ox.free_unknown;
                    if changed.contains(p) && !known_free && !ptrmap.contains(&p) && p != lock_page {
                        unaccounted.insert(p);
                    }
                }
            }
        }
        for t in &ox.unreadable {
            marks.all.insert(t.clone());
        }
        if !unaccounted.is_empty() {
            marks.dbstat_runs += 1;
            dbstat_owners(if x == 0 { a } else { b }, &unaccounted, &mut marks)?;
        }
    }

    // 3. Key ranges of dirty leaves.
    let mut tables = HashMap::new();
    for plan in plans {
        let (na, nb) = (plan.name.to_lowercase(), plan.name_b.to_lowercase());
        let hit = |t: &String| t == &na || t == &nb;
        let shadow_hit =
            |t: &String| plan.is_virtual && (t.starts_with(&format!("{na}_")) || t.starts_with(&format!("{nb}_")));
        let whole = marks.all.iter().any(|t| hit(t) || shadow_hit(t))
            || marks.touched.iter().any(shadow_hit)
            || (plan.without_rowid && marks.touched.iter().any(hit));
        if whole {
            tables.insert(plan.name.clone(), Ranges::All);
            continue;
        }
        if plan.without_rowid || plan.is_virtual {
            continue;
        }
        let leaves_a = marks.leaves.get(&(0, na.clone())).cloned().unwrap_or_default();
        let leaves_b = marks.leaves.get(&(1, nb.clone())).cloned().unwrap_or_default();
        if leaves_a.is_empty() && leaves_b.is_empty() {
            continue;
        }
        let total = tree_leaves(&oa, &na).max(tree_leaves(&ob, &nb)) as usize;
        if plan.matching != super::Matching::Rowid || leaves_a.len() + leaves_b.len() > (total / 4).max(32) {
            tables.insert(plan.name.clone(), Ranges::All);
            continue;
        }
        let mut ranges = Vec::new();
        let mut all = false;
        for (px, list) in [(&pa, &leaves_a), (&pb, &leaves_b)] {
            for &p in list {
                match px.read(p).as_deref().and_then(leaf_rowid_range) {
                    Some(Some(r)) => ranges.push(r),
                    Some(None) => {}
                    None => all = true,
                }
            }
        }
        if all {
            tables.insert(plan.name.clone(), Ranges::All);
        } else if !ranges.is_empty() {
            tables.insert(plan.name.clone(), Ranges::Rowids(merge_ranges(ranges)));
        }
    }
    let described: Vec<String> = tables
        .iter()
        .map(|(t, r)| match r {
            Ranges::All => format!("{t}: all"),
            Ranges::Rowids(v) => format!("{t}: {} ranges", v.len()),
        })
        .collect();
    crate::env::trace(&format!(
        "diff pages={max} changed={} shared_bytes={shared_bytes} dbstat={} tables=[{}]",
        changed.len(),
        marks.dbstat_runs,
        described.join(", ")
    ));
    Ok(Scope { method, full_reason: None, tables })
}

fn tree_leaves(o: &Owners, table: &str) -> u32 {
    o.trees.iter().position(|(k, n, _)| k == "table" && n.to_lowercase() == table).map(|t| o.leaves[t]).unwrap_or(0)
}

/// Is page `p` the same kind of page (leaf or not) of the same tree on both sides?
fn same_place(ox: &Owners, oy: &Owners, p: u32) -> bool {
    match (ox.tree_of(p), oy.tree_of(p)) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            let (kx, nx, _) = &ox.trees[x];
            let (ky, ny, _) = &oy.trees[y];
            kx == ky && nx.eq_ignore_ascii_case(ny) && ox.leaf.contains(p) == oy.leaf.contains(p)
        }
        _ => false,
    }
}

#[derive(Default)]
struct Marks {
    /// Lower-cased table names to compare in full.
    all: HashSet<String>,
    /// Lower-cased tables with any page that differs.
    touched: HashSet<String>,
    /// How many times `dbstat` had to map pages (for the trace).
    dbstat_runs: u32,
    /// (side, table) → dirty leaf pages of that side.
    leaves: HashMap<(usize, String), Vec<u32>>,
}

impl Marks {
    fn page(&mut self, o: &Owners, t: usize, side: usize, p: u32) {
        let (kind, name, tbl) = &o.trees[t];
        if kind != "table" {
            // An index page: indexes follow from their tables; or a page of
            // the schema, which is compared in full. (The
            // automatic index of a WITHOUT ROWID table is the table itself,
            // and is listed as a table.)
            let _ = tbl;
            return;
        }
        let name = name.to_lowercase();
        self.touched.insert(name.clone());
        if o.leaf.contains(p) {
            self.leaves.entry((side, name)).or_default().push(p);
        }
        // Interior pages of a rowid table hold only keys; a WITHOUT ROWID
        // table that is touched at all is compared in full.
    }
}

/// Pointer-map pages of an auto-vacuum database.
fn ptrmap_pages(side: &Opened, size: usize, count: u32) -> HashSet<u32> {
    let mut out = HashSet::new();
    if side.schema.settings.auto_vacuum == 0 {
        return out;
    }
    // SQLite spaces them by the usable size (the page less its reserved bytes).
    let usable = size - usize::from(side.schema.settings.reserved_bytes);
    let per = (usable / 5) as u32 + 1;
    let mut p = 2u32;
    while p <= count {
        out.insert(p);
        p += per;
    }
    out
}

/// Map pages no walked b-tree owns (overflow pages) to their tables with
/// `dbstat`, which reads through SQLite's pager, and mark those tables for
/// a full comparison.
fn dbstat_owners(side: &Opened, pages: &HashSet<u32>, marks: &mut Marks) -> anyhow::Result<()> {
    let mut stmt = side.conn.prepare("SELECT name, pageno FROM dbstat('main')")?;
    let mut rows = stmt.query([])?;
    let tables: HashSet<String> = side
        .schema
        .objects
        .iter()
        .filter(|o| o.kind == crate::schema::Kind::Table)
        .map(|o| o.name.to_lowercase())
        .collect();
    while let Some(r) = rows.next()? {
        let pageno: i64 = r.get(1)?;
        if pages.contains(&(pageno as u32)) {
            let name: String = r.get(0)?;
            let name = name.to_lowercase();
            if tables.contains(&name) {
                marks.all.insert(name);
            }
        }
    }
    Ok(())
}

fn merge_ranges(mut r: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    r.sort();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(r.len());
    for (lo, hi) in r {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_set_counts_and_iterates() {
        let mut s = PageSet::default();
        for p in [2, 64, 65, 1000] {
            s.insert(p);
        }
        assert_eq!(s.len(), 4);
        assert!(s.contains(64) && !s.contains(63));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![2, 64, 65, 1000]);
    }

    #[test]
    fn ranges_merge_when_they_touch() {
        assert_eq!(merge_ranges(vec![(10, 20), (1, 5), (6, 8), (30, 40), (35, 36)]), vec![(1, 8), (10, 20), (30, 40)]);
    }
}
