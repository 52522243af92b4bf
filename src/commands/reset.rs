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
) -> anyhow::Result<ExitCode> {
    let addr = Address::parse(address)?;
    let ttl = ttl.map(|t| ttl::parse_ttl(&t)).transpose()?;
    let config = ctx.config()?.clone();
    let mut progress = ctx.printer.copy_progress(&addr.to_string());
    let out =
        reset::reset(&ctx.home, &config, &ResetOptions { address: addr.clone(), to, with_data, ttl }, &mut progress)?;
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
