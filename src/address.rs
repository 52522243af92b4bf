//! Database addresses: `NS/SLUG`, `NS/SLUG@REF`, and fork sources that are
//! plain file paths.
//!
//! Addresses never become paths: files are named by id (see `registry`).

use std::fmt;
use std::path::PathBuf;

/// Why a text is not an address (or a namespace, slug or ref): one
/// sentence naming the rule it breaks, and [`AddressError::problem`], the
/// rule as data for a caller to branch on. Bad input: exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError {
    message: String,
    problem: AddressProblem,
    /// The text, when it was a bare name with no namespace (`prod`,
    /// `prod@pr-7`): the command line suggests the addresses it may mean.
    bare: Option<String>,
}

/// The rule an address breaks ([`AddressError::problem`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressProblem {
    /// A part (namespace, slug, ref, snapshot or remote name) is empty.
    Empty,
    /// A part is longer than `limit` characters.
    TooLong { limit: usize },
    /// A part holds a character it may not.
    BadCharacter(char),
    /// A namespace, slug or remote name starts or ends with '-'.
    Dash,
    /// A branch ref holds `..`.
    DotDot,
    /// A bare name, with no `NAMESPACE/`.
    NoNamespace,
    /// No `@REF` where a branch is needed.
    NoBranch,
    /// No `:NAME` where a snapshot is needed.
    NoSnapshot,
    /// No `REMOTE:` where a remote address is needed.
    NoRemote,
    /// A branch (`@REF`) where a database is needed.
    NamesABranch,
    /// A snapshot (`:NAME`) where a database is needed.
    NamesASnapshot,
}

impl AddressError {
    pub(crate) fn new(problem: AddressProblem, message: impl Into<String>) -> Self {
        AddressError { message: message.into(), problem, bare: None }
    }

    /// The same problem, told by a sentence that names the whole text
    /// (`` `x/Y` is not a valid address: … ``).
    pub(crate) fn within(&self, message: impl Into<String>) -> Self {
        AddressError { message: message.into(), problem: self.problem, bare: None }
    }

    /// The rule the text breaks.
    pub fn problem(&self) -> AddressProblem {
        self.problem
    }

    /// The text typed, when it was a name without its namespace.
    pub(crate) fn bare_name(&self) -> Option<&str> {
        self.bare.as_deref()
    }
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AddressError {}

/// A registered database's address, optionally naming a branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub namespace: String,
    pub slug: String,
    /// The branch ref, for `NS/SLUG@REF`.
    pub branch: Option<String>,
}

impl Address {
    pub fn new(namespace: &str, slug: &str) -> Result<Self, AddressError> {
        check_part("namespace", namespace)?;
        check_part("slug", slug)?;
        Ok(Address { namespace: namespace.to_string(), slug: slug.to_string(), branch: None })
    }

    /// Parse `NS/SLUG` or `NS/SLUG@REF`.
    pub fn parse(text: &str) -> Result<Self, AddressError> {
        let (base, branch) = match text.split_once('@') {
            Some((base, r)) => (base, Some(r)),
            None => (text, None),
        };
        let Some((ns, slug)) = base.split_once('/') else {
            return Err(AddressError {
                bare: Some(text.to_string()),
                ..AddressError::new(
                    AddressProblem::NoNamespace,
                    format!("`{text}` is not an address: write it as NAMESPACE/SLUG, for example acme/orders"),
                )
            });
        };
        let mut addr = Address::new(ns, slug).map_err(|e| e.within(format!("`{text}` is not a valid address: {e}")))?;
        if let Some(r) = branch {
            check_ref(r).map_err(|e| e.within(format!("`{text}` is not a valid address: {e}")))?;
            addr.branch = Some(r.to_string());
        }
        Ok(addr)
    }

    /// Parse an address that must not name a branch.
    pub fn parse_database(text: &str) -> Result<Self, AddressError> {
        let addr = Address::parse(text)?;
        if addr.branch.is_some() {
            return Err(AddressError::new(
                AddressProblem::NamesABranch,
                format!("`{text}` names a branch; this command takes a database address NAMESPACE/SLUG"),
            ));
        }
        Ok(addr)
    }

    /// Parse a fork destination: `NS/SLUG`, or a bare `SLUG` that lands in
    /// `default_namespace`.
    pub fn parse_destination(text: &str, default_namespace: &str) -> Result<Self, AddressError> {
        if text.contains('/') || text.contains('@') {
            Address::parse_database(text)
        } else {
            check_part("slug", text).map_err(|e| e.within(format!("`{text}` is not a valid destination: {e}")))?;
            Address::new(default_namespace, text)
        }
    }

    /// The same database without its branch ref.
    pub fn database(&self) -> Address {
        Address { branch: None, ..self.clone() }
    }

    /// The hidden fork a reset of this branch builds: `NS/SLUG@REF~reset`,
    /// an address no user can type (`~` is not allowed in refs).
    pub(crate) fn reset_copy(&self) -> Address {
        let r = self.branch.as_deref().unwrap_or_default();
        Address { branch: Some(format!("{r}{RESET_SUFFIX}")), ..self.clone() }
    }

    /// For a reset's hidden fork, the branch it is building: the inverse of
    /// [`Address::reset_copy`].
    pub(crate) fn reset_owner(&self) -> Option<Address> {
        let r = self.branch.as_deref()?.strip_suffix(RESET_SUFFIX)?;
        // `NS/SLUG@~reset` is the reset copy of `NS/SLUG` itself (`db reset`).
        let branch = (!r.is_empty()).then(|| r.to_string());
        Some(Address { branch, ..self.clone() })
    }

    /// True for an address sqlfork uses internally (a reset's hidden fork),
    /// which `db list` and `branch list` do not show.
    pub(crate) fn is_internal(&self) -> bool {
        self.branch.as_deref().is_some_and(is_internal_ref)
    }
}

/// Appended to a branch's ref to name the fork a reset builds.
pub(crate) const RESET_SUFFIX: &str = "~reset";

/// Between a database's ref and a snapshot's name in the hidden fork that
/// builds the snapshot: `NS/SLUG@REF~snapshot~NAME`.
pub(crate) const SNAPSHOT_INFIX: &str = "~snapshot~";

/// True for refs sqlfork uses internally (never valid user refs).
pub(crate) fn is_internal_ref(r: &str) -> bool {
    r.contains('~')
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.slug)?;
        if let Some(r) = &self.branch {
            write!(f, "@{r}")?;
        }
        Ok(())
    }
}

/// Check a namespace or slug: 1–63 of `a-z 0-9 -`, not starting or ending
/// with `-`. The message says which rule broke.
pub fn check_part(what: &str, part: &str) -> Result<(), AddressError> {
    if part.is_empty() {
        return Err(AddressError::new(
            AddressProblem::Empty,
            format!("the {what} is empty; it needs 1 to 63 characters"),
        ));
    }
    // Count characters, not bytes: a 32-character slug of 'é' must not be
    // reported as "32 characters long; the limit is 63" (it breaks the
    // character rule below instead).
    let len = part.chars().count();
    if len > 63 {
        return Err(AddressError::new(
            AddressProblem::TooLong { limit: 63 },
            format!("the {what} `{part}` is {len} characters long; the limit is 63"),
        ));
    }
    if let Some(c) = part.chars().find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '-')) {
        return Err(AddressError::new(
            AddressProblem::BadCharacter(c),
            format!("the {what} `{part}` contains {c:?}; only lowercase letters a-z, digits 0-9 and '-' are allowed"),
        ));
    }
    if part.starts_with('-') || part.ends_with('-') {
        return Err(AddressError::new(
            AddressProblem::Dash,
            format!("the {what} `{part}` must not start or end with '-'"),
        ));
    }
    Ok(())
}

/// Check a branch ref: 1–100 of `A-Za-z0-9._/-`, never containing `..`.
pub fn check_ref(r: &str) -> Result<(), AddressError> {
    if r.is_empty() {
        return Err(AddressError::new(
            AddressProblem::Empty,
            "the branch ref after '@' is empty; it needs 1 to 100 characters",
        ));
    }
    let len = r.chars().count();
    if len > 100 {
        return Err(AddressError::new(
            AddressProblem::TooLong { limit: 100 },
            format!("the branch ref is {len} characters long; the limit is 100"),
        ));
    }
    if let Some(c) = r.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))) {
        return Err(AddressError::new(
            AddressProblem::BadCharacter(c),
            format!("the branch ref `{r}` contains {c:?}; only A-Z, a-z, 0-9, '.', '_', '/' and '-' are allowed"),
        ));
    }
    if r.contains("..") {
        return Err(AddressError::new(AddressProblem::DotDot, format!("the branch ref `{r}` must not contain '..'")));
    }
    Ok(())
}

/// Where a fork reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A registered database.
    Registered(Address),
    /// A SQLite file that is not registered.
    Path(PathBuf),
    /// A snapshot of a registered database (`NS/SLUG:NAME`).
    Snapshot(SnapshotAddress),
    /// A snapshot on a remote (`REMOTE:NS/SLUG:NAME`, SPEC section 15),
    /// forked from the local copy a pull made of it.
    Remote(RemoteSnapshotAddress),
}

/// A snapshot on a remote: `REMOTE:NS/SLUG:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemoteSnapshotAddress {
    /// The remote's name (`remote add NAME URL`).
    pub remote: String,
    /// The snapshot's address on the remote (never with a branch ref).
    pub snapshot: SnapshotAddress,
}

/// True when `text` names something on a remote: a name before the first
/// `/` followed by `:` (`origin:acme/orders:nightly`, `origin:acme/orders`).
pub fn is_remote(text: &str) -> bool {
    let head = text.split('/').next().unwrap_or_default();
    head.contains(':')
}

/// Split `REMOTE:REST` and check the remote's name (the namespace rule).
pub fn split_remote(text: &str) -> Result<(String, &str), AddressError> {
    let Some((remote, rest)) = text.split_once(':').filter(|_| is_remote(text)) else {
        return Err(AddressError::new(
            AddressProblem::NoRemote,
            format!(
                "`{text}` names no remote; write REMOTE:NAMESPACE/SLUG[:NAME], for example origin:acme/orders:nightly"
            ),
        ));
    };
    check_part("remote name", remote).map_err(|e| e.within(format!("`{text}` is not a valid remote address: {e}")))?;
    Ok((remote.to_string(), rest))
}

impl RemoteSnapshotAddress {
    /// Parse `REMOTE:NS/SLUG:NAME`.
    pub fn parse(text: &str) -> Result<Self, AddressError> {
        let (remote, rest) = split_remote(text)?;
        let snapshot = SnapshotAddress::parse(rest)?;
        if snapshot.database.branch.is_some() {
            return Err(AddressError::new(
                AddressProblem::NamesABranch,
                format!("`{text}` names a branch; a remote snapshot is REMOTE:NAMESPACE/SLUG:NAME"),
            ));
        }
        Ok(RemoteSnapshotAddress { remote, snapshot })
    }

    /// Parse `REMOTE:NS/SLUG` with an optional `:NAME`.
    pub fn parse_optional(text: &str) -> Result<(String, Address, Option<String>), AddressError> {
        let (remote, rest) = split_remote(text)?;
        let (db, name) = SnapshotAddress::parse_optional(rest)?;
        if db.branch.is_some() {
            return Err(AddressError::new(
                AddressProblem::NamesABranch,
                format!("`{text}` names a branch; a remote database is REMOTE:NAMESPACE/SLUG"),
            ));
        }
        Ok((remote, db, name))
    }
}

impl fmt::Display for RemoteSnapshotAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.remote, self.snapshot)
    }
}

/// A snapshot's address: `NS/SLUG:NAME` or `NS/SLUG@REF:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnapshotAddress {
    /// The database (or branch) the snapshot was taken of.
    pub database: Address,
    pub name: String,
}

impl SnapshotAddress {
    /// Parse `NS/SLUG:NAME` or `NS/SLUG@REF:NAME`.
    pub fn parse(text: &str) -> Result<Self, AddressError> {
        let Some((db, name)) = text.rsplit_once(':') else {
            return Err(AddressError::new(
                AddressProblem::NoSnapshot,
                format!("`{text}` names no snapshot; write NAMESPACE/SLUG:NAME, for example acme/orders:before-0042"),
            ));
        };
        let database = Address::parse(db)?;
        check_snapshot_name(name).map_err(|e| e.within(format!("`{text}` is not a valid snapshot: {e}")))?;
        Ok(SnapshotAddress { database, name: name.to_string() })
    }

    /// Parse `NS/SLUG[@REF]` with an optional `:NAME`.
    pub fn parse_optional(text: &str) -> Result<(Address, Option<String>), AddressError> {
        if text.contains(':') {
            let s = SnapshotAddress::parse(text)?;
            Ok((s.database, Some(s.name)))
        } else {
            Ok((Address::parse(text)?, None))
        }
    }
}

impl fmt::Display for SnapshotAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.database, self.name)
    }
}

/// Check a snapshot name: 1–100 of `A-Za-z0-9._-`.
pub fn check_snapshot_name(name: &str) -> Result<(), AddressError> {
    if name.is_empty() {
        return Err(AddressError::new(
            AddressProblem::Empty,
            "the snapshot name after ':' is empty; it needs 1 to 100 characters",
        ));
    }
    let len = name.chars().count();
    if len > 100 {
        return Err(AddressError::new(
            AddressProblem::TooLong { limit: 100 },
            format!("the snapshot name is {len} characters long; the limit is 100"),
        ));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(AddressError::new(
            AddressProblem::BadCharacter(c),
            format!("the snapshot name `{name}` contains {c:?}; only A-Z, a-z, 0-9, '.', '_' and '-' are allowed"),
        ));
    }
    Ok(())
}

impl Source {
    /// A path is anything that starts with `/`, `./`, `../` or `~`, or ends
    /// in `.db`, `.sqlite` or `.sqlite3`; anything else is an address.
    pub fn parse(text: &str) -> Result<Self, AddressError> {
        if looks_like_path(text) {
            Ok(Source::Path(expand_tilde(text)))
        } else if is_remote(text) {
            Ok(Source::Remote(RemoteSnapshotAddress::parse(text)?))
        } else if text.contains(':') {
            Ok(Source::Snapshot(SnapshotAddress::parse(text)?))
        } else {
            Ok(Source::Registered(Address::parse(text)?))
        }
    }
}

pub(crate) fn looks_like_path(text: &str) -> bool {
    text.starts_with('/')
        || text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with('~')
        || text.ends_with(".db")
        || text.ends_with(".sqlite")
        || text.ends_with(".sqlite3")
}

fn expand_tilde(text: &str) -> PathBuf {
    if text == "~" || text.starts_with("~/") {
        if let Some(home) = crate::env::user_home() {
            let mut p = PathBuf::from(home);
            if text.len() > 2 {
                p.push(&text[2..]);
            }
            return p;
        }
    }
    PathBuf::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_and_refs() {
        let a = Address::parse("acme/orders").unwrap();
        assert_eq!((a.namespace.as_str(), a.slug.as_str(), a.branch), ("acme", "orders", None));
        let b = Address::parse("acme/orders@feature/login-2.x_y").unwrap();
        assert_eq!(b.branch.as_deref(), Some("feature/login-2.x_y"));
        assert_eq!(b.to_string(), "acme/orders@feature/login-2.x_y");
        assert_eq!(b.database().to_string(), "acme/orders");
    }

    #[test]
    fn rejects_each_rule_with_its_reason() {
        let msg = |s: &str| Address::parse(s).unwrap_err().to_string();
        assert!(msg("acme").contains("NAMESPACE/SLUG"));
        assert!(msg("Acme/orders").contains("lowercase"));
        assert!(msg("acme/-orders").contains("start or end"));
        assert!(msg("acme/orders-").contains("start or end"));
        assert!(msg("/orders").contains("empty"));
        assert!(msg(&format!("acme/{}", "a".repeat(64))).contains("limit is 63"));
        assert!(Address::parse(&format!("acme/{}", "a".repeat(63))).is_ok());
        assert!(msg("acme/orders@").contains("empty"));
        assert!(msg("acme/orders@a..b").contains(".."));
        assert!(msg("acme/orders@a b").contains("' '"));
        assert!(msg(&format!("acme/o@{}", "r".repeat(101))).contains("limit is 100"));
        assert!(msg("acme/or/ders").contains("'/'"));
        // Length is counted in characters, so multi-byte input is reported
        // for the character it uses, not as "too long".
        assert!(msg(&format!("acme/{}", "é".repeat(32))).contains("'é'"));
        assert!(msg(&format!("acme/o@{}", "é".repeat(51))).contains("'é'"));
    }

    #[test]
    fn a_reset_copy_is_internal_and_knows_its_branch() {
        let b = Address::parse("acme/orders@pr-1").unwrap();
        let t = b.reset_copy();
        assert_eq!(t.to_string(), "acme/orders@pr-1~reset");
        assert!(t.is_internal() && !b.is_internal());
        assert_eq!(t.reset_owner(), Some(b.clone()));
        assert_eq!(b.reset_owner(), None);
        let d = Address::parse("acme/orders").unwrap();
        assert_eq!(d.reset_copy().to_string(), "acme/orders@~reset");
        assert_eq!(d.reset_copy().reset_owner(), Some(d.clone()));
        assert!(Address::parse(&t.to_string()).is_err(), "no user can type it");
    }

    #[test]
    fn destination_defaults_namespace() {
        let d = Address::parse_destination("pr-1", "acme").unwrap();
        assert_eq!(d.to_string(), "acme/pr-1");
        let d = Address::parse_destination("other/pr-1", "acme").unwrap();
        assert_eq!(d.to_string(), "other/pr-1");
        assert!(Address::parse_destination("PR", "acme").is_err());
    }

    #[test]
    fn paths_are_recognised() {
        for p in ["/tmp/x", "./x", "../x", "~/x", "x.db", "x.sqlite", "x.sqlite3"] {
            assert!(matches!(Source::parse(p).unwrap(), Source::Path(_)), "{p}");
        }
        assert!(matches!(Source::parse("acme/orders").unwrap(), Source::Registered(_)));
        assert!(matches!(Source::parse("acme/orders:before-0042").unwrap(), Source::Snapshot(_)));
        assert!(matches!(Source::parse("origin:acme/orders:nightly").unwrap(), Source::Remote(_)));
    }

    #[test]
    fn remote_addresses() {
        let r = RemoteSnapshotAddress::parse("origin:acme/orders:nightly").unwrap();
        assert_eq!((r.remote.as_str(), r.snapshot.to_string().as_str()), ("origin", "acme/orders:nightly"));
        assert_eq!(r.to_string(), "origin:acme/orders:nightly");
        let msg = |t: &str| RemoteSnapshotAddress::parse(t).unwrap_err().to_string();
        assert!(msg("Origin:acme/orders:x").contains("lowercase"));
        assert!(msg("origin:acme/orders").contains("names no snapshot"));
        assert!(msg("origin:acme/orders@b:x").contains("branch"));
        assert!(msg("acme/orders:x").contains("names no remote"));
        let (remote, db, name) = RemoteSnapshotAddress::parse_optional("origin:acme/orders").unwrap();
        assert_eq!((remote.as_str(), db.to_string().as_str(), name), ("origin", "acme/orders", None));
        assert!(!is_remote("acme/orders:x") && is_remote("origin:acme/orders"));
    }

    #[test]
    fn snapshot_addresses() {
        let s = SnapshotAddress::parse("acme/orders@feature/x:before.1_A-2").unwrap();
        assert_eq!(s.database.to_string(), "acme/orders@feature/x");
        assert_eq!(s.name, "before.1_A-2");
        assert_eq!(s.to_string(), "acme/orders@feature/x:before.1_A-2");
        let msg = |t: &str| SnapshotAddress::parse(t).unwrap_err().to_string();
        assert!(msg("acme/orders:").contains("empty"));
        assert!(msg("acme/orders:a b").contains("' '"));
        assert!(msg("acme/orders:a/b").contains("'/'"));
        assert!(msg(&format!("acme/orders:{}", "n".repeat(101))).contains("limit is 100"));
        assert!(SnapshotAddress::parse(&format!("acme/orders:{}", "n".repeat(100))).is_ok());
        assert!(msg("Acme/orders:x").contains("lowercase"));
        let (a, n) = SnapshotAddress::parse_optional("acme/orders").unwrap();
        assert_eq!((a.to_string(), n), ("acme/orders".to_string(), None));
    }
}
