//! What a remote holds, byte for byte, and the checks every object read
//! from one goes through (a remote is untrusted input: SPEC 7 and 15).
//!
//! Layout under the remote's prefix (see ARCHITECTURE.md, "Remotes"):
//!
//! - `snapshots/NS/SLUG/NAME.json`: a snapshot's [`Manifest`], written last
//!   and only if absent (a conditional create);
//! - `data/XX/HASH.pack`: pages packed end to end (immutable, named by the
//!   SHA-256 of their bytes; `XX` is the hash's first two hex digits);
//! - `data/XX/HASH.idx`: that pack's [`PackIndex`] (page hash → offset);
//! - `data/XX/HASH.list`: a snapshot's [`PageList`] (the hash of every page
//!   in order);
//! - `data/XX/HASH.schema`: a snapshot's schema and settings as a
//!   schema-only SQLite file (what a schema-only fork downloads);
//! - `leases/ID.json`: a push in progress (gc keeps every unreferenced
//!   object while one is live).

use crate::error::Error;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A page's (or an object's) SHA-256.
pub(crate) type Hash = [u8; 32];

/// The SHA-256 of `bytes`.
pub(crate) fn hash(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// A hash as 64 lowercase hex digits.
pub(crate) fn hex(h: &Hash) -> String {
    let mut s = String::with_capacity(64);
    for b in h {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Parse 64 lowercase hex digits.
pub(crate) fn unhex(s: &str) -> Option<Hash> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The key of a content-addressed object: `data/XX/HASH.KIND`.
pub(crate) fn data_key(h: &str, kind: &str) -> String {
    format!("data/{}/{h}.{kind}", &h[..2])
}

/// The key of a snapshot's manifest.
pub(crate) fn manifest_key(namespace: &str, slug: &str, name: &str) -> String {
    format!("snapshots/{namespace}/{slug}/{name}.json")
}

/// The largest manifest read (a remote is untrusted: bounded memory).
pub(crate) const MANIFEST_LIMIT: u64 = 64 << 20;
/// The largest schema record read.
pub(crate) const SCHEMA_LIMIT: u64 = 512 << 20;
/// The most pages a snapshot may have (SQLite's own limit).
pub(crate) const MAX_PAGES: u64 = 4_294_967_294;
/// A pack is closed once it holds this many bytes.
pub(crate) const PACK_BYTES: usize = 8 << 20;
/// The largest pack index read: a full pack of the smallest pages.
pub(crate) const INDEX_LIMIT: u64 = 16 + 44 * (PACK_BYTES as u64 / 512 + 1);

/// An object named in a manifest: its hash and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectRef {
    pub sha256: String,
    pub size: u64,
}

/// A snapshot on a remote. Written last, only if no manifest has its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    pub format: u32,
    pub namespace: String,
    pub slug: String,
    pub name: String,
    /// When the snapshot was taken (RFC 3339).
    pub taken_at: String,
    /// When it was pushed.
    pub pushed_at: String,
    /// The host that pushed it.
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// True when a masked fork made it (SPEC 12).
    #[serde(default)]
    pub masked: bool,
    /// The mask rules' SHA-256, when masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_sha256: Option<String>,
    pub page_size: u32,
    pub page_count: u64,
    /// The schema and settings: a schema-only SQLite file.
    pub schema: ObjectRef,
    /// The page list.
    pub pages: ObjectRef,
    /// Every pack holding one of its pages (their hashes).
    pub packs: Vec<String>,
}

impl Manifest {
    pub(crate) const FORMAT: u32 = 1;

    /// The snapshot's size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.page_count * u64::from(self.page_size)
    }

    /// Parse and check a manifest read from `key` (`NS/SLUG/NAME` must be
    /// what the key says). `label` names the snapshot in errors.
    pub(crate) fn parse(bytes: &[u8], ns: &str, slug: &str, name: &str, label: &str) -> Result<Manifest, Error> {
        let bad = |reason: String| Error::RemoteDamaged { snapshot: label.to_string(), reason };
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| bad(format!("its manifest is not valid ({e})")))?;
        if m.format != Self::FORMAT {
            return Err(bad(format!(
                "its manifest has format {}, this sqlfork reads format {}; upgrade sqlfork",
                m.format,
                Self::FORMAT
            )));
        }
        if (m.namespace.as_str(), m.slug.as_str(), m.name.as_str()) != (ns, slug, name) {
            return Err(bad(format!(
                "its manifest names {}/{}:{} (a name with '/' or '..', or another snapshot's)",
                m.namespace.escape_debug(),
                m.slug.escape_debug(),
                m.name.escape_debug()
            )));
        }
        if !m.page_size.is_power_of_two() || !(512..=65536).contains(&m.page_size) {
            return Err(bad(format!("its page size {} is not a SQLite page size", m.page_size)));
        }
        if m.page_count == 0 || m.page_count > MAX_PAGES {
            return Err(bad(format!("its page count {} is absurd", m.page_count)));
        }
        if m.pages.size != PageList::size_for(m.page_count) {
            return Err(bad(format!(
                "its page list is {} bytes, but {} pages need {}",
                m.pages.size,
                m.page_count,
                PageList::size_for(m.page_count)
            )));
        }
        if m.schema.size == 0 || m.schema.size > SCHEMA_LIMIT {
            return Err(bad(format!("its schema record is {} bytes", m.schema.size)));
        }
        if m.packs.len() as u64 > m.page_count {
            return Err(bad(format!("it names {} packs for {} pages", m.packs.len(), m.page_count)));
        }
        for h in [&m.schema.sha256, &m.pages.sha256].into_iter().chain(&m.packs) {
            if unhex(h).is_none() {
                return Err(bad(format!("`{}` is not a SHA-256", h.escape_debug())));
            }
        }
        for t in [Some(&m.taken_at), Some(&m.pushed_at), m.expires_at.as_ref()].into_iter().flatten() {
            if crate::ttl::parse_time(t).is_none() {
                return Err(bad(format!("`{}` is not an RFC 3339 time", t.escape_debug())));
            }
        }
        Ok(m)
    }

    /// True when it has an expiry and that has passed.
    pub(crate) fn is_expired(&self, now: std::time::SystemTime) -> bool {
        self.expires_at
            .as_deref()
            .and_then(crate::ttl::parse_time)
            .is_some_and(|t| crate::ttl::remaining(t, now).is_none())
    }
}

const LIST_MAGIC: &[u8; 8] = b"SQFLIST1";
const INDEX_MAGIC: &[u8; 8] = b"SQFIDX01";

/// The hash of every page of a snapshot, in page order.
pub(crate) struct PageList;

impl PageList {
    /// Its size for `pages` pages.
    pub(crate) fn size_for(pages: u64) -> u64 {
        16 + 32 * pages
    }

    /// The header written before the hashes.
    pub(crate) fn header(pages: u64) -> Vec<u8> {
        let mut h = LIST_MAGIC.to_vec();
        h.extend_from_slice(&pages.to_le_bytes());
        h
    }

    /// The hashes in `bytes` (checked: magic, count, size). Pulls read a
    /// page list from a file, a hash at a time (`pull::ListReader`).
    #[cfg(test)]
    pub(crate) fn parse(bytes: &[u8], pages: u64) -> Result<Vec<Hash>, String> {
        if bytes.len() as u64 != Self::size_for(pages) || &bytes[..8] != LIST_MAGIC {
            return Err("its page list is not a page list".into());
        }
        if u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) != pages {
            return Err("its page list does not add up to its page count".into());
        }
        Ok(bytes[16..].chunks_exact(32).map(|c| c.try_into().expect("32 bytes")).collect())
    }
}

/// Where a page lies in a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub hash: Hash,
    pub offset: u64,
    pub len: u32,
}

/// A pack's index: every page it holds, in order.
pub(crate) struct PackIndex;

impl PackIndex {
    pub(crate) fn encode(entries: &[Entry]) -> Vec<u8> {
        let mut out = INDEX_MAGIC.to_vec();
        out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        for e in entries {
            out.extend_from_slice(&e.hash);
            out.extend_from_slice(&e.offset.to_le_bytes());
            out.extend_from_slice(&e.len.to_le_bytes());
        }
        out
    }

    /// The entries in `bytes`, checked: they lie end to end from offset 0
    /// and each is a SQLite page size long.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Entry>, String> {
        if bytes.len() < 16 || &bytes[..8] != INDEX_MAGIC {
            return Err("a pack index is not a pack index".into());
        }
        let n = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        if (bytes.len() as u64 - 16) != n.saturating_mul(44) {
            return Err("a pack index does not add up".into());
        }
        let mut at = 0u64;
        let mut out = Vec::with_capacity(n as usize);
        for c in bytes[16..].chunks_exact(44) {
            let e = Entry {
                hash: c[..32].try_into().expect("32 bytes"),
                offset: u64::from_le_bytes(c[32..40].try_into().expect("8 bytes")),
                len: u32::from_le_bytes(c[40..44].try_into().expect("4 bytes")),
            };
            if e.offset != at || !e.len.is_power_of_two() || !(512..=65536).contains(&e.len) {
                return Err("a pack index lists a page out of place".into());
            }
            at += u64::from(e.len);
            out.push(e);
        }
        Ok(out)
    }
}

/// A push in progress, as gc sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Lease {
    pub host: String,
    pub snapshot: String,
    pub started_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: 1,
            namespace: "acme".into(),
            slug: "orders".into(),
            name: "n".into(),
            taken_at: "2026-11-30T12:00:00Z".into(),
            pushed_at: "2026-11-30T12:00:00Z".into(),
            host: "h".into(),
            expires_at: None,
            masked: false,
            rules_sha256: None,
            page_size: 4096,
            page_count: 2,
            schema: ObjectRef { sha256: hex(&hash(b"s")), size: 10 },
            pages: ObjectRef { sha256: hex(&hash(b"p")), size: PageList::size_for(2) },
            packs: vec![hex(&hash(b"k"))],
        }
    }

    #[test]
    fn manifests_are_checked_as_untrusted_input() {
        let ok = serde_json::to_vec(&manifest()).unwrap();
        assert!(Manifest::parse(&ok, "acme", "orders", "n", "o:acme/orders:n").is_ok());
        let bad = |f: &dyn Fn(&mut Manifest)| {
            let mut m = manifest();
            f(&mut m);
            Manifest::parse(&serde_json::to_vec(&m).unwrap(), "acme", "orders", "n", "x").unwrap_err().to_string()
        };
        assert!(bad(&|m| m.name = "../x".into()).contains("'..'"));
        assert!(bad(&|m| m.page_count = u64::MAX).contains("absurd"));
        assert!(bad(&|m| m.page_count = 3).contains("3 pages need"));
        assert!(bad(&|m| m.page_size = 1000).contains("page size"));
        assert!(bad(&|m| m.packs = vec!["../../etc".into()]).contains("not a SHA-256"));
        assert!(bad(&|m| m.schema.size = u64::MAX).contains("schema record"));
        assert!(Manifest::parse(b"{", "acme", "orders", "n", "x").unwrap_err().to_string().contains("not valid"));
    }

    #[test]
    fn lists_and_indexes_round_trip_and_are_checked() {
        let hs = [hash(b"a"), hash(b"b")];
        let mut bytes = PageList::header(2);
        hs.iter().for_each(|h| bytes.extend_from_slice(h));
        assert_eq!(PageList::parse(&bytes, 2).unwrap(), hs.to_vec());
        assert!(PageList::parse(&bytes, 3).is_err());
        let entries = [Entry { hash: hs[0], offset: 0, len: 4096 }, Entry { hash: hs[1], offset: 4096, len: 4096 }];
        let idx = PackIndex::encode(&entries);
        assert_eq!(PackIndex::parse(&idx).unwrap(), entries.to_vec());
        let mut holes = entries;
        holes[1].offset = 5000;
        assert!(PackIndex::parse(&PackIndex::encode(&holes)).is_err());
        assert!(PackIndex::parse(&idx[..20]).is_err());
        assert_eq!(unhex(&hex(&hs[0])), Some(hs[0]));
        assert_eq!(unhex("XYZ"), None);
    }
}
