//! The command-line interface: one clap definition, from which `--help` and
//! the shell completions are generated.

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
  130  interrupted (Ctrl-C during a copy, push or pull; `sqlfork db resume` continues it)
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
    /// Continue interrupted data copies, pushes and pulls: one, or every one
    Resume {
        /// NS/SLUG or NS/SLUG@REF (a fork), NS/SLUG:NAME (a push), REMOTE:NS/SLUG:NAME (a pull); everything interrupted when omitted
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

#[derive(Debug, Subcommand)]
pub(crate) enum RemoteCommand {
    /// Add a remote NAME at URL (s3://BUCKET[/PREFIX] or file:///PATH) to config.toml
    #[command(
        after_help = "Examples:\n  sqlfork remote add origin s3://acme-db-snapshots/prod --region eu-west-1\n  sqlfork remote add minio s3://snaps --endpoint http://127.0.0.1:9000\n  sqlfork remote add shared file:///mnt/nfs/sqlfork\nNo credential is stored: they come from the AWS environment and ~/.aws files."
    )]
    Add {
        /// The remote's name (1-63 of a-z 0-9 -)
        name: String,
        /// s3://BUCKET[/PREFIX] or file:///PATH
        url: String,
        /// The bucket's region [default: AWS_REGION, else ~/.aws/config]
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// An S3-compatible service's endpoint, like http://127.0.0.1:9000 [default: AWS_ENDPOINT_URL]
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        /// Refuse snapshots that no masked fork made (originals never leave this machine)
        #[arg(long)]
        require_masked: bool,
    },
    /// List the remotes (with --snapshots, what each holds)
    List {
        /// Also list every snapshot each remote holds
        #[arg(long)]
        snapshots: bool,
    },
    /// Remove remote NAME from config.toml (what it holds stays on it)
    Remove {
        /// The remote's name
        name: String,
    },
    /// Remove a remote's expired snapshots and the stored data no snapshot needs
    #[command(
        after_help = "Data a push in progress may still need is never removed: while a push holds a lease (written in the last hour), gc removes only expired snapshots, and objects younger than --grace are always kept."
    )]
    Gc {
        /// The remote's name
        name: String,
        /// Keep unreferenced objects younger than this
        #[arg(long, value_name = "DURATION", default_value = "1h")]
        grace: String,
        /// Say what would be removed; remove nothing
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Take a read-only snapshot of NS/SLUG (or a branch), with its data
    #[command(
        after_help = "NAME defaults to the UTC time, like 20261130T120000Z; it is 1-100 of A-Z a-z 0-9 . _ -. The snapshot is one consistent moment of the database, in a file of its own (mode 0400) that sqlfork owns even when the database was imported. Fork it with `sqlfork db fork NS/SLUG:NAME DST`, reset a fork to it with `sqlfork db reset NS/SLUG --to NAME`."
    )]
    Create {
        /// NS/SLUG[:NAME] or NS/SLUG@REF[:NAME]
        address: String,
        /// Expire this long after it is taken; the next `db gc` after that deletes it (1h to 30d)
        #[arg(long, value_name = "DURATION")]
        ttl: Option<String>,
    },
    /// List the snapshots of NS/SLUG (or of REMOTE:NS/SLUG on a remote): name, taken at, size, expiry
    List {
        /// NS/SLUG, NS/SLUG@REF for a branch, or REMOTE:NS/SLUG
        address: String,
    },
    /// Delete the snapshot NS/SLUG:NAME and its file (or REMOTE:NS/SLUG:NAME on a remote)
    Delete {
        /// NS/SLUG:NAME, NS/SLUG@REF:NAME or REMOTE:NS/SLUG:NAME
        address: String,
        #[command(flatten)]
        confirm: Confirmation,
    },
}

/// `--with-data` / `--schema-only`: neither keeps the remembered data mode.
#[derive(Debug, Clone, Args)]
pub(crate) struct DataModeArgs {
    /// Copy every row too, not only the schema
    #[arg(long, conflicts_with = "schema_only")]
    pub with_data: bool,
    /// Copy only the schema
    #[arg(long)]
    pub schema_only: bool,
}

/// `--force` / `--in-place`: what a reset does when other processes have
/// the database open.
#[derive(Debug, Clone, Args)]
pub(crate) struct WhenOpenArgs {
    /// Replace the file even while other processes have it open (they keep
    /// the old, deleted file; what they write next is lost). For a test
    /// database whose users you will restart anyway
    #[arg(long, conflicts_with = "in_place")]
    pub force: bool,
    /// Write the restored state into the same file through SQLite's backup
    /// API, under SQLite's locks: open connections see it at their next
    /// transaction and keep writing into it. For an app that keeps its
    /// connection open across resets
    #[arg(long)]
    pub in_place: bool,
}

impl WhenOpenArgs {
    pub(crate) fn choice(&self) -> crate::holders::WhenOpen {
        use crate::holders::WhenOpen;
        match (self.force, self.in_place) {
            (true, _) => WhenOpen::Force,
            (_, true) => WhenOpen::InPlace,
            _ => WhenOpen::Refuse,
        }
    }
}

impl DataModeArgs {
    /// `Some(true)`, `Some(false)`, or `None` when neither flag was given.
    pub(crate) fn choice(&self) -> Option<bool> {
        match (self.with_data, self.schema_only) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
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

/// `--name`, shared by the commands that create entries.
#[derive(Debug, Clone, Args)]
pub(crate) struct NameArg {
    /// Human-readable name [default: the slug]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// `--ttl`, shared by the commands that create databases.
#[derive(Debug, Clone, Args)]
pub(crate) struct TtlArg {
    /// Expire this long from now; the next `db gc` after that deletes it
    /// (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
}

/// Safe copies of production: masking and subsets (data forks only).
#[derive(Debug, Clone, Args)]
pub(crate) struct SafeArgs {
    /// Mask the rows with the rules in FILE (TOML: a seed, and per table and
    /// column a masker) [default: mask in config.toml]
    #[arg(long, value_name = "FILE")]
    pub mask: Option<std::path::PathBuf>,
    /// Keep only TABLE's rows matching WHERE, and the rows they reference
    /// through foreign keys (repeatable)
    #[arg(long, value_name = "TABLE:WHERE")]
    pub subset: Vec<String>,
    /// List the columns that look personal and have no mask rule; fork nothing
    #[arg(long)]
    pub mask_check: bool,
    /// Refuse to fork while a column that looks personal has no mask rule
    #[arg(long)]
    pub strict: bool,
}

/// `--force`, shared by the delete commands.
#[derive(Debug, Clone, Args)]
pub(crate) struct ForceArg {
    /// Stop a copy still building it, succeed if it does not exist, never ask
    #[arg(long)]
    pub force: bool,
}

/// `--yes`, shared by destructive commands.
#[derive(Debug, Clone, Args)]
pub(crate) struct Confirmation {
    /// Do not ask for confirmation (never asked when stdin is not a terminal)
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum PoolCommand {
    /// Make N slots NS/SLUG@pool-1..N for N parallel test workers, forked from a snapshot NS/SLUG:pool-base
    #[command(
        after_help = "Each slot is an ordinary database (`sqlfork db path NS/SLUG@pool-3`). Workers take one with `pool lease` and give it back with `pool return`; a slot is reset to the pool's base (the snapshot NS/SLUG:pool-base taken now) when it is leased again, so a return is instant.\n\nExample (pytest-xdist, 8 workers):\n  sqlfork pool create acme/orders --size 8 --with-data\n  pytest -n 8   # each worker runs: sqlfork pool lease acme/orders --pid $PID --quiet"
    )]
    Create {
        /// NS/SLUG of the database to pool
        address: String,
        /// How many slots (1 to 256): one per parallel worker
        #[arg(long, value_name = "N")]
        size: usize,
        /// Copy every row into each slot, not only the schema
        #[arg(long)]
        with_data: bool,
        /// Expire the slots and the base this long from now (1h to 30d)
        #[arg(long, value_name = "DURATION")]
        ttl: Option<String>,
    },
    /// Lease a free slot (reset to the pool's base) and print its path
    #[command(
        after_help = "The lease belongs to a process: by default the one that ran sqlfork (the worker's shell or test process), or --pid. When that process dies (even by kill -9) the slot is free again; its pid's start time is recorded too, so a reused pid does not keep it. When every slot is held, it waits up to --timeout, then exits 5 with one sentence."
    )]
    Lease {
        /// NS/SLUG of the pooled database
        address: String,
        /// The process that holds the lease [default: the parent of this sqlfork process]
        #[arg(long, value_name = "PID")]
        pid: Option<u32>,
        /// How long to wait for a free slot (e.g. 30s, 2m)
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        timeout: String,
    },
    /// Give a leased slot back (by number, address or path); it is reset at its next lease
    Return {
        /// NS/SLUG of the pooled database
        address: String,
        /// The slot: its number (3), its address (NS/SLUG@pool-3) or its path
        slot: String,
    },
    /// The slots of a pool and who holds each
    List {
        /// NS/SLUG of the pooled database
        address: String,
    },
    /// Delete a pool: its slots and its base snapshot
    Delete {
        /// NS/SLUG of the pooled database
        address: String,
        /// Delete it even while live processes hold slots
        #[arg(long)]
        force: bool,
    },
}
