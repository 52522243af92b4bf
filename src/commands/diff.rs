//! `db diff`: arguments → [`crate::diff::DiffOptions`] → the library → a format.

use super::Context;
use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::{self, render, DiffOptions};
use crate::error::{Error, ExitCode};
use std::io::Write;

pub(crate) fn run(ctx: &mut Context, args: DiffArgs) -> anyhow::Result<ExitCode> {
    // With --json stdout is exactly one JSON document: another format
    // would break that promise, so the two together are a usage error.
    let format = match (ctx.printer.json, args.format) {
        (true, Some(f)) if f != DiffFormat::Json => {
            return Err(Error::invalid(format!(
                "--json prints the JSON document and cannot be combined with --format {}; drop one of them",
                format_name(f)
            ))
            .into())
        }
        (true, _) => DiffFormat::Json,
        (false, f) => f.unwrap_or(DiffFormat::Text),
    };
    let opts = DiffOptions {
        a: args.a,
        b: args.b,
        schema_only: args.schema,
        rows: args.rows,
        full: args.full,
        since_fork: args.since_fork,
    };
    let config = ctx.config()?.clone();
    let (a, b) = diff::open_sides(&ctx.home, &config, &opts)?;
    let report = diff::diff_opened(&a, &b, &opts)?;
    match format {
        // As every command's --json: one compact document.
        DiffFormat::Json => {
            crate::output::Printer { json: true, ..ctx.printer.clone() }.result(String::new, &report)?
        }
        DiffFormat::Sql => {
            let mut out = std::io::stdout().lock();
            diff::sql::write_patch(&a, &b, &mut out)?;
            out.flush()?;
        }
        DiffFormat::Markdown => ctx.printer.result(|| render::markdown(&report), &report)?,
        DiffFormat::Text if ctx.printer.quiet => ctx.printer.result(|| render::summary_line(&report), &report)?,
        DiffFormat::Text => ctx.printer.result(|| render::text(&report), &report)?,
    }
    Ok(if args.exit_code && !report.identical { ExitCode::Failure } else { ExitCode::Success })
}

fn format_name(f: DiffFormat) -> &'static str {
    match f {
        DiffFormat::Text => "text",
        DiffFormat::Json => "json",
        DiffFormat::Markdown => "markdown",
        DiffFormat::Sql => "sql",
    }
}
