//! `sqlfork mcp`: the Model Context Protocol server, so agents fork the way
//! people do (SPEC section 13).
//!
//! It serves over stdio with the protocol's official Rust SDK (`rmcp`). Each
//! tool is one CLI command: its arguments are the command's arguments (JSON
//! Schemas derived from the structs below), its result is exactly the JSON
//! document that command prints with `--json` (the same `output` views), and
//! its failures are tool errors carrying the same one-sentence messages.
//!
//! The library calls block, so each runs on a blocking thread. A copy
//! reports progress as `notifications/progress` when the request carries a
//! progress token, and stops at its next committed page when the client
//! sends `notifications/cancelled` (or the session ends): the fork is then
//! left provisioning and resumable, as a Ctrl-C leaves it, and
//! `wait_database` finishes it.

use crate::address::{Address, Source};
use crate::branch::{self, PutOptions};
use crate::copy::Progress;
use crate::error::{exit_code_for, Error};
use crate::fork::{self, ForkOptions};
use crate::home::{Config, Home};
use crate::ops;
use crate::output::{DeletedView, DetailView, EntryView, ForkView, PathView, PutView, ResetView, SnapshotView};
use crate::ttl;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, JsonObject, ProgressNotificationParam, ProgressToken,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, RoleServer, ServerHandler, ServiceExt};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Serve MCP on stdin/stdout until the client closes stdin.
pub(crate) fn serve(home: Home) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("could not start the MCP server: {e}")))?;
    let server = Server::new(home);
    let stopping = server.stopping.clone();
    let stopping_at_eof = server.stopping.clone();
    let result = runtime.block_on(async move {
        let stopping = stopping_at_eof;
        let (stdin, stdout) = rmcp::transport::stdio();
        let stdin = EofFlag { inner: stdin, eof: stopping.clone() };
        let service = server
            .serve((stdin, stdout))
            .await
            .map_err(|e| Error::failed(format!("the MCP session did not start: {e}")))?;
        service.waiting().await.map_err(|e| Error::failed(format!("the MCP session failed: {e}")))?;
        anyhow::Ok(())
    });
    // The client is gone: copies still running stop at their next page
    // (resumable), and the runtime waits for them before the process ends.
    stopping.store(true, Ordering::SeqCst);
    drop(runtime);
    result
}

/// Stdin that raises `eof` when the client closes it, so that copies in
/// flight stop at once rather than after the SDK's drain timeout.
struct EofFlag<R> {
    inner: R,
    eof: Arc<AtomicBool>,
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for EofFlag<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(poll, std::task::Poll::Ready(Ok(()))) && buf.filled().len() == before && buf.remaining() > 0 {
            self.eof.store(true, Ordering::SeqCst);
        }
        poll
    }
}

/// The MCP server: a home and the tools.
#[derive(Clone)]
pub(crate) struct Server {
    home: Home,
    /// Set when the session ends, so copies in flight stop.
    stopping: Arc<AtomicBool>,
    tool_router: ToolRouter<Self>,
}

// ---------------------------------------------------------------------------
// Tool arguments (their doc comments become the JSON Schema descriptions)

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    fn choice(arg: Option<WhenOpenArg>) -> crate::holders::WhenOpen {
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
pub(crate) struct DeleteArgs {
    /// NS/SLUG, or NS/SLUG@REF for a branch.
    pub address: String,
    /// Must be true: deleting removes the entry, and the file when sqlfork
    /// created it.
    pub confirm: bool,
}

// ---------------------------------------------------------------------------
// Tools

#[tool_router]
impl Server {
    pub(crate) fn new(home: Home) -> Self {
        Server { home, stopping: Arc::new(AtomicBool::new(false)), tool_router: Self::tool_router() }
    }

    /// Fork a SQLite database into a new, independent database (schema only
    /// unless includeData). Returns the new database as `sqlfork db fork
    /// --json` prints it, with its path. A cancelled copy stays provisioning;
    /// wait_database finishes it.
    #[tool(input_schema = schema::<ForkArgs>(), annotations(title = "Fork a database", read_only_hint = false, destructive_hint = false))]
    async fn fork_database(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: ForkArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        let label = args.destination.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            if args.detach && !args.include_data {
                return Err(
                    Error::invalid("`detach` needs `includeData: true`: a schema-only fork is ready at once").into()
                );
            }
            let opts = ForkOptions {
                source: Source::parse(&args.source)?,
                destination: args.destination,
                name: args.name,
                ttl: parse_ttl(args.ttl)?,
                with_data: args.include_data,
                detach: args.detach,
                branch: None,
                safe: Default::default(),
                mergeable: false,
            };
            // A remote snapshot is pulled into the home first.
            crate::remote::prepare_source(home, config, &opts.source, opts.with_data, progress)?;
            let out = fork::fork(home, config, &opts, progress)?;
            json(&ForkView::from(&out))
        })
        .await
    }

    /// List databases (optionally in one namespace), as `sqlfork db list
    /// --json` prints them: address, path, status, size, lineage time and
    /// expiry of each.
    #[tool(input_schema = schema::<ListArgs>(), annotations(title = "List databases", read_only_hint = true))]
    async fn list_databases(&self, args: JsonObject) -> CallToolResult {
        let args: ListArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        self.blocking(move |home, _| {
            let entries = ops::list(home, args.namespace.as_deref())?;
            json(&entries.iter().map(EntryView::from).collect::<Vec<_>>())
        })
        .await
    }

    /// Show one database in detail, with its lineage resolved (`forkedFrom`)
    /// and the progress of a copy in flight, as `sqlfork db show --json`.
    #[tool(input_schema = schema::<AddressArgs>(), annotations(title = "Show a database", read_only_hint = true))]
    async fn show_database(&self, args: JsonObject) -> CallToolResult {
        let args: AddressArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        self.blocking(move |home, _| {
            let detail = ops::show(home, &Address::parse(&args.address)?)?;
            json(&DetailView::from(&detail))
        })
        .await
    }

    /// The absolute path of a database's SQLite file, as `{"path": …}`.
    #[tool(input_schema = schema::<AddressArgs>(), annotations(title = "Database path", read_only_hint = true))]
    async fn database_path(&self, args: JsonObject) -> CallToolResult {
        let args: AddressArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        self.blocking(move |home, _| json(&PathView::from(ops::path(home, &Address::parse(&args.address)?)?.as_path())))
            .await
    }

    /// Wait until a database is healthy (a detached or interrupted copy),
    /// finishing its copy here when no process is copying it. Returns the
    /// database as `sqlfork db wait --json`.
    #[tool(input_schema = schema::<WaitArgs>(), annotations(title = "Wait for a database", read_only_hint = false, destructive_hint = false))]
    async fn wait_database(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: WaitArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        let label = args.address.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let addr = Address::parse(&args.address)?;
            let timeout =
                args.timeout.map(|t| crate::ttl::parse_duration_arg("timeout", &t, "30s or 10m")).transpose()?;
            let entry = crate::fork::wait(home, config, &addr, timeout, progress, &mut || {})?;
            json(&EntryView::from(&entry))
        })
        .await
    }

    /// Create the branch NS/SLUG@REF from NS/SLUG, or reset it to NS/SLUG's
    /// current state when it exists (same id, same path). Idempotent; one
    /// branch per git branch or pull request. Returns it as `sqlfork branch
    /// put --json`, with `action` created, reset or resumed.
    #[tool(input_schema = schema::<BranchPutArgs>(), annotations(title = "Create or reset a branch", read_only_hint = false, destructive_hint = true, idempotent_hint = true))]
    async fn branch_put(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: BranchPutArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        let label = args.address.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let addr = Address::parse(&args.address)?;
            branch::require_ref(&addr)?;
            let opts = PutOptions {
                address: addr,
                with_data: args.include_data,
                ttl: parse_ttl(args.ttl)?,
                safe: Default::default(),
                when_open: WhenOpenArg::choice(args.when_open),
            };
            let out = branch::put(home, config, &opts, progress)?;
            json(&PutView::from(&out))
        })
        .await
    }

    /// Take a read-only snapshot (restore point) of a database, with its
    /// data, in one consistent moment. Fork it later with
    /// fork_database(source: "NS/SLUG:NAME"), or go back to it with
    /// reset_database(to: NAME). Returns the `sqlfork snapshot create
    /// --json` document.
    #[tool(input_schema = schema::<SnapshotArgs>(), annotations(title = "Take a snapshot", read_only_hint = false, destructive_hint = false))]
    async fn create_snapshot(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: SnapshotArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        let label = args.address.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let (address, name) = crate::address::SnapshotAddress::parse_optional(&args.address)?;
            let ttl = parse_ttl(args.ttl)?;
            let opts = crate::snapshot::CreateOptions { address, name, ttl };
            let snap = crate::snapshot::create(home, config, &opts, progress)?;
            json(&SnapshotView::from(&snap))
        })
        .await
    }

    /// Upload a local snapshot (NS/SLUG:NAME) to a remote: only the pages
    /// the remote does not hold yet. Any machine then forks it with
    /// fork_database(source: "REMOTE:NS/SLUG:NAME"). A name on a remote
    /// never changes. Returns the `sqlfork push --json` document.
    #[tool(input_schema = schema::<PushArgs>(), annotations(title = "Push a snapshot to a remote", read_only_hint = false, destructive_hint = false))]
    async fn push_snapshot(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: PushArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        let label = args.snapshot.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let opts = crate::remote::PushOptions {
                snapshot: crate::address::SnapshotAddress::parse(&args.snapshot)?,
                remote: args.remote,
                ttl: parse_ttl(args.ttl)?,
            };
            let (pushed, figures) = crate::remote::push(home, config, &opts, progress)?;
            json(&crate::output::TransferView::new(&pushed, &figures, true))
        })
        .await
    }

    /// Reset a fork in place to its parent's current state, or to one of
    /// its own snapshots (`to`): the undo after a migration test. Same id,
    /// same path. Requires `confirm: true`. Returns the `sqlfork db reset
    /// --json` document.
    #[tool(input_schema = schema::<ResetArgs>(), annotations(title = "Reset a database", read_only_hint = false, destructive_hint = true))]
    async fn reset_database(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: ResetArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        let label = args.address.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let address = Address::parse(&args.address)?;
            if !args.confirm {
                return Err(Error::invalid(format!(
                    "not reset: resetting {address} replaces its content and needs `confirm: true`; {address} is unchanged"
                ))
                .into());
            }
            let opts = crate::reset::ResetOptions {
                address,
                to: args.to,
                with_data: args.include_data,
                ttl: parse_ttl(args.ttl)?,
                safe: Default::default(),
                when_open: WhenOpenArg::choice(args.when_open),
            };
            let out = crate::reset::reset(home, config, &opts, progress)?;
            json(&ResetView::from(&out))
        })
        .await
    }

    /// What changed between two databases: schema objects added, removed
    /// and changed, settings, and rows inserted, deleted and updated per
    /// table (matched by primary key). B defaults to A's parent, so
    /// `{"a": "acme/pr-142"}` shows what a migration on a fork did. Returns
    /// the `sqlfork db diff --json` document, or Markdown or SQL.
    #[tool(input_schema = schema::<DiffArgs>(), annotations(title = "Diff two databases", read_only_hint = true))]
    async fn diff_databases(&self, args: JsonObject) -> CallToolResult {
        let args: DiffArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        self.blocking(move |home, config| {
            let opts = crate::diff::DiffOptions {
                a: args.a,
                b: args.b,
                schema_only: args.schema,
                rows: args.rows.unwrap_or(0) as usize,
                full: false,
                since_fork: false,
            };
            let (a, b) = crate::diff::open_sides(home, config, &opts)?;
            let report = crate::diff::diff_opened(&a, &b, &opts)?;
            match args.format.unwrap_or(DiffFormat::Json) {
                DiffFormat::Json => json(&report),
                DiffFormat::Markdown => {
                    Ok(Document { text: crate::diff::render::markdown(&report), value: serde_json::Value::Null })
                }
                DiffFormat::Sql => {
                    let mut sql = Vec::new();
                    crate::diff::sql::write_patch(&a, &b, &mut sql)?;
                    Ok(Document { text: String::from_utf8_lossy(&sql).into_owned(), value: serde_json::Value::Null })
                }
            }
        })
        .await
    }

    /// Merge a fork's changes since it was forked into its parent, three
    /// ways, cell by cell (`sqlfork db merge`). A dry run unless
    /// `apply: true`. Returns the `db merge --json` report; `merged: false`
    /// with conflicts means nothing was written.
    #[tool(input_schema = schema::<MergeArgs>(), annotations(title = "Merge a fork into its parent", read_only_hint = false, destructive_hint = false))]
    async fn merge_database(&self, args: JsonObject) -> CallToolResult {
        let args: MergeArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
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
    /// written. Returns the `sqlfork db rehearse --json` document.
    #[tool(input_schema = schema::<RehearseArgs>(), annotations(title = "Rehearse a migration", read_only_hint = false, destructive_hint = false))]
    async fn rehearse_migration(&self, args: JsonObject, cx: RequestContext<RoleServer>) -> CallToolResult {
        let args: RehearseArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        let label = args.source.clone();
        self.blocking_copy(cx, &label, move |home, config, progress| {
            let budget = args.lock_budget.as_deref().unwrap_or("1s");
            let lock_budget = humantime::parse_duration(budget.trim()).map_err(|_| {
                Error::invalid(format!("lockBudget `{budget}` is not a duration; write it like 1s or 250ms"))
            })?;
            let rules =
                args.mask.or_else(|| config.mask.clone()).as_deref().map(crate::mask::Rules::load).transpose()?;
            let subset =
                args.subset.iter().map(|s| crate::mask::SubsetRule::parse(s)).collect::<Result<Vec<_>, _>>()?;
            let opts = crate::rehearse::RehearseOptions {
                source: args.source,
                migrations: args.migrations,
                down: args.down,
                safe: crate::mask::SafeOptions { rules, subset, strict: false },
                lock_budget,
                keep: args.keep,
                cancel: None,
            };
            let report = crate::rehearse::rehearse(home, config, &opts, progress)?;
            match args.format.unwrap_or(RehearseFormat::Json) {
                RehearseFormat::Json => json(&report),
                RehearseFormat::Markdown => {
                    Ok(Document { text: crate::rehearse::render::markdown(&report), value: serde_json::Value::Null })
                }
            }
        })
        .await
    }

    /// Delete a database (or branch): its entry, and its file when sqlfork
    /// created it (imported files are never deleted). Requires
    /// `confirm: true`.
    #[tool(input_schema = schema::<DeleteArgs>(), annotations(title = "Delete a database", read_only_hint = false, destructive_hint = true))]
    async fn delete_database(&self, args: JsonObject) -> CallToolResult {
        let args: DeleteArgs = match parse(args) {
            Ok(a) => a,
            Err(refused) => return refused,
        };
        self.blocking(move |home, _| {
            let addr = Address::parse(&args.address)?;
            if !args.confirm {
                return Err(Error::invalid(format!(
                    "not deleted: deleting {addr} needs `confirm: true`; {addr} is unchanged"
                ))
                .into());
            }
            let (entry, snapshots) = ops::delete_with(home, &addr, None)?;
            // An interrupted reset or snapshot may have left a hidden copy beside it.
            branch::remove_reset_leftover(home, &addr);
            json(&DeletedView::new(&entry, snapshots.len()))
        })
        .await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("sqlfork", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "sqlfork forks SQLite databases: fork_database makes an independent copy (schema only, or \
                 with includeData) addressed as NS/SLUG, with lineage and an optional ttl; branch_put keeps \
                 one database per branch at a stable path; database_path gives the file to open with \
                 SQLite. Results are the JSON documents `sqlfork … --json` prints.",
            )
    }
}

// ---------------------------------------------------------------------------
// Arguments

/// A tool's input schema, derived from its argument struct.
fn schema<T: rmcp::schemars::JsonSchema + 'static>() -> Arc<JsonObject> {
    rmcp::handler::server::common::schema_for_input::<T>().unwrap_or_else(|e| panic!("bad input schema: {e}"))
}

/// The arguments, checked against the tool's schema first so that a
/// refusal names the argument and says what it must be (serde alone says
/// "expected a boolean" without saying which); a tool error, as agents
/// correct those.
fn parse<T: serde::de::DeserializeOwned + rmcp::schemars::JsonSchema + 'static>(
    args: JsonObject,
) -> Result<T, CallToolResult> {
    let refuse = |msg: String| Err(to_result(Err(Error::invalid(msg).into())));
    let schema = schema::<T>();
    let properties = schema.get("properties").and_then(|p| p.as_object()).cloned().unwrap_or_default();
    let known = || properties.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    for (key, value) in &args {
        let Some(property) = properties.get(key) else {
            return refuse(format!("unknown argument `{key}`; this tool takes {}", known()));
        };
        let types: Vec<&str> = match property.get("type") {
            Some(serde_json::Value::String(t)) => vec![t.as_str()],
            Some(serde_json::Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).collect(),
            _ => continue,
        };
        let actual = match value {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "boolean",
            serde_json::Value::Number(n) if n.is_u64() && types.contains(&"integer") => "integer",
            serde_json::Value::Number(_) => "number",
            serde_json::Value::String(_) => "string",
            serde_json::Value::Array(_) => "array",
            serde_json::Value::Object(_) => "object",
        };
        if !types.contains(&actual) {
            let want = types.iter().filter(|t| **t != "null").copied().collect::<Vec<_>>().join(" or ");
            return refuse(format!("argument `{key}` must be a {want}, not {actual} {value}"));
        }
    }
    if let Some(required) = schema.get("required").and_then(|r| r.as_array()) {
        for key in required.iter().filter_map(|k| k.as_str()) {
            if !args.contains_key(key) {
                return refuse(format!("missing argument `{key}`; this tool takes {}", known()));
            }
        }
    }
    serde_json::from_value(serde_json::Value::Object(args)).or_else(|e| refuse(format!("bad arguments: {e}")))
}

// ---------------------------------------------------------------------------
// Running the library calls

/// What a tool body returns: the `--json` document, or the error whose
/// sentence becomes the tool error.
type Outcome = anyhow::Result<Document>;

/// A `--json` document: its text exactly as the CLI prints it (field order
/// kept), and its value.
struct Document {
    text: String,
    value: serde_json::Value,
}

fn json<T: Serialize>(view: &T) -> Outcome {
    Ok(Document { text: crate::output::json_document(view)?, value: serde_json::to_value(view)? })
}

fn parse_ttl(ttl: Option<String>) -> Result<Option<Duration>, Error> {
    ttl.map(|t| ttl::parse_ttl(&t)).transpose()
}

impl Server {
    /// Run a library call on a blocking thread, with `config.toml` loaded
    /// as the CLI loads it (per command).
    async fn blocking(&self, f: impl FnOnce(&Home, &Config) -> Outcome + Send + 'static) -> CallToolResult {
        let home = self.home.clone();
        let joined = tokio::task::spawn_blocking(move || {
            crate::ttl::check_clock_override()?;
            let config = Config::load(&home)?;
            f(&home, &config)
        })
        .await;
        to_result(joined.unwrap_or_else(|e| Err(anyhow::anyhow!("the sqlfork call stopped unexpectedly: {e}"))))
    }

    /// [`Self::blocking`] for a call that copies: progress goes to the
    /// client as `notifications/progress` (when it asked for them with a
    /// progress token), and cancellation stops the copy.
    async fn blocking_copy(
        &self,
        cx: RequestContext<RoleServer>,
        label: &str,
        f: impl FnOnce(&Home, &Config, &mut dyn Progress) -> Outcome + Send + 'static,
    ) -> CallToolResult {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ProgressNotificationParam>();
        let token = cx.meta.get_progress_token();
        let peer = cx.peer.clone();
        // Forward progress in order, off the copying thread.
        let forward = tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let _ = peer.notify_progress(p).await;
            }
        });
        let mut progress = McpProgress {
            token,
            tx,
            label: label.to_string(),
            cancel: {
                let ct = cx.ct.clone();
                Box::new(move || ct.is_cancelled())
            },
            stopping: self.stopping.clone(),
            total: 0,
            done: 0,
            unit: "rows",
            last_sent: None,
        };
        let result = self.blocking(move |home, config| f(home, config, &mut progress)).await;
        let _ = forward.await;
        result
    }
}

/// The tool's result: the JSON document as text (formatted as the CLI
/// prints it) and, for objects, as structured content too; or a tool error
/// with the CLI's sentence.
fn to_result(outcome: Outcome) -> CallToolResult {
    match outcome {
        Ok(Document { text, value }) => {
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            if value.is_object() {
                result.structured_content = Some(value);
            }
            result
        }
        Err(err) => {
            let mut result = CallToolResult::error(vec![ContentBlock::text(format!("{err:#}"))]);
            result.structured_content = Some(serde_json::json!({
                "error": format!("{err:#}"),
                "exitCode": exit_code_for(&err).code(),
            }));
            result
        }
    }
}

/// Copy progress as MCP progress notifications, at most about four a second;
/// and the request's cancellation as [`Progress::interrupted`].
struct McpProgress {
    token: Option<ProgressToken>,
    tx: tokio::sync::mpsc::UnboundedSender<ProgressNotificationParam>,
    label: String,
    /// True once the client cancelled this request.
    cancel: Box<dyn Fn() -> bool + Send>,
    stopping: Arc<AtomicBool>,
    total: u64,
    done: u64,
    unit: &'static str,
    last_sent: Option<Instant>,
}

impl McpProgress {
    fn send(&mut self, force: bool) {
        let Some(token) = &self.token else { return };
        if !force && self.last_sent.is_some_and(|t| t.elapsed() < Duration::from_millis(250)) {
            return;
        }
        self.last_sent = Some(Instant::now());
        let mut p = ProgressNotificationParam::new(token.clone(), self.done as f64)
            .with_message(format!("{}: {}/{} {}", self.label, self.done, self.total, self.unit));
        if self.total > 0 {
            p = p.with_total(self.total as f64);
        }
        let _ = self.tx.send(p);
    }
}

impl Progress for McpProgress {
    fn start(&mut self, total: u64, done: u64) {
        self.total = total;
        self.done = done;
        self.send(true);
    }
    fn table(&mut self, _: &str) {}
    fn advance(&mut self, n: u64) {
        self.done += n;
        self.send(false);
    }
    fn finish(&mut self) {
        self.send(true);
    }
    fn unit(&mut self, unit: &'static str) {
        self.unit = unit;
    }
    fn interrupted(&mut self) -> bool {
        (self.cancel)() || self.stopping.load(Ordering::SeqCst)
    }
}
