//! `db diff`: arguments → [`crate::diff::DiffOptions`] → the library → a format.

use super::Context;
use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::{self, render, DiffOptions};
use crate::error::ExitCode;
use std::io::Write;

pub(crate) fn run(ctx: &mut Context, args: DiffArgs) -> anyhow::Result<ExitCode> {
    let format = args.format.unwrap_or(if ctx.printer.json { DiffFormat::Json } else { DiffFormat::Text });
    let opts = DiffOptions { a: args.a, b: args.b, schema_only: args.schema, rows: args.rows, full: args.full };
    let config = ctx.config()?.clone();
    let (a, b) = diff::open_sides(&ctx.home, &config, &opts)?;
    let report = diff::diff_opened(&a, &b, &opts)?;
    let mut out = std::io::stdout().lock();
    match format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        DiffFormat::Sql => diff::sql::write_patch(&a, &b, &mut out)?,
        DiffFormat::Markdown => write!(out, "{}", render::markdown(&report))?,
        DiffFormat::Text if ctx.printer.quiet => writeln!(out, "{}", render::summary_line(&report))?,
        DiffFormat::Text => write!(out, "{}", render::text(&report))?,
    }
    out.flush()?;
    Ok(if args.exit_code && !report.identical { ExitCode::Failure } else { ExitCode::Success })
}
