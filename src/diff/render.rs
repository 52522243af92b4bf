//! Human renderings of a [`DiffReport`]: plain text for a terminal and
//! Markdown for a pull-request comment. (JSON is the report's serde form.)

use super::{ChangeKind, DiffReport, RowChange, TableDiff};
use std::fmt::Write;

/// A unified diff of two texts, line by line (LCS), without headers.
pub(crate) fn unified(before: &str, after: &str) -> String {
    let (x, y): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let (n, m) = (x.len(), y.len());
    // Schema SQL is small; a quadratic table is fine. Guard huge inputs.
    if n * m > 4_000_000 {
        let mut out = String::new();
        x.iter().for_each(|l| writeln!(out, "-{l}").unwrap());
        y.iter().for_each(|l| writeln!(out, "+{l}").unwrap());
        return out;
    }
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if x[i] == y[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && x[i] == y[j] {
            writeln!(out, " {}", x[i]).unwrap();
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            writeln!(out, "-{}", x[i]).unwrap();
            i += 1;
        } else {
            writeln!(out, "+{}", y[j]).unwrap();
            j += 1;
        }
    }
    out
}

fn counts(t: &TableDiff) -> String {
    let mut s = format!("{} inserted, {} deleted, {} updated", t.inserted, t.deleted, t.updated);
    if t.matched_by == super::Matching::Multiset {
        s.push_str(" (no key: compared as multisets)");
    }
    s
}

fn row_line(r: &RowChange) -> String {
    let key = if r.key.is_empty() {
        String::new()
    } else {
        r.key.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    };
    match r.change {
        ChangeKind::Update => {
            let cols: Vec<String> = r
                .columns
                .iter()
                .map(|c| {
                    let show = |v: &Option<super::Val>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
                    format!("{}: {} → {}", c.column, show(&c.before), show(&c.after))
                })
                .collect();
            format!("~ {key}: {}", cols.join(", "))
        }
        ChangeKind::Insert | ChangeKind::Delete => {
            let sign = if r.change == ChangeKind::Insert { '+' } else { '-' };
            let vals: Vec<String> = r
                .columns
                .iter()
                .map(|c| {
                    let v = c.after.as_ref().or(c.before.as_ref()).map(|v| v.to_string()).unwrap_or_default();
                    format!("{}={v}", c.column)
                })
                .collect();
            if key.is_empty() {
                format!("{sign} {}", vals.join(", "))
            } else {
                format!("{sign} {key}: {}", vals.join(", "))
            }
        }
    }
}

/// Plain text, for a terminal.
pub(crate) fn text(r: &DiffReport) -> String {
    let mut out = String::new();
    let w = &mut out;
    writeln!(w, "{} compared with {} (method: {})", r.a, r.b, r.method.as_str()).unwrap();
    if r.identical {
        writeln!(w, "No differences.").unwrap();
    }
    if !r.schema.is_empty() {
        writeln!(w, "\nSchema:").unwrap();
        for o in &r.schema.added {
            writeln!(w, "  + {} {}", o.kind, o.name).unwrap();
        }
        for o in &r.schema.removed {
            writeln!(w, "  - {} {}", o.kind, o.name).unwrap();
        }
        for c in &r.schema.changed {
            writeln!(w, "  ~ {} {}", c.kind, c.name).unwrap();
            for line in unified(&c.before, &c.after).lines() {
                writeln!(w, "      {line}").unwrap();
            }
        }
    }
    if !r.settings.is_empty() {
        writeln!(w, "\nSettings:").unwrap();
        for (k, v) in &r.settings {
            writeln!(w, "  {k}: {} → {}", v.before, v.after).unwrap();
        }
    }
    if !r.tables.is_empty() {
        writeln!(w, "\nData:").unwrap();
        for (name, t) in &r.tables {
            writeln!(w, "  {name}: {}", counts(t)).unwrap();
            for row in &t.rows {
                writeln!(w, "    {}", row_line(row)).unwrap();
            }
            let more = t.changes() as usize - t.rows.len();
            if !t.rows.is_empty() && more > 0 {
                writeln!(w, "    … and {more} more").unwrap();
            }
        }
    }
    for n in &r.notes {
        writeln!(w, "\nNote: {n}").unwrap();
    }
    out
}

/// One line: `identical`, or what differs (for `--quiet`).
pub(crate) fn summary_line(r: &DiffReport) -> String {
    if r.identical {
        return "identical".into();
    }
    let rows: u64 = r.tables.values().map(TableDiff::changes).sum();
    let schema = r.schema.added.len() + r.schema.removed.len() + r.schema.changed.len();
    format!(
        "differ: {schema} schema changes, {} settings, {} tables with {rows} changed rows",
        r.settings.len(),
        r.tables.len()
    )
}

fn md_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace('`', "\\`").replace(['\r', '\n'], " ")
}

/// Text as a Markdown code span in a table cell: newlines become spaces
/// and `|` is escaped (GFM splits cells on it, even inside code spans);
/// the span's backtick fence is longer than any run of backticks inside.
fn md_code_cell(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ").replace('|', "\\|");
    let fence = "`".repeat(longest_backtick_run(&s) + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// The longest run of backticks in `s`.
fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A fenced code block around `body` (with an info string): the fence is
/// longer than any run of backticks in the body, and at least three
/// (CommonMark), so nothing in the body can close it.
fn md_fence(info: &str, body: &str) -> String {
    let fence = "`".repeat((longest_backtick_run(body) + 1).max(3));
    let nl = if body.is_empty() || body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{info}\n{body}{nl}{fence}\n")
}

/// Markdown for a pull-request comment: a summary table, details collapsed.
pub(crate) fn markdown(r: &DiffReport) -> String {
    let mut out = String::new();
    let w = &mut out;
    writeln!(w, "### Database diff: {} vs {}\n", md_code_cell(&r.a), md_code_cell(&r.b)).unwrap();
    if r.identical {
        writeln!(w, "No differences (method: {}).", r.method.as_str()).unwrap();
        return out;
    }
    writeln!(
        w,
        "Schema: **{}** added, **{}** removed, **{}** changed · settings changed: **{}** · tables with data changes: **{}** (method: {})\n",
        r.schema.added.len(),
        r.schema.removed.len(),
        r.schema.changed.len(),
        r.settings.len(),
        r.tables.len(),
        r.method.as_str()
    )
    .unwrap();
    if !r.tables.is_empty() {
        writeln!(w, "| table | inserted | deleted | updated |\n|---|---:|---:|---:|").unwrap();
        for (name, t) in &r.tables {
            writeln!(w, "| {} | {} | {} | {} |", md_code_cell(name), t.inserted, t.deleted, t.updated).unwrap();
        }
        writeln!(w).unwrap();
    }
    if !r.schema.is_empty() {
        writeln!(w, "<details><summary>Schema changes</summary>\n").unwrap();
        let mut body = String::new();
        let b = &mut body;
        for o in &r.schema.added {
            writeln!(b, "@@ {} {} (added) @@", o.kind, o.name).unwrap();
            for l in o.sql.lines() {
                writeln!(b, "+{l}").unwrap();
            }
        }
        for o in &r.schema.removed {
            writeln!(b, "@@ {} {} (removed) @@", o.kind, o.name).unwrap();
            for l in o.sql.lines() {
                writeln!(b, "-{l}").unwrap();
            }
        }
        for c in &r.schema.changed {
            writeln!(b, "@@ {} {} (changed) @@", c.kind, c.name).unwrap();
            write!(b, "{}", unified(&c.before, &c.after)).unwrap();
        }
        write!(w, "{}", md_fence("diff", &body)).unwrap();
        writeln!(w, "\n</details>\n").unwrap();
    }
    if !r.settings.is_empty() {
        writeln!(w, "<details><summary>Settings</summary>\n").unwrap();
        for (k, v) in &r.settings {
            writeln!(
                w,
                "- {}: {} → {}",
                md_code_cell(k),
                md_escape(&v.before.to_string()),
                md_escape(&v.after.to_string())
            )
            .unwrap();
        }
        writeln!(w, "\n</details>\n").unwrap();
    }
    let listed: Vec<_> = r.tables.iter().filter(|(_, t)| !t.rows.is_empty()).collect();
    if !listed.is_empty() {
        writeln!(w, "<details><summary>Changed rows</summary>\n").unwrap();
        for (name, t) in listed {
            writeln!(w, "**{}**\n", md_code_cell(name)).unwrap();
            let mut body: String = t.rows.iter().map(|row| row_line(row) + "\n").collect();
            // The rows listed are the first --rows N: say how many more
            // changed, or a PR comment reads as if only these did.
            let more = (t.changes() as usize).saturating_sub(t.rows.len());
            if more > 0 {
                body.push_str(&format!("… and {more} more\n"));
            }
            writeln!(w, "{}", md_fence("", &body)).unwrap();
        }
        writeln!(w, "</details>\n").unwrap();
    }
    for n in &r.notes {
        writeln!(w, "> {}", md_escape(n)).unwrap();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diff_marks_lines() {
        let d = unified("CREATE TABLE t(\n  a,\n  b\n)", "CREATE TABLE t(\n  a,\n  c\n)");
        assert_eq!(d, " CREATE TABLE t(\n   a,\n-  b\n+  c\n )\n");
    }
}
