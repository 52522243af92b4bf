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
    ///
    /// Every command's JSON is formatted the same way: one compact document
    /// on one line, so that scripts can read it line by line (and `jq .`
    /// pretty-prints it for people).
    pub fn result<T: Serialize>(&self, human: impl FnOnce() -> String, value: &T) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(&mut out, value).map_err(std::io::Error::from)?;
            writeln!(out)?;
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
    pub fn result_or_quiet<T: Serialize>(
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
    /// Present when the fork is masked or a subset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe: Option<SafeView>,
}

/// `safe` in JSON: what a masked or subset fork was made with.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SafeView {
    pub masked: bool,
    pub rules_sha256: Option<String>,
    pub mask_file: Option<String>,
    pub subset: Vec<String>,
    pub subset_sha256: Option<String>,
    pub rows_kept: std::collections::BTreeMap<String, u64>,
}

impl From<&crate::mask::SafeRecord> for SafeView {
    fn from(s: &crate::mask::SafeRecord) -> Self {
        SafeView {
            masked: s.masked,
            rules_sha256: s.rules_sha256.clone(),
            mask_file: s.mask_file.as_ref().map(|p| p.display().to_string()),
            subset: s.subset.clone(),
            subset_sha256: s.subset_sha256.clone(),
            rows_kept: s.rows_kept.clone(),
        }
    }
}

/// One line for humans: `masked (rules sha256 3f2a…), subset orders:… (1,204 rows kept)`.
pub fn safe_summary(s: &crate::mask::SafeRecord) -> String {
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
            safe: e.safe.as_ref().map(SafeView::from),
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
    /// The pid of the process copying it, while one is (`db cancel` stops it).
    pub pid: Option<u32>,
}

impl From<&Detail> for DetailView {
    fn from(d: &Detail) -> Self {
        DetailView {
            entry: EntryView::from(&d.entry),
            forked_from: d.parent.as_ref().map(ParentView::from),
            in_flight: d.in_flight,
            progress_percent: d.progress.as_ref().and_then(|p| p.percent()),
            pid: d.pid,
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
pub fn list_table(p: &Printer, entries: &[Entry], now: SystemTime) -> String {
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
    // Exactness is about copied rows; a schema-only fork has none.
    let exact = if !entry.include_data {
        String::new()
    } else if c.exact {
        ", exact snapshot".to_string()
    } else {
        format!(", best-effort, {} orphans pruned", c.orphans_pruned)
    };
    Some(format!(
        "{kind}: {} objects, {} rows, {} in {}{exact}",
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
        let pid = d.pid.map(|p| format!(", pid {p}; `sqlfork db cancel {}` stops it", e.address())).unwrap_or_default();
        format!("{}{pct} (copy in progress{pid})", e.status)
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
    if let Some(s) = &e.safe {
        field("Safe:", safe_summary(s));
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

/// Nothing is drawn for a copy that ends sooner than this (at most; a
/// shorter `SQLFORK_PROGRESS_INTERVAL` shortens it too).
const SHOW_AFTER: std::time::Duration = std::time::Duration::from_millis(750);

/// Set by the SIGINT handler that a copy installs (see [`UiProgress`]).
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    if INTERRUPTED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        // A second Ctrl-C while the copy stops: stop at once, as usual.
        // SAFETY: signal(2) is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::raise(libc::SIGINT);
        }
    }
}

/// Draws copy progress on stderr: MiB done of the total, percentage, rate
/// and ETA (a bar on a terminal, a line every few seconds otherwise), and
/// nothing for a copy that is over in well under a second.
///
/// While a copy runs it also owns Ctrl-C: the first one asks the copy to
/// stop after the chunk in hand (the copy keeps what it wrote and the
/// command says how to continue it); a second one stops at once.
pub struct UiProgress {
    style: ProgressStyle,
    label: String,
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: u64,
    first_done: u64,
    /// Bytes one counted unit (a page, or a row on average) stands for.
    unit_bytes: f64,
    table: String,
    started: std::time::Instant,
    last_line: Option<std::time::Instant>,
    last_printed: Option<u64>,
    interval: std::time::Duration,
    delay: std::time::Duration,
    /// Something was drawn: the final figures are drawn too.
    shown: bool,
    handling_sigint: bool,
}

impl UiProgress {
    pub fn new(style: ProgressStyle, label: &str) -> Self {
        let secs = std::env::var("SQLFORK_PROGRESS_INTERVAL").ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(3.0);
        let interval = std::time::Duration::from_secs_f64(secs.max(0.0));
        UiProgress {
            style,
            label: label.to_string(),
            bar: None,
            total: 0,
            done: 0,
            first_done: 0,
            unit_bytes: 0.0,
            table: String::new(),
            started: std::time::Instant::now(),
            last_line: None,
            last_printed: None,
            interval,
            delay: interval.min(SHOW_AFTER),
            shown: false,
            handling_sigint: false,
        }
    }

    /// `12.3/100.0 MiB (12%)`, the rate and the ETA, each only when known.
    fn figures(&self) -> Vec<String> {
        let mib = |units: u64| units as f64 * self.unit_bytes / (1024.0 * 1024.0);
        // Rounded down, so "100%" and the full size mean done.
        let pct = if self.total > 0 { (self.done as f64 * 100.0 / self.total as f64).floor() } else { 100.0 };
        let done = if self.done >= self.total { mib(self.total) } else { (mib(self.done) * 10.0).floor() / 10.0 };
        let mut parts = vec![format!("{done:.1}/{:.1} MiB ({pct:.0}%)", mib(self.total))];
        if !self.table.is_empty() {
            parts.push(format!("table {}", self.table));
        }
        let secs = self.started.elapsed().as_secs_f64();
        let moved = self.done.saturating_sub(self.first_done);
        if secs >= 0.1 && moved > 0 {
            let rate = mib(moved) / secs;
            parts.push(format!("{rate:.1} MiB/s"));
            if self.total > self.done {
                let left = (self.total - self.done) as f64 * secs / moved as f64;
                parts.push(format!(
                    "ETA {}",
                    crate::ttl::short_duration(std::time::Duration::from_secs_f64(left.max(1.0)))
                ));
            }
        }
        parts
    }

    fn due(&self) -> bool {
        self.started.elapsed() >= self.delay
    }

    fn draw(&mut self, force: bool) {
        match self.style {
            ProgressStyle::Hidden => {}
            ProgressStyle::Bar => {
                if self.bar.is_none() && (self.due() || force) && self.total > 0 {
                    let bar = indicatif::ProgressBar::with_draw_target(
                        Some(self.total),
                        indicatif::ProgressDrawTarget::stderr(),
                    );
                    bar.set_style(
                        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {msg}")
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar.set_prefix(self.label.clone());
                    self.bar = Some(bar);
                    self.shown = true;
                }
                if let Some(bar) = &self.bar {
                    bar.set_position(self.done);
                    bar.set_message(self.figures().join(" · "));
                }
            }
            ProgressStyle::Lines => {
                if !force && (!self.due() || self.last_line.is_some_and(|t| t.elapsed() < self.interval)) {
                    return;
                }
                if self.last_printed == Some(self.done) {
                    return;
                }
                self.last_line = Some(std::time::Instant::now());
                self.last_printed = Some(self.done);
                self.shown = true;
                eprintln!("{}: {}", self.label, self.figures().join(", "));
            }
        }
    }

    fn release_sigint(&mut self) {
        if std::mem::take(&mut self.handling_sigint) {
            // SAFETY: restores the default disposition.
            unsafe {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
            }
        }
    }
}

impl crate::copy::Progress for UiProgress {
    fn start(&mut self, total: u64, done: u64) {
        self.total = total;
        self.done = done;
        self.first_done = done;
        self.started = std::time::Instant::now();
        if !self.handling_sigint {
            INTERRUPTED.store(false, std::sync::atomic::Ordering::SeqCst);
            // SAFETY: the handler only touches an atomic (and, on a second
            // Ctrl-C, async-signal-safe calls).
            let before = unsafe { libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t) };
            if before == libc::SIG_IGN {
                // Started with Ctrl-C ignored (a background job of a
                // script, nohup): leave it ignored.
                // SAFETY: restores what was there.
                unsafe {
                    libc::signal(libc::SIGINT, libc::SIG_IGN);
                }
            } else {
                self.handling_sigint = true;
            }
        }
        if done > 0 {
            self.draw(false);
        }
    }

    fn table(&mut self, name: &str) {
        self.table = name.to_string();
    }

    fn advance(&mut self, rows: u64) {
        self.done += rows;
        self.draw(false);
    }

    fn unit_bytes(&mut self, bytes: f64) {
        self.unit_bytes = bytes;
    }

    fn interrupted(&mut self) -> bool {
        INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        // Interrupted: the command's one line says how far it got.
        let stopped = INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst);
        if self.style == ProgressStyle::Lines && self.shown && self.total > 0 && !stopped {
            self.draw(true);
        }
        self.release_sigint();
    }
}

impl Drop for UiProgress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.release_sigint();
    }
}
