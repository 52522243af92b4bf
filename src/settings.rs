//! Where a command's arguments meet `config.toml`, once per command, for
//! every surface alike: the command line (`commands/`), the MCP server
//! (`mcp`) and the SDK (`api`) each fill in a request below with what they
//! were given, and `resolve` turns it into the core's options. Nothing else
//! parses or checks a TTL, loads mask rules, parses subset filters or
//! resolves `--at`, so the three surfaces cannot drift apart.

use crate::address::{Address, SnapshotAddress, Source};
use crate::error::Error;
use crate::home::{Config, Home};
use crate::mask::{Rules, SafeOptions, SubsetRule};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A TTL as a surface got it: text a person or an agent wrote (`7d`), or a
/// duration (the SDK). Either way it is checked against 1 hour to 30 days.
#[derive(Debug, Clone)]
pub(crate) enum Ttl {
    Text(String),
    Duration(Duration),
}

impl Ttl {
    pub(crate) fn resolve(ttl: Option<&Ttl>) -> Result<Option<Duration>, Error> {
        match ttl {
            None => Ok(None),
            Some(Ttl::Text(t)) => crate::ttl::parse_ttl(t).map(Some),
            Some(Ttl::Duration(d)) => crate::ttl::check_ttl(*d).map(Some),
        }
    }

    /// From text, when given.
    pub(crate) fn text(t: Option<String>) -> Option<Ttl> {
        t.map(Ttl::Text)
    }

    /// From a duration, when given.
    pub(crate) fn duration(d: Option<Duration>) -> Option<Ttl> {
        d.map(Ttl::Duration)
    }
}

/// A TTL on its own (`db create`, `snapshot create`, `db ttl`), checked.
pub(crate) fn ttl(ttl: Option<Ttl>) -> Result<Option<Duration>, Error> {
    Ttl::resolve(ttl.as_ref())
}

/// How long `db wait` waits: `what` names the argument in the sentence
/// (`--timeout` for the CLI, `timeout` for MCP).
pub(crate) fn timeout(text: Option<&str>, what: &str) -> Result<Option<Duration>, Error> {
    text.map(|t| crate::ttl::parse_duration_arg(what, t, "30s or 10m")).transpose()
}

/// Masking and subsets as a surface got them: a rules file and filter text
/// (CLI, MCP), or rules already loaded (SDK).
#[derive(Debug, Clone, Default)]
pub(crate) struct Safe {
    /// Rules and filters already parsed (the SDK's `SafeOptions`).
    pub(crate) given: SafeOptions,
    /// `--mask FILE` / `mask`.
    pub(crate) mask_file: Option<PathBuf>,
    /// `--subset TABLE:WHERE` / `subset`.
    pub(crate) subset: Vec<String>,
    /// `--strict` / `strict`.
    pub(crate) strict: bool,
}

impl Safe {
    /// The rules file (else, for a data fork, `mask` in config.toml), the
    /// subset filters, and `strict`, which needs rules.
    pub(crate) fn resolve(self, config: &Config, with_data: bool) -> Result<SafeOptions, Error> {
        let Safe { given, mask_file, subset, strict } = self;
        let file = mask_file.or_else(|| if with_data && given.rules.is_none() { config.mask.clone() } else { None });
        let rules = match (given.rules, file) {
            (Some(r), _) => Some(r),
            (None, f) => f.as_deref().map(Rules::load).transpose()?,
        };
        let mut filters = given.subset;
        for s in &subset {
            filters.push(SubsetRule::parse(s)?);
        }
        let strict = strict || given.strict;
        if strict && rules.is_none() {
            return Err(Error::invalid("--strict needs mask rules: pass --mask FILE (or set mask in config.toml)"));
        }
        Ok(SafeOptions { rules, subset: filters, strict })
    }
}

/// `db fork`, `fork_database`, [`crate::Sqlfork::fork`].
#[derive(Debug, Clone)]
pub(crate) struct ForkRequest {
    /// An address, a snapshot, or a path to a SQLite file.
    pub(crate) source: String,
    /// Fork the source's newest snapshot at or before this time (RFC 3339)
    /// or age (`2h`).
    pub(crate) at: Option<String>,
    pub(crate) destination: String,
    pub(crate) name: Option<String>,
    pub(crate) ttl: Option<Ttl>,
    pub(crate) with_data: bool,
    pub(crate) detach: bool,
    pub(crate) safe: Safe,
    /// Keep the fork's base even where that costs a full copy.
    pub(crate) mergeable: bool,
}

/// A fork request resolved: the core's options, and the snapshot `at`
/// chose (the CLI says which).
#[derive(Debug)]
pub(crate) struct Fork {
    pub(crate) options: crate::fork::ForkOptions,
    pub(crate) at: Option<(SnapshotAddress, SystemTime)>,
}

impl ForkRequest {
    pub(crate) fn resolve(self, home: &Home, config: &Config) -> anyhow::Result<Fork> {
        let (source, at) = match &self.at {
            None => (Source::parse(&self.source)?, None),
            Some(at) => {
                let src = &self.source;
                let db = Address::parse(src).map_err(|e| {
                    crate::error::Error::BadAddress(
                        e.within(format!("--at needs SRC to be a database address NS/SLUG (`{src}` is not: {e})")),
                    )
                })?;
                let when = crate::snapshot::parse_at(at, crate::ttl::now())?;
                let snap = crate::snapshot::resolve_at(home, &db, when)?;
                (Source::parse(&snap.to_string())?, Some((snap, when)))
            }
        };
        let ttl = Ttl::resolve(self.ttl.as_ref())?;
        if self.detach && !self.with_data {
            // (The CLI's clap says this first, as `--detach` requires `--with-data`.)
            return Err(
                Error::invalid("`detach` needs `includeData: true`: a schema-only fork is ready at once").into()
            );
        }
        let safe = self.safe.resolve(config, self.with_data)?;
        let options = crate::fork::ForkOptions {
            source,
            destination: self.destination,
            name: self.name,
            ttl,
            with_data: self.with_data,
            detach: self.detach,
            branch: None,
            safe,
            mergeable: self.mergeable,
        };
        Ok(Fork { options, at })
    }
}

/// `branch put`, `branch_put`, [`crate::Sqlfork::branch_put`].
#[derive(Debug, Clone)]
pub(crate) struct BranchRequest {
    /// `NS/SLUG@REF`.
    pub(crate) address: String,
    pub(crate) with_data: Option<bool>,
    pub(crate) ttl: Option<Ttl>,
    pub(crate) safe: Safe,
    /// What a reset does when other processes have the branch open.
    pub(crate) when_open: crate::holders::WhenOpen,
}

impl BranchRequest {
    /// (A bad address stays an `AddressError` in the chain, so that the
    /// command line can suggest the namespace of a bare slug.)
    pub(crate) fn resolve(self, config: &Config) -> anyhow::Result<crate::branch::PutOptions> {
        let address = Address::parse(&self.address)?;
        crate::branch::require_ref(&address)?;
        let ttl = Ttl::resolve(self.ttl.as_ref())?;
        let safe = self.safe.resolve(config, self.with_data == Some(true))?;
        Ok(crate::branch::PutOptions { address, with_data: self.with_data, ttl, safe, when_open: self.when_open })
    }
}

/// `db reset`, `reset_database`, [`crate::Sqlfork::reset`].
#[derive(Debug, Clone)]
pub(crate) struct ResetRequest {
    pub(crate) address: String,
    /// A snapshot of the database itself (`NAME` or `NS/SLUG:NAME`).
    pub(crate) to: Option<String>,
    pub(crate) with_data: Option<bool>,
    pub(crate) ttl: Option<Ttl>,
    pub(crate) safe: Safe,
    /// What to do when other processes have the database open.
    pub(crate) when_open: crate::holders::WhenOpen,
}

impl ResetRequest {
    pub(crate) fn resolve(self, config: &Config) -> anyhow::Result<crate::reset::ResetOptions> {
        let address = Address::parse(&self.address)?;
        let ttl = Ttl::resolve(self.ttl.as_ref())?;
        // `mask` in config.toml applies to a reset only through the
        // database's own record (it was made masked).
        let safe = self.safe.resolve(config, false)?;
        Ok(crate::reset::ResetOptions {
            address,
            to: self.to,
            with_data: self.with_data,
            ttl,
            safe,
            when_open: self.when_open,
        })
    }
}

/// `snapshot create`, `create_snapshot`, [`crate::Sqlfork::snapshot`].
#[derive(Debug, Clone)]
pub(crate) struct SnapshotRequest {
    /// `NS/SLUG[@REF]`, or `NS/SLUG[@REF]:NAME` naming the snapshot.
    pub(crate) address: String,
    /// The name, when not in the address (default: the UTC time).
    pub(crate) name: Option<String>,
    pub(crate) ttl: Option<Ttl>,
}

impl SnapshotRequest {
    pub(crate) fn resolve(self) -> anyhow::Result<crate::snapshot::CreateOptions> {
        let (address, in_address) = SnapshotAddress::parse_optional(&self.address)?;
        let ttl = Ttl::resolve(self.ttl.as_ref())?;
        Ok(crate::snapshot::CreateOptions { address, name: in_address.or(self.name), ttl })
    }
}

/// `db rehearse`, `rehearse_migration`.
#[derive(Debug, Clone)]
pub(crate) struct RehearseRequest {
    /// An address, a branch, a snapshot or a path.
    pub(crate) source: String,
    pub(crate) migrations: Vec<PathBuf>,
    pub(crate) down: Vec<PathBuf>,
    pub(crate) safe: Safe,
    /// A write lock held longer than this is a warning (`1s`).
    pub(crate) lock_budget: String,
    /// How the surface names the lock budget (`--lock-budget`, `lockBudget`).
    pub(crate) lock_budget_arg: &'static str,
    pub(crate) keep: Option<String>,
}

impl RehearseRequest {
    /// The rehearsal's options (no cancel flag: the caller adds its own).
    pub(crate) fn resolve(self, config: &Config) -> anyhow::Result<crate::rehearse::RehearseOptions> {
        let budget = self.lock_budget.trim();
        let lock_budget = humantime::parse_duration(budget).map_err(|_| Error::BadDuration {
            option: self.lock_budget_arg.to_string(),
            text: self.lock_budget.clone(),
            why: crate::error::DurationProblem::NotADuration { like: "1s or 250ms".into() },
        })?;
        Ok(crate::rehearse::RehearseOptions {
            source: self.source,
            migrations: self.migrations,
            down: self.down,
            safe: self.safe.resolve(config, true)?,
            lock_budget,
            keep: self.keep,
            cancel: None,
        })
    }
}
