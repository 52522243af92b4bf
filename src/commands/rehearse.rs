//! `db rehearse`: arguments → [`crate::rehearse::RehearseOptions`] → the
//! library → a format, and the exit code `--fail-on` asks for.

use super::Context;
use crate::cli::{FailOn, RehearseArgs, RehearseFormat};
use crate::error::{Error, ExitCode};
use crate::rehearse::{render, RehearseOptions, Severity};
use crate::settings;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub(crate) fn run(ctx: &mut Context, args: RehearseArgs) -> anyhow::Result<ExitCode> {
    let format = match (ctx.printer.json, args.format) {
        (true, Some(f)) if f != RehearseFormat::Json => {
            return Err(Error::invalid(
                "--json prints the JSON document and cannot be combined with another --format; drop one of them",
            )
            .into())
        }
        (true, _) => RehearseFormat::Json,
        (false, f) => f.unwrap_or(RehearseFormat::Text),
    };
    let config = ctx.config()?.clone();
    let cancel = Arc::new(AtomicBool::new(false));
    let request = settings::RehearseRequest {
        source: args.source,
        migrations: args.migrations,
        down: args.down,
        safe: settings::Safe { mask_file: args.mask, subset: args.subset, ..Default::default() },
        lock_budget: args.lock_budget,
        lock_budget_arg: "--lock-budget",
        keep: args.keep,
    };
    let opts = RehearseOptions { cancel: Some(cancel.clone()), ..request.resolve(&config)? };

    // Ctrl-C anywhere in the rehearsal stops it and removes the fork: the
    // first one sets the flag the library polls.
    let _ctrl_c = crate::output::hold_ctrl_c();
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (cancel, done) = (cancel.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if crate::output::ctrl_c_pressed() {
                    cancel.store(true, Ordering::SeqCst);
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
        })
    };
    let mut progress = ctx.printer.copy_progress("rehearsal fork");
    let result = crate::rehearse::rehearse(&ctx.home, &config, &opts, &mut progress);
    done.store(true, Ordering::SeqCst);
    let _ = watcher.join();
    let report = result?;

    match format {
        RehearseFormat::Json => {
            crate::output::Printer { json: true, ..ctx.printer.clone() }.result(String::new, &report)?
        }
        RehearseFormat::Markdown => ctx.printer.result(|| render::markdown(&report), &report)?,
        RehearseFormat::Text if ctx.printer.quiet => ctx.printer.result(|| render::summary_line(&report), &report)?,
        RehearseFormat::Text => ctx.printer.result(|| render::text(&report), &report)?,
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    };
    let fails = threshold.is_some_and(|t| report.worst.is_some_and(|w| w >= t));
    Ok(if fails { ExitCode::Failure } else { ExitCode::Success })
}
