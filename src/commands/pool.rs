//! The `pool` subcommands: N forks of one database for N parallel test
//! workers, handed out by leases tied to live processes (see `pool`).
//! Thin over the library's `Sqlfork::pool_*`.

use super::Context;
use crate::api::Sqlfork;
use crate::error::ExitCode;
use crate::pool::PoolSlot;
use clap::Subcommand;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Subcommand)]
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
        crate::error::Error::invalid(format!("--timeout {text}: {e}; write a duration such as 30s or 2m")).into()
    })
}
