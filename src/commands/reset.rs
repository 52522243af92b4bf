//! `db reset`.

use super::Context;
use crate::address::Address;
use crate::error::ExitCode;
use crate::output::ResetView;
use crate::reset::{self, ResetOptions};
use crate::ttl;

pub(super) fn run(
    ctx: &mut Context,
    address: &str,
    to: Option<String>,
    with_data: Option<bool>,
    ttl: Option<String>,
    safe: &crate::cli::SafeArgs,
    when_open: crate::holders::WhenOpen,
) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let ttl = ttl.map(|t| ttl::parse_ttl(&t)).transpose()?;
    let config = ctx.config()?.clone();
    // `mask` in config.toml applies to a reset from the parent with data
    // only through the database's own record (it was made masked).
    let safe_opts = super::mask::options(safe, &config, false)?;
    if safe.mask_check {
        // What a reset copies from: the database's parent.
        let entry = crate::registry::Store::open(&ctx.home)?.require(&addr)?;
        let source = match entry.forked_from {
            Some(crate::registry::Parent::Database { namespace, slug, branch, .. }) => {
                crate::address::Source::Registered(Address { namespace, slug, branch })
            }
            Some(crate::registry::Parent::Path(p)) => crate::address::Source::Path(p),
            None => crate::address::Source::Registered(addr.clone()),
        };
        return super::mask::check(ctx, &source, &safe_opts);
    }
    let mut progress = ctx.printer.copy_progress(&addr.to_string());
    let opts = ResetOptions { address: addr.clone(), to, with_data, ttl, safe: safe_opts, when_open };
    let out = reset::reset(&ctx.home, &config, &opts, &mut progress)?;
    let e = &out.entry;
    if !ctx.printer.json {
        let kind = if out.with_data { "with data" } else { "schema only" };
        ctx.printer.note(&format!("Reset {addr} to {} ({kind}); same id, same path", out.source_label));
    }
    let view = ResetView::from(&out);
    // Only the path on stdout, so that `path=$(sqlfork db reset …)` works.
    ctx.printer.result(|| e.path.display().to_string(), &view)?;
    Ok(ExitCode::Success)
}
