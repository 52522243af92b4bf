//! `remote add/list/remove/gc`, `push`, `pull`, and the remote halves of
//! `snapshot list/delete`.

use super::Context;
use crate::address::{RemoteSnapshotAddress, SnapshotAddress};
use crate::cli::RemoteCommand;
use crate::error::{Error, ExitCode};
use crate::output::{self, RemoteView, TransferView};
use crate::remote::RemoteSnapshot;
use crate::remote::{self, GcOptions, PullOptions, PushOptions, RemoteOptions};
use crate::ttl;

pub(super) fn run(ctx: &mut Context, cmd: RemoteCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RemoteCommand::Add { name, url, region, endpoint, require_masked } => {
            let info = remote::add(&ctx.home, &name, &url, &RemoteOptions { region, endpoint, require_masked })?;
            let view = RemoteView::new(&info, None);
            ctx.printer.result_or_quiet(None, || format!("Added remote {name} ({url})"), &view)?;
            Ok(ExitCode::Success)
        }
        RemoteCommand::List { snapshots } => list(ctx, snapshots),
        RemoteCommand::Remove { name } => {
            let config = ctx.config()?.clone();
            let info = remote::remove(&ctx.home, &config, &name)?;
            let view = RemoteView::new(&info, None);
            ctx.printer.result_or_quiet(
                None,
                || format!("Removed remote {name} ({}); what it holds stays there", info.url),
                &view,
            )?;
            Ok(ExitCode::Success)
        }
        RemoteCommand::Gc { name, grace, dry_run } => {
            let grace = humantime::parse_duration(grace.trim()).map_err(|_| Error::BadDuration {
                option: "--grace".into(),
                text: grace.clone(),
                why: crate::error::DurationProblem::NotLike { like: "1h or 30m".into() },
            })?;
            let config = ctx.config()?.clone();
            let report = remote::gc(&config, &GcOptions { remote: name.clone(), grace, dry_run })?;
            let view = &report;
            let verb = if dry_run { "Would remove" } else { "Removed" };
            ctx.printer.result(
                || {
                    let mut s = String::new();
                    for e in &report.expired {
                        s.push_str(&format!("{verb} expired snapshot {}\n", e.address));
                    }
                    s.push_str(&format!(
                        "{verb} {} unreferenced object(s), {}\n",
                        report.objects_removed,
                        output::human_bytes(report.bytes_removed)
                    ));
                    if let Some(why) = &report.kept_because {
                        s.push_str(&format!("Kept unreferenced data: {why}\n"));
                    }
                    s
                },
                &view,
            )?;
            Ok(ExitCode::Success)
        }
    }
}

fn list(ctx: &mut Context, snapshots: bool) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?.clone();
    let mut views = Vec::new();
    for info in remote::list(&config) {
        let snaps = if snapshots {
            let store = remote::open(&config, &info.name)?;
            let mut all = Vec::new();
            for db in remote::databases(&store)? {
                all.extend(remote::list_snapshots(&store, &db)?);
            }
            Some(all)
        } else {
            None
        };
        views.push(RemoteView::new(&info, snaps.as_deref()));
    }
    ctx.printer.result(
        || {
            if views.is_empty() {
                return "No remotes; add one with `sqlfork remote add origin s3://BUCKET/PREFIX`\n".into();
            }
            let mut s = String::new();
            for v in &views {
                let masked = if v.remote.require_masked { "  (require masked)" } else { "" };
                s.push_str(&format!("{}  {}{masked}\n", v.remote.name, v.remote.url));
                for snap in v.snapshots.iter().flatten() {
                    s.push_str(&format!("  {}\n", snapshot_line(snap)));
                }
            }
            s
        },
        &views,
    )?;
    Ok(ExitCode::Success)
}

fn snapshot_line(s: &RemoteSnapshot) -> String {
    let expiry = s.expires_at.as_deref().map(|t| format!("  expires {t}")).unwrap_or_default();
    let masked = if s.masked { "  masked" } else { "" };
    format!("{}  taken {}  {}  by {}{expiry}{masked}", s.address, s.taken_at, output::human_bytes(s.size_bytes), s.host)
}

pub(super) fn push(
    ctx: &mut Context,
    snapshot: &str,
    remote_name: Option<String>,
    ttl: Option<String>,
) -> anyhow::Result<ExitCode> {
    let snap = SnapshotAddress::parse(snapshot)?;
    let ttl = ttl.map(|t| ttl::parse_ttl(&t)).transpose()?;
    let config = ctx.config()?.clone();
    let mut progress = ctx.printer.copy_progress(snapshot);
    let (pushed, figures) =
        remote::push(&ctx.home, &config, &PushOptions { snapshot: snap, remote: remote_name, ttl }, &mut progress)?;
    drop(progress);
    print_pushed(ctx, snapshot, &pushed, &figures)
}

/// A push's result (`push`, `db resume`).
pub(super) fn print_pushed(
    ctx: &mut Context,
    snapshot: &str,
    pushed: &remote::RemoteSnapshot,
    figures: &remote::TransferFigures,
) -> anyhow::Result<ExitCode> {
    let view = TransferView::new(pushed, figures, true);
    ctx.printer.result_or_quiet(
        Some(pushed.address.clone()),
        || {
            format!(
                "Pushed {snapshot} to {}\n  uploaded: {} ({} of {} pages already there)\n  took:     {}\n  fork it:  sqlfork db fork {} NEW --with-data\n",
                pushed.address,
                output::human_bytes(figures.bytes_transferred),
                figures.pages_reused,
                figures.pages_total,
                output::human_ms(figures.time_ms),
                pushed.address
            )
        },
        &view,
    )?;
    Ok(ExitCode::Success)
}

pub(super) fn pull(ctx: &mut Context, snapshot: &str) -> anyhow::Result<ExitCode> {
    let snap = RemoteSnapshotAddress::parse(snapshot)?;
    let config = ctx.config()?.clone();
    let mut progress = ctx.printer.copy_progress(snapshot);
    let (local, figures, already) =
        remote::pull(&ctx.home, &config, &PullOptions { snapshot: snap.clone(), schema_only: false }, &mut progress)?;
    drop(progress);
    print_pulled(ctx, &snap, &local, &figures, already)
}

/// A pull's result (`pull`, `db resume`).
pub(super) fn print_pulled(
    ctx: &mut Context,
    snap: &RemoteSnapshotAddress,
    local: &crate::registry::Snapshot,
    figures: &remote::TransferFigures,
    already: bool,
) -> anyhow::Result<ExitCode> {
    let view = pulled_view(snap, local, figures);
    ctx.printer.result_or_quiet(
        Some(local.path.display().to_string()),
        || {
            let what = if already { "Already here" } else { "Pulled" };
            format!(
                "{what}: {snap}\n  downloaded: {} ({} of {} pages were here already)\n  path:       {} (read-only)\n  fork it:    sqlfork db fork {snap} NEW --with-data\n",
                output::human_bytes(figures.bytes_transferred),
                figures.pages_reused,
                figures.pages_total,
                local.path.display()
            )
        },
        &view,
    )?;
    Ok(ExitCode::Success)
}

/// A pull's `--json` view.
pub(super) fn pulled_view(
    snap: &RemoteSnapshotAddress,
    local: &crate::registry::Snapshot,
    figures: &remote::TransferFigures,
) -> TransferView {
    let summary = remote::RemoteSnapshot {
        address: snap.to_string(),
        name: local.name.clone(),
        size_bytes: local.size_bytes,
        taken_at: local.taken_at.clone(),
        pushed_at: String::new(),
        host: String::new(),
        expires_at: None,
        masked: local.safe.as_ref().is_some_and(|s| s.masked),
    };
    let mut view = TransferView::new(&summary, figures, false);
    view.path = Some(local.path.display().to_string());
    view
}

/// `snapshot list REMOTE:NS/SLUG`: the remote `name`'s snapshots of `db`.
pub(super) fn list_snapshots(
    ctx: &mut Context,
    name: &str,
    db: &crate::address::Address,
    snaps: &[remote::RemoteSnapshot],
) -> anyhow::Result<ExitCode> {
    let views = snaps;
    ctx.printer.result(|| views.iter().map(|v| format!("{}\n", snapshot_line(v))).collect::<String>(), &views)?;
    if views.is_empty() && !ctx.printer.json {
        ctx.printer.note(&format!("{name}:{db} has no snapshots; push one with `sqlfork push {db}:NAME {name}`."));
    }
    Ok(ExitCode::Success)
}

/// `snapshot delete REMOTE:NS/SLUG:NAME`: say that `removed` went.
pub(super) fn deleted_snapshot(
    ctx: &mut Context,
    snap: &RemoteSnapshotAddress,
    removed: &remote::RemoteSnapshot,
) -> anyhow::Result<ExitCode> {
    #[derive(serde::Serialize)]
    struct Deleted {
        deleted: RemoteSnapshot,
    }
    ctx.printer.result_or_quiet(
        None,
        || format!("Deleted snapshot {snap} (its data goes with the next `sqlfork remote gc {}`)", snap.remote),
        &Deleted { deleted: removed.clone() },
    )?;
    Ok(ExitCode::Success)
}
