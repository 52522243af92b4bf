//! `sqlfork completions SHELL`: generated from the one clap definition, plus
//! a few lines per shell that complete database addresses by asking the
//! hidden `sqlfork __complete WORDS… CURRENT` (which prints the registered
//! addresses that fit where the cursor is, one per line, or nothing).

use crate::cli::Cli;
use crate::error::ExitCode;
use crate::home::Home;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;

pub(super) fn run(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "sqlfork", &mut buf);
    let script = with_addresses(shell, String::from_utf8(buf)?);
    let mut out = std::io::stdout().lock();
    out.write_all(script.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::Success)
}

const BASH: &str = r#"
# Database addresses (db show, db path, db delete, …): ask sqlfork.
_sqlfork_addresses() {
    # bash splits `acme/orders:name` at ':' (COMP_WORDBREAKS): join it back.
    local -a words=()
    local w glue=0 addrs cur
    for w in "${COMP_WORDS[@]:1:COMP_CWORD}"; do
        if [[ "$w" == ":" && ${#words[@]} -gt 0 ]]; then words[-1]+=":"; glue=1
        elif (( glue )); then words[-1]+="$w"; glue=0
        else words+=("$w"); fi
    done
    cur="${words[-1]}"
    addrs=$("${COMP_WORDS[0]}" __complete "${words[@]}" 2>/dev/null)
    if [[ -n "$addrs" ]]; then
        local IFS=$'\n'
        COMPREPLY=( $(compgen -W "$addrs" -- "$cur") )
        # bash replaces only what follows the last ':' of the word.
        if [[ "$cur" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
            local colon="${cur%"${cur##*:}"}"
            COMPREPLY=( "${COMPREPLY[@]#"$colon"}" )
        fi
        return 0
    fi
    _sqlfork "$@"
}
"#;

const ZSH: &str = r#"
# Database addresses (db show, db path, db delete, …): ask sqlfork.
_sqlfork_addresses() {
    local -a addrs
    addrs=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ -n "${addrs[1]}" ]]; then
        compadd -a addrs
        return
    fi
    _sqlfork "$@"
}
"#;

const FISH: &str = r#"
# Database addresses (db show, db path, db delete, …): ask sqlfork.
complete -c sqlfork -f -a '(sqlfork __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
"#;

const POWERSHELL: &str = r#"
    # Database addresses (db show, db path, db delete, …): ask sqlfork.
    $sqlforkWords = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
    if ($wordToComplete -eq '') { $sqlforkWords += '' }
    $sqlforkAddresses = @(& $commandAst.CommandElements[0].ToString() __complete @sqlforkWords 2>$null)
    if ($sqlforkAddresses.Count -gt 0 -and $sqlforkAddresses[0]) {
        $sqlforkAddresses | ForEach-Object { [CompletionResult]::new($_, $_, [CompletionResultType]::ParameterValue, $_) }
        return
    }
"#;

/// Hook the address completion into clap's script for `shell`.
fn with_addresses(shell: Shell, script: String) -> String {
    match shell {
        Shell::Bash => {
            let hooked = script.replace("complete -F _sqlfork ", "complete -F _sqlfork_addresses ");
            match hooked.rfind("\nif [[ \"${BASH_VERSINFO") {
                Some(i) => format!("{}{BASH}{}", &hooked[..i], &hooked[i..]),
                None => script,
            }
        }
        Shell::Zsh => {
            let tail = "if [ \"$funcstack[1]\" = \"_sqlfork\" ]; then\n    _sqlfork \"$@\"\nelse\n    compdef _sqlfork sqlfork\nfi\n";
            let hooked_tail = "if [ \"$funcstack[1]\" = \"_sqlfork\" ]; then\n    compdef _sqlfork_addresses sqlfork\n    _sqlfork_addresses \"$@\"\nelse\n    compdef _sqlfork_addresses sqlfork\nfi\n";
            match script.rfind(tail) {
                Some(i) => format!("{}{ZSH}\n{hooked_tail}{}", &script[..i], &script[i + tail.len()..]),
                None => script,
            }
        }
        Shell::Fish => format!("{script}{FISH}"),
        Shell::PowerShell => {
            let param = "    param($wordToComplete, $commandAst, $cursorPosition)\n";
            match script.find(param) {
                Some(i) => format!("{}{param}{POWERSHELL}{}", &script[..i], &script[i + param.len()..]),
                None => script,
            }
        }
        _ => script,
    }
}

/// Flags that take a value (the word after them is not a positional).
const VALUE_FLAGS: [&str; 13] = [
    "--home",
    "--size",
    "--pid",
    "--name",
    "--ttl",
    "--timeout",
    "--to",
    "--at",
    "--mask",
    "--subset",
    "--rows",
    "--format",
    "--path-file",
];

/// `sqlfork __complete WORDS… CURRENT`: the registered addresses (or
/// snapshot names) that fit the position of CURRENT (the last word), one
/// per line. Nothing when none fit, so the shell falls back to clap's own
/// completion (subcommands, flags, files).
pub(super) fn complete(home: &Home, words: &[String]) -> anyhow::Result<ExitCode> {
    let Some((current, before)) = words.split_last() else { return Ok(ExitCode::Success) };
    let mut positionals = Vec::new();
    let mut home = home.clone();
    let mut skip = false;
    for w in before {
        if std::mem::take(&mut skip) {
            continue;
        }
        if w.starts_with('-') {
            skip = VALUE_FLAGS.contains(&w.as_str());
            continue;
        }
        positionals.push(w.as_str());
    }
    // `--home DIR` on the command line being completed.
    if let Some(i) = before.iter().position(|w| w == "--home") {
        if let Some(dir) = before.get(i + 1) {
            home = Home::at(dir);
        }
    }
    let after_to = before.last().is_some_and(|w| w == "--to");
    let kinds = match positionals.as_slice() {
        // `db reset ADDR --to NAME`: that database's snapshot names.
        ["db", "reset", addr] if after_to => Kinds::SnapshotNamesOf(addr.to_string()),
        _ if skip => return Ok(ExitCode::Success),
        ["db", "show" | "path" | "delete" | "cancel" | "ttl" | "wait" | "resume" | "reset"] => Kinds::All,
        // Sources and diff sides may be snapshots too.
        ["db", "fork"] | ["db", "diff"] | ["db", "diff", _] => Kinds::AllAndSnapshots,
        // `branch put acme/prod@`: the branches it has; else databases.
        ["branch", "put"] if current.contains('@') => Kinds::Branches,
        ["branch", "put" | "list"] => Kinds::Databases,
        ["branch", "delete"] => Kinds::Branches,
        ["snapshot", "create" | "list"] => Kinds::All,
        ["snapshot", "delete"] => Kinds::Snapshots,
        ["pool", "create" | "lease" | "return" | "list" | "delete"] => Kinds::Databases,
        _ => return Ok(ExitCode::Success),
    };
    let Ok(reg) = crate::registry::Registry::load(&home) else { return Ok(ExitCode::Success) };
    let visible = |e: &&crate::registry::Entry| !e.branch.as_deref().is_some_and(crate::address::is_internal_ref);
    let databases = |keep: fn(&crate::registry::Entry) -> bool| -> Vec<String> {
        reg.databases.iter().filter(visible).filter(|e| keep(e)).map(|e| e.address().to_string()).collect()
    };
    let snapshots = || -> Vec<String> { reg.snapshots.iter().map(|s| s.address().to_string()).collect() };
    let mut found: Vec<String> = match &kinds {
        Kinds::All => databases(|_| true),
        Kinds::Databases => databases(|e| e.branch.is_none()),
        Kinds::Branches => databases(|e| e.branch.is_some()),
        Kinds::Snapshots => snapshots(),
        Kinds::AllAndSnapshots => databases(|_| true).into_iter().chain(snapshots()).collect(),
        Kinds::SnapshotNamesOf(addr) => {
            let Some(db) = crate::address::Address::parse(addr).ok().and_then(|a| reg.get(&a).cloned()) else {
                return Ok(ExitCode::Success);
            };
            reg.snapshots.iter().filter(|s| s.database_id == db.id).map(|s| s.name.clone()).collect()
        }
    };
    found.retain(|a| a.starts_with(current.as_str()));
    found.sort();
    found.dedup();
    let mut out = std::io::stdout().lock();
    for a in found {
        writeln!(out, "{a}")?;
    }
    Ok(ExitCode::Success)
}

enum Kinds {
    All,
    Databases,
    Branches,
    Snapshots,
    AllAndSnapshots,
    SnapshotNamesOf(String),
}
