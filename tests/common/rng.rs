//! The seeded generator of the randomised tests: the seed is printed, and
//! `SQLFORK_CRASH_SEED=N` replays a run; `SQLFORK_CRASH_LONG=1` asks for the
//! long run.

use std::time::Duration;

/// A small seeded generator (splitmix64): the seed is printed, and
/// `SQLFORK_CRASH_SEED=N` replays a run.
pub struct Rng(u64);

impl Rng {
    pub fn new(test: &str) -> Self {
        let seed = std::env::var("SQLFORK_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
        eprintln!("{test}: seed {seed} (replay with SQLFORK_CRASH_SEED={seed})");
        Rng(seed)
    }
    /// A generator of its own for a worker thread, drawn from this one.
    pub fn split(&mut self) -> Rng {
        Rng(self.next_u64())
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// Uniform in `0.0..1.0`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// `n` kill delays spread over `0..span`: one uniformly random point
    /// in each of `n` equal slices, in random order, so every part of
    /// the operation is hit whatever the seed.
    pub fn spread(&mut self, n: usize, span: Duration) -> Vec<Duration> {
        let mut v: Vec<Duration> = (0..n).map(|i| span.mul_f64((i as f64 + self.unit()) / n as f64)).collect();
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        v
    }
}

/// True for the long run (`SQLFORK_CRASH_LONG=1`).
pub fn long() -> bool {
    std::env::var("SQLFORK_CRASH_LONG").is_ok_and(|v| v == "1")
}

/// Kill points for a scenario: `quick` in `cargo test`, `long` in the
/// long run.
pub fn points(quick: usize, long_points: usize) -> usize {
    if long() {
        long_points
    } else {
        quick
    }
}
