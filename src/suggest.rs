//! "Did you mean …?": the registered address nearest to one that does not
//! exist, by edit distance.

/// Edit distance between two strings (by character): insertions,
/// deletions, substitutions and swaps of two neighbours (`prdo` → `prod`)
/// each count one (optimal string alignment).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

/// True when `candidate` is close enough to `wanted` to be a likely typo of
/// it: at most a third of the whole address changed (1 to 3 edits), and at
/// most half of the name after the namespace, so that a short name is not
/// "corrected" into a different one (`acme/zz` is not a typo of `acme/m2`).
fn close_enough(wanted: &str, candidate: &str, d: usize) -> bool {
    let whole = wanted.chars().count();
    let name = wanted.split_once('/').map_or(whole, |(_, rest)| rest.chars().count());
    d >= 1 && d <= (whole / 3).clamp(1, 3) && 2 * d <= name && candidate != wanted
}

/// The address among `known` nearest to `wanted`, if one is close enough
/// to be a likely typo (see [`close_enough`]).
pub(crate) fn nearest(known: impl IntoIterator<Item = String>, wanted: &str) -> Option<String> {
    known
        .into_iter()
        .map(|a| (distance(&a, wanted), a))
        .filter(|(d, a)| close_enough(wanted, a, *d))
        .min()
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("acme/prod", "acme/prdo"), 1, "a swap is one edit");
        assert_eq!(distance("acme/zz", "acme/m2"), 2);
        assert_eq!(distance("acme/prod", "acme/prod"), 0);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn only_likely_typos_are_suggested() {
        let near = |w: &str, c: &str| close_enough(w, c, distance(w, c));
        assert!(near("acme/prdo", "acme/prod"));
        assert!(near("acme/prod@featrue", "acme/prod@feature"));
        assert!(near("acme/t11", "acme/t1"));
        assert!(near("acne/prod", "acme/prod"));
        assert!(!near("acme/zz", "acme/m2"), "a whole short name replaced is no typo");
        assert!(!near("acme/cc", "acme/m2"));
        assert!(!near("zzz/qqq", "acme/prod"));
        assert!(!near("acme/prod", "acme/prod"));
    }
}
