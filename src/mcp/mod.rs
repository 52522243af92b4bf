//! `sqlfork mcp`: the Model Context Protocol server, so agents fork the way
//! people do.
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

use crate::copy::Progress;
use crate::error::{exit_code_for, Error};
use crate::home::{Config, Home};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, JsonObject, ProgressNotificationParam, ProgressToken,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool_handler, RoleServer, ServerHandler, ServiceExt};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod args;
mod tools;

impl Server {
    pub(crate) fn new(home: Home) -> Self {
        Server { home, stopping: Arc::new(AtomicBool::new(false)), tool_router: Self::tool_router() }
    }
}

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

/// A list: its text is the CLI's `--json` array, its structured content
/// the array under a name (structured content is an object).
fn listed<T: Serialize, W: Serialize>(items: Vec<T>, wrap: impl FnOnce(Vec<T>) -> W) -> Outcome {
    let text = crate::output::json_document(&items)?;
    Ok(Document { text, value: serde_json::to_value(wrap(items))? })
}

/// A tool's output schema, derived from the view it answers with; the root
/// says `object`, as MCP clients expect (every view is one).
fn output_schema<T: rmcp::schemars::JsonSchema + 'static>() -> Arc<JsonObject> {
    let schema = rmcp::handler::server::common::schema_for_output::<T>();
    if schema.contains_key("type") {
        return schema;
    }
    let mut object = schema.as_ref().clone();
    object.insert("type".into(), "object".into());
    Arc::new(object)
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
            unit_bytes: 0.0,
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
    /// Bytes one counted unit stands for (0 until the copy says).
    unit_bytes: f64,
    last_sent: Option<Instant>,
}

impl McpProgress {
    fn send(&mut self, force: bool) {
        let Some(token) = &self.token else { return };
        if !force && self.last_sent.is_some_and(|t| t.elapsed() < Duration::from_millis(250)) {
            return;
        }
        self.last_sent = Some(Instant::now());
        // In bytes, and MiB in the message, as the CLI's bar; in the
        // copy's own units where it does not say what a unit weighs.
        let (done, total, message) = if self.unit_bytes > 0.0 {
            let (done, total) = (self.done as f64 * self.unit_bytes, self.total as f64 * self.unit_bytes);
            let mib = |b: f64| b / (1024.0 * 1024.0);
            (done.round(), total.round(), format!("{}: {:.1}/{:.1} MiB", self.label, mib(done), mib(total)))
        } else {
            let (done, total) = (self.done as f64, self.total as f64);
            (done, total, format!("{}: {}/{} {}", self.label, self.done, self.total, self.unit))
        };
        let mut p = ProgressNotificationParam::new(token.clone(), done).with_message(message);
        if self.total > 0 {
            p = p.with_total(total);
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
    fn unit_bytes(&mut self, bytes: f64) {
        self.unit_bytes = bytes;
    }
    fn interrupted(&mut self) -> bool {
        (self.cancel)() || self.stopping.load(Ordering::SeqCst)
    }
}
