//! The shell completions committed under `completions/` must match what the
//! binary generates, so they never go stale when the CLI changes.
//!
//! When this test fails because the CLI changed on purpose, regenerate the
//! committed files with
//!
//!     SQLFORK_BLESS=1 cargo test --test completions
//!
//! and commit the result. (Without `SQLFORK_BLESS` the test only compares.)

mod common;

use common::*;
use std::path::PathBuf;

/// (argument to `sqlfork completions`, committed file name)
const SHELLS: [(&str, &str); 4] =
    [("bash", "sqlfork.bash"), ("zsh", "_sqlfork"), ("fish", "sqlfork.fish"), ("powershell", "_sqlfork.ps1")];

fn completions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions")
}

fn generate(shell: &str) -> String {
    let run = Env::new().cmd(["completions", shell]).run().ok();
    assert!(run.stderr.is_empty(), "sqlfork completions {shell} wrote to stderr\n{}", run.dump());
    assert!(!run.stdout.contains('\u{FFFD}'), "completions are UTF-8");
    run.stdout
}

fn bless() -> bool {
    std::env::var_os("SQLFORK_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

#[test]
fn committed_completions_are_fresh() {
    let dir = completions_dir();
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let fresh = generate(shell);
        // Not an empty or trivial script: it must know the subcommands.
        assert!(fresh.contains("fork") && fresh.contains("delete"), "{shell} completions look empty");
        let path = dir.join(file);
        if bless() {
            std::fs::create_dir_all(&dir).expect("create completions/");
            std::fs::write(&path, &fresh).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == fresh => {}
            Ok(_) => stale.push(format!("{} is stale", path.display())),
            Err(e) => stale.push(format!("{} is missing ({e})", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nThe committed shell completions do not match `sqlfork completions SHELL`.\n\
         Regenerate them with:\n\n    SQLFORK_BLESS=1 cargo test --test completions\n\nand commit completions/.",
        stale.join("\n")
    );
}

#[test]
fn every_shell_is_committed() {
    // The four files the spec names, and nothing unexpected beside them.
    let mut names: Vec<String> = std::fs::read_dir(completions_dir())
        .expect("completions/ exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = SHELLS.iter().map(|(_, f)| f.to_string()).collect();
    want.sort();
    assert_eq!(names, want);
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let run = Env::new().run(&["completions", "tcsh"]).code(2);
    assert!(run.stdout.is_empty(), "{}", run.dump());
}
