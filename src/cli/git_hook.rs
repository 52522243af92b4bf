//! `sqlfork git-hook …`: the post-checkout hook.

use super::TtlArg;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum GitHookCommand {
    /// Install a post-checkout hook in the current git repository
    #[command(
        after_help = "On every branch switch the hook makes sure NS/SLUG@<git branch> exists (the first switch \
forks it from NS/SLUG with `branch put`; later switches keep it as it is unless --reset) and writes its path to \
the path file, so the application opens the checked-out branch's database:\n  sqlite3 \"$(cat .sqlfork-path)\"\n\
A post-checkout hook that was there is kept and still runs first. A branch name with characters a REF does not \
allow is mapped (`fix#12` -> `fix-12`, and said); a detached HEAD keeps the path file as it is."
    )]
    Install {
        /// NS/SLUG: the database every branch database is forked from
        address: String,
        /// Branch databases get every row too, not only the schema
        #[arg(long)]
        with_data: bool,
        /// Where the hook writes the database's path (relative to the work tree's top)
        #[arg(long, value_name = "FILE", default_value = ".sqlfork-path")]
        path_file: PathBuf,
        /// Reset the branch's database to NS/SLUG's current state on every switch
        /// [default: keep it; only the first switch forks it]
        #[arg(long)]
        reset: bool,
        #[command(flatten)]
        ttl: TtlArg,
    },
    /// Remove the hook `install` wrote, and put back the hook it replaced
    Uninstall,
    /// What the installed hook runs on a checkout
    #[command(hide = true)]
    Run {
        address: String,
        #[arg(long)]
        with_data: bool,
        #[arg(long, value_name = "FILE", default_value = ".sqlfork-path")]
        path_file: PathBuf,
        #[arg(long)]
        reset: bool,
        #[command(flatten)]
        ttl: TtlArg,
        /// post-checkout's arguments: previous HEAD, new HEAD, 1 for a branch checkout
        #[arg(last = true)]
        hook_args: Vec<String>,
    },
}
