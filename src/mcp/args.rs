//! The MCP tools' arguments: their doc comments become the JSON Schema
//! descriptions an agent reads.

use serde::Deserialize;

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct ForkArgs {
    /// What to fork: NS/SLUG of a registered database (NS/SLUG@REF for a
    /// branch), NS/SLUG:NAME of a snapshot, REMOTE:NS/SLUG:NAME of a
    /// snapshot on a remote (pulled into the home first), or a path to a
    /// SQLite file (starting with /, ./, ../ or ~, or ending in .db,
    /// .sqlite or .sqlite3).
    pub source: String,
    /// The new database: SLUG (lands in the source's namespace) or NS/SLUG.
    pub destination: String,
    /// Human-readable name (default: the slug).
    #[serde(default)]
    pub name: Option<String>,
    /// Copy every row too, not only the schema (default false: schema only).
    #[serde(default)]
    pub include_data: bool,
    /// Auto-delete this long from now, 1h to 30d, e.g. "12h" or "7d"
    /// (default: default_ttl in config.toml, else never).
    #[serde(default)]
    pub ttl: Option<String>,
    /// With includeData: return once the schema is in place (status
    /// provisioning) while a background process copies the rows; follow it
    /// with wait_database.
    #[serde(default)]
    pub detach: bool,
    /// Fork the source's newest snapshot taken at or before this time: an
    /// RFC 3339 time ("2026-11-30T02:00:00Z") or an age ("2h": two hours
    /// ago). The source must be a registered database.
    #[serde(default)]
    pub at: Option<String>,
    #[serde(flatten)]
    pub safe: SafeParams,
}

/// Masking and subsets (data forks only), as `--mask`, `--subset` and
/// `--strict` on the command line.
#[derive(Debug, Default, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct SafeParams {
    /// Mask the rows with the rules in this TOML file (a path on this
    /// machine: a seed, and per table and column a masker). Default for a
    /// data fork: `mask` in config.toml, if set.
    #[serde(default)]
    pub mask: Option<String>,
    /// Keep only TABLE's rows matching WHERE, and the rows they reference
    /// through foreign keys: ["orders:created_at > '2026-01-01'"].
    #[serde(default)]
    pub subset: Vec<String>,
    /// Refuse to fork while a column that looks personal has no mask rule.
    #[serde(default)]
    pub strict: bool,
}

impl SafeParams {
    /// As the settings take them.
    pub(crate) fn safe(&self) -> crate::settings::Safe {
        crate::settings::Safe {
            given: Default::default(),
            mask_file: self.mask.as_ref().map(Into::into),
            subset: self.subset.clone(),
            strict: self.strict,
        }
    }
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct ListArgs {
    /// Only databases in this namespace (default: all).
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct AddressArgs {
    /// NS/SLUG, or NS/SLUG@REF for a branch.
    pub address: String,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct WaitArgs {
    /// NS/SLUG, or NS/SLUG@REF for a branch.
    pub address: String,
    /// Give up after this long, e.g. "30s" or "10m" (default: wait until
    /// healthy).
    #[serde(default)]
    pub timeout: Option<String>,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct BranchPutArgs {
    /// NS/SLUG@REF; REF is 1-100 of A-Z a-z 0-9 . _ / - (like pr-142 or
    /// feature/login), never "..".
    pub address: String,
    /// Copy every row too (true), only the schema (false), or as the branch
    /// was made (absent; schema only for a new branch).
    #[serde(default)]
    pub include_data: Option<bool>,
    /// Auto-delete this long from now, 1h to 30d, e.g. "2d".
    #[serde(default)]
    pub ttl: Option<String>,
    /// When a reset finds other processes with the branch open: absent or
    /// "refuse" fails naming them; "inPlace" writes the new state into the
    /// same file through SQLite's backup API; "force" replaces the file.
    #[serde(default)]
    pub when_open: Option<WhenOpenArg>,
    #[serde(flatten)]
    pub safe: SafeParams,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct SnapshotArgs {
    /// The database (or branch) to snapshot: NS/SLUG or NS/SLUG@REF, or
    /// NS/SLUG:NAME to name the snapshot (default name: the UTC time, like
    /// 20261130T120000Z).
    pub address: String,
    /// Auto-delete the snapshot this long after it is taken, 1h to 30d.
    #[serde(default)]
    pub ttl: Option<String>,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct ResetArgs {
    /// The fork to reset in place: NS/SLUG or NS/SLUG@REF (same id, same
    /// path afterwards).
    pub address: String,
    /// Go back to this snapshot of the database itself (NAME) instead of
    /// its parent's current state.
    #[serde(default)]
    pub to: Option<String>,
    /// true: with its rows; false: schema only; absent: as the database was
    /// made.
    #[serde(default)]
    pub include_data: Option<bool>,
    /// Auto-delete this long from the reset, 1h to 30d (default: keep the
    /// expiry).
    #[serde(default)]
    pub ttl: Option<String>,
    /// Must be true: a reset replaces the database's current content.
    pub confirm: bool,
    /// When other processes have the database open: absent or "refuse"
    /// fails naming them; "inPlace" writes the restored state into the same
    /// file through SQLite's backup API (open connections see it at their
    /// next transaction); "force" replaces the file anyway (their later
    /// writes are lost).
    #[serde(default)]
    pub when_open: Option<WhenOpenArg>,
    #[serde(flatten)]
    pub safe: SafeParams,
}

/// What a reset does when other processes have the database open.
#[derive(Debug, Clone, Copy, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(crate = "rmcp::schemars")]
pub(crate) enum WhenOpenArg {
    Refuse,
    InPlace,
    Force,
}

impl WhenOpenArg {
    pub(crate) fn choice(arg: Option<WhenOpenArg>) -> crate::holders::WhenOpen {
        use crate::holders::WhenOpen;
        match arg {
            None | Some(WhenOpenArg::Refuse) => WhenOpen::Refuse,
            Some(WhenOpenArg::InPlace) => WhenOpen::InPlace,
            Some(WhenOpenArg::Force) => WhenOpen::Force,
        }
    }
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct DiffArgs {
    /// The database to inspect ("after"): NS/SLUG, NS/SLUG@REF,
    /// NS/SLUG:SNAPSHOT or a path.
    pub a: String,
    /// The database to compare with ("before"); default: A's parent.
    #[serde(default)]
    pub b: Option<String>,
    /// Compare schema and settings only, not rows.
    #[serde(default)]
    pub schema: bool,
    /// List up to this many changed rows per table (key, and changed
    /// columns old -> new); default 0.
    #[serde(default)]
    pub rows: Option<u32>,
    /// "json" (default: the `db diff --json` document), "markdown" (a
    /// summary for a pull-request comment) or "sql" (SQL that turns B into A).
    #[serde(default)]
    pub format: Option<DiffFormat>,
}

/// How `diff_databases` answers.
#[derive(Debug, Clone, Copy, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(crate = "rmcp::schemars")]
pub(crate) enum DiffFormat {
    Json,
    Markdown,
    Sql,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct DeleteArgs {
    /// NS/SLUG, or NS/SLUG@REF for a branch.
    pub address: String,
    /// Must be true: deleting removes the entry, and the file when sqlfork
    /// created it.
    pub confirm: bool,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct DatabaseArgs {
    /// NS/SLUG of the database.
    pub address: String,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct SnapshotDeleteArgs {
    /// The snapshot: NS/SLUG:NAME (or NS/SLUG@REF:NAME).
    pub address: String,
    /// Must be true: deleting removes the snapshot's file.
    pub confirm: bool,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct MaskCheckArgs {
    /// What would be forked: NS/SLUG (or NS/SLUG@REF, NS/SLUG:SNAPSHOT) or a
    /// path to a SQLite file. For a branch put or a reset, its parent.
    pub source: String,
    #[serde(flatten)]
    pub safe: SafeParams,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct RehearseArgs {
    /// What to rehearse on: NS/SLUG, NS/SLUG@REF, NS/SLUG:SNAPSHOT or a path.
    pub source: String,
    /// Migration .sql files, or directories of them (run in name order).
    pub migrations: Vec<std::path::PathBuf>,
    /// Down migrations (files or directories), run in reverse order after
    /// the ups; each must give back the state before its up.
    #[serde(default)]
    pub down: Vec<std::path::PathBuf>,
    /// Mask the fork's rows with this rules file (default: `mask` in
    /// config.toml).
    #[serde(default)]
    pub mask: Option<std::path::PathBuf>,
    /// Subset filters, each "TABLE:WHERE".
    #[serde(default)]
    pub subset: Vec<String>,
    /// A write lock held longer than this is a warning (default "1s").
    #[serde(default)]
    pub lock_budget: Option<String>,
    /// Keep the rehearsal fork at this NS/SLUG instead of deleting it.
    #[serde(default)]
    pub keep: Option<String>,
    /// "json" (default: the `db rehearse --json` document) or "markdown"
    /// (a pull-request comment).
    #[serde(default)]
    pub format: Option<RehearseFormat>,
}

/// How `rehearse_migration` answers.
#[derive(Debug, Clone, Copy, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(crate = "rmcp::schemars")]
pub(crate) enum RehearseFormat {
    Json,
    Markdown,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct PushArgs {
    /// The local snapshot to upload: NS/SLUG:NAME.
    pub snapshot: String,
    /// The remote (from `sqlfork remote add`); may be left out when only
    /// one exists.
    #[serde(default)]
    pub remote: Option<String>,
    /// Expire on the remote this long after the push, 1h to 30d.
    #[serde(default)]
    pub ttl: Option<String>,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct MergeArgs {
    /// The fork whose changes since it was forked land in its parent: NS/SLUG or NS/SLUG@REF.
    pub fork: String,
    /// Merge into this database (an address or a path); default: the fork's parent.
    #[serde(default)]
    pub into: Option<String>,
    /// "abort" (default: any conflict writes nothing), "fork" or "parent":
    /// which side wins a data conflict (never a broken constraint).
    #[serde(default)]
    pub prefer: Option<crate::merge::Prefer>,
    /// Write the merge; without it this is a dry run that reports what a merge would do.
    #[serde(default)]
    pub apply: bool,
    /// Write a parent sqlfork did not create (imported, or a path).
    #[serde(default)]
    pub yes: bool,
}
