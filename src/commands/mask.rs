//! `--mask`, `--subset`, `--mask-check` and `--strict` on the commands
//! that make data forks.

use super::Context;
use crate::address::Source;
use crate::cli::SafeArgs;
use crate::error::{Error, ExitCode};
use crate::home::Config;
use crate::mask::{self, Rules, SafeOptions, SubsetRule};
use serde::Serialize;

/// The typed options: `--mask FILE`, else `mask` in config.toml (data forks
/// only), and the subset filters.
pub(super) fn options(args: &SafeArgs, config: &Config, with_data: bool) -> Result<SafeOptions, Error> {
    let file = args.mask.clone().or_else(|| if with_data { config.mask.clone() } else { None });
    let rules = file.as_deref().map(Rules::load).transpose()?;
    let subset = args.subset.iter().map(|s| SubsetRule::parse(s)).collect::<Result<_, _>>()?;
    if args.strict && rules.is_none() {
        return Err(Error::invalid("--strict needs mask rules: pass --mask FILE (or set mask in config.toml)"));
    }
    Ok(SafeOptions { rules, subset, strict: args.strict })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckView<'a> {
    unruled: &'a [mask::check::Finding],
}

/// `--mask-check`: list the personal-looking columns without a rule, fork
/// nothing. Exit 0 either way (`--strict` on a fork is the gate).
pub(super) fn check(ctx: &mut Context, source: &Source, safe: &SafeOptions) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?.clone();
    let found = mask::mask_check(&ctx.home, &config, source, safe)?;
    ctx.printer.result(
        || {
            if found.is_empty() {
                return "No column looks personal without a mask rule.".into();
            }
            let mut s = format!("{} column(s) look personal and have no mask rule:\n", found.len());
            for f in &found {
                s.push_str(&format!("  {}.{}  {} (by {})\n", f.table, f.column, f.kind, f.by));
            }
            s.push_str("Add a rule for each to the rules file (`keep` if it is not personal).\n");
            s
        },
        &CheckView { unruled: &found },
    )?;
    Ok(ExitCode::Success)
}
