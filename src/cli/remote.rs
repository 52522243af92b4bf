//! `sqlfork remote …`: remotes (shared stores of snapshots).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum RemoteCommand {
    /// Add a remote NAME at URL (s3://BUCKET[/PREFIX] or file:///PATH) to config.toml
    #[command(
        after_help = "Examples:\n  sqlfork remote add origin s3://acme-db-snapshots/prod --region eu-west-1\n  sqlfork remote add minio s3://snaps --endpoint http://127.0.0.1:9000\n  sqlfork remote add shared file:///mnt/nfs/sqlfork\nNo credential is stored: they come from the AWS environment and ~/.aws files."
    )]
    Add {
        /// The remote's name (1-63 of a-z 0-9 -)
        name: String,
        /// s3://BUCKET[/PREFIX] or file:///PATH
        url: String,
        /// The bucket's region [default: AWS_REGION, else ~/.aws/config]
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// An S3-compatible service's endpoint, like http://127.0.0.1:9000 [default: AWS_ENDPOINT_URL]
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        /// Refuse snapshots that no masked fork made (originals never leave this machine)
        #[arg(long)]
        require_masked: bool,
    },
    /// List the remotes (with --snapshots, what each holds)
    List {
        /// Also list every snapshot each remote holds
        #[arg(long)]
        snapshots: bool,
    },
    /// Remove remote NAME from config.toml (what it holds stays on it)
    Remove {
        /// The remote's name
        name: String,
    },
    /// Remove a remote's expired snapshots and the stored data no snapshot needs
    #[command(
        after_help = "Data a push in progress may still need is never removed: while a push holds a lease (written in the last hour), gc removes only expired snapshots, and objects younger than --grace are always kept."
    )]
    Gc {
        /// The remote's name
        name: String,
        /// Keep unreferenced objects younger than this
        #[arg(long, value_name = "DURATION", default_value = "1h")]
        grace: String,
        /// Say what would be removed; remove nothing
        #[arg(long)]
        dry_run: bool,
    },
}
