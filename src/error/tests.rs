//! The exit code and the sentence of every variant.

use super::*;
use anyhow::Context;

fn addr() -> Address {
    Address::parse("acme/x").unwrap()
}

fn snap() -> SnapshotAddress {
    SnapshotAddress::parse("acme/x:s").unwrap()
}

#[test]
fn exit_codes_are_the_documented_numbers() {
    assert_eq!(ExitCode::Success.code(), 0);
    assert_eq!(ExitCode::Failure.code(), 1);
    assert_eq!(ExitCode::Usage.code(), 2);
    assert_eq!(ExitCode::NotFound.code(), 3);
    assert_eq!(ExitCode::AlreadyExists.code(), 4);
    assert_eq!(ExitCode::Timeout.code(), 5);
    assert_eq!(ExitCode::NoSpace.code(), 6);
    assert_eq!(ExitCode::Interrupted.code(), 130);
}

#[test]
fn every_variant_has_its_exit_code() {
    let a = addr();
    let w = Duration::from_secs(1);
    let cases = [
        (Error::invalid("x"), ExitCode::Usage),
        (
            Error::BadTtl { text: "7".into(), duration: None, why: TtlProblem::NoUnit { meant: "7d".into() } },
            ExitCode::Usage,
        ),
        (Error::BadTtl { text: "soon".into(), duration: None, why: TtlProblem::NotADuration }, ExitCode::Usage),
        (
            Error::BadTtl { text: "1m".into(), duration: Some(Duration::from_secs(60)), why: TtlProblem::OutOfRange },
            ExitCode::Usage,
        ),
        (
            Error::BadDuration {
                option: "--timeout".into(),
                text: "5".into(),
                why: DurationProblem::NoUnit { number: 5 },
            },
            ExitCode::Usage,
        ),
        (
            Error::BadDuration { option: "--at".into(), text: "x".into(), why: DurationProblem::NotATimeOrAge },
            ExitCode::Usage,
        ),
        (
            Error::BadDuration {
                option: "--lock-budget".into(),
                text: "0s".into(),
                why: DurationProblem::Zero { like: "1s".into() },
            },
            ExitCode::Usage,
        ),
        (Error::BadAddress(Address::parse("nope").unwrap_err()), ExitCode::Usage),
        (
            Error::BadConfig { path: Some("/h/config.toml".into()), problem: ConfigProblem::RowsPerPage { rows: 0 } },
            ExitCode::Usage,
        ),
        (Error::BadConfig { path: None, problem: ConfigProblem::RemotesNotATable }, ExitCode::Usage),
        (Error::BadRemoteUrl { url: "ftp://x".into(), why: RemoteUrlProblem::UnknownScheme }, ExitCode::Usage),
        (Error::RemoteNotNamed { known: vec![] }, ExitCode::Usage),
        (Error::RemoteNotNamed { known: vec!["a".into(), "b".into()] }, ExitCode::Usage),
        (Error::BadSource { path: "/x".into(), why: SourceProblem::Corrupt { detail: "d".into() } }, ExitCode::Usage),
        (Error::SourceLocked { path: "/x".into(), detail: "database is locked".into() }, ExitCode::Failure),
        (
            Error::SchemaRefused { object: "table `t`".into(), why: SchemaRefusal::Sql { why: "is malformed".into() } },
            ExitCode::Usage,
        ),
        (Error::NoParent { address: "acme/x".into(), why: NoParentFor::Merge }, ExitCode::Usage),
        (Error::NoBase { address: a.clone(), why: NoBaseWhy::NotKept }, ExitCode::Usage),
        (Error::OntoItself { address: a.clone(), action: "fork" }, ExitCode::Usage),
        (
            Error::BadMigration { what: "migration".into(), path: "/m.sql".into(), why: MigrationProblem::NotUtf8 },
            ExitCode::Usage,
        ),
        (Error::PoolExists { address: a.clone() }, ExitCode::Usage),
        (Error::PoolSize { size: 0, max: 256 }, ExitCode::Usage),
        (Error::NoSuchSlot { address: a.clone(), slot: "9".into(), slots: 2 }, ExitCode::Usage),
        (Error::SlotNotLeased { address: a.clone(), slot: "acme/x@pool-1".into() }, ExitCode::Usage),
        (Error::SlotLeased { address: a.clone(), slot: "acme/x@pool-1".into(), number: 1, pid: 7 }, ExitCode::Usage),
        (Error::NoSuchProcess { pid: 7 }, ExitCode::Usage),
        (Error::NotPulled { snapshot: "o:acme/x:s".into() }, ExitCode::Failure),
        (Error::BeingPulled { snapshot: "o:acme/x:s".into() }, ExitCode::Failure),
        (Error::NotResumable { address: a.clone(), why: NotResumableWhy::NotAFork }, ExitCode::Failure),
        (Error::NotResumable { address: a.clone(), why: NotResumableWhy::SnapshotDeleted }, ExitCode::Failure),
        (Error::NotResumable { address: a.clone(), why: NotResumableWhy::SourceDeleted }, ExitCode::Failure),
        (Error::NotResumable { address: a.clone(), why: NotResumableWhy::Masked }, ExitCode::Failure),
        (Error::NotBeingBuilt { address: a.clone() }, ExitCode::Usage),
        (Error::CannotExpire { address: a.clone() }, ExitCode::Usage),
        (Error::NotOwned { target: "/x.db".into() }, ExitCode::Usage),
        (Error::BadRegistry { path: "/r".into(), why: RegistryProblem::Newer { layout: 2 } }, ExitCode::Failure),
        (
            Error::BadRegistry { path: "/r".into(), why: RegistryProblem::NotValid { detail: "d".into() } },
            ExitCode::Failure,
        ),
        (Error::NotFound { address: a.clone() }, ExitCode::NotFound),
        (Error::Gone { address: a.clone() }, ExitCode::NotFound),
        (Error::SourceFileMissing { path: "/x".into() }, ExitCode::NotFound),
        (Error::FileMissing { address: a.clone(), path: "/x".into() }, ExitCode::NotFound),
        (Error::Taken { address: a.clone() }, ExitCode::AlreadyExists),
        (Error::BeingBuilt { address: a.clone() }, ExitCode::AlreadyExists),
        (Error::Busy { address: a.clone() }, ExitCode::Failure),
        (Error::InUse { address: a.clone() }, ExitCode::Failure),
        (Error::SourceProvisioning { address: a.clone() }, ExitCode::Failure),
        (Error::BackgroundFailed { address: a.clone(), reason: "r".into() }, ExitCode::Failure),
        (Error::Timeout { address: a.clone(), waited: w }, ExitCode::Timeout),
        (Error::LockTimeout { what: "the registry lock".into(), waited: w }, ExitCode::Failure),
        (Error::NoHook { path: "/x".into(), foreign: false }, ExitCode::NotFound),
        (Error::NoHook { path: "/x".into(), foreign: true }, ExitCode::NotFound),
        (Error::HookInTheWay { path: "/x".into() }, ExitCode::AlreadyExists),
        (Error::failed("x"), ExitCode::Failure),
        (Error::BadRule("mask rule tables.t.c: x".into()), ExitCode::Usage),
        (Error::Unmasked { columns: vec!["t.c (email)".into()] }, ExitCode::Usage),
        (Error::NotADatabase { path: "/x".into(), why: "is a text file".into() }, ExitCode::Usage),
        (Error::RehearsalInterrupted, ExitCode::Interrupted),
        (Error::SnapshotNotFound { snapshot: snap(), existing: "e".into() }, ExitCode::NotFound),
        (Error::NoSnapshotAt { address: a.clone(), at: "t".into(), existing: "e".into() }, ExitCode::NotFound),
        (Error::SnapshotTaken { snapshot: snap() }, ExitCode::AlreadyExists),
        (Error::SnapshotBeingTaken { snapshot: snap() }, ExitCode::AlreadyExists),
        (Error::NotResettable { address: a.clone(), why: "w".into() }, ExitCode::Usage),
        (
            Error::OpenElsewhere {
                address: a.clone(),
                holders: vec![crate::holders::Holder { pid: Some(7), command: "python3 app.py".into() }],
            },
            ExitCode::AlreadyExists,
        ),
        (
            Error::NoSpace { what: "the fork".into(), fs: "/h (ext4)".into(), needed: Some(1 << 30), free: 1 << 20 },
            ExitCode::NoSpace,
        ),
        (Error::NoSpace { what: "the fork".into(), fs: "/h (ext4)".into(), needed: None, free: 0 }, ExitCode::NoSpace),
        (Error::StillProvisioning { address: a.clone(), action: "reset" }, ExitCode::Failure),
        (Error::CopyStopped, ExitCode::Interrupted),
        (Error::RemoteNotFound { remote: "o".into(), known: vec![] }, ExitCode::NotFound),
        (Error::RemoteNotFound { remote: "o".into(), known: vec!["p".into()] }, ExitCode::NotFound),
        (Error::RemoteTaken { remote: "o".into() }, ExitCode::AlreadyExists),
        (Error::RemoteSnapshotNotFound { snapshot: "o:a/b:c".into(), existing: "e".into() }, ExitCode::NotFound),
        (Error::RemoteSnapshotTaken { snapshot: "o:a/b:c".into() }, ExitCode::AlreadyExists),
        (Error::RemoteDamaged { snapshot: "o:a/b:c".into(), reason: "r".into() }, ExitCode::Failure),
        (Error::RemoteRefused { remote: "o".into(), snapshot: "a/b:c".into(), why: "w".into() }, ExitCode::Usage),
        (Error::RemoteUnavailable { remote: "o".into(), reason: "r".into() }, ExitCode::Failure),
        (
            Error::Interrupted { address: a.clone(), how_far: None, resume: "sqlfork db resume acme/x".into() },
            ExitCode::Interrupted,
        ),
        (
            Error::InterruptedFork {
                address: a.clone(),
                with_data: true,
                how_far: Some("1.0/2.0 MiB (50%)".into()),
                resume: "sqlfork db resume acme/x".into(),
            },
            ExitCode::AlreadyExists,
        ),
        (
            Error::Hinted {
                error: Box::new(Error::NotFound { address: a.clone() }),
                hint: " (did you mean x?)".into(),
            },
            ExitCode::NotFound,
        ),
    ];
    for (e, code) in cases {
        assert_eq!(e.exit_code(), code, "{e:?}");
        assert_eq!(e.is_not_found(), code == ExitCode::NotFound, "{e:?}");
        let s = e.to_string();
        assert!(!s.is_empty() && !s.contains('\n'), "one sentence: {s}");
    }
}

#[test]
fn typed_error_decides_exit_code_through_context() {
    let err: anyhow::Error =
        Err::<(), _>(Error::NotFound { address: addr() }).context("could not show acme/x").unwrap_err();
    assert_eq!(exit_code_for(&err), ExitCode::NotFound);
    assert!(Error::any_in(&err, |e| matches!(e, Error::NotFound { address } if *address == addr())));
    let plain = anyhow::anyhow!("disk on fire");
    assert_eq!(exit_code_for(&plain), ExitCode::Failure);
    let bad: anyhow::Error = Address::parse("nope").unwrap_err().into();
    assert_eq!(exit_code_for(&bad), ExitCode::Usage);
}

#[test]
fn sentences_name_the_address_and_the_next_step() {
    let a = addr();
    assert_eq!(
        Error::Taken { address: a.clone() }.to_string(),
        "acme/x already exists; pick another name or delete it first with `sqlfork db delete acme/x`"
    );
    assert!(Error::Busy { address: a.clone() }.to_string().contains("sqlfork db wait acme/x"));
    assert!(Error::Timeout { address: a, waited: Duration::from_secs(90) }.to_string().contains("after 1m 30s"));
}

#[test]
fn the_sentences_of_the_new_variants_are_the_old_ones() {
    let a = addr();
    let ttl = |text: &str, why| Error::BadTtl { text: text.into(), duration: None, why };
    assert_eq!(
        ttl("7", TtlProblem::NoUnit { meant: "7d".into() }).to_string(),
        "TTL `7` has no unit; write it like 7d (1 hour to 30 days, e.g. 12h, 7d)"
    );
    assert_eq!(
        Error::BadTtl { text: "1m".into(), duration: Some(Duration::from_secs(60)), why: TtlProblem::OutOfRange }
            .to_string(),
        "TTL 1m is out of range: it must be between 1 hour and 30 days"
    );
    assert_eq!(
        Error::BadConfig {
            path: Some("/h/config.toml".into()),
            problem: ConfigProblem::DefaultTtl { text: "5m".into(), why: TtlProblem::OutOfRange },
        }
        .to_string(),
        "/h/config.toml is invalid: default_ttl: TTL `5m` is out of range: it must be between 1 hour and 30 days; fix or remove that line"
    );
    assert_eq!(
        Error::NoParent { address: a.to_string(), why: NoParentFor::Merge }.to_string(),
        "acme/x has no parent to merge into; name one with --into"
    );
    assert_eq!(
        Error::OntoItself { address: a.clone(), action: "merge" }.to_string(),
        "cannot merge acme/x into itself; name its parent with --into"
    );
    assert_eq!(
        Error::OntoItself { address: a, action: "fork" }.to_string(),
        "cannot fork acme/x onto itself; pick another destination"
    );
    assert_eq!(
        Error::BadDuration { option: "--timeout".into(), text: "5".into(), why: DurationProblem::NoUnit { number: 5 } }
            .to_string(),
        "--timeout `5` has no unit; write it like 5s (or 5m)"
    );
}
