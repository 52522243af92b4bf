//! The `snapshot` subcommands, and `db fork --at`.

use super::Context;
use crate::address::{Address, SnapshotAddress};
use crate::cli::SnapshotCommand;
use crate::error::{Error, ExitCode};
use crate::output::{self, SnapshotView};
use crate::snapshot::{self, CreateOptions};
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
    let (addr, name) = SnapshotAddress::parse_optional(address)?;
    let ttl = ttl.map(|t| ttl::parse_ttl(&t)).transpose()?;
    let config = ctx.config()?.clone();
    let mut progress = ctx.printer.copy_progress(address);
    let snap = snapshot::create(&ctx.home, &config, &CreateOptions { address: addr, name, ttl }, &mut progress)?;
    let view = SnapshotView::from(&snap);
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
    if crate::address::is_remote(address) {
        return super::remote::list_snapshots(ctx, address);
    }
    let db = Address::parse(address)?;
    let snaps = snapshot::list(&ctx.home, &db)?;
    let views: Vec<SnapshotView> = snaps.iter().map(SnapshotView::from).collect();
    let now = ttl::now();
    ctx.printer.result(|| output::snapshot_table(&ctx.printer, &snaps, now), &views)?;
    if snaps.is_empty() && !ctx.printer.json {
        ctx.printer.note(&format!("{db} has no snapshots yet; take one with `sqlfork snapshot create {db}`."));
    }
    Ok(ExitCode::Success)
}

fn delete(ctx: &mut Context, address: &str, yes: bool) -> anyhow::Result<ExitCode> {
    if crate::address::is_remote(address) {
        if !yes && std::io::stdin().is_terminal() {
            confirm(&format!("Delete snapshot {address} from the remote?"), address)?;
        }
        return super::remote::delete_snapshot(ctx, address);
    }
    let snap = SnapshotAddress::parse(address)?;
    if !yes && std::io::stdin().is_terminal() {
        // Look it up first, so an unknown one is "not found" before the prompt.
        crate::snapshot::find(&crate::registry::Registry::load(&ctx.home)?, &snap)?;
        eprint!("Delete snapshot {snap} and its file? [y/N] ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            return Err(Error::failed(format!("not deleted: snapshot {snap} is unchanged")).into());
        }
    }
    let removed = snapshot::delete(&ctx.home, &snap)?;
    #[derive(serde::Serialize)]
    struct Deleted {
        deleted: SnapshotView,
    }
    ctx.printer.result_or_quiet(
        None,
        || format!("Deleted snapshot {snap}"),
        &Deleted { deleted: SnapshotView::from(&removed) },
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

/// `db fork SRC DST --at TIME`: SRC's newest snapshot at or before TIME, as
/// a source address.
pub(super) fn source_at(ctx: &mut Context, src: &str, at: &str) -> anyhow::Result<String> {
    let db = Address::parse(src).map_err(|e| {
        Error::invalid(format!("--at needs SRC to be a database address NS/SLUG (`{src}` is not: {})", e))
    })?;
    let when = snapshot::parse_at(at, ttl::now())?;
    let snap = snapshot::resolve_at(&ctx.home, &db, when)?;
    ctx.printer.note(&format!("Forking snapshot {snap} (the newest at or before {})", ttl::format_time(when)));
    Ok(snap.to_string())
}
