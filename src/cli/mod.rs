//! The command-line interface: one clap definition, from which `--help` and
//! the shell completions are generated. This file holds the top level (global
//! flags, the command groups, `push`, `pull`, `completions`); each group's
//! subcommands are in a file of their own, and the arguments several
//! commands share in `args.rs`.

mod args;
mod branch;
mod db;
mod git_hook;
mod pool;
mod remote;
mod snapshot;

pub(crate) use args::{Confirmation, DataModeArgs, ForceArg, NameArg, SafeArgs, TtlArg, WhenOpenArgs};
pub(crate) use branch::BranchCommand;
pub(crate) use db::{DbCommand, DiffArgs, DiffFormat, FailOn, MergeFormat, PreferArg, RehearseArgs, RehearseFormat};
pub(crate) use git_hook::GitHookCommand;
pub(crate) use pool::PoolCommand;
pub(crate) use remote::RemoteCommand;
pub(crate) use snapshot::SnapshotCommand;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  failure (I/O, SQLite, a fork that could not be made, a read-only home, a damaged registry)
  2  usage error or invalid input (bad address, bad TTL, not a database, an invalid config.toml)
  3  not found (no such database, branch, snapshot or file)
  4  already exists (the destination is taken), or a reset's database is open in another process
  5  timed out (db wait --timeout; pool lease --timeout with every slot held)
  6  not enough space on the file system (says how much is needed and free)
  130  interrupted (Ctrl-C during a copy; `sqlfork db resume` continues it)
  db diff --exit-code: 0 the databases are the same, 1 they differ
  db merge, db rebase: 1 conflicts left unresolved (nothing written)
  db rehearse: 0 no finding reaches --fail-on, 1 one does

Environment:
  SQLFORK_HOME  home directory when --home is not given
  NO_COLOR      turn off colour in human output
  SQLFORK_NOW   pretend the current time is this RFC 3339 time (testing aid)";

/// Fork SQLite databases: exact, fast, safe copies addressed by name.
#[derive(Debug, Parser)]
#[command(name = "sqlfork", version, about, after_help = EXIT_CODES_HELP, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalArgs {
    /// Home directory holding the registry, config and database files
    /// [default: $SQLFORK_HOME, else the platform data directory]
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Print exactly one JSON document on stdout instead of human output
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but the result and errors (no progress, no notes)
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create, fork, inspect and delete databases
    #[command(subcommand)]
    Db(DbCommand),
    /// Branches NS/SLUG@REF: forks of a database that `branch put` creates or resets
    #[command(subcommand)]
    Branch(BranchCommand),
    /// Give each git branch its own database: a post-checkout hook that runs `branch put`
    #[command(subcommand)]
    GitHook(GitHookCommand),
    /// Serve these commands to agents over the Model Context Protocol on stdio
    #[command(
        after_help = "Add it to an MCP client's configuration, for example:\n  {\"mcpServers\": {\"sqlfork\": {\"command\": \"sqlfork\", \"args\": [\"mcp\"]}}}\nThe home comes from --home or SQLFORK_HOME, as for every command."
    )]
    Mcp,
    /// Snapshots NS/SLUG:NAME: read-only restore points to fork from or reset to
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Pools: N forks of a database for N parallel test workers, leased one per worker
    #[command(subcommand)]
    Pool(PoolCommand),
    /// Remotes: shared stores of snapshots on S3-compatible object storage or a shared directory
    #[command(subcommand)]
    Remote(RemoteCommand),
    /// Upload the snapshot NS/SLUG:NAME to a remote (only the pages it does not hold yet)
    #[command(
        after_help = "Examples:\n  sqlfork snapshot create acme/orders:nightly && sqlfork push acme/orders:nightly origin\n  sqlfork push acme/orders:2026-12-01 --ttl 14d\nA name on a remote never changes: pushing one it holds is exit 4. An interrupted push continues when run again. Credentials come from the AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE) and ~/.aws files."
    )]
    Push {
        /// NS/SLUG:NAME of a local snapshot
        snapshot: String,
        /// The remote (may be left out when only one exists)
        remote: Option<String>,
        /// Expire on the remote this long after the push; `remote gc` removes it then
        #[arg(long, value_name = "DURATION")]
        ttl: Option<String>,
    },
    /// Download the remote snapshot REMOTE:NS/SLUG:NAME into this home (forks of it are then local)
    #[command(
        after_help = "Pages this home already holds (its snapshots of NS/SLUG) are not downloaded again; every page is checked against its hash. An interrupted pull continues when run again. `sqlfork db fork REMOTE:NS/SLUG:NAME DST` pulls by itself."
    )]
    Pull {
        /// REMOTE:NS/SLUG:NAME
        snapshot: String,
    },
    /// Print shell completions for SHELL to stdout (they complete database
    /// addresses too, by asking sqlfork)
    Completions {
        /// bash, zsh, fish, powershell or elvish
        shell: clap_complete::Shell,
    },
}
