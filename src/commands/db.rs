//! The `db` subcommands.

use super::Context;
use crate::address::{Address, Source};
use crate::cli::DbCommand;
use crate::error::{Error, ExitCode};
use crate::fork::{self, ForkOptions};
use crate::ops;
use crate::output::{self, DetailView, EntryView, ParentView};
use crate::ttl;
use serde::Serialize;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

pub fn run(ctx: &mut Context, cmd: DbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DbCommand::Create { address, name, ttl } => create(ctx, &address, name.name, ttl.ttl),
        DbCommand::Import { address, file, name } => import(ctx, &address, &file, name.name),
        DbCommand::Fork { src, dst, with_data, name, ttl } => fork_cmd(ctx, &src, &dst, with_data, name.name, ttl.ttl),
        DbCommand::List { namespace } => list(ctx, namespace.as_deref()),
        DbCommand::Show { address } => show(ctx, &address),
        DbCommand::Path { address } => path(ctx, &address),
        DbCommand::Delete { address, confirm } => delete(ctx, &address, confirm.yes),
    }
}

fn parse_ttl(ttl: Option<String>) -> Result<Option<Duration>, Error> {
    ttl.map(|t| ttl::parse_ttl(&t)).transpose()
}

fn create(ctx: &mut Context, address: &str, name: Option<String>, ttl: Option<String>) -> anyhow::Result<ExitCode> {
    let addr = Address::parse_database(address)?;
    let ttl = parse_ttl(ttl)?;
    let config = ctx.config()?.clone();
    let entry = ops::create(&ctx.home, &config, &addr, name, ttl)?;
    ctx.printer
        .result(|| format!("Created {} at {}", entry.address(), entry.path.display()), &EntryView::from(&entry))?;
    Ok(ExitCode::Success)
}

fn import(ctx: &mut Context, address: &str, file: &std::path::Path, name: Option<String>) -> anyhow::Result<ExitCode> {
    let addr = Address::parse_database(address)?;
    let entry = ops::import(&ctx.home, &addr, file, name)?;
    ctx.printer.result(
        || {
            format!(
                "Registered {} at {} (not owned: sqlfork will never write or delete it)",
                entry.address(),
                entry.path.display()
            )
        },
        &EntryView::from(&entry),
    )?;
    Ok(ExitCode::Success)
}

/// The result of `db fork`, human and JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ForkView {
    #[serde(flatten)]
    entry: EntryView,
    forked_from: Option<ParentView>,
    resumed: bool,
}

fn fork_cmd(
    ctx: &mut Context,
    src: &str,
    dst: &str,
    with_data: bool,
    name: Option<String>,
    ttl: Option<String>,
) -> anyhow::Result<ExitCode> {
    let source = Source::parse(src)?;
    let ttl = parse_ttl(ttl)?;
    if with_data {
        return Err(Error::invalid("--with-data is not available yet; fork the schema only (omit --with-data)").into());
    }
    let config = ctx.config()?.clone();
    let opts = ForkOptions { source, destination: dst.to_string(), name, ttl, with_data };
    let out = fork::fork(&ctx.home, &config, &opts)?;
    let e = &out.entry;
    let view = ForkView {
        entry: EntryView::from(e),
        forked_from: e.forked_from.as_ref().map(ParentView::from),
        resumed: out.resumed,
    };
    ctx.printer.result(
        || {
            let c = e.copy.clone().unwrap_or_default();
            let expiry = match &e.expires_at {
                Some(t) => format!("auto-deletes at {t}"),
                None => "never expires".into(),
            };
            format!(
                "{verb} {src} → {addr}\n  path:    {}\n  objects: {} created\n  rows:    {} ({} copied)\n  time:    {}\n  copy:    {}\n  expiry:  {expiry}\n",
                e.path.display(),
                c.objects_created,
                c.rows_copied,
                output::human_bytes(c.bytes_copied),
                output::human_ms(c.duration_ms),
                if c.exact { "exact snapshot" } else { "best-effort" },
                verb = if out.resumed { "Finished forking" } else { "Forked" },
                addr = e.address(),
            )
        },
        &view,
    )?;
    Ok(ExitCode::Success)
}

fn list(ctx: &mut Context, namespace: Option<&str>) -> anyhow::Result<ExitCode> {
    let entries = ops::list(&ctx.home, namespace)?;
    let views: Vec<EntryView> = entries.iter().map(EntryView::from).collect();
    let now = ttl::now();
    ctx.printer.result(|| output::list_table(&ctx.printer, &entries, now), &views)?;
    if entries.is_empty() && !ctx.printer.json {
        ctx.printer
            .note("No databases yet; create one with `sqlfork db create NS/SLUG` or `sqlfork db import NS/SLUG FILE`.");
    }
    Ok(ExitCode::Success)
}

fn show(ctx: &mut Context, address: &str) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let detail = ops::show(&ctx.home, &addr)?;
    let now = ttl::now();
    ctx.printer.result(|| output::show_text(&ctx.printer, &detail, now), &DetailView::from(&detail))?;
    Ok(ExitCode::Success)
}

fn path(ctx: &mut Context, address: &str) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let path = ops::path(&ctx.home, &addr)?;
    #[derive(Serialize)]
    struct PathView {
        path: String,
    }
    let text = path.display().to_string();
    ctx.printer.result(|| text.clone(), &PathView { path: text.clone() })?;
    Ok(ExitCode::Success)
}

fn delete(ctx: &mut Context, address: &str, yes: bool) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let entry = ops::get(&ctx.home, &addr)?;
    if !yes && std::io::stdin().is_terminal() {
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
    let entry = ops::delete(&ctx.home, &addr)?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Deleted {
        deleted: EntryView,
        file_deleted: bool,
    }
    ctx.printer.result(
        || {
            if entry.owned {
                format!("Deleted {addr} and its file")
            } else {
                format!("Removed {addr} from the registry; its file {} is untouched", entry.path.display())
            }
        },
        &Deleted { deleted: EntryView::from(&entry), file_deleted: entry.owned },
    )?;
    Ok(ExitCode::Success)
}
