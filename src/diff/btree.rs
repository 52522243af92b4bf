//! Reading SQLite b-tree pages by hand (the file format's page headers,
//! cell pointers and varints), for `db diff`'s page compare.

pub(crate) fn u16_at(b: &[u8], i: usize) -> usize {
    u16::from_be_bytes([b[i], b[i + 1]]) as usize
}
pub(crate) fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

/// SQLite's varint: 1-9 bytes, big-endian groups of 7 bits, the ninth byte whole.
pub(crate) fn varint(b: &[u8], mut i: usize) -> Option<(i64, usize)> {
    let mut v: u64 = 0;
    for n in 0..9 {
        let byte = *b.get(i)?;
        i += 1;
        if n == 8 {
            v = (v << 8) | byte as u64;
            return Some((v as i64, i));
        }
        v = (v << 7) | (byte & 0x7f) as u64;
        if byte & 0x80 == 0 {
            return Some((v as i64, i));
        }
    }
    None
}

pub(crate) fn header_offset(p: u32) -> usize {
    if p == 1 {
        100
    } else {
        0
    }
}

/// The children of an interior page (left pointers, then the right-most).
pub(crate) fn children(buf: &[u8], p: u32) -> Option<Vec<u32>> {
    let h = header_offset(p);
    let n = u16_at(buf, h + 3);
    let mut out = Vec::with_capacity(n + 1);
    for i in 0..n {
        let cell = u16_at(buf, h + 12 + 2 * i);
        if cell + 4 > buf.len() {
            return None;
        }
        out.push(u32_at(buf, cell));
    }
    out.push(u32_at(buf, h + 8));
    Some(out)
}

/// The smallest and largest rowid on a table leaf page.
pub(crate) fn leaf_rowid_range(buf: &[u8]) -> Option<Option<(i64, i64)>> {
    if buf[0] != 13 {
        return None;
    }
    let n = u16_at(buf, 3);
    if n == 0 {
        return Some(None);
    }
    let rowid = |i: usize| -> Option<i64> {
        let cell = u16_at(buf, 8 + 2 * i);
        let (_, next) = varint(buf, cell)?;
        varint(buf, next).map(|(v, _)| v)
    };
    Some(Some((rowid(0)?, rowid(n - 1)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode() {
        assert_eq!(varint(&[0x05], 0), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00], 0), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9], 0), Some((-1, 9)));
    }
}
