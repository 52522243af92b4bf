//! `db ttl` and `db gc`.

use super::Context;
use crate::address::Address;
use crate::api::{Database, SnapshotInfo};
use crate::error::ExitCode;
use crate::gc::{self, GcReport};
use crate::output;
use crate::registry::Entry;
use crate::ttl;
use serde::Serialize;
use std::time::SystemTime;

/// `db ttl ADDRESS [DURATION | --clear]`: change, clear or show the expiry.
pub(super) fn ttl(ctx: &mut Context, address: &str, ttl: Option<String>, clear: bool) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let entry = match (ttl, clear) {
        (Some(t), _) => {
            let d = ttl::parse_ttl(&t)?;
            gc::set_ttl(&ctx.home, &addr, Some(d))?
        }
        (None, true) => gc::set_ttl(&ctx.home, &addr, None)?,
        (None, false) => crate::ops::get(&ctx.home, &addr)?,
    };
    let now = ttl::now();
    ctx.printer.result(|| describe_expiry(&entry, now), &Database::from_entry(&entry))?;
    Ok(ExitCode::Success)
}

fn describe_expiry(e: &Entry, now: SystemTime) -> String {
    let addr = e.address();
    match e.expires_at.as_deref() {
        None => format!("{addr} never expires"),
        Some(at) => match ttl::parse_time(at).and_then(|t| ttl::remaining(t, now)) {
            Some(left) => format!("{addr} auto-deletes in {} (at {at})", ttl::short_duration(left)),
            None => format!("{addr} expired at {at}; the next `sqlfork db gc` deletes it"),
        },
    }
}

/// One database in `db gc --json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GcEntryView {
    #[serde(flatten)]
    entry: Database,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GcView {
    dry_run: bool,
    /// Deleted (with --dry-run: would be deleted).
    deleted: Vec<GcEntryView>,
    /// Expired but kept, with the reason.
    kept: Vec<GcEntryView>,
    /// Files that belonged to no entry (left by killed processes), removed.
    strays_removed: Vec<String>,
    /// Snapshots deleted: expired ones and those of the databases deleted
    /// (with --dry-run: would be).
    snapshots_deleted: Vec<SnapshotInfo>,
}

/// `db gc [--dry-run]`.
pub(super) fn gc(ctx: &mut Context, dry_run: bool) -> anyhow::Result<ExitCode> {
    let mut report = gc::gc(&ctx.home, dry_run)?;
    // Sorted by address, like `db list`, in text and JSON alike.
    report.deleted.sort_by_key(|c| c.entry.address());
    report.kept.sort_by_key(|(e, _)| e.address());
    report.strays_removed.sort();
    let view = GcView {
        dry_run,
        deleted: report
            .deleted
            .iter()
            .map(|c| {
                let mut entry = Database::from_entry(&c.entry);
                entry.size_bytes = c.size_bytes;
                GcEntryView { entry, reason: None }
            })
            .collect(),
        kept: report
            .kept
            .iter()
            .map(|(e, why)| GcEntryView { entry: Database::from_entry(e), reason: Some(why.as_str()) })
            .collect(),
        strays_removed: report.strays_removed.clone(),
        snapshots_deleted: report.snapshots_deleted.iter().map(crate::api::snapshot_info).collect(),
    };
    ctx.printer.result(|| gc_text(&report), &view)?;
    if !report.kept.iter().all(|(_, why)| *why == gc::KeptReason::NotOwned) && !ctx.printer.json {
        ctx.printer.note("Some expired databases were busy; run `sqlfork db gc` again later to delete them.");
    }
    Ok(ExitCode::Success)
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn gc_text(r: &GcReport) -> String {
    let mut out = String::new();
    let nothing = r.deleted.is_empty() && r.snapshots_deleted.is_empty() && r.strays_removed.is_empty();
    if nothing {
        out.push_str(if r.dry_run {
            "Nothing to delete: no database sqlfork owns has expired (dry run).\n"
        } else {
            "Nothing to delete: no database sqlfork owns has expired.\n"
        });
    } else if !r.deleted.is_empty() {
        let n = plural(r.deleted.len(), "expired database");
        if r.dry_run {
            out.push_str(&format!("Would delete {n} (dry run: nothing was deleted):\n"));
        } else {
            out.push_str(&format!("Deleted {n}:\n"));
        }
        let width = r.deleted.iter().map(|c| c.entry.address().to_string().chars().count()).max().unwrap_or(0);
        let mut freed = 0;
        for c in &r.deleted {
            let when = expired_ago(&c.entry, r.now);
            let size = c.size_bytes.map(output::human_bytes).unwrap_or_else(|| "file missing".into());
            freed += c.size_bytes.unwrap_or(0);
            out.push_str(&format!("  {:<width$}  expired {when}  {size}\n", c.entry.address().to_string()));
        }
        out.push_str(&format!("{} {}\n", if r.dry_run { "Would free" } else { "Freed" }, output::human_bytes(freed)));
    }
    for (e, why) in &r.kept {
        out.push_str(&format!("Kept {} (expired {}): {}\n", e.address(), expired_ago(e, r.now), why.describe()));
    }
    if !r.snapshots_deleted.is_empty() {
        let verb = if r.dry_run { "Would delete" } else { "Deleted" };
        out.push_str(&format!("{verb} {}:\n", plural(r.snapshots_deleted.len(), "snapshot")));
        for s in &r.snapshots_deleted {
            out.push_str(&format!("  {}  {}\n", crate::snapshot::address_of(s), output::human_bytes(s.size_bytes)));
        }
    }
    if !r.strays_removed.is_empty() {
        out.push_str(&format!(
            "Removed {} that no database owned (left by interrupted processes).\n",
            plural(r.strays_removed.len(), "stray file")
        ));
    }
    out
}

fn expired_ago(e: &Entry, now: SystemTime) -> String {
    e.expires_at.as_deref().and_then(ttl::parse_time).map(|t| ttl::ago(t, now)).unwrap_or_else(|| "?".into())
}
