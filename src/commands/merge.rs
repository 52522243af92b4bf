//! `db merge` and `db rebase`: arguments → [`crate::merge`] options → the
//! library → a report (text, JSON or Markdown). Exit 1 when conflicts were
//! left unresolved (nothing was written).

use super::Context;
use crate::cli::{MergeFormat, PreferArg};
use crate::error::{Error, ExitCode};
use crate::merge::{Conflict, MergeOptions, MergeReport, Prefer, RebaseOptions};

fn prefer(p: PreferArg) -> Prefer {
    match p {
        PreferArg::Abort => Prefer::Abort,
        PreferArg::Fork => Prefer::Fork,
        PreferArg::Parent => Prefer::Parent,
    }
}

fn format(ctx: &Context, f: Option<MergeFormat>) -> anyhow::Result<MergeFormat> {
    match (ctx.printer.json, f) {
        (true, Some(MergeFormat::Markdown)) => Err(Error::invalid(
            "--json prints the JSON document and cannot be combined with --format markdown; drop one of them",
        )
        .into()),
        (true, _) => Ok(MergeFormat::Json),
        (false, f) => Ok(f.unwrap_or(MergeFormat::Text)),
    }
}

pub(super) fn merge(
    ctx: &mut Context,
    fork: String,
    into: Option<String>,
    dry_run: bool,
    prefer_arg: PreferArg,
    fmt: Option<MergeFormat>,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    let fmt = format(ctx, fmt)?;
    let opts = MergeOptions { fork, into, dry_run, prefer: prefer(prefer_arg), yes };
    let config = ctx.config()?.clone();
    let report = crate::merge::merge(&ctx.home, &config, &opts)?;
    print(ctx, fmt, &report, "merge")
}

pub(super) fn rebase(
    ctx: &mut Context,
    fork: String,
    prefer_arg: PreferArg,
    fmt: Option<MergeFormat>,
) -> anyhow::Result<ExitCode> {
    let fmt = format(ctx, fmt)?;
    let opts = RebaseOptions { fork: fork.clone(), prefer: prefer(prefer_arg) };
    let config = ctx.config()?.clone();
    let mut progress = ctx.printer.copy_progress(&fork);
    let report = crate::merge::rebase(&ctx.home, &config, &opts, &mut progress)?;
    drop(progress);
    print(ctx, fmt, &report, "rebase")
}

fn print(ctx: &Context, fmt: MergeFormat, report: &MergeReport, what: &str) -> anyhow::Result<ExitCode> {
    match fmt {
        MergeFormat::Json => {
            crate::output::Printer { json: true, ..ctx.printer.clone() }.result(String::new, report)?
        }
        MergeFormat::Markdown => ctx.printer.result(|| markdown(report, what), report)?,
        MergeFormat::Text if ctx.printer.quiet => ctx.printer.result(|| summary(report, what), report)?,
        MergeFormat::Text => ctx.printer.result(|| text(report, what), report)?,
    }
    Ok(if report.unresolved() > 0 { ExitCode::Failure } else { ExitCode::Success })
}

fn rows_line(report: &MergeReport) -> String {
    let (i, d, u) =
        report.tables.values().fold((0, 0, 0), |(i, d, u), t| (i + t.inserted, d + t.deleted, u + t.updated));
    format!("{i} inserted, {u} updated, {d} deleted in {} table(s)", report.tables.len())
}

/// The one line `--quiet` prints.
pub(crate) fn summary(report: &MergeReport, what: &str) -> String {
    let n = report.unresolved();
    if n > 0 {
        format!("{what} of {} into {}: {n} conflict(s), nothing written", report.fork, report.parent)
    } else if report.dry_run {
        format!("{what} of {} into {} would write {}", report.fork, report.parent, rows_line(report))
    } else {
        format!("{what}d {} into {}: {}", report.fork, report.parent, rows_line(report))
    }
}

fn conflict_line(c: &Conflict) -> String {
    let show = |v: &Option<crate::diff::Val>| v.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "(no row)".into());
    let key: Vec<String> = c.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut s = format!("{} {}", c.kind.as_str(), c.table);
    if !key.is_empty() {
        s.push_str(&format!(" [{}]", key.join(", ")));
    }
    if let Some(col) = &c.column {
        s.push_str(&format!(".{col}: base {} · fork {} · parent {}", show(&c.base), show(&c.fork), show(&c.parent)));
    }
    if let Some(d) = &c.detail {
        s.push_str(&format!(": {d}"));
    }
    if let Some(r) = c.resolution {
        s.push_str(&format!(" → {}", if r == Prefer::Fork { "fork wins" } else { "parent kept" }));
    }
    s
}

pub(crate) fn text(report: &MergeReport, what: &str) -> String {
    let mut out = summary(report, what);
    out.push_str(&format!("\n  base: {} · rows found by {}", report.base, report.method.as_str()));
    if let Some(s) = &report.snapshot {
        out.push_str(&format!(
            "\n  undo: sqlfork db reset {} --to {}",
            report.parent,
            s.rsplit(':').next().unwrap_or(s)
        ));
    }
    for a in &report.schema {
        out.push_str(&format!("\n  schema: {} {} {}", a.kind, a.name, a.action));
    }
    for (t, m) in &report.tables {
        out.push_str(&format!("\n  {t}: {} inserted, {} updated, {} deleted", m.inserted, m.updated, m.deleted));
    }
    for c in &report.conflicts {
        out.push_str(&format!("\n  conflict: {}", conflict_line(c)));
    }
    for n in &report.notes {
        out.push_str(&format!("\n  note: {n}"));
    }
    if report.unresolved() > 0 {
        out.push_str("\n  resolve them on either side, or choose a side for data conflicts with --prefer fork|parent");
    }
    out
}

pub(crate) fn markdown(report: &MergeReport, what: &str) -> String {
    let mut out = format!("### sqlfork {what}: `{}` → `{}`\n\n{}\n", report.fork, report.parent, summary(report, what));
    if !report.tables.is_empty() {
        out.push_str("\n| table | inserted | updated | deleted |\n|---|---:|---:|---:|\n");
        for (t, m) in &report.tables {
            out.push_str(&format!("| `{t}` | {} | {} | {} |\n", m.inserted, m.updated, m.deleted));
        }
    }
    if !report.conflicts.is_empty() {
        out.push_str("\n**Conflicts**\n\n");
        for c in &report.conflicts {
            out.push_str(&format!("- {}\n", conflict_line(c)));
        }
    }
    out
}
