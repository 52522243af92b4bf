//! An MCP client for the tests: `sqlfork mcp` driven over stdio with
//! JSON-RPC, as an MCP client drives it.

use super::env::{Cmd, Env};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(60);

/// One `sqlfork mcp` session.
pub struct Session {
    child: Child,
    pub stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    /// Notifications seen so far (progress, …).
    pub notifications: Vec<Value>,
    /// Responses read while waiting for another id.
    responses: Vec<Value>,
    next_id: u64,
}

impl Session {
    pub fn start(env: &Env) -> Session {
        Self::start_with(env, &[])
    }

    /// `sqlfork mcp` with these extra environment variables.
    pub fn start_with(env: &Env, vars: &[(&str, &str)]) -> Session {
        Self::start_cmd(env.cmd(["mcp"]).envs(vars))
    }

    pub fn start_cmd(cmd: Cmd) -> Session {
        let mut cmd = cmd.command();
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start sqlfork mcp");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("server wrote a non-JSON line ({e}): {line}"));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut s = Session { child, stdin, lines, notifications: Vec::new(), responses: Vec::new(), next_id: 1 };
        let init = s.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "sqlfork-tests", "version": "1"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "sqlfork", "{init}");
        assert!(init["result"]["capabilities"]["tools"].is_object(), "{init}");
        s.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        s
    }

    pub fn send(&mut self, msg: Value) {
        let stdin = self.stdin.as_mut().expect("session open");
        writeln!(stdin, "{msg}").expect("write to sqlfork mcp");
        stdin.flush().expect("flush");
    }

    /// Send a request; return its id without waiting.
    pub fn send_request(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Read the next message, or None after `timeout`.
    pub fn read(&mut self, timeout: Duration) -> Option<Value> {
        match self.lines.recv_timeout(timeout) {
            Ok(v) => {
                if v.get("id").is_none() {
                    self.notifications.push(v.clone());
                }
                Some(v)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("sqlfork mcp closed stdout"),
        }
    }

    pub fn response(&mut self, id: u64) -> Value {
        if let Some(i) = self.responses.iter().position(|r| r["id"] == id) {
            return self.responses.remove(i);
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = self.read(left).unwrap_or_else(|| panic!("no response to request {id} within {WAIT:?}"));
            if msg["id"] == id {
                return msg;
            }
            if msg.get("id").is_some() {
                self.responses.push(msg);
            }
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id)
    }

    /// `tools/call`; returns the `result` (a CallToolResult).
    pub fn call(&mut self, tool: &str, args: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": args}));
        assert!(r.get("error").is_none(), "{tool} gave a protocol error: {r}");
        r["result"].clone()
    }

    /// A successful call's document, parsed from its text (which must equal
    /// its structured content when it is an object).
    pub fn ok(&mut self, tool: &str, args: Value) -> (String, Value) {
        let result = self.call(tool, args.clone());
        assert_eq!(result["isError"], false, "{tool} {args} failed: {result}");
        let text = result["content"][0]["text"].as_str().expect("text content").to_string();
        let doc: Value = serde_json::from_str(&text).expect("the text is a JSON document");
        if doc.is_object() {
            assert_eq!(result["structuredContent"], doc, "structured content differs from the text");
        }
        (text, doc)
    }

    /// A failed call's sentence.
    pub fn err(&mut self, tool: &str, args: Value) -> String {
        let result = self.call(tool, args.clone());
        assert_eq!(result["isError"], true, "{tool} {args} should fail: {result}");
        result["content"][0]["text"].as_str().expect("text content").to_string()
    }

    /// Close stdin; the server must exit cleanly.
    pub fn close(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "sqlfork mcp exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "sqlfork mcp did not exit after stdin closed");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
