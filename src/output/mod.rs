//! All output goes through the [`Printer`]: data to stdout (human text or
//! exactly one JSON document), notes and progress to stderr, nothing extra
//! with `--quiet`.

use crate::api::{Database, Lineage, SafeInfo};
use crate::registry::{Entry, Snapshot};
use crate::ttl;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::time::SystemTime;

mod progress;
pub(crate) use progress::{ctrl_c_pressed, hold_ctrl_c};
mod views;

pub(crate) use views::*;

#[derive(Debug, Clone)]
pub(crate) struct Printer {
    pub json: bool,
    pub quiet: bool,
    /// Colour on stdout (a terminal and NO_COLOR unset).
    pub color: bool,
}

impl Printer {
    pub(crate) fn new(json: bool, quiet: bool) -> Self {
        let color = !json && std::io::stdout().is_terminal() && !crate::env::no_color();
        Printer { json, quiet, color }
    }

    /// Print the command's result: `human` text, or `value` as JSON.
    ///
    /// Every command's JSON is formatted the same way: one compact document
    /// on one line, so that scripts can read it line by line (and `jq .`
    /// pretty-prints it for people).
    pub(crate) fn result<T: Serialize>(&self, human: impl FnOnce() -> String, value: &T) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.json {
            writeln!(out, "{}", json_document(value)?)?;
            out.flush()?;
        } else {
            let text = human();
            if !text.is_empty() {
                write!(out, "{text}")?;
                if !text.ends_with('\n') {
                    writeln!(out)?;
                }
            }
            out.flush()?;
        }
        Ok(())
    }

    /// [`Printer::result`] for commands whose `--quiet` output is the one
    /// thing a script needs: `quiet` (a path) or, when `None`, nothing.
    /// `--json` still prints the document.
    pub(crate) fn result_or_quiet<T: Serialize>(
        &self,
        quiet: Option<String>,
        human: impl FnOnce() -> String,
        value: &T,
    ) -> anyhow::Result<()> {
        if self.quiet && !self.json {
            return match quiet {
                Some(text) => self.result(|| text, value),
                None => Ok(()),
            };
        }
        self.result(human, value)
    }

    /// A note for humans on stderr; silent with --quiet (stdout stays pure
    /// JSON with --json either way).
    pub(crate) fn note(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    fn red(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[31m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// A `--json` document as every command prints it (and `sqlfork mcp`
/// returns it): compact, on one line.
pub(crate) fn json_document<T: Serialize>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string(value)
}

// ---------------------------------------------------------------------------
// Human text

/// `1.5 MiB`.
pub(crate) fn human_bytes(n: u64) -> String {
    crate::error::human_size(n)
}

pub(crate) fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.2} s", ms as f64 / 1000.0)
    }
}

/// The expiry badge for `db list`: `expires in 6d` (red under 6 hours),
/// `expired`, or nothing.
pub(crate) fn expiry_badge(p: &Printer, expires_at: Option<&str>, now: SystemTime) -> String {
    let Some(t) = expires_at.and_then(ttl::parse_time) else { return String::new() };
    match ttl::remaining(t, now) {
        None => p.red("expired"),
        Some(left) => {
            let text = format!("expires in {}", ttl::short_duration(left));
            if left.as_secs() < 6 * 3600 {
                p.red(&text)
            } else {
                text
            }
        }
    }
}

/// True when a name says nothing the address does not (the default name:
/// the slug, or `slug@ref` for a branch).
fn default_name(e: &Entry) -> bool {
    match &e.branch {
        None => e.name == e.slug,
        Some(b) => e.name == e.slug || e.name == format!("{}@{b}", e.slug),
    }
}

/// `db list`: address, status, size, when it was forked (as an age, like
/// `db show`), the expiry badge; the NAME column only when some database
/// has a name of its own. `--json` keeps the raw values.
pub(crate) fn list_table(p: &Printer, entries: &[Entry], now: SystemTime) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let names = entries.iter().any(|e| !default_name(e));
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let mut row = vec![e.address().to_string()];
            if names {
                row.push(e.name.clone());
            }
            row.extend([
                e.status.to_string(),
                crate::layout::file_size(&e.path).map(human_bytes).unwrap_or_else(|| "missing".into()),
                e.forked_at
                    .as_deref()
                    .and_then(ttl::parse_time)
                    .map(|t| ttl::ago(t, now))
                    .unwrap_or_else(|| "-".into()),
                expiry_badge(p, e.expires_at.as_deref(), now),
            ]);
            row
        })
        .collect();
    let mut header = vec!["ADDRESS"];
    if names {
        header.push("NAME");
    }
    header.extend(["STATUS", "SIZE", "FORKED", "EXPIRES"]);
    let last = header.len() - 1;
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate().take(last) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < last {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            } else {
                s.push_str(c);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.clone());
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// Where a fork came from, for humans: `acme/orders[@REF]` (a slug alone
/// is ambiguous across namespaces), `acme/orders:NAME` for a snapshot,
/// marked `(deleted)` once that is gone; or a path.
pub(crate) fn lineage_label(lineage: &Lineage) -> String {
    match lineage {
        Lineage::Database { address, snapshot: Some(s), .. } => {
            let deleted = if s.deleted { " (deleted)" } else { "" };
            format!("{address}:{}{deleted}", s.name)
        }
        Lineage::Database { address, deleted: true, .. } => format!("{address} (deleted)"),
        Lineage::Database { address, .. } => address.clone(),
        Lineage::File(p) => p.display().to_string(),
    }
}

/// `snapshot list`: name, taken at, size, expiry.
pub(crate) fn snapshot_table(p: &Printer, snaps: &[Snapshot], now: SystemTime) -> String {
    if snaps.is_empty() {
        return String::new();
    }
    let rows: Vec<[String; 4]> = snaps
        .iter()
        .map(|s| {
            let taken = match ttl::parse_time(&s.taken_at) {
                Some(t) => format!("{} ({})", s.taken_at, ttl::ago(t, now)),
                None => s.taken_at.clone(),
            };
            let expiry = expiry_badge(p, s.expires_at.as_deref(), now);
            [s.name.clone(), taken, human_bytes(s.size_bytes), if expiry.is_empty() { "never".into() } else { expiry }]
        })
        .collect();
    let header = ["NAME", "TAKEN AT", "SIZE", "EXPIRES"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate().take(3) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < 3 {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            } else {
                s.push_str(c);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// One line about a copy: `with data by clone: 3 objects, …`.
pub(crate) fn copy_summary(db: &Database) -> Option<String> {
    let c = db.copy.as_ref()?;
    let kind = match (db.include_data, &c.method) {
        (false, _) => "schema only".to_string(),
        (true, Some(m)) => format!("with data by {m}"),
        (true, None) => "with data".to_string(),
    };
    // Exactness is about copied rows; a schema-only fork has none.
    let exact = if !db.include_data {
        String::new()
    } else if c.exact {
        ", exact snapshot".to_string()
    } else {
        format!(", best-effort, {} orphans pruned", c.orphans_pruned)
    };
    let rows = match c.rows_counted() {
        Some(n) => format!("{n} rows"),
        None => "rows not counted".to_string(),
    };
    let why = c.fallback.as_deref().map(|w| format!(" ({w})")).unwrap_or_default();
    Some(format!(
        "{kind}: {} objects, {rows}, {} in {}{exact}{why}",
        c.objects_created,
        human_bytes(c.bytes_copied),
        human_ms(c.duration.as_millis() as u64)
    ))
}

/// One line for humans: `masked (rules sha256 3f2a…), subset orders:… (1,204 rows kept)`.
pub(crate) fn safe_summary(s: &SafeInfo) -> String {
    let mut parts = Vec::new();
    if let Some(h) = &s.rules_sha256 {
        parts.push(format!("masked (rules sha256 {h})"));
    }
    if !s.subset.is_empty() {
        let kept: u64 = s.rows_kept.values().sum();
        parts.push(format!("subset {} ({kept} rows kept)", s.subset.join(", ")));
    }
    parts.join("; ")
}

/// `db show`, from the same document `--json` prints.
pub(crate) fn show_text(p: &Printer, view: &DetailView, now: SystemTime) -> String {
    let e = &view.database.database;
    let address = &e.address;
    let mut out = format!("{address}\n");
    let mut field = |k: &str, v: String| out.push_str(&format!("  {k:<9} {v}\n"));
    field("Name:", e.name.clone());
    field("Path:", e.path.display().to_string());
    let pct = view.progress_percent.map(|p| format!(" {p:.0}%")).unwrap_or_default();
    let status = if view.in_flight {
        let pid = view.pid.map(|p| format!(", pid {p}; `sqlfork db cancel {address}` stops it")).unwrap_or_default();
        format!("{}{pct} (copy in progress{pid})", e.status)
    } else if e.status == crate::registry::Status::Provisioning {
        format!("{}{pct} (interrupted; `sqlfork db resume {address}` continues it)", e.status)
    } else {
        e.status.to_string()
    };
    field("Status:", status);
    field("Size:", e.size_bytes.map(human_bytes).unwrap_or_else(|| "file missing".into()));
    field(
        "Owned:",
        if e.owned {
            "yes (sqlfork deletes the file with the entry)".into()
        } else {
            "no (registered in place; never deleted)".into()
        },
    );
    field("Created:", e.created_at.map(ttl::format_time).unwrap_or_default());
    if let Some(c) = copy_summary(e) {
        field("Copy:", c);
    }
    if let Some(s) = &e.safe {
        field("Safe:", safe_summary(s));
    }
    if e.include_data {
        field(
            "Base:",
            match &view.base {
                Some(b) if b.kind == "copy" => format!(
                    "kept (a copy: {} in {} ms), so `sqlfork db merge {address}` can land its changes",
                    human_bytes(b.bytes_copied),
                    b.duration_ms,
                ),
                Some(b) => {
                    format!("kept ({}, free), so `sqlfork db merge {address}` can land its changes", b.kind)
                }
                None => "none (fork with --mergeable to keep one for db merge)".into(),
            },
        );
    }
    if view.snapshots > 0 {
        field("Snapshots:", format!("{} (`sqlfork snapshot list {address}`)", view.snapshots));
    }
    if let Some(parent) = &view.database.forked_from {
        let label = lineage_label(parent);
        let when = e.forked_at.map(|t| format!(" · {}", ttl::ago(t, now))).unwrap_or_default();
        out.push_str(&format!("  Forked from {label}{when}\n"));
    }
    if let Some(t) = e.expires_at {
        match ttl::remaining(t, now) {
            Some(left) => out.push_str(&format!("  Auto-deletes in {}\n", ttl::short_duration(left))),
            None => out.push_str(&format!("  {} (removed at the next `sqlfork db gc`)\n", p.red("Expired"))),
        }
    }
    out
}
