//! FIEMAP (`ioctl FS_IOC_FIEMAP`): a file's extents, with the flag that
//! says an extent is shared with another file (a reflink copy).

use rustix::ioctl::{ioctl, Opcode, Updater};
use std::fs::File;

#[derive(Debug, Clone)]
pub(crate) struct Extent {
    pub(crate) logical: u64,
    pub(crate) physical: u64,
    pub(crate) length: u64,
    pub(crate) shared: bool,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct RawExtent {
    logical: u64,
    physical: u64,
    length: u64,
    reserved64: [u64; 2],
    flags: u32,
    reserved: [u32; 3],
}

const BATCH: usize = 256;

#[repr(C)]
struct Request {
    start: u64,
    length: u64,
    flags: u32,
    mapped: u32,
    count: u32,
    reserved: u32,
    extents: [RawExtent; BATCH],
}

/// `_IOWR('f', 11, struct fiemap)`: the opcode encodes the 32-byte
/// header's size, not the extents that follow it.
const FS_IOC_FIEMAP: Opcode = 0xC020_660B;
const FLAG_SYNC: u32 = 1;
const EXTENT_LAST: u32 = 0x1;
/// Data whose physical place is not (yet) meaningful: unknown,
/// delayed allocation, encoded, encrypted, not block-aligned, inline,
/// tail-packed, unwritten (preallocated).
const EXTENT_UNTRUSTED: u32 = 0x2 | 0x4 | 0x8 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800;
const EXTENT_SHARED: u32 = 0x2000;

/// The file's extents in logical order, or None where FIEMAP is not
/// supported (then nothing is skipped).
pub(crate) fn extents(file: &File) -> Option<Vec<Extent>> {
    let mut out = Vec::new();
    let mut start = 0u64;
    loop {
        let mut req = Box::new(Request {
            start,
            length: u64::MAX - start,
            flags: FLAG_SYNC,
            mapped: 0,
            count: BATCH as u32,
            reserved: 0,
            extents: [RawExtent::default(); BATCH],
        });
        // SAFETY: FS_IOC_FIEMAP reads and writes a `struct fiemap`
        // followed by `count` extents; `req` is laid out exactly so and
        // lives for the call.
        if unsafe { ioctl(file, Updater::<FS_IOC_FIEMAP, Request>::new(&mut req)) }.is_err() {
            return None;
        }
        if req.mapped == 0 {
            return Some(out);
        }
        let mut last = false;
        for e in &req.extents[..req.mapped as usize] {
            out.push(Extent {
                logical: e.logical,
                physical: e.physical,
                length: e.length,
                shared: e.flags & EXTENT_SHARED != 0 && e.flags & EXTENT_UNTRUSTED == 0,
            });
            last |= e.flags & EXTENT_LAST != 0;
            start = e.logical + e.length;
        }
        if last {
            return Some(out);
        }
    }
}

/// Byte ranges both files store in the same shared physical extent.
pub(crate) fn shared_ranges(a: &File, b: &File) -> Vec<(u64, u64)> {
    let (Some(ea), Some(eb)) = (extents(a), extents(b)) else { return vec![] };
    let mut out: Vec<(u64, u64)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < ea.len() && j < eb.len() {
        let (x, y) = (&ea[i], &eb[j]);
        let lo = x.logical.max(y.logical);
        let hi = (x.logical + x.length).min(y.logical + y.length);
        if lo < hi && x.shared && y.shared && x.physical.wrapping_sub(x.logical) == y.physical.wrapping_sub(y.logical) {
            match out.last_mut() {
                Some(last) if last.1 == lo => last.1 = hi,
                _ => out.push((lo, hi)),
            }
        }
        if x.logical + x.length <= y.logical + y.length {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}
