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
            Error::BadTtl { text, duration, why } => bad_ttl(f, text, duration.is_some(), why),
            Error::BadDuration { option, text, why } => match why {
                DurationProblem::NoUnit { number: n } => {
                    write!(f, "{option} `{text}` has no unit; write it like {n}s (or {n}m)")
                }
                DurationProblem::NotADuration { like } => {
                    write!(f, "{option} `{text}` is not a duration; write it like {like}")
                }
                DurationProblem::NotLike { like } => write!(f, "{option} `{text}` is not a duration like {like}"),
                DurationProblem::Unreadable { reason } => {
                    write!(f, "{option} {text}: {reason}; write a duration such as 30s or 2m")
                }
                DurationProblem::Zero { like } => write!(f, "{option} must be longer than 0; write it like {like}"),
                DurationProblem::NotATimeOrAge => write!(
                    f,
                    "{option} `{text}` is neither an RFC 3339 time nor an age; write it like 2026-11-30T02:00:00Z or 2h"
                ),
                DurationProblem::TooFarBack => write!(f, "{option} `{text}` is too far back"),
            },
            Error::BadAddress(e) => write!(f, "{e}"),
            Error::BadConfig { path, problem } => match (path, problem) {
                (_, ConfigProblem::RemotesNotATable) => {
                    f.write_str("config.toml has `remotes` that is not a table; fix it by hand")
                }
                (Some(path), ConfigProblem::NotToml { message }) => {
                    write!(f, "{} is not valid TOML ({message}); fix it first", path.display())
                }
                (Some(path), problem) => write!(f, "{} is invalid: {problem}; fix or remove that line", path.display()),
                (None, problem) => write!(f, "{problem}"),
            },
            Error::BadRemoteUrl { url, why } => bad_remote_url(f, url, why),
            Error::RemoteNotNamed { known } if known.is_empty() => {
                f.write_str("there is no remote; add one with `sqlfork remote add origin s3://BUCKET/PREFIX`")
            }
            Error::RemoteNotNamed { known } => {
                write!(f, "there are {} remotes ({}); name the one to push to", known.len(), known.join(", "))
            }
            Error::BadSource { path, why } => {
                let p = path.display();
                match why {
                    SourceProblem::Corrupt { detail } => write!(
                        f,
                        "source {p} is corrupt ({detail}); repair it (for example with `sqlite3 FILE .recover`) and fork the result"
                    ),
                    SourceProblem::CorruptSchema { detail } => {
                        write!(f, "source {p} has a corrupt schema ({detail}); repair it before forking")
                    }
                    SourceProblem::HotJournal { journal } => write!(
                        f,
                        "source {p} has a hot journal ({}) left by an interrupted write, which a read-only fork may not roll back; open it once with `sqlite3 {p}` to recover it, then fork",
                        journal.display()
                    ),
                    SourceProblem::UnknownObjectType { name, kind } => write!(
                        f,
                        "source {p} has a schema object `{name}` of unknown type `{kind}`; refusing to fork it"
                    ),
                }
            }
            Error::SourceLocked { path, detail } => write!(
                f,
                "source {} is locked by another process ({detail}); try again when its writer is done",
                path.display()
            ),
            Error::SchemaRefused { object, why } => match why {
                SchemaRefusal::Sql { why } => write!(
                    f,
                    "refusing to fork: the SQL of {object} in sqlite_master {why}; the source may be corrupt or hostile"
                ),
                SchemaRefusal::ReplayDiffers => write!(
                    f,
                    "refusing to fork: replaying {object} produced a different schema object; the source may be corrupt or hostile"
                ),
                SchemaRefusal::ReplayExtra => {
                    write!(f, "refusing to fork: replay created {object}, which the source does not have")
                }
            },
            Error::NoParent { address: a, why } => match why {
                NoParentFor::Merge => write!(f, "{a} has no parent to merge into; name one with --into"),
                NoParentFor::Rebase => write!(f, "{a} was created empty, so it has no parent to rebase on"),
                NoParentFor::Diff => {
                    write!(f, "`{a}` has no parent to compare with; name the other side: sqlfork db diff {a} B")
                }
                NoParentFor::DiffSnapshotDeleted { database, snapshot } => write!(
                    f,
                    "the snapshot {database} was forked from ({snapshot}) was deleted; name the other side: sqlfork db diff {a} B"
                ),
            },
            Error::NoBase { address: a, why } => match why {
                NoBaseWhy::NotKept => write!(
                    f,
                    "{a} keeps no base (its state when it was forked), so its own changes cannot be told from its parent's; fork with `--with-data --mergeable` to keep one"
                ),
                NoBaseWhy::SnapshotDeleted => write!(
                    f,
                    "the base of {a} was the snapshot it was forked from, which was deleted; it cannot be merged three ways"
                ),
                NoBaseWhy::Missing { path } => {
                    write!(f, "the base of {a} ({}) is missing; it cannot be merged three ways", path.display())
                }
            },
            Error::OntoItself { address: a, action: "merge" } => {
                write!(f, "cannot merge {a} into itself; name its parent with --into")
            }
            Error::OntoItself { address: a, action } => {
                write!(f, "cannot {action} {a} onto itself; pick another destination")
            }
            Error::BadMigration { what, path, why } => {
                let p = path.display();
                match why {
                    MigrationProblem::NotThere { detail } => {
                        write!(f, "{what} {p} cannot be read: {detail}; name an existing .sql file or directory")
                    }
                    MigrationProblem::DirUnreadable { detail } => {
                        write!(f, "{what} directory {p} cannot be read: {detail}")
                    }
                    MigrationProblem::NoSqlFiles => {
                        write!(f, "{what} directory {p} holds no .sql files; name the directory that holds them")
                    }
                    MigrationProblem::Unreadable { detail } => write!(f, "{what} {p} cannot be read: {detail}"),
                    MigrationProblem::NotUtf8 => write!(f, "{what} {p} is not UTF-8 text; save it as UTF-8"),
                    MigrationProblem::DotCommand { line, command } => {
                        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.to_string());
                        write!(
                            f,
                            "{name} line {line}: `{command}` is a sqlite3 shell dot-command, not SQL; rehearse runs SQL only, so write it as SQL or run it outside the migration"
                        )
                    }
                }
            }
            Error::PoolExists { address: db } => write!(
                f,
                "{db} already has a pool; `sqlfork pool list {db}` shows it, `sqlfork pool delete {db}` removes it"
            ),
            Error::PoolIncomplete { address: db } => write!(
                f,
                "{db}'s pool is not complete: it is being made, or a power cut stopped its making; \
                 unless a `sqlfork pool create {db}` is running, `sqlfork pool delete {db}` removes what was made"
            ),
            Error::PoolSize { size, max } => write!(
                f,
                "--size {size} is out of range: a pool has 1 to {max} slots (one per parallel worker)"
            ),
            Error::NoSuchSlot { address: db, slot, slots } => write!(
                f,
                "{slot} is not a slot of {db}'s pool; give its number (1 to {slots}), its address or its path (`sqlfork pool list {db}`)"
            ),
            Error::SlotNotLeased { address: db, slot } => write!(
                f,
                "{slot} is not leased; nothing to return (`sqlfork pool list {db}` shows who holds what)"
            ),
            Error::SlotLeased { address: db, slot, number, pid } => write!(
                f,
                "{slot} is leased by process {pid}; return it first (`sqlfork pool return {db} {number}`) or pass --force"
            ),
            Error::NotPulled { snapshot: r } => write!(f, "{r} has not been pulled; run `sqlfork pull {r}` first"),
            Error::NotResumable { address: a, why: NotResumableWhy::NotAFork } => {
                write!(f, "{a} is not a fork, so there is nothing to resume")
            }
            Error::NotResumable { address: a, why: NotResumableWhy::Masked } => write!(
                f,
                "the masked or subset fork {a} was interrupted and cannot be resumed, so it was removed; fork it again"
            ),
            Error::NotResumable { address: a, why } => {
                let what = match why {
                    NotResumableWhy::SnapshotDeleted => "the snapshot it was forked from was deleted",
                    _ => "its source database was deleted",
                };
                write!(f, "cannot resume {a}: {what}; delete it with `sqlfork db delete {a}`")
            }
            Error::BadRegistry { path, why } => {
                let p = path.display();
                match why {
                    RegistryProblem::NotValid { detail } => {
                        write!(f, "the registry {p} is not valid ({detail}); move it away to start an empty one")
                    }
                    RegistryProblem::OldNotValid { detail } => write!(
                        f,
                        "the registry {p} is not valid ({detail}); fix it by hand or move it away to start an empty one"
                    ),
                    RegistryProblem::Newer { layout } => {
                        write!(f, "the registry {p} was written by a newer sqlfork (layout {layout}); upgrade sqlfork")
                    }
                    RegistryProblem::BadRecord { detail, record } => {
                        write!(f, "the registry {p} holds a record that is not valid ({detail}): {record}")
                    }
                }
            }
            Error::BeingPulled { snapshot } => {
                write!(f, "another sqlfork process is pulling {snapshot}; try again when it is done")
            }
            Error::NotBeingBuilt { address: a } => {
                write!(f, "{a} is not being built (it is healthy); delete it with `sqlfork db delete {a}`")
            }
            Error::CannotExpire { address: a } => write!(
                f,
                "{a} was imported: sqlfork did not create its file and never deletes it, so it cannot expire"
            ),
            Error::NotOwned { target } => write!(
                f,
                "{target} was not created by sqlfork, which never writes such a file unless told to: look first with --dry-run, then merge with --yes"
            ),
            Error::NoSuchProcess { pid } => write!(
                f,
                "--pid {pid}: no such process is running; give the pid of the worker that holds the lease"
            ),
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

/// `TTL `7` has no unit; …`: the sentence of [`Error::BadTtl`] (a TTL the
/// library got as a duration is shown without quotes).
fn bad_ttl(f: &mut fmt::Formatter<'_>, text: &str, as_duration: bool, why: &TtlProblem) -> fmt::Result {
    match why {
        TtlProblem::NoUnit { meant } => {
            write!(f, "TTL `{text}` has no unit; write it like {meant} (1 hour to 30 days, e.g. 12h, 7d)")
        }
        TtlProblem::NotADuration => {
            write!(f, "TTL `{text}` is not a duration; write it like 12h, 7d or 30d (1 hour to 30 days)")
        }
        TtlProblem::OutOfRange if as_duration => {
            write!(f, "TTL {text} is out of range: it must be between 1 hour and 30 days")
        }
        TtlProblem::OutOfRange => write!(f, "TTL `{text}` is out of range: it must be between 1 hour and 30 days"),
    }
}

fn bad_remote_url(f: &mut fmt::Formatter<'_>, url: &str, why: &RemoteUrlProblem) -> fmt::Result {
    match why {
        RemoteUrlProblem::NoBucket => write!(
            f,
            "`{url}` does not name an S3 bucket: write s3://BUCKET[/PREFIX] with a bucket of 3 to 63 of a-z, 0-9, '-' and '.'"
        ),
        RemoteUrlProblem::BadPrefix => write!(f, "`{url}` has an empty, '.' or '..' part in its prefix"),
        RemoteUrlProblem::NotAbsoluteFile => {
            write!(f, "`{url}` is not a file URL to an absolute directory: write file:///PATH (three slashes)")
        }
        RemoteUrlProblem::UnknownScheme => {
            write!(f, "`{url}` is not a remote URL: write s3://BUCKET[/PREFIX] or file:///PATH")
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigProblem::Toml { line: Some(n), text: Some(t), message } => write!(f, "line {n} (`{t}`): {message}"),
            ConfigProblem::Toml { line: Some(n), text: None, message } => write!(f, "line {n}: {message}"),
            ConfigProblem::Toml { line: None, message, .. } | ConfigProblem::NotToml { message } => {
                f.write_str(message)
            }
            ConfigProblem::DefaultNamespace(e) => write!(f, "default_namespace: {e}"),
            ConfigProblem::DefaultTtl { text, why } => {
                f.write_str("default_ttl: ")?;
                bad_ttl(f, text, false, why)
            }
            ConfigProblem::RowsPerPage { rows } => {
                write!(f, "rows_per_page = {rows} is out of range: use 1 to 10000000")
            }
            ConfigProblem::CopyMethod { method } => {
                write!(f, "copy_method = \"{method}\" is not known: use \"clone\", \"file\", \"pages\" or \"rows\"")
            }
            ConfigProblem::RemoteName { name, problem } => write!(f, "[remotes.{name}]: {problem}"),
            ConfigProblem::RemoteUrl { name, url, why } => {
                write!(f, "[remotes.{name}] url: ")?;
                bad_remote_url(f, url, why)
            }
            ConfigProblem::RemotesNotATable => f.write_str("`remotes` is not a table"),
        }
    }
}
