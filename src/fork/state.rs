//! The copy state of a data fork (`databases/<id>.copy.json`): what a
//! resumed copy needs to continue, and how far the copy is, for `db show`
//! in another process.
//!
//! Two kinds of writes, kept apart: a resume checkpoint
//! ([`StateFile::checkpoint`]) is saved at once and its failure fails the
//! copy; progress ([`Tracked`]) is saved at most twice a second and a
//! failure to save it is ignored.

use crate::copy::{Progress, SnapshotBytes};
use crate::home::{CopyMethod, Home};
use crate::layout;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::path::Path;
use std::time::{Duration, Instant};

/// Kept beside a fork while its data is copied (`<id>.copy.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct CopyState {
    /// The WAL snapshot the copy reads from, hex.
    pub snapshot: Option<String>,
    /// The source's file change counter when the copy began.
    pub change_counter: Option<u32>,
    /// A WAL source read while its WAL was empty (no snapshot to save): the
    /// main file's size and modification time, which only a checkpoint
    /// changes.
    #[serde(default)]
    pub file_stamp: Option<String>,
    /// Still exact (the source at one moment) so far.
    pub exact: bool,
    pub rows_total: u64,
    pub rows_done: u64,
    pub table: Option<String>,
    /// How the data is copied: page by page or row by row.
    #[serde(default)]
    pub method: CopyMethod,
    /// Page copy: pages written and synced, of how many, of what size.
    #[serde(default)]
    pub pages_done: u64,
    #[serde(default)]
    pub page_count: u64,
    #[serde(default)]
    pub page_size: u64,
    /// Page copy: pages written so far (for progress; not all synced yet).
    #[serde(default)]
    pub pages_written: u64,
    /// The copy's size in bytes (the source's pages, or the source file's
    /// size for a row copy), for progress in bytes.
    #[serde(default)]
    pub bytes_total: u64,
    /// Time spent copying so far, over every run (a resumed copy's figures
    /// count the whole copy).
    #[serde(default)]
    pub elapsed_ms: u64,
    /// File copy: how far it got, and at which moment of the source.
    #[serde(default)]
    pub(crate) file: Option<crate::copy::instant::FileCopyState>,
    /// Why the method is not the configured one (a clone was impossible, …).
    #[serde(default)]
    pub fallback: Option<String>,
}

impl CopyState {
    pub(crate) fn load(home: &Home, id: &str) -> Option<CopyState> {
        let text = std::fs::read_to_string(layout::copy_state_file(home, id)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Write the state durably: a temporary file, synced, renamed over.
    pub(crate) fn save(&self, home: &Home, id: &str) -> anyhow::Result<()> {
        let (path, tmp) = (layout::copy_state_file(home, id), layout::copy_state_temp(home, id));
        let text = serde_json::to_string(self)?;
        let mut f = layout::create_private_file(&tmp)?;
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    /// "45.2/100.0 MiB (45%)": how far the copy is, when known.
    pub(crate) fn how_far(&self) -> Option<String> {
        let pct = self.percent()?;
        let mib = |b: f64| b / (1024.0 * 1024.0);
        let total = self.bytes_total as f64;
        // Rounded down: an interrupted copy is never "100%".
        let done = if pct >= 100.0 { mib(total) } else { (mib(total * pct / 100.0) * 10.0).floor() / 10.0 };
        Some(format!("{done:.1}/{:.1} MiB ({:.0}%)", mib(total), pct.floor()))
    }

    /// Percentage copied, when known.
    pub(crate) fn percent(&self) -> Option<f64> {
        let (done, total) = super::method(self.method).how_far(self)?;
        (total > 0).then(|| (done as f64 * 100.0 / total as f64).min(100.0))
    }

    /// The saved WAL snapshot, if there is one.
    pub(crate) fn saved_snapshot(&self) -> Option<SnapshotBytes> {
        self.snapshot.as_deref().and_then(unhex)
    }

    /// Remember the snapshot the copy now reads from.
    pub(crate) fn set_snapshot(&mut self, snapshot: Option<SnapshotBytes>) {
        self.snapshot = snapshot.map(hex);
    }
}

/// A copy state being kept current on disk while a copy runs. Shared by
/// the progress sink and the resume checkpoints (hence the cells).
pub(crate) struct StateFile<'a> {
    home: &'a Home,
    id: &'a str,
    state: RefCell<CopyState>,
    last: Cell<Option<Instant>>,
    /// When this run started, and the copy time of earlier runs.
    run_started: Instant,
    earlier_ms: u64,
}

impl<'a> StateFile<'a> {
    pub(super) fn new(home: &'a Home, id: &'a str, state: CopyState) -> Self {
        let earlier_ms = state.elapsed_ms;
        StateFile {
            home,
            id,
            state: RefCell::new(state),
            last: Cell::new(None),
            run_started: Instant::now(),
            earlier_ms,
        }
    }

    /// Record the time copied so far, this run and earlier ones.
    fn stamp(&self) {
        self.state.borrow_mut().elapsed_ms = self.earlier_ms + self.run_started.elapsed().as_millis() as u64;
    }

    /// Save the figures now (best effort): the copy is stopping.
    fn save_now(&self) {
        self.stamp();
        let _ = self.state.borrow().save(self.home, self.id);
        self.last.set(Some(Instant::now()));
    }

    /// Change the state and save it now: a resume may start from it.
    pub(super) fn checkpoint(&self, change: impl FnOnce(&mut CopyState)) -> anyhow::Result<()> {
        change(&mut self.state.borrow_mut());
        self.stamp();
        self.state.borrow().save(self.home, self.id)?;
        self.last.set(Some(Instant::now()));
        Ok(())
    }

    /// Change the state; save it if the last save is half a second old.
    fn note(&self, change: impl FnOnce(&mut CopyState)) {
        change(&mut self.state.borrow_mut());
        if self.last.get().is_none_or(|t| t.elapsed() >= Duration::from_millis(500)) {
            self.save_now();
        }
    }

    /// The copy is over: save the last figures (best effort) and return them.
    pub(super) fn finish(self) -> CopyState {
        self.stamp();
        let state = self.state.into_inner();
        let _ = state.save(self.home, self.id);
        state
    }
}

/// Forwards progress to the caller's sink and records it in the copy state.
pub(crate) struct Tracked<'p, 's> {
    pub inner: &'p mut dyn Progress,
    pub state: &'s StateFile<'s>,
}

impl Progress for Tracked<'_, '_> {
    fn start(&mut self, total: u64, done: u64) {
        let unit = if self.state.state.borrow().method == CopyMethod::Rows { "rows" } else { "pages" };
        crate::env::trace(&format!("copy starts at {done} of {total} {unit}"));
        self.inner.start(total, done);
        self.state.note(|s| {
            if s.method == CopyMethod::Rows {
                s.rows_total = total;
                s.rows_done = done;
            }
        });
    }
    fn table(&mut self, name: &str) {
        self.state.state.borrow_mut().table = Some(name.to_string());
        self.inner.table(name);
    }
    fn advance(&mut self, n: u64) {
        self.inner.advance(n);
        self.state.note(|s| match s.method {
            CopyMethod::Rows => s.rows_done += n,
            CopyMethod::Clone | CopyMethod::File | CopyMethod::Pages => s.pages_written += n,
        });
    }
    /// The caller finishes its own sink once the copy is over.
    fn finish(&mut self) {}
    fn unit(&mut self, unit: &'static str) {
        self.inner.unit(unit);
    }
    fn unit_bytes(&mut self, bytes: f64) {
        self.inner.unit_bytes(bytes);
    }
    fn interrupted(&mut self) -> bool {
        let stop = self.inner.interrupted();
        if stop {
            // Keep the figures a resume and the message start from.
            self.state.save_now();
        }
        stop
    }
}

/// Size and modification time of a file, as one comparable string.
pub(crate) fn file_stamp(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(format!("{}:{}.{:09}", m.len(), m.mtime(), m.mtime_nsec()))
}

fn hex(bytes: SnapshotBytes) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<SnapshotBytes> {
    let mut out = [0u8; 48];
    if text.len() != 96 {
        return None;
    }
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_survives_the_state_file() {
        let mut snap = [0u8; 48];
        snap.iter_mut().enumerate().for_each(|(i, b)| *b = (i * 5) as u8);
        let mut s = CopyState::default();
        s.set_snapshot(Some(snap));
        assert_eq!(s.saved_snapshot(), Some(snap));
        s.snapshot = Some("zz".into());
        assert_eq!(s.saved_snapshot(), None);
    }

    #[test]
    fn checkpoints_save_at_once_and_progress_is_recorded() {
        let (_dir, home) = crate::home::temporary_home();
        let file = StateFile::new(&home, "0123456789abcdef0123456789abcdef", CopyState::default());
        file.checkpoint(|s| s.pages_done = 7).unwrap();
        assert_eq!(CopyState::load(&home, "0123456789abcdef0123456789abcdef").unwrap().pages_done, 7);
        let mut sink = crate::copy::NoProgress;
        let mut t = Tracked { inner: &mut sink, state: &file };
        t.advance(3);
        assert_eq!(file.finish().pages_written, 3);
    }
}
