//! The `snapshot` subcommands, and `db fork --at`.

use super::Context;
use crate::address::{RemoteSnapshotAddress, SnapshotAddress};
use crate::api::SnapshotInfo;
use crate::cli::SnapshotCommand;
use crate::error::{Error, ExitCode};
use crate::output;
use crate::settings;
use crate::snapshot;
use crate::storage::{self, Place, SnapshotStore};
use crate::ttl;
use std::io::{BufRead, IsTerminal, Write};

pub(super) fn run(ctx: &mut Context, cmd: SnapshotCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SnapshotCommand::Create { address, ttl } => create(ctx, &address, ttl),
        SnapshotCommand::List { address } => list(ctx, &address),
        SnapshotCommand::Delete { address, confirm } => delete(ctx, &address, confirm.yes),
    }
}

fn create(ctx: &mut Context, address: &str, ttl: Option<String>) -> anyhow::Result<ExitCode> {
    let opts = settings::SnapshotRequest { address: address.to_string(), name: None, ttl: settings::Ttl::text(ttl) }
        .resolve()?;
    let config = ctx.config()?.clone();
    let mut progress = ctx.printer.copy_progress(address);
    let snap = snapshot::create(&ctx.home, &config, &opts, &mut progress)?;
    let view = crate::api::snapshot_info(&snap);
    // `--quiet`: only the snapshot's address (its name may be the time).
    ctx.printer.result_or_quiet(
        Some(view.address.clone()),
        || {
            let expiry = match &snap.expires_at {
                Some(t) => format!("auto-deletes at {t}"),
                None => "never expires".into(),
            };
            format!(
                "Took snapshot {}\n  taken at: {}\n  size:     {}\n  path:     {} (read-only)\n  expiry:   {expiry}\n  fork it:  sqlfork db fork {} NEW\n",
                view.address,
                snap.taken_at,
                output::human_bytes(snap.size_bytes),
                snap.path.display(),
                view.address,
            )
        },
        &view,
    )?;
    Ok(ExitCode::Success)
}

fn list(ctx: &mut Context, address: &str) -> anyhow::Result<ExitCode> {
    let home = ctx.home.clone();
    let at = storage::locate(&home, address, || Ok(ctx.config()?.clone()))?;
    let db = at.database_only()?;
    let store = match &at.place {
        Place::Local(store) => store,
        Place::Remote(store) => return super::remote::list_snapshots(ctx, &store.name, db, &store.list(db)?),
    };
    let snaps = store.list(db)?;
    let views: Vec<SnapshotInfo> = snaps.iter().map(crate::api::snapshot_info).collect();
    let now = ttl::now();
    ctx.printer.result(|| output::snapshot_table(&ctx.printer, &snaps, now), &views)?;
    if snaps.is_empty() && !ctx.printer.json {
        ctx.printer.note(&format!("{db} has no snapshots yet; take one with `sqlfork snapshot create {db}`."));
    }
    Ok(ExitCode::Success)
}

fn delete(ctx: &mut Context, address: &str, yes: bool) -> anyhow::Result<ExitCode> {
    let home = ctx.home.clone();
    let at = storage::locate(&home, address, || Ok(ctx.config()?.clone()))?;
    let (db, name) = (&at.database, at.name()?);
    let store = match &at.place {
        Place::Local(store) => store,
        Place::Remote(store) => {
            if !yes && std::io::stdin().is_terminal() {
                confirm(&format!("Delete snapshot {address} from the remote?"), address)?;
            }
            let snap = RemoteSnapshotAddress {
                remote: store.name.clone(),
                snapshot: SnapshotAddress { database: db.clone(), name: name.to_string() },
            };
            return super::remote::deleted_snapshot(ctx, &snap, &store.delete(db, name)?);
        }
    };
    let snap = SnapshotAddress { database: db.clone(), name: name.to_string() };
    if !yes && std::io::stdin().is_terminal() {
        // Look it up first, so an unknown one is "not found" before the prompt.
        if let Err(e) = crate::snapshot::find(&crate::registry::Registry::load(&ctx.home)?, &snap) {
            if snapshot::pulled_copies(&ctx.home, &snap)?.is_empty() {
                return Err(e.into());
            }
        }
        confirm(&format!("Delete snapshot {snap} and its file?"), &snap.to_string())?;
    }
    let removed = store.delete(db, name)?;
    ctx.printer.result_or_quiet(
        None,
        || match &removed.remote {
            Some(r) => format!("Deleted the copy of {}:{snap} pulled into this home (the remote keeps it)", r.remote),
            None => format!("Deleted snapshot {snap}"),
        },
        &output::SnapshotDeletedView { deleted: crate::api::snapshot_info(&removed) },
    )?;
    Ok(ExitCode::Success)
}

/// Ask on the terminal; anything but yes is a failure that changes nothing.
fn confirm(question: &str, what: &str) -> anyhow::Result<()> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        return Err(Error::failed(format!("not deleted: snapshot {what} is unchanged")).into());
    }
    Ok(())
}
