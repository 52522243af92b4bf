//! Property tests for the address and branch-ref parser: it never panics,
//! accepts exactly what the spec allows, and prints back what it parsed.
//! `PROPTEST_CASES=100000 cargo test --release --test prop_address` runs it
//! longer (see the README's Reliability section).

use proptest::prelude::*;
use sqlfork::address::{check_ref, Address};

/// What the spec allows for a namespace or slug, checked independently of
/// the parser.
fn valid_part(p: &str) -> bool {
    !p.is_empty()
        && p.chars().count() <= 63
        && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !p.starts_with('-')
        && !p.ends_with('-')
}

fn valid_ref(r: &str) -> bool {
    !r.is_empty()
        && r.chars().count() <= 100
        && r.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && !r.contains("..")
}

proptest! {
    #[test]
    fn parser_never_panics(s in "\\PC{0,200}") {
        let _ = Address::parse(&s);
        let _ = Address::parse_destination(&s, "local");
    }

    #[test]
    // '@' starts a branch ref: `refs_accepted_exactly_when_valid` covers it.
    fn parts_accepted_exactly_when_valid(ns in "[a-z0-9-]{0,70}|[^@\\p{C}]{0,8}", slug in "[a-z0-9-]{0,70}|[^@\\p{C}]{0,8}") {
        let text = format!("{ns}/{slug}");
        let parsed = Address::parse(&text);
        let expect = valid_part(&ns) && valid_part(&slug);
        prop_assert_eq!(parsed.is_ok(), expect, "{:?} -> {:?}", text, parsed);
        if let Ok(a) = parsed {
            prop_assert_eq!(a.to_string(), text);
        }
    }

    #[test]
    fn refs_accepted_exactly_when_valid(r in "[A-Za-z0-9._/-]{0,110}|\\PC{0,10}") {
        prop_assert_eq!(check_ref(&r).is_ok(), valid_ref(&r), "{:?}", r);
        let text = format!("acme/orders@{r}");
        let parsed = Address::parse(&text);
        prop_assert_eq!(parsed.is_ok(), valid_ref(&r) && !r.contains('@'));
        if let Ok(a) = parsed {
            prop_assert_eq!(a.to_string(), text);
            prop_assert_eq!(a.branch.as_deref(), Some(r.as_str()));
        }
    }

    #[test]
    fn errors_are_one_sentence(s in "\\PC{0,80}") {
        if let Err(e) = Address::parse(&s) {
            let message = e.to_string();
            prop_assert!(!message.contains('\n'), "{:?}", message);
            prop_assert!(!message.is_empty());
        }
    }
}
