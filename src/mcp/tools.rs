//! The MCP tools: one per command, each a thin client of the same settings
//! and library calls as the command line (`settings` resolves the
//! arguments), answering with the command's `--json` document, declared by
//! an output schema.

use super::args::*;
use super::{json, listed, output_schema, parse, schema, Document, Server};
use crate::address::{Address, SnapshotAddress, Source};
use crate::api::{Database, SnapshotInfo};
use crate::error::Error;
use crate::output::{
    CancelledView, DeletedView, DetailView, ForkView, MaskCheckView, PathView, PutView, ResetView, SnapshotDeletedView,
};
use crate::settings::{self, Ttl};
use crate::storage::{Local, SnapshotStore};
use crate::{branch, fork, ops};
use rmcp::model::{CallToolResult, JsonObject};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use serde::Serialize;

/// `list_databases`' structured content: the `db list --json` array.
#[derive(Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct Databases {
    pub databases: Vec<Database>,
}

/// `list_branches`' structured content: the `branch list --json` array.
#[derive(Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct Branches {
    pub branches: Vec<Database>,
}

/// `list_snapshots`' structured content: the `snapshot list --json` array.
#[derive(Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct Snapshots {
    pub snapshots: Vec<SnapshotInfo>,
}

/// `diff_databases`' structured content: the report, or the Markdown or
/// SQL text it was asked for.
#[derive(Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(untagged)]
pub(crate) enum DiffOutput {
    Report(crate::diff::DiffReport),
    Markdown { markdown: String },
    Sql { sql: String },
}

/// `rehearse_migration`'s structured content: the report, or the Markdown
/// it was asked for.
#[derive(Serialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(untagged)]
pub(crate) enum RehearseOutput {
    Report(crate::rehearse::RehearsalReport),
    Markdown { markdown: String },
}

/// A refusal for a destructive call without `confirm: true`.
fn unconfirmed(what: &str, address: &dyn std::fmt::Display, extra: &str) -> anyhow::Error {
    Error::invalid(format!(
        "not {what}: {what_ing} {address}{extra} needs `confirm: true`; {address} is unchanged",
        what_ing = match what {
            "reset" => "resetting",
            _ => "deleting",
        }
    ))
    .into()
}

/// A tool's arguments, or the tool error that refuses them.
macro_rules! args {
    ($args:expr) => {
        match parse($args) {
            Ok(a) => a,
            Err(refused) => return refused,
        }
    };
}

#[tool_router(vis = "pub(crate)")]
impl Server {
    /// Fork a SQLite database into a new, independent database (schema only
    /// unless includeData; masked with `mask`, a subset with `subset`, or a
    /// past snapshot with `at`). Returns the new database as `sqlfork db
    /// fork --json` prints it, with its path. A cancelled copy stays
    /// provisioning; wait_database finishes it, cancel_database removes it.
    #[tool(input_schema = schema::<ForkArgs>(), output_schema = output_schema::<ForkView>(), annotations(title = "Fork a database", read_only_hint = false, destructive_hint = false))]
    async fn fork_database(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: ForkArgs = args!(args);
        let label = args.destination.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let request = settings::ForkRequest {
                safe: args.safe.safe(),
                source: args.source,
                at: args.at,
                destination: args.destination,
                name: args.name,
                ttl: Ttl::text(args.ttl),
                with_data: args.include_data,
                detach: args.detach,
                mergeable: false,
            };
            let opts = request.resolve(home, config)?.options;
            // A remote snapshot is pulled into the home first.
            let data = opts.with_data || opts.safe.is_active();
            crate::storage::bring_source_here(home, config, &opts.source, data, progress)?;
            json(&ForkView::of(home, &fork::fork(home, config, &opts, progress)?)?)
        })
        .await
    }

    /// List databases (optionally in one namespace), as `sqlfork db list
    /// --json` prints them: address, path, status, size, lineage time and
    /// expiry of each (structured as {"databases": [...]}).
    #[tool(input_schema = schema::<ListArgs>(), output_schema = output_schema::<Databases>(), annotations(title = "List databases", read_only_hint = true))]
    async fn list_databases(&self, args: JsonObject) -> CallToolResult {
        let args: ListArgs = args!(args);
        self.blocking(move |home, _| {
            let views: Vec<Database> =
                ops::list(home, args.namespace.as_deref())?.iter().map(Database::from_entry).collect();
            listed(views, |databases| Databases { databases })
        })
        .await
    }

    /// Show one database in detail, with its lineage resolved (`forkedFrom`)
    /// and the progress of a copy in flight, as `sqlfork db show --json`.
    #[tool(input_schema = schema::<AddressArgs>(), output_schema = output_schema::<DetailView>(), annotations(title = "Show a database", read_only_hint = true))]
    async fn show_database(&self, args: JsonObject) -> CallToolResult {
        let args: AddressArgs = args!(args);
        self.blocking(move |home, _| json(&DetailView::of(home, &ops::show(home, &Address::parse(&args.address)?)?)?))
            .await
    }

    /// The absolute path of a database's SQLite file, as `{"path": …}`.
    #[tool(input_schema = schema::<AddressArgs>(), output_schema = output_schema::<PathView>(), annotations(title = "Database path", read_only_hint = true))]
    async fn database_path(&self, args: JsonObject) -> CallToolResult {
        let args: AddressArgs = args!(args);
        self.blocking(move |home, _| json(&PathView::from(ops::path(home, &Address::parse(&args.address)?)?.as_path())))
            .await
    }

    /// Wait until a database is healthy (a detached or interrupted copy),
    /// finishing its copy here when no process is copying it. Returns the
    /// database as `sqlfork db wait --json`.
    #[tool(input_schema = schema::<WaitArgs>(), output_schema = output_schema::<Database>(), annotations(title = "Wait for a database", read_only_hint = false, destructive_hint = false))]
    async fn wait_database(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: WaitArgs = args!(args);
        let label = args.address.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let addr = Address::parse(&args.address)?;
            let timeout = settings::timeout(args.timeout.as_deref(), "timeout")?;
            json(&Database::from_entry(&fork::wait(home, config, &addr, timeout, progress, &mut || {})?))
        })
        .await
    }

    /// Create the branch NS/SLUG@REF from NS/SLUG, or reset it to NS/SLUG's
    /// current state when it exists (same id, same path). Idempotent; one
    /// branch per git branch or pull request. Returns it as `sqlfork branch
    /// put --json`, with `action` created, reset or resumed.
    #[tool(input_schema = schema::<BranchPutArgs>(), output_schema = output_schema::<PutView>(), annotations(title = "Create or reset a branch", read_only_hint = false, destructive_hint = true, idempotent_hint = true))]
    async fn branch_put(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: BranchPutArgs = args!(args);
        let label = args.address.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let request = settings::BranchRequest {
                safe: args.safe.safe(),
                address: args.address,
                with_data: args.include_data,
                ttl: Ttl::text(args.ttl),
                when_open: WhenOpenArg::choice(args.when_open),
            };
            let opts = request.resolve(config)?;
            json(&PutView::of(home, &branch::put(home, config, &opts, progress)?)?)
        })
        .await
    }

    /// The branches of NS/SLUG, as `sqlfork branch list --json` (structured
    /// as {"branches": [...]}).
    #[tool(input_schema = schema::<DatabaseArgs>(), output_schema = output_schema::<Branches>(), annotations(title = "List branches", read_only_hint = true))]
    async fn list_branches(&self, args: JsonObject) -> CallToolResult {
        let args: DatabaseArgs = args!(args);
        self.blocking(move |home, _| {
            let db = Address::parse_database(&args.address)?;
            let views: Vec<Database> = branch::list(home, &db)?.iter().map(Database::from_entry).collect();
            listed(views, |branches| Branches { branches })
        })
        .await
    }

    /// Take a read-only snapshot (restore point) of a database, with its
    /// data, in one consistent moment. Fork it later with
    /// fork_database(source: "NS/SLUG:NAME"), or go back to it with
    /// reset_database(to: NAME). Returns the `sqlfork snapshot create
    /// --json` document.
    #[tool(input_schema = schema::<SnapshotArgs>(), output_schema = output_schema::<SnapshotInfo>(), annotations(title = "Take a snapshot", read_only_hint = false, destructive_hint = false))]
    async fn create_snapshot(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: SnapshotArgs = args!(args);
        let label = args.address.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let opts =
                settings::SnapshotRequest { address: args.address, name: None, ttl: Ttl::text(args.ttl) }.resolve()?;
            json(&crate::api::snapshot_info(&crate::snapshot::create(home, config, &opts, progress)?))
        })
        .await
    }

    /// The snapshots of a database (or branch), oldest first, as `sqlfork
    /// snapshot list --json` (structured as {"snapshots": [...]}).
    #[tool(input_schema = schema::<AddressArgs>(), output_schema = output_schema::<Snapshots>(), annotations(title = "List snapshots", read_only_hint = true))]
    async fn list_snapshots(&self, args: JsonObject) -> CallToolResult {
        let args: AddressArgs = args!(args);
        self.blocking(move |home, _| {
            let snaps = Local { home }.list(&Address::parse(&args.address)?)?;
            let views: Vec<SnapshotInfo> = snaps.iter().map(crate::api::snapshot_info).collect();
            listed(views, |snapshots| Snapshots { snapshots })
        })
        .await
    }

    /// Delete a snapshot (NS/SLUG:NAME) and its file. Requires
    /// `confirm: true`. Returns the `sqlfork snapshot delete --json`
    /// document.
    #[tool(input_schema = schema::<SnapshotDeleteArgs>(), output_schema = output_schema::<SnapshotDeletedView>(), annotations(title = "Delete a snapshot", read_only_hint = false, destructive_hint = true))]
    async fn delete_snapshot(&self, args: JsonObject) -> CallToolResult {
        let args: SnapshotDeleteArgs = args!(args);
        self.blocking(move |home, _| {
            let snap = SnapshotAddress::parse(&args.address)?;
            if !args.confirm {
                return Err(unconfirmed("deleted", &format!("snapshot {snap}"), ""));
            }
            let deleted = Local { home }.delete(&snap.database, &snap.name)?;
            json(&SnapshotDeletedView { deleted: crate::api::snapshot_info(&deleted) })
        })
        .await
    }

    /// Reset a fork in place to its parent's current state, or to one of
    /// its own snapshots (`to`): the undo after a migration test. Same id,
    /// same path. Requires `confirm: true`. Returns the `sqlfork db reset
    /// --json` document.
    #[tool(input_schema = schema::<ResetArgs>(), output_schema = output_schema::<ResetView>(), annotations(title = "Reset a database", read_only_hint = false, destructive_hint = true))]
    async fn reset_database(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: ResetArgs = args!(args);
        let label = args.address.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let address = Address::parse(&args.address)?;
            if !args.confirm {
                return Err(unconfirmed("reset", &address, " replaces its content and"));
            }
            let request = settings::ResetRequest {
                safe: args.safe.safe(),
                address: args.address,
                to: args.to,
                with_data: args.include_data,
                ttl: Ttl::text(args.ttl),
                when_open: WhenOpenArg::choice(args.when_open),
            };
            let opts = request.resolve(config)?;
            json(&ResetView::of(home, &crate::reset::reset(home, config, &opts, progress)?)?)
        })
        .await
    }

    /// What changed between two databases: schema objects added, removed
    /// and changed, settings, and rows inserted, deleted and updated per
    /// table (matched by primary key). B defaults to A's parent, so
    /// `{"a": "acme/pr-142"}` shows what a migration on a fork did. Returns
    /// the `sqlfork db diff --json` document, or Markdown or SQL (then
    /// structured as {"markdown": …} or {"sql": …}).
    #[tool(input_schema = schema::<DiffArgs>(), output_schema = output_schema::<DiffOutput>(), annotations(title = "Diff two databases", read_only_hint = true))]
    async fn diff_databases(&self, args: JsonObject) -> CallToolResult {
        let args: DiffArgs = args!(args);
        self.blocking(move |home, config| {
            let opts = crate::diff::DiffOptions {
                a: args.a,
                b: args.b,
                schema_only: args.schema,
                rows: args.rows.unwrap_or(0) as usize,
                since_fork: false,
                full: false,
            };
            let (a, b) = crate::diff::open_sides(home, config, &opts)?;
            let report = crate::diff::diff_opened(&a, &b, &opts)?;
            match args.format.unwrap_or(DiffFormat::Json) {
                DiffFormat::Json => json(&DiffOutput::Report(report)),
                DiffFormat::Markdown => {
                    let text = crate::diff::render::markdown(&report);
                    Ok(Document { value: serde_json::to_value(DiffOutput::Markdown { markdown: text.clone() })?, text })
                }
                DiffFormat::Sql => {
                    let mut sql = Vec::new();
                    crate::diff::sql::write_patch(&a, &b, &mut sql)?;
                    let text = String::from_utf8_lossy(&sql).into_owned();
                    Ok(Document { value: serde_json::to_value(DiffOutput::Sql { sql: text.clone() })?, text })
                }
            }
        })
        .await
    }

    /// Upload a local snapshot (NS/SLUG:NAME) to a remote: only the pages
    /// the remote does not hold yet. Any machine then forks it with
    /// fork_database(source: "REMOTE:NS/SLUG:NAME"). A name on a remote
    /// never changes. Returns the `sqlfork push --json` document.
    #[tool(input_schema = schema::<PushArgs>(), output_schema = output_schema::<crate::output::TransferView>(), annotations(title = "Push a snapshot to a remote", read_only_hint = false, destructive_hint = false))]
    async fn push_snapshot(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: PushArgs = args!(args);
        let label = args.snapshot.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let opts = crate::remote::PushOptions {
                snapshot: SnapshotAddress::parse(&args.snapshot)?,
                remote: args.remote,
                ttl: Ttl::resolve(Ttl::text(args.ttl).as_ref())?,
            };
            let (pushed, figures) = crate::remote::push(home, config, &opts, progress)?;
            json(&crate::output::TransferView::new(&pushed, &figures, true))
        })
        .await
    }

    /// Merge a fork's changes since it was forked into its parent, three
    /// ways, cell by cell (`sqlfork db merge`). A dry run unless
    /// `apply: true`. Returns the `db merge --json` report; `merged: false`
    /// with conflicts means nothing was written.
    #[tool(input_schema = schema::<MergeArgs>(), output_schema = output_schema::<crate::merge::MergeReport>(), annotations(title = "Merge a fork into its parent", read_only_hint = false, destructive_hint = false))]
    async fn merge_database(&self, args: JsonObject) -> CallToolResult {
        let args: MergeArgs = args!(args);
        self.blocking(move |home, config| {
            let opts = crate::merge::MergeOptions {
                fork: args.fork,
                into: args.into,
                dry_run: !args.apply,
                prefer: args.prefer.unwrap_or_default(),
                yes: args.yes,
            };
            json(&crate::merge::merge(home, config, &opts)?)
        })
        .await
    }

    /// Rehearse a migration before proposing it: run the .sql files (and,
    /// with `down`, their down files) on a masked-if-asked data fork of
    /// `source` and report per file whether it ran, how long the write lock
    /// was held, schema changes, rows inserted/deleted/updated per table,
    /// and findings (error: failed, integrity_check, foreign_key_violation,
    /// not_undone; warning: rows_deleted, non_null_dropped, table_rebuilt,
    /// lock_budget; info: the rest). `worst` is the most severe finding.
    /// The fork is deleted afterwards unless `keep`; the source is never
    /// written. Returns the `sqlfork db rehearse --json` document (or
    /// Markdown, structured as {"markdown": …}).
    #[tool(input_schema = schema::<RehearseArgs>(), output_schema = output_schema::<RehearseOutput>(), annotations(title = "Rehearse a migration", read_only_hint = false, destructive_hint = false))]
    async fn rehearse_migration(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: RehearseArgs = args!(args);
        let label = args.source.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let request = settings::RehearseRequest {
                source: args.source,
                migrations: args.migrations,
                down: args.down,
                safe: settings::Safe { mask_file: args.mask, subset: args.subset, ..Default::default() },
                lock_budget: args.lock_budget.unwrap_or_else(|| "1s".into()),
                lock_budget_arg: "lockBudget",
                keep: args.keep,
            };
            let report = crate::rehearse::rehearse(home, config, &request.resolve(config)?, progress)?;
            match args.format.unwrap_or(RehearseFormat::Json) {
                RehearseFormat::Json => json(&RehearseOutput::Report(report)),
                RehearseFormat::Markdown => {
                    let text = crate::rehearse::render::markdown(&report);
                    Ok(Document {
                        value: serde_json::to_value(RehearseOutput::Markdown { markdown: text.clone() })?,
                        text,
                    })
                }
            }
        })
        .await
    }

    /// Delete a database (or branch): its entry, and its file when sqlfork
    /// created it (imported files are never deleted). Requires
    /// `confirm: true`.
    #[tool(input_schema = schema::<DeleteArgs>(), output_schema = output_schema::<DeletedView>(), annotations(title = "Delete a database", read_only_hint = false, destructive_hint = true))]
    async fn delete_database(&self, args: JsonObject) -> CallToolResult {
        let args: DeleteArgs = args!(args);
        self.blocking(move |home, _| {
            let addr = Address::parse(&args.address)?;
            if !args.confirm {
                return Err(unconfirmed("deleted", &addr, ""));
            }
            let (entry, snapshots) = ops::delete_with(home, &addr, None)?;
            // An interrupted reset or snapshot may have left a hidden copy beside it.
            branch::remove_reset_leftover(home, &addr);
            json(&DeletedView::new(&entry, snapshots.len()))
        })
        .await
    }

    /// Stop the process building a fork (one still provisioning: a
    /// detached or interrupted copy) and remove the half-made fork, as
    /// `sqlfork db cancel --json`. A healthy database is refused: use
    /// delete_database.
    #[tool(input_schema = schema::<AddressArgs>(), output_schema = output_schema::<CancelledView>(), annotations(title = "Cancel a fork in progress", read_only_hint = false, destructive_hint = true))]
    async fn cancel_database(&self, args: JsonObject) -> CallToolResult {
        let args: AddressArgs = args!(args);
        self.blocking(move |home, _| {
            let addr = Address::parse(&args.address)?;
            let out = crate::cancel::cancel(home, &addr)?;
            branch::remove_reset_leftover(home, &addr);
            json(&CancelledView { cancelled: Database::from_entry(&out.entry), stopped_pid: out.stopped })
        })
        .await
    }

    /// Which columns of a source look personal and have no mask rule (in
    /// `mask`, else `mask` in config.toml), as `--mask-check --json`:
    /// {"unruled": [...]}. Forks nothing.
    #[tool(input_schema = schema::<MaskCheckArgs>(), output_schema = output_schema::<MaskCheckView>(), annotations(title = "Check mask rules", read_only_hint = true))]
    async fn check_mask(&self, args: JsonObject) -> CallToolResult {
        let args: MaskCheckArgs = args!(args);
        self.blocking(move |home, config| {
            let source = Source::parse(&args.source)?;
            let safe = args.safe.safe().resolve(config, true)?;
            json(&MaskCheckView { unruled: fork::mask_check(home, config, &source, &safe)? })
        })
        .await
    }
}
