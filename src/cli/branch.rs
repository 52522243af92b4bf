//! `sqlfork branch …`: branches NS/SLUG@REF.

use super::{Confirmation, ForceArg, SafeArgs, TtlArg, WhenOpenArgs};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum BranchCommand {
    /// Create the branch NS/SLUG@REF, or reset it to its parent's current state; prints its path
    #[command(after_help = "Idempotent: the first put forks NS/SLUG into the branch, every later put resets it to \
NS/SLUG's current state, keeping its id and path (a connection string stays valid), and its data mode \
(--with-data or schema only) unless --with-data or --schema-only says otherwise. A reset is atomic: the new \
copy is built beside the branch and renamed over it. The expiry counts from this put with --ttl (or default_ttl in \
config.toml); without either a new branch never expires and an existing one keeps its expiry. A reset refuses \
(exit 4, naming them) while other processes have the branch's file open, unless --in-place (write the new state \
into the same file through SQLite's backup API; open connections see it at their next transaction) or --force \
(replace the file anyway; their later writes are lost).\n\nIn CI:\n  path=$(sqlfork branch put acme/orders@\"$BRANCH\" --ttl 2d)")]
    Put {
        /// NS/SLUG@REF; REF is 1-100 of A-Z a-z 0-9 . _ / - (like pr-142 or feature/login), never `..`
        address: String,
        /// Copy every row too, not only the schema [default: as the branch was
        /// made; schema only for a new branch]
        #[arg(long, conflicts_with = "schema_only")]
        with_data: bool,
        /// Copy only the schema, even if the branch was made --with-data
        #[arg(long)]
        schema_only: bool,
        #[command(flatten)]
        ttl: TtlArg,
        #[command(flatten)]
        safe: SafeArgs,
        #[command(flatten)]
        when_open: WhenOpenArgs,
    },
    /// List the branches of NS/SLUG
    List {
        /// NS/SLUG
        address: String,
    },
    /// Delete the branch NS/SLUG@REF and its file
    Delete {
        /// NS/SLUG@REF
        address: String,
        #[command(flatten)]
        confirm: Confirmation,
        #[command(flatten)]
        force: ForceArg,
    },
}
