//! The `pool` subcommands: N forks of one database for N parallel test
//! workers, handed out by leases tied to live processes (see `pool`).
//! Thin over the library's `Sqlfork::pool_*`.

use super::Context;
use crate::api::Sqlfork;
use crate::cli::PoolCommand;
use crate::error::ExitCode;
use crate::pool::PoolSlot;
use serde::Serialize;
use std::time::Duration;

/// A slot as `--json` shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SlotView {
    slot: u32,
    address: String,
    path: String,
    state: &'static str,
    holder_pid: Option<u32>,
    leased_at: Option<String>,
    dirty: bool,
}

impl From<&PoolSlot> for SlotView {
    fn from(s: &PoolSlot) -> Self {
        SlotView {
            slot: s.slot,
            address: s.address.clone(),
            path: s.path.display().to_string(),
            state: if s.holder_pid.is_some() { "leased" } else { "free" },
            holder_pid: s.holder_pid,
            leased_at: s.leased_at.clone(),
            dirty: s.dirty,
        }
    }
}

fn table(slots: &[PoolSlot]) -> String {
    let mut out = String::from("SLOT  ADDRESS                              STATE   HOLDER   NEXT LEASE\n");
    for s in slots {
        let holder = s.holder_pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
        let state = if s.holder_pid.is_some() { "leased" } else { "free" };
        let next = if s.dirty { "resets" } else { "clean" };
        out.push_str(&format!("{:<5} {:<36} {state:<7} {holder:<8} {next}\n", s.slot, s.address));
    }
    out
}

pub(super) fn run(ctx: &mut Context, cmd: PoolCommand) -> anyhow::Result<ExitCode> {
    let sqlfork = Sqlfork::open(ctx.home.root().to_path_buf())?;
    match cmd {
        PoolCommand::Create { address, size, with_data, ttl } => {
            let ttl = ttl.map(|t| crate::ttl::parse_ttl(&t)).transpose()?;
            let opts = crate::pool::PoolOptions { size, with_data, ttl };
            let slots = sqlfork.pool_create(&address, &opts)?;
            let views: Vec<SlotView> = slots.iter().map(SlotView::from).collect();
            let kind = if with_data { "with data" } else { "schema only" };
            ctx.printer.note(&format!(
                "Created a pool of {size} slots of {address} ({kind}); lease one with `sqlfork pool lease {address}`"
            ));
            ctx.printer.result_or_quiet(None, || table(&slots), &views)?;
        }
        PoolCommand::Lease { address, pid, timeout } => {
            let timeout = parse_timeout(&timeout)?;
            // Default holder: the worker that ran this command.
            let pid = pid.unwrap_or_else(std::os::unix::process::parent_id);
            let lease = sqlfork.pool_lease(&address, Some(pid), timeout)?;
            let view = SlotView::from(lease.slot());
            let path = lease.path().display().to_string();
            // The lease outlives this process: it belongs to `pid`.
            std::mem::forget(lease);
            ctx.printer.note(&format!("Leased {} for process {pid}", view.address));
            ctx.printer.result(|| path, &view)?;
        }
        PoolCommand::Return { address, slot } => {
            let s = sqlfork.pool_return(&address, &slot)?;
            ctx.printer.note(&format!("Returned {}; it is reset at its next lease", s.address));
            ctx.printer.result_or_quiet(None, String::new, &SlotView::from(&s))?;
        }
        PoolCommand::List { address } => {
            let slots = sqlfork.pool_list(&address)?;
            let views: Vec<SlotView> = slots.iter().map(SlotView::from).collect();
            ctx.printer.result(|| table(&slots), &views)?;
        }
        PoolCommand::Delete { address, force } => {
            let n = sqlfork.pool_delete(&address, force)?;
            ctx.printer.note(&format!("Deleted the pool of {address} ({n} slots and its base snapshot)"));
            ctx.printer.result_or_quiet(
                None,
                String::new,
                &serde_json::json!({ "address": address, "slotsDeleted": n }),
            )?;
        }
    }
    Ok(ExitCode::Success)
}

fn parse_timeout(text: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(text).map_err(|e| {
        let why = crate::error::DurationProblem::Unreadable { reason: e.to_string() };
        crate::error::Error::BadDuration { option: "--timeout".into(), text: text.into(), why }.into()
    })
}
