//! The `branch` subcommands.

use super::Context;
use crate::address::Address;
use crate::api::Database;
use crate::branch::{self, PutAction};
use crate::cli::BranchCommand;
use crate::error::ExitCode;
use crate::output::{self, PutView};
use crate::settings;
use crate::ttl;

pub(super) fn run(ctx: &mut Context, cmd: BranchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BranchCommand::Put { address, with_data, schema_only, ttl, safe, when_open } => {
            let mode = match (with_data, schema_only) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            put(ctx, &address, mode, ttl.ttl, &safe, when_open.choice())
        }
        BranchCommand::List { address } => list(ctx, &address),
        BranchCommand::Delete { address, confirm, force } => {
            let addr = Address::parse(&address)?;
            branch::require_ref(&addr)?;
            super::db::delete_address(ctx, &addr, confirm.yes, force.force)
        }
    }
}

fn put(
    ctx: &mut Context,
    address: &str,
    with_data: Option<bool>,
    ttl: Option<String>,
    safe: &crate::cli::SafeArgs,
    when_open: crate::holders::WhenOpen,
) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?.clone();
    let request = settings::BranchRequest {
        address: address.to_string(),
        with_data,
        ttl: settings::Ttl::text(ttl),
        safe: super::mask::safe(safe),
        when_open,
    };
    let opts = request.resolve(&config)?;
    let addr = opts.address.clone();
    if safe.mask_check {
        return super::mask::check(ctx, &crate::address::Source::Registered(addr.database()), &opts.safe);
    }
    let mut progress = ctx.printer.copy_progress(&addr.to_string());
    let out = branch::put(&ctx.home, &config, &opts, &mut progress)?;
    drop(progress);
    let e = &out.entry;
    if !ctx.printer.json {
        let kind = match (e.include_data, with_data, out.action) {
            // Say where the data mode of a reset came from.
            (true, None, PutAction::Reset) => "with data, as the branch was made; --schema-only to drop the rows",
            (false, None, PutAction::Reset) => "schema only, as the branch was made; --with-data to copy the rows",
            (true, _, _) => "with data",
            (false, _, _) => "schema only",
        };
        let verb = match out.action {
            PutAction::Created => "Created",
            PutAction::Resumed => "Finished creating",
            PutAction::Reset => "Reset",
        };
        let expiry = match &e.expires_at {
            Some(t) => format!("auto-deletes at {t}"),
            None => "never expires".into(),
        };
        ctx.printer.note(&format!("{verb} {} from {} ({kind}); {expiry}", e.address(), addr.database()));
    }
    let view = PutView::of(&ctx.home, &out)?;
    // Only the path on stdout, so that `path=$(sqlfork branch put …)` works.
    ctx.printer.result(|| e.path.display().to_string(), &view)?;
    Ok(ExitCode::Success)
}

fn list(ctx: &mut Context, address: &str) -> anyhow::Result<ExitCode> {
    let db = Address::parse_database(address)?;
    let entries = branch::list(&ctx.home, &db)?;
    let views: Vec<Database> = entries.iter().map(Database::from_entry).collect();
    let now = ttl::now();
    ctx.printer.result(|| output::list_table(&ctx.printer, &entries, now), &views)?;
    if entries.is_empty() && !ctx.printer.json {
        ctx.printer.note(&format!("{db} has no branches yet; create one with `sqlfork branch put {db}@REF`."));
    }
    Ok(ExitCode::Success)
}
