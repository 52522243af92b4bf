//! "Did you mean …?": the registered address nearest to one that does not
//! exist, by edit distance.

use crate::registry::Registry;

/// Levenshtein distance between two strings (by character).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The registered address nearest to `wanted`, if one is close enough to
/// be a likely typo (at most a third of its length, and at most 3 edits).
pub(crate) fn nearest(reg: &Registry, wanted: &str) -> Option<String> {
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    reg.databases
        .iter()
        .filter(|e| !e.branch.as_deref().is_some_and(crate::address::is_internal_ref))
        .map(|e| e.address().to_string())
        .filter(|a| a != wanted)
        .map(|a| (distance(&a, wanted), a))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("acme/prod", "acme/prdo"), 2);
        assert_eq!(distance("acme/prod", "acme/prod"), 0);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
