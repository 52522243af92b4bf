//! A rehearsal as people read it: plain text for a terminal, Markdown for a
//! pull-request comment.

use super::analyze::{human_bytes, thousands};
use super::{FileReport, RehearsalReport, Severity};
use std::fmt::Write;

fn rows_summary(f: &FileReport) -> String {
    let parts: Vec<String> = f
        .tables
        .iter()
        .filter(|(t, _)| !t.starts_with("sqlite_"))
        .map(|(t, c)| {
            let mut p = Vec::new();
            for (n, what) in [(c.inserted, "inserted"), (c.deleted, "deleted"), (c.updated, "updated")] {
                if n > 0 {
                    p.push(format!("{} {what}", thousands(n as i128)));
                }
            }
            format!("{t}: {}", p.join(", "))
        })
        .collect();
    parts.join("; ")
}

fn schema_summary(f: &FileReport) -> String {
    let s = &f.schema;
    let mut p = Vec::new();
    for (n, what) in [(s.added.len(), "added"), (s.removed.len(), "removed"), (s.changed.len(), "changed")] {
        if n > 0 {
            p.push(format!("{n} {what}"));
        }
    }
    p.join(", ")
}

fn worst_word(r: &RehearsalReport) -> &'static str {
    r.worst.map(Severity::as_str).unwrap_or("none")
}

/// Plain text: one block per file, findings most severe first.
pub(crate) fn text(r: &RehearsalReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Rehearsal of {} (fork by {} in {} ms)", r.source, r.fork_method, r.fork_ms);
    let block = |out: &mut String, f: &FileReport| {
        let state = if f.ok { "ok".to_string() } else { "FAILED".to_string() };
        let _ = writeln!(
            out,
            "\n{}  {state} · {} ms · write lock {} ms · {} → {}",
            f.file,
            f.time_ms,
            f.lock_ms,
            human_bytes(f.size_before),
            human_bytes(f.size_after)
        );
        if let Some(e) = &f.error {
            let _ = writeln!(out, "  line {}: {}", e.line, e.message);
        }
        let rows = rows_summary(f);
        if !rows.is_empty() {
            let _ = writeln!(out, "  rows: {rows}");
        }
        let schema = schema_summary(f);
        if !schema.is_empty() {
            let _ = writeln!(out, "  schema: {schema}");
        }
        for x in &f.findings {
            let _ = writeln!(out, "  {:<7} {:<22} {}", x.severity.as_str(), x.code, x.message);
        }
        for n in &f.notes {
            let _ = writeln!(out, "  note: {n}");
        }
    };
    for f in &r.migrations {
        block(&mut out, f);
    }
    if let Some(down) = &r.down {
        if !down.is_empty() {
            let _ = writeln!(out, "\nDown files, in reverse order:");
        }
        for f in down {
            block(&mut out, f);
        }
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(out, "\nNot run: {}", r.skipped.join(", "));
    }
    if let Some(k) = &r.kept {
        let _ = writeln!(out, "\nThe rehearsal fork is kept as {k}.");
    }
    let _ = writeln!(out, "\nWorst finding: {} ({} ms in all)", worst_word(r), r.time_ms);
    out
}

fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Info => "ℹ️",
    }
}

/// Markdown for a pull-request comment: a summary table, then each file's
/// findings.
pub(crate) fn markdown(r: &RehearsalReport) -> String {
    let mut out = String::new();
    let verdict = match r.worst {
        Some(Severity::Error) => "❌ errors",
        Some(Severity::Warning) => "⚠️ warnings",
        _ => "✅ no warnings",
    };
    let _ = writeln!(out, "### Migration rehearsal on `{}`: {verdict}\n", r.source);
    let _ = writeln!(out, "| file | result | time | write lock | rows | schema |");
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    let files = r.migrations.iter().map(|f| (f, "")).chain(r.down.iter().flatten().map(|f| (f, " (down)")));
    for (f, tag) in files.clone() {
        let result =
            if f.ok { "✅ ok".to_string() } else { format!("❌ line {}", f.error.as_ref().map_or(0, |e| e.line)) };
        let _ = writeln!(
            out,
            "| `{}`{tag} | {result} | {} ms | {} ms | {} | {} |",
            f.file,
            f.time_ms,
            f.lock_ms,
            md_cell(&rows_summary(f)),
            md_cell(&schema_summary(f))
        );
    }
    for s in &r.skipped {
        let _ = writeln!(out, "| `{s}` | not run | | | | |");
    }
    for (f, tag) in files {
        let notable: Vec<_> = f.findings.iter().filter(|x| x.severity > Severity::Info).collect();
        let info: Vec<_> = f.findings.iter().filter(|x| x.severity == Severity::Info).collect();
        let _ = writeln!(out, "\n#### `{}`{tag}\n", f.file);
        if let Some(e) = &f.error {
            let _ = writeln!(out, "Failed at line {}: {}\n\n```sql\n{}\n```\n", e.line, e.message, e.statement);
        }
        if notable.is_empty() && f.error.is_none() {
            let _ = writeln!(out, "No warnings or errors.");
        }
        for x in &notable {
            let _ = writeln!(out, "- {} **{}** `{}`: {}", icon(x.severity), x.severity.as_str(), x.code, x.message);
        }
        if !info.is_empty() {
            let _ = writeln!(out, "\n<details><summary>{} more</summary>\n", info.len());
            for x in &info {
                let _ = writeln!(out, "- `{}`: {}", x.code, x.message);
            }
            let _ = writeln!(out, "\n</details>");
        }
        for n in &f.notes {
            let _ = writeln!(out, "\n_Note: {n}_");
        }
    }
    let _ = writeln!(
        out,
        "\n<sub>Measured by `sqlfork db rehearse` on a {} fork; write lock budget {} ms.</sub>",
        r.fork_method, r.lock_budget_ms
    );
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// `--quiet`: one line.
pub(crate) fn summary_line(r: &RehearsalReport) -> String {
    let ok = r.migrations.iter().filter(|f| f.ok).count();
    let not_run = if r.skipped.is_empty() { String::new() } else { format!(", {} not run", r.skipped.len()) };
    format!("{ok} of {} files ran ok{not_run}; worst finding: {}", r.migrations.len(), worst_word(r))
}
