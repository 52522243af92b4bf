//! `db reset`.

use super::Context;
use crate::error::ExitCode;
use crate::output::ResetView;
use crate::reset;
use crate::settings;

pub(super) fn run(
    ctx: &mut Context,
    address: &str,
    to: Option<String>,
    with_data: Option<bool>,
    ttl: Option<String>,
    safe: &crate::cli::SafeArgs,
    when_open: crate::holders::WhenOpen,
) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?.clone();
    let request = settings::ResetRequest {
        address: address.to_string(),
        to,
        with_data,
        ttl: settings::Ttl::text(ttl),
        safe: super::mask::safe(safe),
        when_open,
    };
    let opts = request.resolve(&config)?;
    let addr = opts.address.clone();
    if safe.mask_check {
        // What a reset copies from: the database's parent.
        let source = reset::parent_source(&ctx.home, &addr)?;
        return super::mask::check(ctx, &source, &opts.safe);
    }
    let mut progress = ctx.printer.copy_progress(&addr.to_string());
    let out = reset::reset(&ctx.home, &config, &opts, &mut progress)?;
    let e = &out.entry;
    if !ctx.printer.json {
        let kind = if out.with_data { "with data" } else { "schema only" };
        ctx.printer.note(&format!("Reset {addr} to {} ({kind}); same id, same path", out.source_label));
    }
    let view = ResetView::of(&ctx.home, &out)?;
    // Only the path on stdout, so that `path=$(sqlfork db reset …)` works.
    ctx.printer.result(|| e.path.display().to_string(), &view)?;
    Ok(ExitCode::Success)
}
