//! `sqlfork db …`: the database commands, and the arguments, formats and
//! long help of `db diff`, `db merge`/`db rebase` and `db rehearse`.

use super::{Confirmation, DataModeArgs, ForceArg, NameArg, SafeArgs, TtlArg, WhenOpenArgs};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Create a new, empty database owned by sqlfork
    Create {
        /// NS/SLUG of the new database
        address: String,
        #[command(flatten)]
        name: NameArg,
        #[command(flatten)]
        ttl: TtlArg,
    },
    /// Register an existing SQLite file in place (sqlfork never writes or deletes it)
    Import {
        /// NS/SLUG to register it as
        address: String,
        /// The SQLite file
        file: PathBuf,
        #[command(flatten)]
        name: NameArg,
    },
    /// Fork SRC into a new database DST (schema only unless --with-data)
    #[command(
        after_help = "Examples:\n  sqlfork db fork acme/orders pr-142 --ttl 7d\n  sqlfork db fork ./prod.db acme/staging --name 'Staging copy'\n  sqlfork db fork origin:acme/orders:nightly pr-142 --with-data   (pulls the remote snapshot first)"
    )]
    Fork {
        /// NS/SLUG of a registered database, NS/SLUG:NAME of a snapshot,
        /// REMOTE:NS/SLUG:NAME of a snapshot on a remote, or a path to a SQLite file
        src: String,
        /// SLUG (in SRC's namespace) or NS/SLUG of the new database
        dst: String,
        /// Copy every row too, not only the schema
        #[arg(long)]
        with_data: bool,
        /// Keep the fork's base (its state now, for `db merge`) even where
        /// that is a full copy; on XFS/btrfs, or from a snapshot, it is kept
        /// anyway, for free
        #[arg(long, requires = "with_data")]
        mergeable: bool,
        /// Return once the schema is in place (status provisioning) and copy
        /// the rows in a background process; follow it with `db wait`
        #[arg(long, requires = "with_data")]
        detach: bool,
        /// Fork SRC's newest snapshot taken at or before TIME (RFC 3339, or an
        /// age such as 2h meaning two hours ago)
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        #[command(flatten)]
        name: NameArg,
        #[command(flatten)]
        ttl: TtlArg,
        #[command(flatten)]
        safe: SafeArgs,
    },
    /// Reset a fork in place to its parent's current state, or to one of its snapshots; prints its path
    #[command(
        after_help = "Same id, same path: the new state is built beside the file and renamed over it, so a crash leaves the old state or the new one, never a mix. The data mode the fork was made with is kept unless --with-data or --schema-only says otherwise; --to restores the snapshot whole (with data) unless --schema-only. The expiry is kept unless --ttl is given. A database sqlfork did not create (db import), or one created empty (db create) without --to, cannot be reset (exit 2).\n\nAn application with the database open: a reset refuses (exit 4) and names the processes (pid and command), because renaming a new file over the path would cut them off (they would go on writing into the old, deleted file). Close them and reset, or: --in-place writes the restored state into the same file through SQLite's backup API, so open connections see it at their next transaction and keep working (use it for an app or a test runner that keeps its connection open); --force replaces the file anyway (use it only when you will restart those processes and do not need what they write).\n\nThe migrate, look, reset loop:\n  sqlfork snapshot create acme/pr-142:before\n  sqlite3 \"$(sqlfork db path acme/pr-142)\" < migrations/0042.sql\n  sqlfork db reset acme/pr-142 --to before"
    )]
    Reset {
        /// NS/SLUG, or NS/SLUG@REF for a branch
        address: String,
        /// Reset to this snapshot of the database itself (NAME or NS/SLUG:NAME)
        #[arg(long, value_name = "NAME", value_hint = clap::ValueHint::Other)]
        to: Option<String>,
        #[command(flatten)]
        data: DataModeArgs,
        /// Expire this long from the reset (1h to 30d) [default: keep the expiry]
        #[arg(long, value_name = "DURATION")]
        ttl: Option<String>,
        #[command(flatten)]
        safe: SafeArgs,
        #[command(flatten)]
        when_open: WhenOpenArgs,
    },
    /// List databases, optionally in one namespace
    List {
        /// Only this namespace
        namespace: Option<String>,
    },
    /// Show one database in detail, with its lineage
    Show {
        /// NS/SLUG, or NS/SLUG@REF for a branch
        address: String,
    },
    /// Print the absolute path of a database's file (for shell scripts)
    Path {
        /// NS/SLUG, or NS/SLUG@REF for a branch
        address: String,
    },
    /// Show, change or clear when a database auto-deletes
    #[command(
        after_help = "The new expiry counts from now. Examples:\n  sqlfork db ttl acme/pr-142 7d       # auto-delete 7 days from now\n  sqlfork db ttl acme/pr-142 --clear  # never expire\n  sqlfork db ttl acme/pr-142          # show the current expiry"
    )]
    Ttl {
        /// NS/SLUG, or NS/SLUG@REF for a branch
        address: String,
        /// Expire this long from now (1h to 30d, e.g. 12h, 7d)
        #[arg(value_name = "DURATION", conflicts_with = "clear")]
        ttl: Option<String>,
        /// Remove the expiry: the database never auto-deletes
        #[arg(long)]
        clear: bool,
    },
    /// Delete every database sqlfork created whose expiry has passed
    #[command(
        after_help = "Run it daily from cron or a systemd timer, for example:\n  0 4 * * * sqlfork db gc --quiet   (with CRON_TZ=UTC)\nFiles sqlfork did not create (db import) are never deleted."
    )]
    Gc {
        /// List what would be deleted, and delete nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Continue interrupted data copies: one database, or every one
    Resume {
        /// NS/SLUG or NS/SLUG@REF (all interrupted forks when omitted)
        address: Option<String>,
        /// Run as the background copy started by `db fork --detach`
        #[arg(long, hide = true)]
        background: bool,
    },
    /// Wait until a database is healthy, resuming its copy if no process is copying it
    #[command(after_help = "Exit codes: 0 healthy, 1 the fork failed, 3 no such database, 5 timed out.")]
    Wait {
        /// NS/SLUG, or NS/SLUG@REF for a branch
        address: String,
        /// Give up after this long (e.g. 30s, 10m) with exit code 5 [default: wait for ever]
        #[arg(long, value_name = "DURATION")]
        timeout: Option<String>,
    },
    /// Show what changed between two databases: schema, settings and rows
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Merge a fork's changes since it was forked into its parent, three ways
    #[command(after_help = MERGE_HELP)]
    Merge {
        /// The fork: NS/SLUG or NS/SLUG@REF
        fork: String,
        /// Merge into this database (an address or a path) [default: the fork's parent]
        #[arg(long, value_name = "PARENT")]
        into: Option<String>,
        /// Report what the merge would do, and write nothing
        #[arg(long)]
        dry_run: bool,
        /// Which side wins a data conflict; never a broken constraint or a schema conflict
        #[arg(long, value_enum, default_value_t = PreferArg::Abort)]
        prefer: PreferArg,
        /// Output format [default: text, or json with --json]
        #[arg(long, value_enum)]
        format: Option<MergeFormat>,
        /// Write a parent sqlfork did not create (imported, or a path)
        #[arg(long, short)]
        yes: bool,
    },
    /// Rebuild a fork on its parent's current state, with its own changes on top
    #[command(
        after_help = "Same id, same path: the new state is built beside the fork and renamed over it. The fork's base becomes the parent state it was rebased on. Conflicts as for db merge; with any left unresolved the fork is unchanged (exit 1).\n\nExit codes: 0 rebased, 1 conflicts or failure, 2 usage (no base, no registered parent), 3 not found."
    )]
    Rebase {
        /// The fork: NS/SLUG or NS/SLUG@REF
        fork: String,
        /// Which side wins a data conflict
        #[arg(long, value_enum, default_value_t = PreferArg::Abort)]
        prefer: PreferArg,
        /// Output format [default: text, or json with --json]
        #[arg(long, value_enum)]
        format: Option<MergeFormat>,
    },
    /// Run migrations on a data fork of SOURCE and report what they would do to it
    #[command(after_help = REHEARSE_HELP)]
    Rehearse(RehearseArgs),
    /// Remove a database's entry, and its file when sqlfork created it
    #[command(after_help = "With --force, as `rm -f`: a fork being built is stopped first (as `db cancel` does), \
a database that does not exist is a success with a note, and nothing is asked. For CI cleanup:\n  \
trap 'sqlfork db delete --force acme/pr-142' EXIT")]
    Delete {
        /// NS/SLUG, or NS/SLUG@REF for a branch
        address: String,
        #[command(flatten)]
        confirm: Confirmation,
        #[command(flatten)]
        force: ForceArg,
    },
    /// Stop the process copying a fork that is being built, and remove the half-made fork
    #[command(after_help = "The copier's pid is in `sqlfork db show`. It gets SIGTERM, then SIGKILL if it has \
not stopped after a short grace. An interrupted fork (no process copying it) is removed too.")]
    Cancel {
        /// NS/SLUG, or NS/SLUG@REF for a branch
        address: String,
    },
}

const DIFF_HELP: &str = "\
B defaults to A's parent (the database or file A was forked from), or, when A is a snapshot, to its
database as it is now. 'Before' is B, 'after' is A: inserted rows are in A and not in B. A column
added to a table counts its rows whose value differs from the column's DEFAULT (or NULL) as updates;
a dropped column is a schema change only.

--json prints the JSON document (as --format json); --json with any other --format is a usage error.

Examples:
  sqlfork db diff acme/pr-142                      # the fork against its parent
  sqlfork db diff acme/pr-142 --rows 5             # with up to 5 changed rows per table
  sqlfork db diff ./new.db ./old.db --format sql   # SQL that turns old.db into new.db
  sqlfork db diff acme/pr-142 --schema --exit-code # exit 1 if the schema changed
  sqlfork db diff acme/pr-142 --since-fork         # only what the fork changed since it was forked

Exit codes: 0 done (with --exit-code: no differences), 1 the databases differ (--exit-code) or
failure, 2 usage error, 3 not found.";

const MERGE_HELP: &str = "\
The fork's changes since its base (its state when it was forked: kept for free on XFS/btrfs or
when forked from a snapshot, else with `db fork --with-data --mergeable`) are applied to the
parent's current state, cell by cell, matched by primary key (rowid for rowid tables, including
tables without a declared key). Schema additions (tables, columns, indexes, views, triggers) are
merged when the parent did not change the same object.

A conflict: the same cell changed to different values on both sides, a row deleted on one side
and changed on the other, the same key inserted with different rows, the same object's DDL
changed differently, or a UNIQUE, NOT NULL, CHECK or foreign-key constraint the merged state
breaks. With --prefer abort (the default) any conflict writes nothing; fork or parent choose a
side for data conflicts, never for a constraint or a schema conflict.

One SQLite transaction on the parent; its triggers do not fire while the fork's rows are applied.
A parent sqlfork created gets a snapshot first (`db reset PARENT --to NAME` undoes the merge); a
parent it did not create is written only with --yes.

Examples:
  sqlfork db merge acme/fix-prices --dry-run
  sqlfork db merge acme/fix-prices --prefer fork

Exit codes: 0 merged (or nothing to merge), 1 conflicts, 2 usage (no parent, no base), 3 not found.";

/// `--prefer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PreferArg {
    /// Any conflict writes nothing
    Abort,
    /// The fork's value wins a data conflict
    Fork,
    /// The parent's value stays
    Parent,
}

/// How `db merge` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum MergeFormat {
    /// Human-readable text
    Text,
    /// One JSON document (what --json selects)
    Json,
    /// A summary for a pull-request comment
    Markdown,
}

/// How `db diff` prints its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DiffFormat {
    /// Human-readable text
    Text,
    /// One JSON document (what --json selects)
    Json,
    /// A summary for a pull-request comment
    Markdown,
    /// SQL that turns B into A
    Sql,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct DiffArgs {
    /// The database to inspect (after): NS/SLUG, NS/SLUG@REF, NS/SLUG:SNAPSHOT or a path
    pub a: String,
    /// The database to compare with (before) [default: A's parent]
    pub b: Option<String>,
    /// Compare schema and settings only, not rows
    #[arg(long)]
    pub schema: bool,
    /// List up to N changed rows per table (key, and changed columns old → new)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub rows: usize,
    /// Output format [default: text, or json with --json; any other format cannot be combined with --json]
    #[arg(long, value_enum)]
    pub format: Option<DiffFormat>,
    /// Compare every row, skipping the page comparison (a check on it)
    #[arg(long, hide = true)]
    pub full: bool,
    /// Compare the fork A with its base (its state when it was forked):
    /// only the fork's own changes, none of its parent's later writes
    #[arg(long, conflicts_with = "b")]
    pub since_fork: bool,
    /// Exit with 1 when the databases differ and 0 when they do not (like `git diff --exit-code`)
    #[arg(long)]
    pub exit_code: bool,
}

const REHEARSE_HELP: &str = "\
Each migration file runs as `sqlite3 DB < FILE` runs it (statement by statement, PRAGMA
foreign_keys = ON), stopping at the first failing statement; later files are not run. Directories
run their .sql files in name order. sqlite3 dot-commands (.read, .import) are refused. The
rehearsal fork is an instant data fork of SOURCE (an address, a snapshot, a remote snapshot
REMOTE:NS/SLUG:NAME, pulled first, or a path; masked with --mask, or the mask in config.toml),
deleted at the end, also on Ctrl-C or an error, unless --keep names where to keep it. SOURCE is
only read.

Findings: error (the file failed; PRAGMA integrity_check not ok; new PRAGMA foreign_key_check
violations; a down file that does not undo its up), warning (rows deleted; a dropped table or
column that held values; a table rebuilt by copying; the write lock held past --lock-budget; a
file ending inside a transaction), info (rows inserted or updated, indexes added and their size,
other schema changes, the file's size).

Examples:
  sqlfork db rehearse acme/orders migrations/                       # every .sql file, in name order
  sqlfork db rehearse acme/orders 0042.sql --down 0042_down.sql     # and check that the down undoes it
  sqlfork db rehearse acme/orders migrations/ --format markdown --fail-on warning > comment.md

Exit codes: 0 no finding reaches --fail-on, 1 one does (or the rehearsal failed), 2 usage error
or bad input, 3 SOURCE not found, 4 the --keep address is taken, 130 interrupted.";

/// How `db rehearse` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RehearseFormat {
    /// Human-readable text
    Text,
    /// One JSON document (what --json selects)
    Json,
    /// A pull-request comment
    Markdown,
}

/// Which findings make `db rehearse` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FailOn {
    /// Errors only
    Error,
    /// Warnings and errors
    Warning,
    /// Nothing: always exit 0 once the rehearsal ran
    Never,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct RehearseArgs {
    /// What to rehearse on: NS/SLUG, NS/SLUG@REF, NS/SLUG:SNAPSHOT or a path
    pub source: String,
    /// Migration .sql files, or directories of them (run in name order)
    #[arg(required = true, value_name = "MIGRATION")]
    pub migrations: Vec<PathBuf>,
    /// Down migrations (a file or a directory): run in reverse order after the ups; each must
    /// give back the state before its up
    #[arg(long, value_name = "DIR|FILE")]
    pub down: Vec<PathBuf>,
    /// Mask the fork's rows with the rules in FILE [default: mask in config.toml]
    #[arg(long, value_name = "FILE")]
    pub mask: Option<PathBuf>,
    /// Keep only TABLE's rows matching WHERE, and the rows they reference (repeatable)
    #[arg(long, value_name = "TABLE:WHERE")]
    pub subset: Vec<String>,
    /// Output format [default: text, or json with --json]
    #[arg(long, value_enum)]
    pub format: Option<RehearseFormat>,
    /// Exit 1 when a finding is at least this severe
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// A write lock held longer than this is a warning (e.g. 1s, 250ms)
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub lock_budget: String,
    /// Keep the rehearsal fork at NS/SLUG instead of deleting it
    #[arg(long, value_name = "NS/SLUG")]
    pub keep: Option<String>,
}
