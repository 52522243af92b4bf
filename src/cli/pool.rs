//! `sqlfork pool …`: pools of slots leased one per test worker.

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
