//! The JSON documents `--json` prints and the MCP tools answer with (their
//! output schemas are derived from these types), in camelCase as the seed
//! product's API names them. A database and a snapshot are the SDK's own
//! types ([`Database`], [`SnapshotInfo`], with [`Lineage`] as
//! `forkedFrom`); what is here only adds what one command reports beside
//! them.

use crate::api::{Database, Lineage, SnapshotInfo};
use crate::home::Home;
use crate::ops::Detail;
use serde::Serialize;

/// A database with where it came from (`forkedFrom`), resolved once by
/// the API: `db show`, `db fork`, `branch put`, `db reset`.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct WithLineage {
    #[serde(flatten)]
    pub database: Database,
    pub forked_from: Option<Lineage>,
}

impl WithLineage {
    /// The entry as a database with its lineage resolved.
    pub(crate) fn of(home: &Home, e: &crate::registry::Entry) -> anyhow::Result<Self> {
        let database = crate::api::resolved(home, e)?;
        Ok(WithLineage { forked_from: database.forked_from.clone(), database })
    }
}

/// `db show --json`: the database, and what is happening to it now.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetailView {
    #[serde(flatten)]
    pub database: WithLineage,
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

impl DetailView {
    pub(crate) fn of(home: &Home, d: &Detail) -> anyhow::Result<Self> {
        Ok(DetailView {
            database: WithLineage::of(home, &d.entry)?,
            in_flight: d.in_flight,
            progress_percent: d.progress.as_ref().and_then(|p| p.percent()),
            snapshots: d.snapshots,
            pid: d.pid,
            base: BaseView::of(d),
        })
    }
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

/// `db fork --json` (and `db resume NS/SLUG --json`): the new database,
/// whether this run finished an interrupted fork, and its base.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct ForkView {
    #[serde(flatten)]
    pub database: WithLineage,
    pub resumed: bool,
    /// The base kept for `db merge`, and what keeping it cost; null when
    /// none is kept.
    pub base: Option<BaseView>,
}

impl ForkView {
    pub(crate) fn of(home: &Home, out: &crate::fork::ForkOutcome) -> anyhow::Result<Self> {
        Ok(ForkView {
            database: WithLineage::of(home, &out.entry)?,
            resumed: out.resumed,
            base: out.entry.base.as_ref().map(BaseView::from_record),
        })
    }
}

/// `branch put --json`: the branch, and what happened.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutView {
    #[serde(flatten)]
    pub database: WithLineage,
    /// `created`, `reset`, or `resumed` (an interrupted first put finished).
    pub action: &'static str,
}

impl PutView {
    pub(crate) fn of(home: &Home, out: &crate::branch::PutOutcome) -> anyhow::Result<Self> {
        Ok(PutView { database: WithLineage::of(home, &out.entry)?, action: out.action.as_str() })
    }
}

/// `db reset --json`: the database after the reset and what it went back to.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResetView {
    #[serde(flatten)]
    pub database: WithLineage,
    /// What it was reset to: `NS/SLUG`, `NS/SLUG:NAME` or a path.
    pub reset_to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotInfo>,
}

impl ResetView {
    pub(crate) fn of(home: &Home, out: &crate::reset::ResetOutcome) -> anyhow::Result<Self> {
        Ok(ResetView {
            database: WithLineage::of(home, &out.entry)?,
            reset_to: out.source_label.clone(),
            snapshot: out.snapshot.as_ref().map(crate::api::snapshot_info),
        })
    }
}

/// `db delete --json`: the database that went, whether its file went too,
/// and how many of its snapshots went with it.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeletedView {
    pub deleted: Database,
    pub file_deleted: bool,
    pub snapshots_deleted: usize,
}

impl DeletedView {
    pub(crate) fn new(e: &crate::registry::Entry, snapshots_deleted: usize) -> Self {
        DeletedView { deleted: Database::from_entry(e), file_deleted: e.owned, snapshots_deleted }
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
    pub cancelled: Database,
    /// The pid of the process that was stopped, if one was copying.
    pub stopped_pid: Option<u32>,
}

/// `snapshot delete --json`.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct SnapshotDeletedView {
    pub deleted: SnapshotInfo,
}

/// `--mask-check --json`: the personal-looking columns without a rule.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct MaskCheckView {
    pub unruled: Vec<crate::mask::check::Finding>,
}

/// A remote, as `remote add/list/remove` print it.
#[derive(Debug, Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct RemoteView {
    #[serde(flatten)]
    pub remote: crate::remote::RemoteInfo,
    /// With `remote list --snapshots`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<Vec<crate::remote::RemoteSnapshot>>,
}

impl RemoteView {
    pub(crate) fn new(r: &crate::remote::RemoteInfo, snaps: Option<&[crate::remote::RemoteSnapshot]>) -> Self {
        RemoteView { remote: r.clone(), snapshots: snaps.map(<[_]>::to_vec) }
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
