//! Arguments several commands share (flattened into them): the data mode,
//! what a reset does with open files, `--name`, `--ttl`, masking and
//! subsets, `--force`, `--yes`.

use clap::Args;

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
