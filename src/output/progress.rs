//! Progress on stderr: a bar on a terminal, plain lines for CI logs, or
//! nothing; and Ctrl-C during a copy.

use super::Printer;
use std::io::IsTerminal;

/// How progress is drawn: a bar on a terminal, plain lines every few
/// seconds for CI logs, or nothing (`--quiet`, `--json` keeps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressStyle {
    Bar,
    Lines,
    Hidden,
}

impl Printer {
    pub(crate) fn progress_style(&self) -> ProgressStyle {
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
    pub(crate) fn copy_progress(&self, label: &str) -> UiProgress {
        UiProgress::new(self.progress_style(), label)
    }
}

/// Nothing is drawn for a copy that ends sooner than this (at most; a
/// shorter `SQLFORK_PROGRESS_INTERVAL` shortens it too).
const SHOW_AFTER: std::time::Duration = std::time::Duration::from_millis(750);

/// Ctrl-C while a copy runs (signal-hook's flags; see [`UiProgress`]).
mod ctrl_c {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, LazyLock, OnceLock};

    /// Set by the first Ctrl-C during a copy.
    static INTERRUPTED: LazyLock<Arc<AtomicBool>> = LazyLock::new(Default::default);
    /// True while no copy owns Ctrl-C: it then ends the process as usual.
    static IDLE: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(true)));

    /// Take Ctrl-C for a copy: the first one sets the flag, a second one
    /// ends the process at once. False (nothing taken) when the process
    /// started with Ctrl-C ignored (a script's background job, nohup): it
    /// stays ignored.
    pub(super) fn take() -> bool {
        static INSTALLED: OnceLock<bool> = OnceLock::new();
        let installed = *INSTALLED.get_or_init(|| {
            if ignored_at_start() {
                return false;
            }
            use signal_hook::{consts::SIGINT, flag};
            // In order: not copying → default; second Ctrl-C → default;
            // else raise the flag.
            flag::register_conditional_default(SIGINT, IDLE.clone()).is_ok()
                && flag::register_conditional_default(SIGINT, INTERRUPTED.clone()).is_ok()
                && flag::register(SIGINT, INTERRUPTED.clone()).is_ok()
        });
        if installed {
            INTERRUPTED.store(false, Ordering::SeqCst);
            IDLE.store(false, Ordering::SeqCst);
        }
        installed
    }

    /// Give Ctrl-C back: it ends the process again.
    pub(super) fn release() {
        IDLE.store(true, Ordering::SeqCst);
    }

    pub(super) fn interrupted() -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }

    /// True when SIGINT's disposition is "ignore" (signal-hook cannot say:
    /// it only adds handlers).
    fn ignored_at_start() -> bool {
        // SAFETY: sigaction with a null new action only reads the current one.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
        }
    }
}

/// True while a [`CtrlC`] holds Ctrl-C for a whole command: copies inside
/// it then leave Ctrl-C alone.
static HELD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Ctrl-C held for a whole command (`db rehearse`: the fork, the
/// migrations, the analysis), not only a copy: the first Ctrl-C sets a
/// flag the command polls ([`ctrl_c_pressed`]); a second stops at once.
pub(crate) struct CtrlC {
    installed: bool,
}

/// Catch Ctrl-C until the returned guard is dropped.
pub(crate) fn hold_ctrl_c() -> CtrlC {
    let installed = ctrl_c::take();
    HELD.store(true, std::sync::atomic::Ordering::SeqCst);
    CtrlC { installed }
}

/// True once Ctrl-C was pressed under a [`CtrlC`] (or during a copy).
pub(crate) fn ctrl_c_pressed() -> bool {
    ctrl_c::interrupted()
}

impl Drop for CtrlC {
    fn drop(&mut self) {
        HELD.store(false, std::sync::atomic::Ordering::SeqCst);
        if self.installed {
            ctrl_c::release();
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
pub(crate) struct UiProgress {
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
    pub(crate) fn new(style: ProgressStyle, label: &str) -> Self {
        let secs = crate::env::progress_interval().unwrap_or(3.0);
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
            ctrl_c::release();
        }
    }
}

impl crate::copy::Progress for UiProgress {
    fn start(&mut self, total: u64, done: u64) {
        self.total = total;
        self.done = done;
        self.first_done = done;
        self.started = std::time::Instant::now();
        if !self.handling_sigint && !HELD.load(std::sync::atomic::Ordering::SeqCst) {
            self.handling_sigint = ctrl_c::take();
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
        ctrl_c::interrupted()
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        // Interrupted: the command's one line says how far it got.
        let stopped = ctrl_c::interrupted();
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
