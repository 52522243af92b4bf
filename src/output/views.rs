//! The JSON views: what `--json` prints and the MCP tools answer with
//! (their output schemas are derived from these types), in camelCase as
//! the seed product's API names them.

use crate::ops::{Detail, ResolvedParent};
use crate::registry::{CopyStats, Entry, Parent, Snapshot, SnapshotRef};
use serde::Serialize;

#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct CopyView {
    pub objects_created: u64,
    /// None for a clone: it reads no rows, and counting them would cost what
    /// the clone saved.
    pub rows_copied: Option<u64>,
    pub bytes_copied: u64,
    pub duration_ms: u64,
    pub exact: bool,
    pub orphans_pruned: u64,
    /// `clone`, `file`, `pages` or `rows`; null for a schema-only fork.
    pub method: Option<crate::home::CopyMethod>,
    /// Why a slower method than the configured one was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl From<&CopyStats> for CopyView {
    fn from(c: &CopyStats) -> Self {
        CopyView {
            objects_created: c.objects_created,
            rows_copied: (c.method != Some(crate::home::CopyMethod::Clone)).then_some(c.rows_copied),
            bytes_copied: c.bytes_copied,
            duration_ms: c.duration_ms,
            exact: c.exact,
            orphans_pruned: c.orphans_pruned,
            method: c.method,
            fallback: c.fallback.clone(),
        }
    }
}

/// The JSON shape of one database.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct EntryView {
    pub address: String,
    pub id: String,
    pub namespace: String,
    pub slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub name: String,
    pub path: String,
    pub owned: bool,
    pub status: String,
    pub size_bytes: Option<u64>,
    pub created_at: String,
    pub forked_at: Option<String>,
    pub expires_at: Option<String>,
    pub include_data: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyView>,
    /// Present when the fork is masked or a subset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe: Option<SafeView>,
}

/// `safe` in JSON: what a masked or subset fork was made with.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct SafeView {
    pub masked: bool,
    pub rules_sha256: Option<String>,
    pub mask_file: Option<String>,
    pub subset: Vec<String>,
    pub subset_sha256: Option<String>,
    pub rows_kept: std::collections::BTreeMap<String, u64>,
}

impl From<&crate::mask::SafeRecord> for SafeView {
    fn from(s: &crate::mask::SafeRecord) -> Self {
        SafeView {
            masked: s.masked,
            rules_sha256: s.rules_sha256.clone(),
            mask_file: s.mask_file.as_ref().map(|p| p.display().to_string()),
            subset: s.subset.clone(),
            subset_sha256: s.subset_sha256.clone(),
            rows_kept: s.rows_kept.clone(),
        }
    }
}

/// One line for humans: `masked (rules sha256 3f2a…), subset orders:… (1,204 rows kept)`.
pub(crate) fn safe_summary(s: &crate::mask::SafeRecord) -> String {
    let mut parts = Vec::new();
    if let Some(h) = &s.rules_sha256 {
        parts.push(format!("masked (rules sha256 {h})"));
    }
    if !s.subset.is_empty() {
        let kept: u64 = s.rows_kept.values().sum();
        parts.push(format!("subset {} ({kept} rows kept)", s.subset.join(", ")));
    }
    parts.join("; ")
}

impl From<&Entry> for EntryView {
    fn from(e: &Entry) -> Self {
        EntryView {
            address: e.address().to_string(),
            id: e.id.clone(),
            namespace: e.namespace.clone(),
            slug: e.slug.clone(),
            branch: e.branch.clone(),
            name: e.name.clone(),
            path: e.path.display().to_string(),
            owned: e.owned,
            status: e.status.to_string(),
            size_bytes: crate::layout::file_size(&e.path),
            created_at: e.created_at.clone(),
            forked_at: e.forked_at.clone(),
            expires_at: e.expires_at.clone(),
            include_data: e.include_data,
            copy: e.copy.as_ref().map(CopyView::from),
            safe: e.safe.as_ref().map(SafeView::from),
        }
    }
}

/// `forkedFrom.snapshot`: the snapshot a fork was made from.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct SnapshotParentView {
    pub id: String,
    pub name: String,
    pub taken_at: String,
    /// True once the snapshot has been deleted (the label stays).
    pub deleted: bool,
}

impl SnapshotParentView {
    fn new(r: &SnapshotRef, deleted: bool) -> Self {
        SnapshotParentView { id: r.id.clone(), name: r.name.clone(), taken_at: r.taken_at.clone(), deleted }
    }
}

/// `forkedFrom` in `db show --json` and fork results.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(untagged)]
pub(crate) enum ParentView {
    #[serde(rename_all = "camelCase")]
    Database {
        id: String,
        namespace: String,
        slug: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        branch: Option<String>,
        deleted: bool,
        /// The snapshot of that database the fork was made from.
        #[serde(skip_serializing_if = "Option::is_none")]
        snapshot: Option<SnapshotParentView>,
    },
    Path {
        path: String,
    },
}

impl ParentView {
    fn database(id: &str, namespace: &str, slug: &str, name: &str, branch: &Option<String>, deleted: bool) -> Self {
        ParentView::Database {
            id: id.to_string(),
            namespace: namespace.to_string(),
            slug: slug.to_string(),
            name: name.to_string(),
            branch: branch.clone(),
            deleted,
            snapshot: None,
        }
    }
}

impl From<&ResolvedParent> for ParentView {
    fn from(p: &ResolvedParent) -> Self {
        match p {
            ResolvedParent::Live { id, namespace, slug, name, branch } => {
                ParentView::database(id, namespace, slug, name, branch, false)
            }
            ResolvedParent::Deleted { id, namespace, slug, name, branch } => {
                ParentView::database(id, namespace, slug, name, branch, true)
            }
            ResolvedParent::Path(p) => ParentView::Path { path: p.display().to_string() },
        }
    }
}

impl From<&Parent> for ParentView {
    fn from(p: &Parent) -> Self {
        match p {
            Parent::Database { id, namespace, slug, name, branch, snapshot } => {
                let mut view = ParentView::database(id, namespace, slug, name, branch, false);
                if let ParentView::Database { snapshot: s, .. } = &mut view {
                    *s = snapshot.as_ref().map(|r| SnapshotParentView::new(r, false));
                }
                view
            }
            Parent::Path(p) => ParentView::Path { path: p.display().to_string() },
        }
    }
}

/// `db show --json`: the entry with `forkedFrom` resolved.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailView {
    #[serde(flatten)]
    pub entry: EntryView,
    pub forked_from: Option<ParentView>,
    /// True while a process is building this database.
    pub in_flight: bool,
    /// Percentage of rows copied while provisioning with data.
    pub progress_percent: Option<f64>,
    /// How many snapshots of this database exist.
    pub snapshots: usize,
    /// The pid of the process copying it, while one is (`db cancel` stops it).
    pub pid: Option<u32>,
    /// Its base, the state it was forked from, kept for `db merge`; null
    /// when none is kept.
    pub base: Option<BaseView>,
}

/// The JSON shape of a fork's base.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct BaseView {
    /// `clone`, `copy` or `snapshot`.
    pub kind: &'static str,
    pub taken_at: String,
    pub bytes_copied: u64,
    pub duration_ms: u64,
}

impl BaseView {
    pub(crate) fn of(d: &Detail) -> Option<BaseView> {
        d.entry.base.as_ref().filter(|_| d.base_kept).map(BaseView::from_record)
    }
    fn from_record(b: &crate::registry::Base) -> BaseView {
        BaseView {
            kind: b.kind.as_str(),
            taken_at: b.taken_at.clone(),
            bytes_copied: b.bytes_copied,
            duration_ms: b.duration_ms,
        }
    }
}

impl From<&Detail> for DetailView {
    fn from(d: &Detail) -> Self {
        let mut forked_from = d.parent.as_ref().map(ParentView::from);
        if let (Some(ParentView::Database { snapshot, .. }), Some((r, deleted))) =
            (&mut forked_from, &d.parent_snapshot)
        {
            *snapshot = Some(SnapshotParentView::new(r, *deleted));
        }
        DetailView {
            entry: EntryView::from(&d.entry),
            forked_from,
            in_flight: d.in_flight,
            progress_percent: d.progress.as_ref().and_then(|p| p.percent()),
            snapshots: d.snapshots,
            pid: d.pid,
            base: BaseView::of(d),
        }
    }
}

/// `db fork --json` (and `db resume NS/SLUG --json`): the new entry, its
/// parent, and whether this run finished an interrupted fork.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct ForkView {
    #[serde(flatten)]
    pub entry: EntryView,
    pub forked_from: Option<ParentView>,
    pub resumed: bool,
    /// The base kept for `db merge`, and what keeping it cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseView>,
}

impl From<&crate::fork::ForkOutcome> for ForkView {
    fn from(out: &crate::fork::ForkOutcome) -> Self {
        let e = &out.entry;
        ForkView {
            entry: EntryView::from(e),
            forked_from: e.forked_from.as_ref().map(ParentView::from),
            resumed: out.resumed,
            base: e.base.as_ref().map(BaseView::from_record),
        }
    }
}

/// `branch put --json`: the branch's entry, its parent, and what happened.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutView {
    #[serde(flatten)]
    pub entry: EntryView,
    pub forked_from: Option<ParentView>,
    /// `created`, `reset`, or `resumed` (an interrupted first put finished).
    pub action: &'static str,
}

impl From<&crate::branch::PutOutcome> for PutView {
    fn from(out: &crate::branch::PutOutcome) -> Self {
        let e = &out.entry;
        PutView {
            entry: EntryView::from(e),
            forked_from: e.forked_from.as_ref().map(ParentView::from),
            action: out.action.as_str(),
        }
    }
}

/// `db reset --json`: the entry after the reset and what it went back to.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResetView {
    #[serde(flatten)]
    pub entry: EntryView,
    pub forked_from: Option<ParentView>,
    /// What it was reset to: `NS/SLUG`, `NS/SLUG:NAME` or a path.
    pub reset_to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotView>,
}

impl From<&crate::reset::ResetOutcome> for ResetView {
    fn from(out: &crate::reset::ResetOutcome) -> Self {
        let e = &out.entry;
        ResetView {
            entry: EntryView::from(e),
            forked_from: e.forked_from.as_ref().map(ParentView::from),
            reset_to: out.source_label.clone(),
            snapshot: out.snapshot.as_ref().map(SnapshotView::from),
        }
    }
}

/// `db delete --json`: the entry that went, whether its file went too, and
/// how many of its snapshots went with it.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeletedView {
    pub deleted: EntryView,
    pub file_deleted: bool,
    pub snapshots_deleted: usize,
}

impl DeletedView {
    pub(crate) fn new(e: &Entry, snapshots_deleted: usize) -> Self {
        DeletedView { deleted: EntryView::from(e), file_deleted: e.owned, snapshots_deleted }
    }
}

/// `db path --json`.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct PathView {
    pub path: String,
}

impl From<&std::path::Path> for PathView {
    fn from(p: &std::path::Path) -> Self {
        PathView { path: p.display().to_string() }
    }
}

/// `db cancel --json`: the half-made fork that was removed, and the pid of
/// the process that was stopped, if one was copying.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelledView {
    pub cancelled: EntryView,
    /// The pid of the process that was stopped, if one was copying.
    pub stopped_pid: Option<u32>,
}

/// `snapshot delete --json`.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct SnapshotDeletedView {
    pub deleted: SnapshotView,
}

/// `--mask-check --json`: the personal-looking columns without a rule.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct MaskCheckView {
    pub unruled: Vec<crate::mask::check::Finding>,
}

/// The JSON shape of one snapshot.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct SnapshotView {
    /// `NS/SLUG:NAME`.
    pub address: String,
    pub id: String,
    /// The database it was taken of.
    pub database: String,
    pub name: String,
    pub path: String,
    pub taken_at: String,
    pub expires_at: Option<String>,
    pub size_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyView>,
}

impl From<&Snapshot> for SnapshotView {
    fn from(s: &Snapshot) -> Self {
        SnapshotView {
            address: crate::snapshot::address_of(s).to_string(),
            id: s.id.clone(),
            database: s.database_address().to_string(),
            name: s.name.clone(),
            path: s.path.display().to_string(),
            taken_at: s.taken_at.clone(),
            expires_at: s.expires_at.clone(),
            size_bytes: s.size_bytes,
            copy: s.copy.as_ref().map(CopyView::from),
        }
    }
}

/// A remote, as `remote add/list/remove` print it.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct RemoteView {
    pub name: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    pub require_masked: bool,
    /// With `remote list --snapshots`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<Vec<RemoteSnapshotView>>,
}

impl RemoteView {
    pub(crate) fn new(r: &crate::remote::RemoteInfo, snaps: Option<&[crate::remote::RemoteSnapshot]>) -> Self {
        RemoteView {
            name: r.name.clone(),
            url: r.url.clone(),
            region: r.region.clone(),
            endpoint: r.endpoint.clone(),
            require_masked: r.require_masked,
            snapshots: snaps.map(|s| s.iter().map(RemoteSnapshotView::from).collect()),
        }
    }
}

/// A snapshot on a remote.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct RemoteSnapshotView {
    /// `REMOTE:NS/SLUG:NAME`.
    pub address: String,
    pub name: String,
    pub size_bytes: u64,
    pub taken_at: String,
    pub pushed_at: String,
    pub host: String,
    pub expires_at: Option<String>,
    pub masked: bool,
}

impl From<&crate::remote::RemoteSnapshot> for RemoteSnapshotView {
    fn from(s: &crate::remote::RemoteSnapshot) -> Self {
        RemoteSnapshotView {
            address: s.address.clone(),
            name: s.name.clone(),
            size_bytes: s.size_bytes,
            taken_at: s.taken_at.clone(),
            pushed_at: s.pushed_at.clone(),
            host: s.host.clone(),
            expires_at: s.expires_at.clone(),
            masked: s.masked,
        }
    }
}

/// What a push or a pull did (`--json`).
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct TransferView {
    /// `REMOTE:NS/SLUG:NAME`.
    pub address: String,
    /// The local copy (pull).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_uploaded: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_downloaded: Option<u64>,
    pub pages_reused: u64,
    pub pages_total: u64,
    pub size_bytes: u64,
    pub time_ms: u64,
    pub masked: bool,
}

impl TransferView {
    pub(crate) fn new(s: &crate::remote::RemoteSnapshot, f: &crate::remote::TransferFigures, push: bool) -> Self {
        TransferView {
            address: s.address.clone(),
            path: None,
            bytes_uploaded: push.then_some(f.bytes_transferred),
            bytes_downloaded: (!push).then_some(f.bytes_transferred),
            pages_reused: f.pages_reused,
            pages_total: f.pages_total,
            size_bytes: f.size_bytes,
            time_ms: f.time_ms,
            masked: s.masked,
        }
    }
}

/// What `remote gc` did.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct GcReportView {
    pub expired: Vec<RemoteSnapshotView>,
    pub objects_removed: u64,
    pub bytes_removed: u64,
    pub kept_because: Option<String>,
}

impl From<&crate::remote::GcReport> for GcReportView {
    fn from(r: &crate::remote::GcReport) -> Self {
        GcReportView {
            expired: r.expired.iter().map(RemoteSnapshotView::from).collect(),
            objects_removed: r.objects_removed,
            bytes_removed: r.bytes_removed,
            kept_because: r.kept_because.clone(),
        }
    }
}
