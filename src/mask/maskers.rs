//! The maskers: keyed, deterministic transformations of one value.
//!
//! Every masker is a pure function of (seed, masker, value): the same input
//! masks to the same output in every table, column and fork made with the
//! same seed, so joins and foreign keys on masked columns still hold. Keys
//! are HMAC-SHA256 of the seed and the masker's name, never of the column,
//! for exactly that reason.
//!
//! UNIQUE constraints on masked columns never fail:
//! - `hash` on integers is a keyed permutation of the 64-bit integers (a
//!   Feistel network), so distinct inputs stay distinct by construction;
//! - `phone` is a keyed permutation of the digit strings of each length
//!   (cycle-walking Feistel), with the non-digits kept in place: distinct
//!   inputs stay distinct;
//! - `hash` on text and blobs, and `email`, carry 96 to 128 bits of the
//!   keyed hash: a collision is as likely as guessing the key;
//! - `name` on a column under a UNIQUE constraint gets a 96-bit tag
//!   (`Ada Lovelace 3f…`), and looks like a plain name elsewhere.

use hmac::{Hmac, KeyInit, Mac};
use rusqlite::types::Value;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The masker names a rules file may use.
#[derive(Debug, Clone, PartialEq)]
pub enum Masker {
    Null,
    Hash,
    Email,
    Name,
    Phone,
    Fixed(Value),
    Sql(String),
    Keep,
}

impl Masker {
    pub fn label(&self) -> &'static str {
        match self {
            Masker::Null => "null",
            Masker::Hash => "hash",
            Masker::Email => "email",
            Masker::Name => "name",
            Masker::Phone => "phone",
            Masker::Fixed(_) => "fixed",
            Masker::Sql(_) => "sql",
            Masker::Keep => "keep",
        }
    }

    /// The code the SQL function `sqlfork_mask(code, value)` takes.
    pub fn code(&self) -> Option<i64> {
        match self {
            Masker::Hash => Some(1),
            Masker::Email => Some(2),
            Masker::Name => Some(3),
            Masker::Phone => Some(4),
            _ => None,
        }
    }
}

/// Keys derived once from the seed: one per masker.
#[derive(Clone)]
pub struct Keys {
    hash: Vec<u8>,
    email: Vec<u8>,
    name: Vec<u8>,
    phone: Vec<u8>,
}

/// Code for a `name` masker on a UNIQUE column (the tagged form).
pub const NAME_UNIQUE: i64 = 5;

impl Keys {
    pub fn new(seed: &str) -> Keys {
        let derive = |label: &str| mac(seed.as_bytes(), &[b"sqlfork-mask-v1/", label.as_bytes()]).to_vec();
        Keys { hash: derive("hash"), email: derive("email"), name: derive("name"), phone: derive("phone") }
    }

    /// Apply the masker with `code` to `value`. NULL stays NULL.
    pub fn apply(&self, code: i64, value: Value) -> Value {
        if value == Value::Null {
            return Value::Null;
        }
        match code {
            1 => self.hash(value),
            2 => Value::Text(self.email(&value)),
            3 => Value::Text(self.name(&value, false)),
            NAME_UNIQUE => Value::Text(self.name(&value, true)),
            4 => self.phone(value),
            _ => value,
        }
    }

    /// Same type: an integer stays an integer (a permutation), text stays
    /// text (32 hex digits), a blob stays a blob (16 bytes), a real stays a
    /// real.
    fn hash(&self, value: Value) -> Value {
        match value {
            Value::Integer(i) => Value::Integer(feistel64(&self.hash, i as u64) as i64),
            Value::Real(f) => {
                let d = mac(&self.hash, &[b"r", &f.to_bits().to_be_bytes()]);
                let bits = u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) >> 11;
                Value::Real(bits as f64 / (1u64 << 53) as f64 * 1e9)
            }
            Value::Text(t) => Value::Text(hex(&mac(&self.hash, &[b"t", t.as_bytes()])[..16])),
            Value::Blob(b) => Value::Blob(mac(&self.hash, &[b"b", &b])[..16].to_vec()),
            Value::Null => Value::Null,
        }
    }

    fn email(&self, value: &Value) -> String {
        let d = mac(&self.email, &[&text_bytes(value)]);
        format!("user-{}@example.com", hex(&d[..12]))
    }

    fn name(&self, value: &Value, unique: bool) -> String {
        let d = mac(&self.name, &[&text_bytes(value)]);
        let first = FIRST[u16::from_be_bytes([d[0], d[1]]) as usize % FIRST.len()];
        let last = LAST[u16::from_be_bytes([d[2], d[3]]) as usize % LAST.len()];
        if unique {
            format!("{first} {last} {}", hex(&d[4..16]))
        } else {
            format!("{first} {last}")
        }
    }

    /// Digits replaced, everything else kept: `+44 (20) 7946-0958` keeps its
    /// shape. Integers stay integers.
    fn phone(&self, value: Value) -> Value {
        match value {
            // An integer keeps its number of digits: the permutation of
            // 0..10^n is walked until it lands on an n-digit number, which
            // makes it a permutation of the n-digit numbers (distinct
            // inputs stay distinct, as under UNIQUE).
            Value::Integer(i) if (1..=999_999_999_999_999_999).contains(&i.unsigned_abs()) => {
                let x = i.unsigned_abs();
                let digits = x.ilog10() + 1;
                let low = 10u64.pow(digits - 1);
                let mut y = decimal_permutation(&self.phone, 0, digits, x);
                while y < low {
                    y = decimal_permutation(&self.phone, 0, digits, y);
                }
                Value::Integer(if i < 0 { -(y as i64) } else { y as i64 })
            }
            // 0 and 19-digit numbers are not phone numbers: hashed.
            Value::Integer(i) => self.hash(Value::Integer(i)),
            Value::Text(t) => Value::Text(self.phone_digits(&t)),
            other => self.hash(other),
        }
    }

    fn phone_digits(&self, text: &str) -> String {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).collect();
        if digits.is_empty() {
            return text.to_string();
        }
        // Chunks of at most 18 digits, each permuted within its length.
        let mut masked = Vec::with_capacity(digits.len());
        for (n, chunk) in digits.chunks(18).enumerate() {
            let x: u64 = std::str::from_utf8(chunk).expect("ascii digits").parse().expect("digits");
            let y = decimal_permutation(&self.phone, n as u8, chunk.len() as u32, x);
            masked.extend(format!("{y:0width$}", width = chunk.len()).into_bytes());
        }
        let mut it = masked.into_iter();
        text.chars().map(|c| if c.is_ascii_digit() { it.next().map(char::from).unwrap_or(c) } else { c }).collect()
    }
}

fn text_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Text(t) => t.as_bytes().to_vec(),
        Value::Integer(i) => i.to_string().into_bytes(),
        Value::Real(f) => f.to_string().into_bytes(),
        Value::Blob(b) => b.clone(),
        Value::Null => vec![],
    }
}

pub fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Round function: the keyed hash of (tag, round, half), `bits` wide.
fn round(key: &[u8], tag: u8, r: u8, half: u64, bits: u32) -> u64 {
    let d = mac(key, &[&[tag, r], &half.to_be_bytes()]);
    let v = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
    if bits >= 64 {
        v
    } else {
        v & ((1u64 << bits) - 1)
    }
}

/// A keyed permutation of the 64-bit integers (balanced Feistel, 4 rounds).
fn feistel64(key: &[u8], x: u64) -> u64 {
    let (mut l, mut r) = (x >> 32, x & 0xffff_ffff);
    for i in 0..4u8 {
        let f = round(key, 0xfe, i, r, 32);
        (l, r) = (r, l ^ f);
    }
    (l << 32) | r
}

/// A keyed permutation of the `2*half_bits`-bit integers.
fn feistel_bits(key: &[u8], tag: u8, half_bits: u32, x: u64) -> u64 {
    let mask = (1u64 << half_bits) - 1;
    let (mut l, mut r) = (x >> half_bits, x & mask);
    for i in 0..4u8 {
        let f = round(key, tag, i, r, half_bits);
        (l, r) = (r, l ^ f);
    }
    (l << half_bits) | r
}

/// A keyed permutation of `0..10^digits` (cycle walking over the smallest
/// even-width binary domain that holds it): distinct numbers of the same
/// length stay distinct.
fn decimal_permutation(key: &[u8], chunk: u8, digits: u32, x: u64) -> u64 {
    let n = 10u64.pow(digits);
    let mut half = 1u32;
    while (1u128 << (2 * half)) < n as u128 {
        half += 1;
    }
    let tag = chunk.wrapping_mul(32).wrapping_add(digits as u8);
    let mut y = feistel_bits(key, tag, half, x);
    while y >= n {
        y = feistel_bits(key, tag, half, y);
    }
    y
}

const FIRST: &[&str] = &[
    "Ada", "Alan", "Alice", "Amara", "Ana", "Ben", "Bea", "Carl", "Chen", "Clara", "Dara", "David", "Elif", "Emma",
    "Erik", "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jamal", "Jane", "Jonas", "Kai", "Karin",
    "Leila", "Leo", "Lina", "Luca", "Maya", "Mateo", "Mei", "Nadia", "Nils", "Noor", "Omar", "Olga", "Pablo", "Priya",
    "Quinn", "Rosa", "Ravi", "Sara", "Sven", "Tariq", "Tess", "Uma", "Vera", "Victor", "Wen", "Yara", "Yusuf", "Zoe",
];

const LAST: &[&str] = &[
    "Abbott", "Bauer", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Hansen", "Ito", "Jensen",
    "Kaur", "Kim", "Kowalski", "Larsen", "Lopez", "Meyer", "Moreau", "Nakamura", "Novak", "Okafor", "Olsen", "Park",
    "Petrov", "Quispe", "Rossi", "Santos", "Schmidt", "Silva", "Tanaka", "Torres", "Uddin", "Varga", "Weber", "Wong",
    "Yilmaz", "Young", "Zhang", "Zimmer",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_hash_is_a_permutation_and_keyed() {
        let k = Keys::new("s");
        let mut seen = std::collections::HashSet::new();
        for i in -500i64..500 {
            let Value::Integer(m) = k.apply(1, Value::Integer(i)) else { panic!("not an integer") };
            assert!(seen.insert(m));
        }
        assert_ne!(Keys::new("t").apply(1, Value::Integer(7)), k.apply(1, Value::Integer(7)));
    }

    #[test]
    fn phone_keeps_the_format_and_stays_distinct() {
        let k = Keys::new("s");
        let Value::Text(p) = k.apply(4, Value::Text("+44 (20) 7946-0958".into())) else { panic!() };
        assert_eq!(p.len(), "+44 (20) 7946-0958".len());
        assert!(p.starts_with("+") && p.contains(" (") && p.contains(") ") && p.contains('-'), "{p}");
        assert_ne!(p, "+44 (20) 7946-0958");
        let mut seen = std::collections::HashSet::new();
        for i in 0..1000 {
            let Value::Text(m) = k.apply(4, Value::Text(format!("555-{i:04}"))) else { panic!() };
            assert!(seen.insert(m));
        }
    }

    #[test]
    fn integer_phones_keep_their_length_and_stay_distinct() {
        let k = Keys::new("s");
        let mut seen = std::collections::HashSet::new();
        for i in 1000i64..10_000 {
            let Value::Integer(m) = k.apply(4, Value::Integer(i)) else { panic!("not an integer") };
            assert!((1000..10_000).contains(&m), "{i} -> {m}");
            assert!(seen.insert(m));
        }
    }

    #[test]
    fn text_maskers_keep_their_shape() {
        let k = Keys::new("s");
        let Value::Text(e) = k.apply(2, Value::Text("ada@corp.example".into())) else { panic!() };
        assert!(e.starts_with("user-") && e.ends_with("@example.com"), "{e}");
        let Value::Text(n) = k.apply(3, Value::Text("Grace Hopper".into())) else { panic!() };
        assert_eq!(n.split(' ').count(), 2, "{n}");
        assert_eq!(k.apply(2, Value::Null), Value::Null);
    }
}
