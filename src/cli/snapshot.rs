//! `sqlfork snapshot …`: read-only restore points NS/SLUG:NAME.

use super::Confirmation;
use clap::Subcommand;

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
