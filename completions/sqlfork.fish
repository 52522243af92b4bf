# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sqlfork_global_optspecs
    string join \n home= json q/quiet h/help V/version
end

function __fish_sqlfork_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sqlfork_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sqlfork_using_subcommand
    set -l cmd (__fish_sqlfork_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sqlfork -n "__fish_sqlfork_needs_command" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_needs_command" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "db" -d 'Create, fork, inspect and delete databases'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "branch" -d 'Branches NS/SLUG@REF: forks of a database that `branch put` creates or resets'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "git-hook" -d 'Give each git branch its own database: a post-checkout hook that runs `branch put`'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "mcp" -d 'Serve these commands to agents over the Model Context Protocol on stdio'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "snapshot" -d 'Snapshots NS/SLUG:NAME: read-only restore points to fork from or reset to'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "pool" -d 'Pools: N forks of a database for N parallel test workers, leased one per worker'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "remote" -d 'Remotes: shared stores of snapshots on S3-compatible object storage or a shared directory'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "push" -d 'Upload the snapshot NS/SLUG:NAME to a remote (only the pages it does not hold yet)'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "pull" -d 'Download the remote snapshot REMOTE:NS/SLUG:NAME into this home (forks of it are then local)'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "completions" -d 'Print shell completions for SHELL to stdout (they complete database addresses too, by asking sqlfork)'
complete -c sqlfork -n "__fish_sqlfork_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "create" -d 'Create a new, empty database owned by sqlfork'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "import" -d 'Register an existing SQLite file in place (sqlfork never writes or deletes it)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "fork" -d 'Fork SRC into a new database DST (schema only unless --with-data)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "reset" -d 'Reset a fork in place to its parent\'s current state, or to one of its snapshots; prints its path'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "list" -d 'List databases, optionally in one namespace'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "show" -d 'Show one database in detail, with its lineage'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "path" -d 'Print the absolute path of a database\'s file (for shell scripts)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "ttl" -d 'Show, change or clear when a database auto-deletes'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "gc" -d 'Delete every database sqlfork created whose expiry has passed'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "resume" -d 'Continue interrupted data copies, pushes and pulls: one, or every one'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "wait" -d 'Wait until a database is healthy, resuming its copy if no process is copying it'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "diff" -d 'Show what changed between two databases: schema, settings and rows'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "merge" -d 'Merge a fork\'s changes since it was forked into its parent, three ways'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "rebase" -d 'Rebuild a fork on its parent\'s current state, with its own changes on top'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "rehearse" -d 'Run migrations on a data fork of SOURCE and report what they would do to it'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "delete" -d 'Remove a database\'s entry, and its file when sqlfork created it'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "cancel" -d 'Stop the process copying a fork that is being built, and remove the half-made fork'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and not __fish_seen_subcommand_from create import fork reset list show path ttl gc resume wait diff merge rebase rehearse delete cancel help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from create" -l name -d 'Human-readable name [default: the slug]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from create" -l ttl -d 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from create" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from create" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from import" -l name -d 'Human-readable name [default: the slug]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from import" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from import" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l at -d 'Fork SRC\'s newest snapshot taken at or before TIME (RFC 3339, or an age such as 2h meaning two hours ago)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l name -d 'Human-readable name [default: the slug]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l ttl -d 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l mask -d 'Mask the rows with the rules in FILE (TOML: a seed, and per table and column a masker) [default: mask in config.toml]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l subset -d 'Keep only TABLE\'s rows matching WHERE, and the rows they reference through foreign keys (repeatable)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l with-data -d 'Copy every row too, not only the schema'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l mergeable -d 'Keep the fork\'s base (its state now, for `db merge`) even where that is a full copy; on XFS/btrfs, or from a snapshot, it is kept anyway, for free'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l detach -d 'Return once the schema is in place (status provisioning) and copy the rows in a background process; follow it with `db wait`'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l mask-check -d 'List the columns that look personal and have no mask rule; fork nothing'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l strict -d 'Refuse to fork while a column that looks personal has no mask rule'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from fork" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l to -d 'Reset to this snapshot of the database itself (NAME or NS/SLUG:NAME)' -r -f
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l ttl -d 'Expire this long from the reset (1h to 30d) [default: keep the expiry]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l mask -d 'Mask the rows with the rules in FILE (TOML: a seed, and per table and column a masker) [default: mask in config.toml]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l subset -d 'Keep only TABLE\'s rows matching WHERE, and the rows they reference through foreign keys (repeatable)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l with-data -d 'Copy every row too, not only the schema'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l schema-only -d 'Copy only the schema'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l mask-check -d 'List the columns that look personal and have no mask rule; fork nothing'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l strict -d 'Refuse to fork while a column that looks personal has no mask rule'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l force -d 'Replace the file even while other processes have it open (they keep the old, deleted file; what they write next is lost). For a test database whose users you will restart anyway'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l in-place -d 'Write the restored state into the same file through SQLite\'s backup API, under SQLite\'s locks: open connections see it at their next transaction and keep writing into it. For an app that keeps its connection open across resets'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from reset" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from list" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from show" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from show" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from path" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from path" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from ttl" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from ttl" -l clear -d 'Remove the expiry: the database never auto-deletes'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from ttl" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from ttl" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from ttl" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from ttl" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from gc" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from gc" -l dry-run -d 'List what would be deleted, and delete nothing'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from gc" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from gc" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from gc" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from gc" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from resume" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from resume" -l background -d 'Run as the background copy started by `db fork --detach`'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from resume" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from resume" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from wait" -l timeout -d 'Give up after this long (e.g. 30s, 10m) with exit code 5 [default: wait for ever]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from wait" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from wait" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from wait" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from wait" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from wait" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -l rows -d 'List up to N changed rows per table (key, and changed columns old → new)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -l format -d 'Output format [default: text, or json with --json; any other format cannot be combined with --json]' -r -f -a "text\t'Human-readable text'
json\t'One JSON document (what --json selects)'
markdown\t'A summary for a pull-request comment'
sql\t'SQL that turns B into A'"
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -l schema -d 'Compare schema and settings only, not rows'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -l full -d 'Compare every row, skipping the page comparison (a check on it)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -l since-fork -d 'Compare the fork A with its base (its state when it was forked): only the fork\'s own changes, none of its parent\'s later writes'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -l exit-code -d 'Exit with 1 when the databases differ and 0 when they do not (like `git diff --exit-code`)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from diff" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -l into -d 'Merge into this database (an address or a path) [default: the fork\'s parent]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -l prefer -d 'Which side wins a data conflict; never a broken constraint or a schema conflict' -r -f -a "abort\t'Any conflict writes nothing'
fork\t'The fork\'s value wins a data conflict'
parent\t'The parent\'s value stays'"
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -l format -d 'Output format [default: text, or json with --json]' -r -f -a "text\t'Human-readable text'
json\t'One JSON document (what --json selects)'
markdown\t'A summary for a pull-request comment'"
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -l dry-run -d 'Report what the merge would do, and write nothing'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -s y -l yes -d 'Write a parent sqlfork did not create (imported, or a path)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from merge" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rebase" -l prefer -d 'Which side wins a data conflict' -r -f -a "abort\t'Any conflict writes nothing'
fork\t'The fork\'s value wins a data conflict'
parent\t'The parent\'s value stays'"
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rebase" -l format -d 'Output format [default: text, or json with --json]' -r -f -a "text\t'Human-readable text'
json\t'One JSON document (what --json selects)'
markdown\t'A summary for a pull-request comment'"
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rebase" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rebase" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rebase" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rebase" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rebase" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -l down -d 'Down migrations (a file or a directory): run in reverse order after the ups; each must give back the state before its up' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -l mask -d 'Mask the fork\'s rows with the rules in FILE [default: mask in config.toml]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -l subset -d 'Keep only TABLE\'s rows matching WHERE, and the rows they reference (repeatable)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -l format -d 'Output format [default: text, or json with --json]' -r -f -a "text\t'Human-readable text'
json\t'One JSON document (what --json selects)'
markdown\t'A pull-request comment'"
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -l fail-on -d 'Exit 1 when a finding is at least this severe' -r -f -a "error\t'Errors only'
warning\t'Warnings and errors'
never\t'Nothing: always exit 0 once the rehearsal ran'"
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -l lock-budget -d 'A write lock held longer than this is a warning (e.g. 1s, 250ms)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -l keep -d 'Keep the rehearsal fork at NS/SLUG instead of deleting it' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from rehearse" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from delete" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Do not ask for confirmation (never asked when stdin is not a terminal)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from delete" -l force -d 'Stop a copy still building it, succeed if it does not exist, never ask'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from delete" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from cancel" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from cancel" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from cancel" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from cancel" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a new, empty database owned by sqlfork'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "import" -d 'Register an existing SQLite file in place (sqlfork never writes or deletes it)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "fork" -d 'Fork SRC into a new database DST (schema only unless --with-data)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "reset" -d 'Reset a fork in place to its parent\'s current state, or to one of its snapshots; prints its path'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "list" -d 'List databases, optionally in one namespace'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one database in detail, with its lineage'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the absolute path of a database\'s file (for shell scripts)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "ttl" -d 'Show, change or clear when a database auto-deletes'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "gc" -d 'Delete every database sqlfork created whose expiry has passed'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Continue interrupted data copies, pushes and pulls: one, or every one'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "wait" -d 'Wait until a database is healthy, resuming its copy if no process is copying it'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show what changed between two databases: schema, settings and rows'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "merge" -d 'Merge a fork\'s changes since it was forked into its parent, three ways'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "rebase" -d 'Rebuild a fork on its parent\'s current state, with its own changes on top'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "rehearse" -d 'Run migrations on a data fork of SOURCE and report what they would do to it'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Remove a database\'s entry, and its file when sqlfork created it'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Stop the process copying a fork that is being built, and remove the half-made fork'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and not __fish_seen_subcommand_from put list delete help" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and not __fish_seen_subcommand_from put list delete help" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and not __fish_seen_subcommand_from put list delete help" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and not __fish_seen_subcommand_from put list delete help" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and not __fish_seen_subcommand_from put list delete help" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and not __fish_seen_subcommand_from put list delete help" -f -a "put" -d 'Create the branch NS/SLUG@REF, or reset it to its parent\'s current state; prints its path'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and not __fish_seen_subcommand_from put list delete help" -f -a "list" -d 'List the branches of NS/SLUG'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and not __fish_seen_subcommand_from put list delete help" -f -a "delete" -d 'Delete the branch NS/SLUG@REF and its file'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and not __fish_seen_subcommand_from put list delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l ttl -d 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l mask -d 'Mask the rows with the rules in FILE (TOML: a seed, and per table and column a masker) [default: mask in config.toml]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l subset -d 'Keep only TABLE\'s rows matching WHERE, and the rows they reference through foreign keys (repeatable)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l with-data -d 'Copy every row too, not only the schema [default: as the branch was made; schema only for a new branch]'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l schema-only -d 'Copy only the schema, even if the branch was made --with-data'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l mask-check -d 'List the columns that look personal and have no mask rule; fork nothing'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l strict -d 'Refuse to fork while a column that looks personal has no mask rule'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l force -d 'Replace the file even while other processes have it open (they keep the old, deleted file; what they write next is lost). For a test database whose users you will restart anyway'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l in-place -d 'Write the restored state into the same file through SQLite\'s backup API, under SQLite\'s locks: open connections see it at their next transaction and keep writing into it. For an app that keeps its connection open across resets'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from put" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from list" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from delete" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Do not ask for confirmation (never asked when stdin is not a terminal)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from delete" -l force -d 'Stop a copy still building it, succeed if it does not exist, never ask'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from delete" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from help" -f -a "put" -d 'Create the branch NS/SLUG@REF, or reset it to its parent\'s current state; prints its path'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the branches of NS/SLUG'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete the branch NS/SLUG@REF and its file'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand branch; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and not __fish_seen_subcommand_from install uninstall run help" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and not __fish_seen_subcommand_from install uninstall run help" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and not __fish_seen_subcommand_from install uninstall run help" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and not __fish_seen_subcommand_from install uninstall run help" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and not __fish_seen_subcommand_from install uninstall run help" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and not __fish_seen_subcommand_from install uninstall run help" -f -a "install" -d 'Install a post-checkout hook in the current git repository'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and not __fish_seen_subcommand_from install uninstall run help" -f -a "uninstall" -d 'Remove the hook `install` wrote, and put back the hook it replaced'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and not __fish_seen_subcommand_from install uninstall run help" -f -a "run" -d 'What the installed hook runs on a checkout'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and not __fish_seen_subcommand_from install uninstall run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from install" -l path-file -d 'Where the hook writes the database\'s path (relative to the work tree\'s top)' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from install" -l ttl -d 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from install" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from install" -l with-data -d 'Branch databases get every row too, not only the schema'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from install" -l reset -d 'Reset the branch\'s database to NS/SLUG\'s current state on every switch [default: keep it; only the first switch forks it]'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from install" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from install" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from uninstall" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from uninstall" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from uninstall" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from run" -l path-file -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from run" -l ttl -d 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from run" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from run" -l with-data
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from run" -l reset
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from run" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install a post-checkout hook in the current git repository'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Remove the hook `install` wrote, and put back the hook it replaced'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from help" -f -a "run" -d 'What the installed hook runs on a checkout'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand git-hook; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand mcp" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand mcp" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand mcp" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand mcp" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand mcp" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and not __fish_seen_subcommand_from create list delete help" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and not __fish_seen_subcommand_from create list delete help" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and not __fish_seen_subcommand_from create list delete help" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and not __fish_seen_subcommand_from create list delete help" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and not __fish_seen_subcommand_from create list delete help" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and not __fish_seen_subcommand_from create list delete help" -f -a "create" -d 'Take a read-only snapshot of NS/SLUG (or a branch), with its data'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and not __fish_seen_subcommand_from create list delete help" -f -a "list" -d 'List the snapshots of NS/SLUG (or of REMOTE:NS/SLUG on a remote): name, taken at, size, expiry'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and not __fish_seen_subcommand_from create list delete help" -f -a "delete" -d 'Delete the snapshot NS/SLUG:NAME and its file (or REMOTE:NS/SLUG:NAME on a remote)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and not __fish_seen_subcommand_from create list delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l ttl -d 'Expire this long after it is taken; the next `db gc` after that deletes it (1h to 30d)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Do not ask for confirmation (never asked when stdin is not a terminal)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "create" -d 'Take a read-only snapshot of NS/SLUG (or a branch), with its data'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the snapshots of NS/SLUG (or of REMOTE:NS/SLUG on a remote): name, taken at, size, expiry'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete the snapshot NS/SLUG:NAME and its file (or REMOTE:NS/SLUG:NAME on a remote)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -f -a "create" -d 'Make N slots NS/SLUG@pool-1..N for N parallel test workers, forked from a snapshot NS/SLUG:pool-base'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -f -a "lease" -d 'Lease a free slot (reset to the pool\'s base) and print its path'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -f -a "return" -d 'Give a leased slot back (by number, address or path); it is reset at its next lease'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -f -a "list" -d 'The slots of a pool and who holds each'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -f -a "delete" -d 'Delete a pool: its slots and its base snapshot'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and not __fish_seen_subcommand_from create lease return list delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from create" -l size -d 'How many slots (1 to 256): one per parallel worker' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from create" -l ttl -d 'Expire the slots and the base this long from now (1h to 30d)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from create" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from create" -l with-data -d 'Copy every row into each slot, not only the schema'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from create" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from lease" -l pid -d 'The process that holds the lease [default: the parent of this sqlfork process]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from lease" -l timeout -d 'How long to wait for a free slot (e.g. 30s, 2m)' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from lease" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from lease" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from lease" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from lease" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from lease" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from return" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from return" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from return" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from return" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from return" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from list" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from delete" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from delete" -l force -d 'Delete it even while live processes hold slots'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from delete" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "create" -d 'Make N slots NS/SLUG@pool-1..N for N parallel test workers, forked from a snapshot NS/SLUG:pool-base'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "lease" -d 'Lease a free slot (reset to the pool\'s base) and print its path'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "return" -d 'Give a leased slot back (by number, address or path); it is reset at its next lease'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "list" -d 'The slots of a pool and who holds each'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a pool: its slots and its base snapshot'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pool; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -f -a "add" -d 'Add a remote NAME at URL (s3://BUCKET[/PREFIX] or file:///PATH) to config.toml'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -f -a "list" -d 'List the remotes (with --snapshots, what each holds)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -f -a "remove" -d 'Remove remote NAME from config.toml (what it holds stays on it)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -f -a "gc" -d 'Remove a remote\'s expired snapshots and the stored data no snapshot needs'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and not __fish_seen_subcommand_from add list remove gc help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from add" -l region -d 'The bucket\'s region [default: AWS_REGION, else ~/.aws/config]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from add" -l endpoint -d 'An S3-compatible service\'s endpoint, like http://127.0.0.1:9000 [default: AWS_ENDPOINT_URL]' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from add" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from add" -l require-masked -d 'Refuse snapshots that no masked fork made (originals never leave this machine)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from add" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from list" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from list" -l snapshots -d 'Also list every snapshot each remote holds'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from list" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from remove" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from remove" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from gc" -l grace -d 'Keep unreferenced objects younger than this' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from gc" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from gc" -l dry-run -d 'Say what would be removed; remove nothing'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from gc" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from gc" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from gc" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from gc" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a remote NAME at URL (s3://BUCKET[/PREFIX] or file:///PATH) to config.toml'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the remotes (with --snapshots, what each holds)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove remote NAME from config.toml (what it holds stays on it)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "gc" -d 'Remove a remote\'s expired snapshots and the stored data no snapshot needs'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand remote; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand push" -l ttl -d 'Expire on the remote this long after the push; `remote gc` removes it then' -r
complete -c sqlfork -n "__fish_sqlfork_using_subcommand push" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand push" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand push" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand push" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand push" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pull" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pull" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pull" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pull" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand pull" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand completions" -l home -d 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]' -r -F
complete -c sqlfork -n "__fish_sqlfork_using_subcommand completions" -l json -d 'Print exactly one JSON document on stdout instead of human output'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand completions" -s q -l quiet -d 'Print nothing but the result and errors (no progress, no notes)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand completions" -s h -l help -d 'Print help'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand completions" -s V -l version -d 'Print version'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "db" -d 'Create, fork, inspect and delete databases'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "branch" -d 'Branches NS/SLUG@REF: forks of a database that `branch put` creates or resets'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "git-hook" -d 'Give each git branch its own database: a post-checkout hook that runs `branch put`'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "mcp" -d 'Serve these commands to agents over the Model Context Protocol on stdio'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "snapshot" -d 'Snapshots NS/SLUG:NAME: read-only restore points to fork from or reset to'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "pool" -d 'Pools: N forks of a database for N parallel test workers, leased one per worker'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "remote" -d 'Remotes: shared stores of snapshots on S3-compatible object storage or a shared directory'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "push" -d 'Upload the snapshot NS/SLUG:NAME to a remote (only the pages it does not hold yet)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "pull" -d 'Download the remote snapshot REMOTE:NS/SLUG:NAME into this home (forks of it are then local)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "completions" -d 'Print shell completions for SHELL to stdout (they complete database addresses too, by asking sqlfork)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and not __fish_seen_subcommand_from db branch git-hook mcp snapshot pool remote push pull completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "create" -d 'Create a new, empty database owned by sqlfork'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "import" -d 'Register an existing SQLite file in place (sqlfork never writes or deletes it)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "fork" -d 'Fork SRC into a new database DST (schema only unless --with-data)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "reset" -d 'Reset a fork in place to its parent\'s current state, or to one of its snapshots; prints its path'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "list" -d 'List databases, optionally in one namespace'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "show" -d 'Show one database in detail, with its lineage'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "path" -d 'Print the absolute path of a database\'s file (for shell scripts)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "ttl" -d 'Show, change or clear when a database auto-deletes'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "gc" -d 'Delete every database sqlfork created whose expiry has passed'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "resume" -d 'Continue interrupted data copies, pushes and pulls: one, or every one'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "wait" -d 'Wait until a database is healthy, resuming its copy if no process is copying it'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "diff" -d 'Show what changed between two databases: schema, settings and rows'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "merge" -d 'Merge a fork\'s changes since it was forked into its parent, three ways'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "rebase" -d 'Rebuild a fork on its parent\'s current state, with its own changes on top'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "rehearse" -d 'Run migrations on a data fork of SOURCE and report what they would do to it'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "delete" -d 'Remove a database\'s entry, and its file when sqlfork created it'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "cancel" -d 'Stop the process copying a fork that is being built, and remove the half-made fork'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from branch" -f -a "put" -d 'Create the branch NS/SLUG@REF, or reset it to its parent\'s current state; prints its path'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from branch" -f -a "list" -d 'List the branches of NS/SLUG'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from branch" -f -a "delete" -d 'Delete the branch NS/SLUG@REF and its file'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from git-hook" -f -a "install" -d 'Install a post-checkout hook in the current git repository'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from git-hook" -f -a "uninstall" -d 'Remove the hook `install` wrote, and put back the hook it replaced'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from git-hook" -f -a "run" -d 'What the installed hook runs on a checkout'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "create" -d 'Take a read-only snapshot of NS/SLUG (or a branch), with its data'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "list" -d 'List the snapshots of NS/SLUG (or of REMOTE:NS/SLUG on a remote): name, taken at, size, expiry'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "delete" -d 'Delete the snapshot NS/SLUG:NAME and its file (or REMOTE:NS/SLUG:NAME on a remote)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from pool" -f -a "create" -d 'Make N slots NS/SLUG@pool-1..N for N parallel test workers, forked from a snapshot NS/SLUG:pool-base'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from pool" -f -a "lease" -d 'Lease a free slot (reset to the pool\'s base) and print its path'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from pool" -f -a "return" -d 'Give a leased slot back (by number, address or path); it is reset at its next lease'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from pool" -f -a "list" -d 'The slots of a pool and who holds each'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from pool" -f -a "delete" -d 'Delete a pool: its slots and its base snapshot'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "add" -d 'Add a remote NAME at URL (s3://BUCKET[/PREFIX] or file:///PATH) to config.toml'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "list" -d 'List the remotes (with --snapshots, what each holds)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "remove" -d 'Remove remote NAME from config.toml (what it holds stays on it)'
complete -c sqlfork -n "__fish_sqlfork_using_subcommand help; and __fish_seen_subcommand_from remote" -f -a "gc" -d 'Remove a remote\'s expired snapshots and the stored data no snapshot needs'

# Database addresses (db show, db path, db delete, …): ask sqlfork.
complete -c sqlfork -f -a '(sqlfork __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
