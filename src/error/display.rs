//! The one sentence each [`Error`] says: its `Display`.

use super::*;

/// `1.5 MiB`.
pub(crate) fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A duration as a person reads it, to the millisecond.
fn human(d: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_millis(d.as_millis() as u64))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(m) | Error::Failed(m) | Error::BadRule(m) => f.write_str(m),
            Error::NotADatabase { path, why } => write!(f, "{} {why}", path.display()),
            Error::Unmasked { columns } => write!(
                f,
                "--strict: {} column(s) look personal and have no mask rule: {}; add a rule for each (keep if it is not personal)",
                columns.len(),
                columns.join(", ")
            ),
            Error::NotFound { address: a } => match &a.branch {
                // An unknown branch: its database's branches are the list to see.
                Some(_) => {
                    let db = a.database();
                    write!(f, "{a} does not exist; `sqlfork branch list {db}` shows the branches of {db}")
                }
                None => write!(f, "{a} does not exist; `sqlfork db list` shows the databases in this home"),
            },
            Error::Gone { address: a } => write!(
                f,
                "{a} no longer exists: it was deleted, or its fork failed, while this waited; fork it again if you still need it"
            ),
            Error::SourceFileMissing { path } => {
                write!(f, "source file {} does not exist; check the path", path.display())
            }
            Error::NoSuchFile { path } => write!(f, "{} does not exist; check the path", path.display()),
            Error::FileMissing { address: a, path } => write!(
                f,
                "the file of {a} ({}) is missing; delete the entry with `sqlfork db delete {a}`",
                path.display()
            ),
            Error::Taken { address: a } => {
                write!(f, "{a} already exists; pick another name or delete it first with `sqlfork db delete {a}`")
            }
            Error::BeingBuilt { address: a } => write!(
                f,
                "{a} already exists: another sqlfork process is building it right now; run `sqlfork db wait {a}` to follow it"
            ),
            Error::Busy { address: a } => write!(
                f,
                "another sqlfork process is building {a} right now; run `sqlfork db wait {a}` to follow it"
            ),
            Error::InUse { address: a } => write!(
                f,
                "{a} is being built by another sqlfork process; wait for it (`sqlfork db wait {a}`) or stop it with `sqlfork db cancel {a}`"
            ),
            Error::SourceProvisioning { address: a } => {
                write!(f, "source {a} is still provisioning; run `sqlfork db wait {a}` and fork it after")
            }
            Error::BackgroundFailed { address: a, reason } => write!(f, "{a} failed and was removed: {reason}"),
            Error::Timeout { address: a, waited } => write!(
                f,
                "gave up waiting for {a} after {}; it is still provisioning (`sqlfork db show {a}` shows progress)",
                humantime::format_duration(*waited)
            ),
            Error::SnapshotNotFound { snapshot, existing } => write!(f, "there is no snapshot {snapshot}; {existing}"),
            Error::NoSnapshotAt { address: a, at, existing } => {
                write!(f, "no snapshot of {a} was taken at or before {at}; {existing}")
            }
            Error::SnapshotTaken { snapshot: s } => write!(
                f,
                "snapshot {s} already exists; pick another name or delete it first with `sqlfork snapshot delete {s}`"
            ),
            Error::SnapshotBeingTaken { snapshot: s } => write!(
                f,
                "snapshot {s} already exists: another sqlfork process is taking it right now; pick another name or wait for it"
            ),
            Error::NoPool { address: a } => {
                write!(f, "{a} has no pool; create one with `sqlfork pool create {a} --size N`")
            }
            Error::PoolBusy { address: a, size, waited } => write!(
                f,
                "all {size} slots of {a}'s pool stayed leased for {}; return one (`sqlfork pool return {a} SLOT`), wait longer (--timeout) or make a bigger pool",
                humantime::format_duration(*waited)
            ),
            Error::NotResettable { address: a, why } => write!(f, "{a} cannot be reset: {why}"),
            Error::StillProvisioning { address: a, action } => write!(
                f,
                "cannot {action} {a}: it is still provisioning; run `sqlfork db wait {a}` (or `sqlfork db delete {a}`) first"
            ),
            Error::CopyStopped => f.write_str("the copy was interrupted"),
            Error::RehearsalInterrupted => {
                f.write_str("Interrupted; the rehearsal fork was removed and the source was not touched")
            }
            Error::Interrupted { how_far, resume, .. } => {
                let at = how_far.as_deref().map(|h| format!(" at {h}")).unwrap_or_default();
                write!(f, "Interrupted{at}; `{resume}` continues it")
            }
            Error::InterruptedFork { address: a, with_data, how_far, resume } => {
                let kind = if *with_data { "data fork" } else { "fork" };
                let at = how_far.as_deref().map(|h| format!(" at {h}")).unwrap_or_default();
                write!(
                    f,
                    "{a} is an interrupted {kind} (stopped{at}); `{resume}` continues it, or `sqlfork db delete {a}` removes it"
                )
            }
            Error::Hinted { error, hint } => write!(f, "{error}{hint}"),
            Error::OpenElsewhere { address: a, holders } => {
                let who: Vec<String> = holders.iter().map(|h| h.to_string()).collect();
                write!(
                    f,
                    "{a} is open in another process: {}; close it first, or use --in-place to reset it under the open connections (they see the new state at their next transaction), or --force to replace the file anyway (their later writes are lost)",
                    who.join(", ")
                )
            }
            Error::NoSpace { what, fs, needed: Some(n), free } => write!(
                f,
                "not enough space on {fs}: {what} needs {}, {} free; free some space (`sqlfork db gc`, `sqlfork db delete`) and try again",
                human_size(*n),
                human_size(*free)
            ),
            Error::NoSpace { what, fs, needed: None, free } => write!(
                f,
                "not enough space on {fs}: {what} ran out of space ({} free); nothing was left half-made; free some space and try again",
                human_size(*free)
            ),
            Error::LockTimeout { what, waited } => write!(
                f,
                "gave up after {} waiting for {what} held by another sqlfork process; try again when it is done",
                human(*waited)
            ),
            Error::NoHook { path, foreign: false } => write!(f, "no post-checkout hook is installed at {}", path.display()),
            Error::NoHook { path, foreign: true } => {
                write!(f, "{} was not written by sqlfork; it is left as it is", path.display())
            }
            Error::RemoteNotFound { remote, known } if known.is_empty() => write!(
                f,
                "there is no remote `{remote}`; add one with `sqlfork remote add {remote} s3://BUCKET/PREFIX`"
            ),
            Error::RemoteNotFound { remote, known } => {
                write!(f, "there is no remote `{remote}`; the remotes are {} (`sqlfork remote list`)", known.join(", "))
            }
            Error::RemoteTaken { remote } => write!(
                f,
                "remote `{remote}` already exists; pick another name or remove it first with `sqlfork remote remove {remote}`"
            ),
            Error::RemoteSnapshotNotFound { snapshot, existing } => write!(f, "there is no snapshot {snapshot}; {existing}"),
            Error::RemoteSnapshotTaken { snapshot } => write!(
                f,
                "snapshot {snapshot} already exists on the remote (names there never change); push under another name or delete it first with `sqlfork snapshot delete {snapshot}`"
            ),
            Error::RemoteDamaged { snapshot, reason } => write!(
                f,
                "snapshot {snapshot} on the remote is damaged: {reason}; nothing was kept, push it again from a machine that has it"
            ),
            Error::RemoteRefused { remote, snapshot, why } => {
                write!(f, "remote `{remote}` refuses {snapshot}: {why}")
            }
            Error::RemoteUnavailable { remote, reason } => write!(f, "remote `{remote}` failed: {reason}"),
            Error::HookInTheWay { path } => write!(
                f,
                "{} already exists beside a post-checkout hook sqlfork did not write; move one of them away first",
                path.display()
            ),
        }
    }
}
