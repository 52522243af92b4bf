//! `--mask`, `--subset`, `--mask-check` and `--strict` on the commands
//! that make data forks.

use super::Context;
use crate::address::Source;
use crate::cli::SafeArgs;
use crate::error::ExitCode;
use crate::mask::SafeOptions;
use crate::settings;

/// `--mask`, `--subset` and `--strict` as the settings take them.
pub(super) fn safe(args: &SafeArgs) -> settings::Safe {
    settings::Safe {
        given: Default::default(),
        mask_file: args.mask.clone(),
        subset: args.subset.clone(),
        strict: args.strict,
    }
}

/// `--mask-check`: list the personal-looking columns without a rule, fork
/// nothing. Exit 0 either way (`--strict` on a fork is the gate).
pub(super) fn check(ctx: &mut Context, source: &Source, safe: &SafeOptions) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?.clone();
    let found = crate::fork::mask_check(&ctx.home, &config, source, safe)?;
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
        &crate::output::MaskCheckView { unruled: found.clone() },
    )?;
    Ok(ExitCode::Success)
}
