//! A caller's progress that can also be stopped from elsewhere: every call
//! is forwarded, and `interrupted` is true once a shared flag is set (a
//! background fork's `cancel()`, a rehearsal stopping its fork) as well as
//! when the caller's own progress says so.

use super::Progress;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;

/// The caller's progress `inner`, stopped by `cancel` too.
pub(crate) struct Cancellable<P> {
    pub(crate) inner: P,
    pub(crate) cancel: Arc<AtomicBool>,
    /// Told once, when the copy starts (a background fork's caller waits
    /// for it before it looks for the fork's entry).
    pub(crate) started: Option<Sender<()>>,
}

impl<P: Progress> Progress for Cancellable<P> {
    fn start(&mut self, total: u64, done: u64) {
        self.inner.start(total, done);
        if let Some(tx) = self.started.take() {
            let _ = tx.send(());
        }
    }
    fn table(&mut self, name: &str) {
        self.inner.table(name);
    }
    fn advance(&mut self, n: u64) {
        self.inner.advance(n);
    }
    fn finish(&mut self) {
        self.inner.finish();
    }
    fn unit(&mut self, unit: &'static str) {
        self.inner.unit(unit);
    }
    fn unit_bytes(&mut self, bytes: f64) {
        self.inner.unit_bytes(bytes);
    }
    fn interrupted(&mut self) -> bool {
        self.cancel.load(Ordering::SeqCst) || self.inner.interrupted()
    }
}

/// A borrowed progress is a progress (so `Cancellable<&mut dyn Progress>`
/// wraps a sink the caller keeps).
impl<P: Progress + ?Sized> Progress for &mut P {
    fn start(&mut self, total: u64, done: u64) {
        (**self).start(total, done);
    }
    fn table(&mut self, name: &str) {
        (**self).table(name);
    }
    fn advance(&mut self, n: u64) {
        (**self).advance(n);
    }
    fn finish(&mut self) {
        (**self).finish();
    }
    fn unit(&mut self, unit: &'static str) {
        (**self).unit(unit);
    }
    fn unit_bytes(&mut self, bytes: f64) {
        (**self).unit_bytes(bytes);
    }
    fn interrupted(&mut self) -> bool {
        (**self).interrupted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Seen {
        calls: Vec<String>,
    }

    impl Progress for Seen {
        fn start(&mut self, total: u64, done: u64) {
            self.calls.push(format!("start {total} {done}"));
        }
        fn table(&mut self, name: &str) {
            self.calls.push(format!("table {name}"));
        }
        fn advance(&mut self, n: u64) {
            self.calls.push(format!("advance {n}"));
        }
        fn finish(&mut self) {
            self.calls.push("finish".into());
        }
        fn unit(&mut self, unit: &'static str) {
            self.calls.push(format!("unit {unit}"));
        }
        fn unit_bytes(&mut self, bytes: f64) {
            self.calls.push(format!("bytes {bytes}"));
        }
    }

    #[test]
    fn every_call_is_forwarded_and_the_flag_stops_it() {
        let mut seen = Seen::default();
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let mut p = Cancellable { inner: &mut seen as &mut dyn Progress, cancel: cancel.clone(), started: Some(tx) };
        p.unit("pages");
        p.unit_bytes(4096.0);
        p.start(10, 2);
        p.table("t");
        p.advance(3);
        assert!(!p.interrupted());
        cancel.store(true, Ordering::SeqCst);
        assert!(p.interrupted());
        p.finish();
        assert!(rx.try_recv().is_ok(), "the start was signalled");
        assert_eq!(seen.calls, ["unit pages", "bytes 4096", "start 10 2", "table t", "advance 3", "finish"]);
    }
}
