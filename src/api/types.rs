//! The SDK's typed options: what a caller passes to
//! [`Sqlfork`](super::Sqlfork) (what it gets back is in `database.rs`).

use std::time::Duration;

/// How to fork (or create a branch). `Default` is a schema-only fork that
/// never expires, named after its slug.
#[derive(Debug, Clone, Default)]
pub struct ForkOptions {
    /// Human-readable name (default: the slug).
    pub name: Option<String>,
    /// Expire this long from now (1 hour to 30 days); `None` uses
    /// `default_ttl` from `config.toml`, if any.
    pub ttl: Option<Duration>,
    /// Copy every row too, not only the schema.
    pub with_data: bool,
    /// Mask and subset the rows as they are copied (see
    /// [`crate::mask`]); the default masks a data fork with `mask` in
    /// `config.toml`, if set, as the command line does.
    pub safe: crate::mask::SafeOptions,
    /// Fork the source's newest snapshot taken at or before this time: an
    /// RFC 3339 time (`2026-11-30T02:00:00Z`) or an age (`2h`, two hours
    /// ago). The source must then be a registered database.
    pub at: Option<String>,
    /// Keep the fork's base (its state now, which [`Sqlfork::merge`](crate::Sqlfork::merge)
    /// needs) even where that costs a full copy; where the file system
    /// clones, or the source is a snapshot, it is kept anyway.
    pub mergeable: bool,
}

/// How to create or reset a branch ([`Sqlfork::branch_put`](crate::Sqlfork::branch_put)).
#[derive(Debug, Clone, Default)]
pub struct BranchOptions {
    /// Copy the rows too (`Some(true)`), only the schema (`Some(false)`),
    /// or as the branch was made (`None`; schema only for a new branch).
    pub with_data: Option<bool>,
    /// Expire this long from this put; `None` uses `default_ttl`, if any.
    pub ttl: Option<Duration>,
    /// Mask and subset rules; the default keeps what the branch was made with.
    pub safe: crate::mask::SafeOptions,
    /// What a reset does when other processes have the branch open: by
    /// default it fails with [`Error::OpenElsewhere`](crate::Error::OpenElsewhere) naming them.
    pub when_open: crate::holders::WhenOpen,
}

/// How to reset a database in place ([`Sqlfork::reset`](crate::Sqlfork::reset)).
#[derive(Debug, Clone, Default)]
pub struct ResetOptions {
    /// Go back to this snapshot of the database itself (`NAME`) instead of
    /// its parent's current state.
    pub to: Option<String>,
    /// `Some(true)` with data, `Some(false)` schema only; `None` keeps the
    /// database's data mode.
    pub with_data: Option<bool>,
    /// Expire this long from the reset; `None` keeps the expiry.
    pub ttl: Option<Duration>,
    /// Mask and subset rules; the default keeps what the database was made with.
    pub safe: crate::mask::SafeOptions,
    /// What to do when other processes have the database open: by default
    /// fail with [`Error::OpenElsewhere`](crate::Error::OpenElsewhere) naming them.
    pub when_open: crate::holders::WhenOpen,
}

/// What [`Sqlfork::branch_put`](crate::Sqlfork::branch_put) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchAction {
    /// The branch did not exist; it was forked from its parent.
    Created,
    /// It existed; it now holds its parent's current state (same path).
    Reset,
    /// An interrupted first put was finished.
    Resumed,
}
