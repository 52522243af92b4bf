//! The `db` subcommands.

use super::Context;
use crate::address::{Address, Source};
use crate::api::Database;
use crate::cli::DbCommand;
use crate::error::{Error, ExitCode};
use crate::fork;
use crate::ops;
use crate::output::{self, DeletedView, DetailView, ForkView, PathView};
use crate::remote;
use crate::settings;
use crate::ttl;
use serde::Serialize;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

pub(super) fn run(ctx: &mut Context, cmd: DbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DbCommand::Create { address, name, ttl } => create(ctx, &address, name.name, ttl.ttl),
        DbCommand::Import { address, file, name } => import(ctx, &address, &file, name.name),
        DbCommand::Fork { src, dst, with_data, mergeable, detach, at, name, ttl, safe } => {
            let request = settings::ForkRequest {
                source: src,
                at,
                destination: dst,
                name: name.name,
                ttl: settings::Ttl::text(ttl.ttl),
                with_data,
                detach,
                safe: super::mask::safe(&safe),
                mergeable,
            };
            fork_cmd(ctx, request, safe.mask_check)
        }
        DbCommand::Reset { address, to, data, ttl, safe, when_open } => {
            super::reset::run(ctx, &address, to, data.choice(), ttl, &safe, when_open.choice())
        }
        DbCommand::Resume { address, background } => resume(ctx, address.as_deref(), background),
        DbCommand::Wait { address, timeout } => wait(ctx, &address, timeout.as_deref()),
        DbCommand::List { namespace } => list(ctx, namespace.as_deref()),
        DbCommand::Show { address } => show(ctx, &address),
        DbCommand::Path { address } => path(ctx, &address),
        DbCommand::Delete { address, confirm, force } => delete(ctx, &address, confirm.yes, force.force),
        DbCommand::Cancel { address } => cancel(ctx, &address),
        DbCommand::Ttl { address, ttl, clear } => super::expiry::ttl(ctx, &address, ttl, clear),
        DbCommand::Gc { dry_run } => super::expiry::gc(ctx, dry_run),
        DbCommand::Diff(args) => super::diff::run(ctx, args),
        DbCommand::Merge { fork, into, dry_run, prefer, format, yes } => {
            super::merge::merge(ctx, fork, into, dry_run, prefer, format, yes)
        }
        DbCommand::Rebase { fork, prefer, format } => super::merge::rebase(ctx, fork, prefer, format),
        DbCommand::Rehearse(args) => super::rehearse::run(ctx, args),
    }
}

fn create(ctx: &mut Context, address: &str, name: Option<String>, ttl: Option<String>) -> anyhow::Result<ExitCode> {
    let addr = Address::parse_database(address)?;
    let ttl = settings::ttl(settings::Ttl::text(ttl))?;
    let config = ctx.config()?.clone();
    let entry = ops::create(&ctx.home, &config, &addr, name, ttl)?;
    ctx.printer.result_or_quiet(
        Some(entry.path.display().to_string()),
        || format!("Created {} at {}", entry.address(), entry.path.display()),
        &Database::from_entry(&entry),
    )?;
    Ok(ExitCode::Success)
}

fn import(ctx: &mut Context, address: &str, file: &std::path::Path, name: Option<String>) -> anyhow::Result<ExitCode> {
    let addr = Address::parse_database(address)?;
    let out = ops::import(&ctx.home, &addr, file, name)?;
    let entry = &out.entry;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ImportView {
        #[serde(flatten)]
        entry: Database,
        /// True when this file was already registered here: nothing changed.
        already_registered: bool,
    }
    ctx.printer.result_or_quiet(
        Some(entry.path.display().to_string()),
        || {
            if out.already {
                format!("{} is already registered at {}; nothing to do", entry.address(), entry.path.display())
            } else {
                format!(
                    "Registered {} at {} (not owned: sqlfork will never write or delete it)",
                    entry.address(),
                    entry.path.display()
                )
            }
        },
        &ImportView { entry: Database::from_entry(entry), already_registered: out.already },
    )?;
    Ok(ExitCode::Success)
}

fn fork_cmd(ctx: &mut Context, request: settings::ForkRequest, mask_check: bool) -> anyhow::Result<ExitCode> {
    let src = request.source.clone();
    let config = ctx.config()?.clone();
    let fork = request.resolve(&ctx.home, &config).map_err(|e| {
        // A source that does not parse as an address may be a file here.
        if e.chain().any(|c| c.is::<crate::address::AddressError>()) {
            file_hint(&src, e)
        } else {
            e
        }
    })?;
    if let Some((snap, when)) = &fork.at {
        ctx.printer.note(&format!("Forking snapshot {snap} (the newest at or before {})", ttl::format_time(*when)));
    }
    let opts = fork.options;
    if mask_check {
        return super::mask::check(ctx, &opts.source, &opts.safe);
    }
    let dst = opts.destination.clone();
    // A remote snapshot is pulled into the home first.
    let data = opts.with_data || opts.safe.is_active();
    let mut pull_progress = ctx.printer.copy_progress(&src);
    let pulled = crate::storage::bring_source_here(&ctx.home, &config, &opts.source, data, &mut pull_progress)?;
    drop(pull_progress);
    if let Some(f) = pulled.filter(|f| f.bytes_transferred > 0) {
        ctx.printer.note(&format!(
            "Pulled {src}: {} downloaded, {} of {} pages were here already",
            crate::output::human_bytes(f.bytes_transferred),
            f.pages_reused,
            f.pages_total
        ));
    }
    let mut progress = ctx.printer.copy_progress(&dst);
    let out = fork::fork(&ctx.home, &config, &opts, &mut progress).map_err(|e| {
        if Error::any_in(&e, Error::is_not_found) && matches!(opts.source, Source::Registered(_)) {
            file_hint(&src, e)
        } else {
            e
        }
    })?;
    drop(progress);
    print_fork(ctx, &out)
}

/// A source written as a bare name (`prodfile`) that is not an address but
/// is a file in the current directory: say how to fork the file.
fn file_hint(src: &str, e: anyhow::Error) -> anyhow::Error {
    if !std::path::Path::new(src).is_file() {
        return e;
    }
    let hint = format!("; to fork the file, write ./{src}");
    let base = match e.chain().find_map(|c| c.downcast_ref::<crate::address::AddressError>()) {
        Some(a) => Error::from(a.clone()),
        None => match crate::error::typed(&e) {
            Some(t) => t.clone(),
            None => return e,
        },
    };
    Error::Hinted { error: Box::new(base), hint }.into()
}

fn print_fork(ctx: &Context, out: &fork::ForkOutcome) -> anyhow::Result<ExitCode> {
    let e = &out.entry;
    let view = ForkView::of(&ctx.home, out)?;
    let counted = view.database.database.copy.as_ref().and_then(crate::api::CopyFigures::rows_counted);
    ctx.printer.result_or_quiet(
        Some(e.path.display().to_string()),
        || {
            let c = e.copy.clone().unwrap_or_default();
            let expiry = match &e.expires_at {
                Some(t) => format!("auto-deletes at {t}"),
                None => "never expires".into(),
            };
            let src = match e.forked_from.as_ref() {
                // A pulled remote snapshot: its remote address.
                Some(crate::registry::Parent::Database { id, name, .. }) if crate::remote::is_pulled_id(id) => {
                    name.clone()
                }
                Some(crate::registry::Parent::Database { namespace, slug, branch, snapshot, .. }) => {
                    let mut a = format!("{namespace}/{slug}");
                    if let Some(b) = branch {
                        a.push_str(&format!("@{b}"));
                    }
                    if let Some(s) = snapshot {
                        a.push_str(&format!(":{}", s.name));
                    }
                    a
                }
                Some(crate::registry::Parent::Path(p)) => p.display().to_string(),
                None => "?".into(),
            };
            if e.status == crate::registry::Status::Provisioning {
                return format!(
                    "Forking {src} → {addr} in the background (status provisioning)\n  path:    {}\n  follow:  sqlfork db wait {addr}\n  expiry:  {expiry}\n",
                    e.path.display(),
                    addr = e.address(),
                );
            }
            // Exactness is a property of copied rows: a schema-only fork has none.
            let exact = if !e.include_data {
                String::new()
            } else if c.exact {
                "\n  copy:    exact snapshot".to_string()
            } else {
                format!(
                    "\n  copy:    best-effort (the source changed during the copy; {} orphan rows pruned)",
                    c.orphans_pruned
                )
            };
            let rows = match counted {
                Some(n) => n.to_string(),
                None => "not counted".to_string(),
            };
            let method = match (c.method, &c.fallback) {
                (Some(m), Some(why)) => format!("  method:  {m} ({why})\n"),
                (Some(m), None) => format!("  method:  {m}\n"),
                (None, _) => String::new(),
            };
            let mut safe = String::new();
            if let Some(b) = &e.base {
                safe.push_str(&match b.kind {
                    crate::registry::BaseKind::Copy => format!(
                        "  base:    kept for db merge (a full copy: {} in {} ms)\n",
                        output::human_bytes(b.bytes_copied),
                        b.duration_ms
                    ),
                    k => format!("  base:    kept for db merge ({}, free)\n", k.as_str()),
                });
            }
            if let Some(s) = &e.safe {
                let info = view.database.database.safe.as_ref().expect("made from this record");
                safe.push_str(&format!("  safe:    {}\n", output::safe_summary(info)));
                let named = |t: &str| s.subset.iter().any(|r| r.split(':').next().is_some_and(|n| n.eq_ignore_ascii_case(t)));
                for (table, n) in &s.rows_kept {
                    // A table no rule names keeps every row that does not
                    // reference a removed one: say so, it surprises.
                    let why = if named(table) {
                        ""
                    } else {
                        " (not in --subset: all rows but those referencing a removed row)"
                    };
                    safe.push_str(&format!("           {table}: {n} rows kept{why}\n"));
                }
            }
            format!(
                "{verb} {src} → {addr} ({kind})\n  path:    {}\n  objects: {} created\n  rows:    {rows} ({} written)\n{method}  time:    {}{exact}\n  expiry:  {expiry}\n{safe}",
                e.path.display(),
                c.objects_created,
                output::human_bytes(c.bytes_copied),
                output::human_ms(c.duration_ms),
                verb = if out.resumed { "Finished forking" } else { "Forked" },
                addr = e.address(),
                kind = if e.include_data { "with data" } else { "schema only" },
            )
        },
        &view,
    )?;
    Ok(ExitCode::Success)
}

fn resume(ctx: &mut Context, address: Option<&str>, background: bool) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?.clone();
    if background {
        // Started by `db fork --detach`: take over the claim from the parent
        // (it lets go right after starting us), say "ready" once the source
        // snapshot is pinned, and copy quietly.
        // Nobody sees this process's stderr: a failure leaves its reason in
        // a note for `db wait` (written before the entry goes; `db wait`
        // removes it once it has said it).
        let addr = Address::parse(address.unwrap_or_default())?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match fork::resume_in_background(&ctx.home, &config, &addr, &mut say_ready) {
                Err(e) if is_busy(&e, &addr) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                other => return other.map(|_| ExitCode::Success),
            }
        }
    }
    // `NS/SLUG:NAME` (a push) and `REMOTE:NS/SLUG:NAME` (a pull).
    if let Some(a) = address.filter(|a| a.contains(':')) {
        return resume_transfer(ctx, &config, a);
    }
    let targets: Vec<Address> = match address {
        Some(a) => vec![Address::parse(a)?],
        None => fork::interrupted(&ctx.home)?.iter().map(|e| e.address()).collect(),
    };
    let mut done = Vec::new();
    for addr in &targets {
        let mut progress = ctx.printer.copy_progress(&addr.to_string());
        match fork::resume(&ctx.home, &config, addr, &mut progress) {
            Ok(out) => done.push(out),
            // Resuming everything: one that another process took up or
            // deleted since the list was made is not this run's to finish.
            Err(e) if address.is_none() && is_busy(&e, addr) => {
                ctx.printer.note(&format!("Skipped {addr}: another sqlfork process is building it."));
            }
            Err(e) if address.is_none() && Error::any_in(&e, |e| matches!(e, Error::NotFound { .. })) => {
                ctx.printer.note(&format!("Skipped {addr}: it was deleted meanwhile."));
            }
            Err(e) => return Err(e),
        }
    }
    if address.is_some() {
        let out = &done[0];
        if !out.resumed {
            // Healthy already: nothing was copied, so no copy figures.
            let e = &out.entry;
            ctx.printer.result_or_quiet(
                Some(e.path.display().to_string()),
                || format!("{} is healthy already: nothing to resume.\n", e.address()),
                &ForkView::of(&ctx.home, out)?,
            )?;
            return Ok(ExitCode::Success);
        }
        return print_fork(ctx, out);
    }
    // Then the interrupted pushes and pulls.
    let (mut transfers, mut transfer_views): (Vec<String>, Vec<output::TransferView>) = (Vec::new(), Vec::new());
    for t in crate::remote::interrupted(&ctx.home) {
        let mut progress = ctx.printer.copy_progress(t.address());
        let finished = crate::remote::resume(&ctx.home, &config, &t, &mut progress)?;
        drop(progress);
        let (line, view) = match &finished {
            remote::Finished::Pushed(s, f) => {
                (format!("Finished pushing {} to {}", t.address(), s.address), output::TransferView::new(s, f, true))
            }
            remote::Finished::Pulled(local, f, _) => {
                let snap = crate::address::RemoteSnapshotAddress::parse(t.address())?;
                (format!("Finished pulling {}", t.address()), super::remote::pulled_view(&snap, local, f))
            }
        };
        transfers.push(line);
        transfer_views.push(view);
    }
    /// A finished fork or transfer, as `--json` shows it.
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Finished {
        Fork(Box<Database>),
        Transfer(output::TransferView),
    }
    let mut views: Vec<Finished> =
        done.iter().map(|o| Finished::Fork(Box::new(Database::from_entry(&o.entry)))).collect();
    views.extend(transfer_views.into_iter().map(Finished::Transfer));
    ctx.printer.result(
        || {
            if done.is_empty() && transfers.is_empty() {
                "Nothing to resume: no interrupted forks, pushes or pulls.".to_string()
            } else {
                let mut finished: String = done.iter().map(|o| format!("Finished {}\n", o.entry.address())).collect();
                transfers.iter().for_each(|line| finished.push_str(&format!("{line}\n")));
                format!("{finished}No other fork needs resuming.\n")
            }
        },
        &views,
    )?;
    Ok(ExitCode::Success)
}

/// `db resume NS/SLUG:NAME` (an interrupted push of that snapshot) or
/// `db resume REMOTE:NS/SLUG:NAME` (an interrupted pull). Prints what
/// `push` or `pull` prints; nothing interrupted is "nothing to resume".
fn resume_transfer(ctx: &mut Context, config: &crate::home::Config, address: &str) -> anyhow::Result<ExitCode> {
    let pull = crate::address::RemoteSnapshotAddress::parse(address).is_ok();
    if !pull {
        // A local snapshot: it must exist (exit 3 otherwise).
        let snap = crate::address::SnapshotAddress::parse(address)?;
        crate::registry::Registry::load(&ctx.home)?.find_snapshot(&snap)?;
    }
    let Some(t) = remote::find_interrupted(&ctx.home, address) else {
        #[derive(Serialize)]
        struct Nothing<'a> {
            address: &'a str,
            resumed: bool,
        }
        let what = if pull { "pull" } else { "push" };
        ctx.printer.result_or_quiet(
            None,
            || format!("No interrupted {what} of {address}: nothing to resume.\n"),
            &Nothing { address, resumed: false },
        )?;
        return Ok(ExitCode::Success);
    };
    let mut progress = ctx.printer.copy_progress(address);
    let finished = remote::resume(&ctx.home, config, &t, &mut progress)?;
    drop(progress);
    match finished {
        remote::Finished::Pushed(s, f) => super::remote::print_pushed(ctx, address, &s, &f),
        remote::Finished::Pulled(local, f, here) => {
            let snap = crate::address::RemoteSnapshotAddress::parse(address)?;
            super::remote::print_pulled(ctx, &snap, &local, &f, here)
        }
    }
}

/// True when `err` says another process is building `addr` right now.
fn is_busy(err: &anyhow::Error, addr: &Address) -> bool {
    Error::any_in(err, |e| matches!(e, Error::Busy { address } if address == addr))
}

/// Tell the `db fork --detach` that started this background copy that it
/// has taken over (see `fork::resume_in_background`).
fn say_ready() {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", fork::READY);
    let _ = out.flush();
}

fn wait(ctx: &mut Context, address: &str, timeout: Option<&str>) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let timeout = settings::timeout(timeout, "--timeout")?;
    let config = ctx.config()?.clone();
    let mut progress = ctx.printer.copy_progress(&addr.to_string());
    let printer = &ctx.printer;
    let mut waiting = || printer.note(&format!("Waiting for the copy into {addr} (another process is copying it)…"));
    let entry = fork::wait(&ctx.home, &config, &addr, timeout, &mut progress, &mut waiting)?;
    drop(progress);
    ctx.printer.result(|| format!("{addr} is healthy"), &Database::from_entry(&entry))?;
    Ok(ExitCode::Success)
}

fn list(ctx: &mut Context, namespace: Option<&str>) -> anyhow::Result<ExitCode> {
    let entries = ops::list(&ctx.home, namespace)?;
    let views: Vec<Database> = entries.iter().map(Database::from_entry).collect();
    let now = ttl::now();
    ctx.printer.result(|| output::list_table(&ctx.printer, &entries, now), &views)?;
    if entries.is_empty() && !ctx.printer.json {
        let others: std::collections::BTreeSet<String> =
            ops::list(&ctx.home, None)?.into_iter().map(|e| e.namespace).collect();
        match namespace {
            Some(ns) if !others.is_empty() => ctx.printer.note(&format!(
                "Namespace {ns} is empty; the databases here are in {} (`sqlfork db list` shows them all).",
                others.into_iter().collect::<Vec<_>>().join(", ")
            )),
            _ => ctx.printer.note(
                "No databases yet; create one with `sqlfork db create NS/SLUG` or `sqlfork db import NS/SLUG FILE`.",
            ),
        }
    }
    Ok(ExitCode::Success)
}

fn show(ctx: &mut Context, address: &str) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let detail = ops::show(&ctx.home, &addr)?;
    let now = ttl::now();
    let view = DetailView::of(&ctx.home, &detail)?;
    ctx.printer.result(|| output::show_text(&ctx.printer, &view, now), &view)?;
    Ok(ExitCode::Success)
}

fn path(ctx: &mut Context, address: &str) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let path = ops::path(&ctx.home, &addr)?;
    let text = path.display().to_string();
    ctx.printer.result(|| text.clone(), &PathView::from(path.as_path()))?;
    Ok(ExitCode::Success)
}

fn delete(ctx: &mut Context, address: &str, yes: bool, force: bool) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    delete_address(ctx, &addr, yes, force)
}

/// `db delete` and `branch delete`: confirm on a terminal, then delete.
/// With `force` (as `rm -f`): no question, a copy building it is stopped,
/// and a database that does not exist is a success with a note.
pub(super) fn delete_address(ctx: &mut Context, addr: &Address, yes: bool, force: bool) -> anyhow::Result<ExitCode> {
    let addr = addr.clone();
    let entry = match ops::get(&ctx.home, &addr) {
        Err(e) if force && Error::any_in(&e, Error::is_not_found) => {
            crate::registry::sync_found(&ctx.home, &[])?;
            ctx.printer.note(&format!("{addr} does not exist; nothing to delete."));
            #[derive(Serialize)]
            struct Nothing {
                deleted: Option<Database>,
            }
            ctx.printer.result_or_quiet(None, String::new, &Nothing { deleted: None })?;
            return Ok(ExitCode::Success);
        }
        other => other?,
    };
    if !yes && !force && std::io::stdin().is_terminal() {
        let what = if entry.owned {
            format!("Delete {addr} and its file {}?", entry.path.display())
        } else {
            format!("Remove {addr} from the registry (its file {} is kept)?", entry.path.display())
        };
        eprint!("{what} [y/N] ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            return Err(Error::failed(format!("not deleted: {addr} is unchanged")).into());
        }
    }
    let entry = if force && entry.owned {
        let out = crate::cancel::delete_stopping(&ctx.home, &entry)?;
        if let Some(pid) = out.stopped {
            ctx.printer.note(&format!("Stopped the copy into {addr} (pid {pid})."));
        }
        (out.entry, out.snapshots)
    } else {
        ops::delete_with(&ctx.home, &addr, None)?
    };
    let (entry, snapshots) = entry;
    // An interrupted reset or snapshot may have left a hidden copy beside it.
    crate::branch::remove_reset_leftover(&ctx.home, &addr);
    let snaps = match snapshots.len() {
        0 => String::new(),
        1 => " and its 1 snapshot".to_string(),
        n => format!(" and its {n} snapshots"),
    };
    ctx.printer.result_or_quiet(
        None,
        || {
            if entry.owned && snaps.is_empty() {
                format!("Deleted {addr} and its file")
            } else if entry.owned {
                format!("Deleted {addr}, its file{snaps}")
            } else {
                format!(
                    "Removed {addr} from the registry{}; its file {} is untouched",
                    snaps.replacen(" and its", " and deleted its", 1),
                    entry.path.display()
                )
            }
        },
        &DeletedView::new(&entry, snapshots.len()),
    )?;
    Ok(ExitCode::Success)
}

/// `db cancel NS/SLUG`: stop the copy building a fork and remove it.
fn cancel(ctx: &mut Context, address: &str) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let out = crate::cancel::cancel(&ctx.home, &addr)?;
    crate::branch::remove_reset_leftover(&ctx.home, &addr);
    ctx.printer.result_or_quiet(
        None,
        || match out.stopped {
            Some(pid) => format!("Cancelled {addr}: stopped its copy (pid {pid}) and removed the half-made fork"),
            None => format!("Cancelled {addr}: no process was copying it; removed the half-made fork"),
        },
        &output::CancelledView { cancelled: Database::from_entry(&out.entry), stopped_pid: out.stopped },
    )?;
    Ok(ExitCode::Success)
}
