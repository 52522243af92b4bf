//! All output goes through the [`Printer`]: data to stdout (human text or
//! exactly one JSON document), notes and progress to stderr, nothing extra
//! with `--quiet`.

use crate::ops::{Detail, ResolvedParent};
use crate::registry::{CopyStats, Entry, Parent};
use crate::ttl;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::time::SystemTime;

#[derive(Debug, Clone)]
pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    /// Colour on stdout (a terminal and NO_COLOR unset).
    pub color: bool,
}

impl Printer {
    pub fn new(json: bool, quiet: bool) -> Self {
        let color =
            !json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Printer { json, quiet, color }
    }

    /// Print the command's result: `human` text, or `value` as JSON.
    pub fn result<T: Serialize>(&self, human: impl FnOnce() -> String, value: &T) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer_pretty(&mut out, value)?;
            writeln!(out)?;
        } else {
            let text = human();
            if !text.is_empty() {
                write!(out, "{text}")?;
                if !text.ends_with('\n') {
                    writeln!(out)?;
                }
            }
        }
        Ok(())
    }

    /// A note for humans on stderr; silent with --quiet (stdout stays pure
    /// JSON with --json either way).
    pub fn note(&self, msg: &str) {
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

// ---------------------------------------------------------------------------
// JSON views (camelCase, as the seed product's API names them)

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyView {
    pub objects_created: u64,
    pub rows_copied: u64,
    pub bytes_copied: u64,
    pub duration_ms: u64,
    pub exact: bool,
    pub orphans_pruned: u64,
}

impl From<&CopyStats> for CopyView {
    fn from(c: &CopyStats) -> Self {
        CopyView {
            objects_created: c.objects_created,
            rows_copied: c.rows_copied,
            bytes_copied: c.bytes_copied,
            duration_ms: c.duration_ms,
            exact: c.exact,
            orphans_pruned: c.orphans_pruned,
        }
    }
}

/// The JSON shape of one database.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    pub address: String,
    pub id: String,
    pub namespace: String,
    pub slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub name: String,
    pub path: String,
    pub owned: bool,
    pub status: String,
    pub size_bytes: Option<u64>,
    pub created_at: String,
    pub forked_at: Option<String>,
    pub expires_at: Option<String>,
    pub include_data: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyView>,
}

impl From<&Entry> for EntryView {
    fn from(e: &Entry) -> Self {
        EntryView {
            address: e.address().to_string(),
            id: e.id.clone(),
            namespace: e.namespace.clone(),
            slug: e.slug.clone(),
            branch: e.branch.clone(),
            name: e.name.clone(),
            path: e.path.display().to_string(),
            owned: e.owned,
            status: e.status.to_string(),
            size_bytes: crate::layout::file_size(&e.path),
            created_at: e.created_at.clone(),
            forked_at: e.forked_at.clone(),
            expires_at: e.expires_at.clone(),
            include_data: e.include_data,
            copy: e.copy.as_ref().map(CopyView::from),
        }
    }
}

/// `forkedFrom` in `db show --json` and fork results.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ParentView {
    #[serde(rename_all = "camelCase")]
    Database {
        id: String,
        namespace: String,
        slug: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        branch: Option<String>,
        deleted: bool,
    },
    Path {
        path: String,
    },
}

impl From<&ResolvedParent> for ParentView {
    fn from(p: &ResolvedParent) -> Self {
        match p {
            ResolvedParent::Live { id, namespace, slug, name, branch } => ParentView::Database {
                id: id.clone(),
                namespace: namespace.clone(),
                slug: slug.clone(),
                name: name.clone(),
                branch: branch.clone(),
                deleted: false,
            },
            ResolvedParent::Deleted { id, namespace, slug, name, branch } => ParentView::Database {
                id: id.clone(),
                namespace: namespace.clone(),
                slug: slug.clone(),
                name: name.clone(),
                branch: branch.clone(),
                deleted: true,
            },
            ResolvedParent::Path(p) => ParentView::Path { path: p.display().to_string() },
        }
    }
}

impl From<&Parent> for ParentView {
    fn from(p: &Parent) -> Self {
        match p {
            Parent::Database { id, namespace, slug, name, branch } => ParentView::Database {
                id: id.clone(),
                namespace: namespace.clone(),
                slug: slug.clone(),
                name: name.clone(),
                branch: branch.clone(),
                deleted: false,
            },
            Parent::Path(p) => ParentView::Path { path: p.display().to_string() },
        }
    }
}

/// `db show --json`: the entry with `forkedFrom` resolved.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailView {
    #[serde(flatten)]
    pub entry: EntryView,
    pub forked_from: Option<ParentView>,
    /// True while a process is building this database.
    pub in_flight: bool,
    /// Percentage of rows copied while provisioning with data.
    pub progress_percent: Option<f64>,
}

impl From<&Detail> for DetailView {
    fn from(d: &Detail) -> Self {
        DetailView {
            entry: EntryView::from(&d.entry),
            forked_from: d.parent.as_ref().map(ParentView::from),
            in_flight: d.in_flight,
            progress_percent: d.progress.as_ref().and_then(|p| p.percent()),
        }
    }
}

// ---------------------------------------------------------------------------
// Human text

/// `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.2} s", ms as f64 / 1000.0)
    }
}

/// The expiry badge for `db list`: `expires in 6d` (red under 6 hours),
/// `expired`, or nothing.
pub fn expiry_badge(p: &Printer, expires_at: Option<&str>, now: SystemTime) -> String {
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

pub fn list_table(p: &Printer, entries: &[Entry], now: SystemTime) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            [
                e.address().to_string(),
                e.name.clone(),
                e.status.to_string(),
                crate::layout::file_size(&e.path).map(human_bytes).unwrap_or_else(|| "missing".into()),
                e.forked_at.clone().unwrap_or_else(|| "-".into()),
                expiry_badge(p, e.expires_at.as_deref(), now),
            ]
        })
        .collect();
    let header = ["ADDRESS", "NAME", "STATUS", "SIZE", "FORKED AT", "EXPIRES"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate().take(5) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < 5 {
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

pub fn parent_label(parent: &ResolvedParent) -> String {
    match parent {
        ResolvedParent::Live { slug, branch, .. } => match branch {
            Some(b) => format!("{slug}@{b}"),
            None => slug.clone(),
        },
        ResolvedParent::Deleted { slug, branch, .. } => match branch {
            Some(b) => format!("{slug}@{b} (deleted)"),
            None => format!("{slug} (deleted)"),
        },
        ResolvedParent::Path(p) => p.display().to_string(),
    }
}

pub fn copy_summary(entry: &Entry) -> Option<String> {
    let c = entry.copy.as_ref()?;
    let kind = if entry.include_data { "with data" } else { "schema only" };
    let exact = if c.exact {
        "exact snapshot".to_string()
    } else {
        format!("best-effort, {} orphans pruned", c.orphans_pruned)
    };
    Some(format!(
        "{kind}: {} objects, {} rows, {} in {}, {exact}",
        c.objects_created,
        c.rows_copied,
        human_bytes(c.bytes_copied),
        human_ms(c.duration_ms)
    ))
}

pub fn show_text(p: &Printer, d: &Detail, now: SystemTime) -> String {
    let e = &d.entry;
    let mut out = format!("{}\n", e.address());
    let mut field = |k: &str, v: String| out.push_str(&format!("  {k:<9} {v}\n"));
    field("Name:", e.name.clone());
    field("Path:", e.path.display().to_string());
    let pct = d.progress.as_ref().and_then(|p| p.percent()).map(|p| format!(" {p:.0}%")).unwrap_or_default();
    let status = if d.in_flight {
        format!("{}{pct} (copy in progress)", e.status)
    } else if e.status == crate::registry::Status::Provisioning {
        format!("{}{pct} (interrupted; `sqlfork db resume {}` continues it)", e.status, e.address())
    } else {
        e.status.to_string()
    };
    field("Status:", status);
    field("Size:", d.size_bytes.map(human_bytes).unwrap_or_else(|| "file missing".into()));
    field(
        "Owned:",
        if e.owned {
            "yes (sqlfork deletes the file with the entry)".into()
        } else {
            "no (registered in place; never deleted)".into()
        },
    );
    field("Created:", e.created_at.clone());
    if let Some(c) = copy_summary(e) {
        field("Copy:", c);
    }
    if let Some(parent) = &d.parent {
        let when = e
            .forked_at
            .as_deref()
            .and_then(ttl::parse_time)
            .map(|t| format!(" · {}", ttl::ago(t, now)))
            .unwrap_or_default();
        out.push_str(&format!("  Forked from {}{when}\n", parent_label(parent)));
    }
    if let Some(t) = e.expires_at.as_deref().and_then(ttl::parse_time) {
        match ttl::remaining(t, now) {
            Some(left) => out.push_str(&format!("  Auto-deletes in {}\n", ttl::short_duration(left))),
            None => out.push_str(&format!("  {} (removed at the next `sqlfork db gc`)\n", p.red("Expired"))),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Progress on stderr

/// How progress is drawn: a bar on a terminal, plain lines every few
/// seconds for CI logs, or nothing (`--quiet`, `--json` keeps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyle {
    Bar,
    Lines,
    Hidden,
}

impl Printer {
    pub fn progress_style(&self) -> ProgressStyle {
        if self.quiet {
            ProgressStyle::Hidden
        } else if std::io::stderr().is_terminal() && !indicatif::ProgressDrawTarget::stderr().is_hidden() {
            // indicatif draws nothing on a dumb terminal (TERM unset or
            // `dumb`): those get plain lines like a log.
            ProgressStyle::Bar
        } else {
            ProgressStyle::Lines
        }
    }

    /// A progress sink for a copy into `label`.
    pub fn copy_progress(&self, label: &str) -> UiProgress {
        UiProgress::new(self.progress_style(), label)
    }
}

/// Draws copy progress on stderr: rows done of total, current table, rate
/// and ETA.
pub struct UiProgress {
    style: ProgressStyle,
    label: String,
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: u64,
    table: String,
    started: std::time::Instant,
    first_done: u64,
    unit: &'static str,
    last_line: Option<std::time::Instant>,
    last_printed: Option<u64>,
    interval: std::time::Duration,
}

impl UiProgress {
    pub fn new(style: ProgressStyle, label: &str) -> Self {
        let secs = std::env::var("SQLFORK_PROGRESS_INTERVAL").ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(3.0);
        UiProgress {
            style,
            label: label.to_string(),
            bar: None,
            total: 0,
            done: 0,
            table: String::new(),
            started: std::time::Instant::now(),
            first_done: 0,
            unit: "rows",
            last_line: None,
            last_printed: None,
            interval: std::time::Duration::from_secs_f64(secs.max(0.0)),
        }
    }

    fn line(&mut self, force: bool) {
        if self.style != ProgressStyle::Lines {
            return;
        }
        if !force && self.last_line.is_some_and(|t| t.elapsed() < self.interval) {
            return;
        }
        if self.last_printed == Some(self.done) {
            return;
        }
        self.last_line = Some(std::time::Instant::now());
        self.last_printed = Some(self.done);
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = (self.done - self.first_done) as f64 / secs;
        let pct = if self.total > 0 { self.done as f64 * 100.0 / self.total as f64 } else { 100.0 };
        let eta = if rate > 0.0 && self.total > self.done {
            format!(
                ", ETA {}",
                crate::ttl::short_duration(std::time::Duration::from_secs_f64((self.total - self.done) as f64 / rate))
            )
        } else {
            String::new()
        };
        let table = if self.table.is_empty() { String::new() } else { format!(", table {}", self.table) };
        eprintln!(
            "{}: {}/{} {unit} ({pct:.0}%){table}, {:.0} {unit}/s{eta}",
            self.label,
            self.done,
            self.total,
            rate,
            unit = self.unit
        );
    }
}

impl crate::copy::Progress for UiProgress {
    fn start(&mut self, total: u64, done: u64) {
        self.total = total;
        self.done = done;
        self.first_done = done;
        self.started = std::time::Instant::now();
        if self.style == ProgressStyle::Bar {
            let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {} {{percent}}% · {{msg}} · {{per_sec}} · ETA {{eta}}",
                    self.unit
                ))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(self.label.clone());
            bar.set_position(done);
            self.bar = Some(bar);
        } else if done > 0 {
            self.line(true);
        }
    }

    fn table(&mut self, name: &str) {
        self.table = name.to_string();
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_string());
        }
    }

    fn advance(&mut self, rows: u64) {
        self.done += rows;
        if let Some(bar) = &self.bar {
            bar.inc(rows);
        }
        self.line(false);
    }

    fn unit(&mut self, unit: &'static str) {
        self.unit = unit;
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.style == ProgressStyle::Lines && self.total > 0 {
            self.line(true);
        }
    }
}
