
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sqlfork' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    # Database addresses (db show, db path, db delete, …): ask sqlfork.
    $sqlforkWords = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
    if ($wordToComplete -eq '') { $sqlforkWords += '' }
    $sqlforkAddresses = @(& $commandAst.CommandElements[0].ToString() __complete @sqlforkWords 2>$null)
    if ($sqlforkAddresses.Count -gt 0 -and $sqlforkAddresses[0]) {
        $sqlforkAddresses | ForEach-Object { [CompletionResult]::new($_, $_, [CompletionResultType]::ParameterValue, $_) }
        return
    }

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sqlfork'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sqlfork' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Create, fork, inspect and delete databases')
            [CompletionResult]::new('branch', 'branch', [CompletionResultType]::ParameterValue, 'Branches NS/SLUG@REF: forks of a database that `branch put` creates or resets')
            [CompletionResult]::new('git-hook', 'git-hook', [CompletionResultType]::ParameterValue, 'Give each git branch its own database: a post-checkout hook that runs `branch put`')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve these commands to agents over the Model Context Protocol on stdio')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Snapshots NS/SLUG:NAME: read-only restore points to fork from or reset to')
            [CompletionResult]::new('pool', 'pool', [CompletionResultType]::ParameterValue, 'Pools: N forks of a database for N parallel test workers, leased one per worker')
            [CompletionResult]::new('remote', 'remote', [CompletionResultType]::ParameterValue, 'Remotes: shared stores of snapshots on S3-compatible object storage or a shared directory')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Upload the snapshot NS/SLUG:NAME to a remote (only the pages it does not hold yet)')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download the remote snapshot REMOTE:NS/SLUG:NAME into this home (forks of it are then local)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for SHELL to stdout (they complete database addresses too, by asking sqlfork)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;db' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a new, empty database owned by sqlfork')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Register an existing SQLite file in place (sqlfork never writes or deletes it)')
            [CompletionResult]::new('fork', 'fork', [CompletionResultType]::ParameterValue, 'Fork SRC into a new database DST (schema only unless --with-data)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Reset a fork in place to its parent''s current state, or to one of its snapshots; prints its path')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List databases, optionally in one namespace')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one database in detail, with its lineage')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the absolute path of a database''s file (for shell scripts)')
            [CompletionResult]::new('ttl', 'ttl', [CompletionResultType]::ParameterValue, 'Show, change or clear when a database auto-deletes')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Delete every database sqlfork created whose expiry has passed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue interrupted data copies, pushes and pulls: one, or every one')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until a database is healthy, resuming its copy if no process is copying it')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what changed between two databases: schema, settings and rows')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge a fork''s changes since it was forked into its parent, three ways')
            [CompletionResult]::new('rebase', 'rebase', [CompletionResultType]::ParameterValue, 'Rebuild a fork on its parent''s current state, with its own changes on top')
            [CompletionResult]::new('rehearse', 'rehearse', [CompletionResultType]::ParameterValue, 'Run migrations on a data fork of SOURCE and report what they would do to it')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove a database''s entry, and its file when sqlfork created it')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Stop the process copying a fork that is being built, and remove the half-made fork')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;db;create' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Human-readable name [default: the slug]')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;import' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Human-readable name [default: the slug]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;fork' {
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Fork SRC''s newest snapshot taken at or before TIME (RFC 3339, or an age such as 2h meaning two hours ago)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Human-readable name [default: the slug]')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]')
            [CompletionResult]::new('--mask', '--mask', [CompletionResultType]::ParameterName, 'Mask the rows with the rules in FILE (TOML: a seed, and per table and column a masker) [default: mask in config.toml]')
            [CompletionResult]::new('--subset', '--subset', [CompletionResultType]::ParameterName, 'Keep only TABLE''s rows matching WHERE, and the rows they reference through foreign keys (repeatable)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--with-data', '--with-data', [CompletionResultType]::ParameterName, 'Copy every row too, not only the schema')
            [CompletionResult]::new('--mergeable', '--mergeable', [CompletionResultType]::ParameterName, 'Keep the fork''s base (its state now, for `db merge`) even where that is a full copy; on XFS/btrfs, or from a snapshot, it is kept anyway, for free')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Return once the schema is in place (status provisioning) and copy the rows in a background process; follow it with `db wait`')
            [CompletionResult]::new('--mask-check', '--mask-check', [CompletionResultType]::ParameterName, 'List the columns that look personal and have no mask rule; fork nothing')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to fork while a column that looks personal has no mask rule')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;reset' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Reset to this snapshot of the database itself (NAME or NS/SLUG:NAME)')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Expire this long from the reset (1h to 30d) [default: keep the expiry]')
            [CompletionResult]::new('--mask', '--mask', [CompletionResultType]::ParameterName, 'Mask the rows with the rules in FILE (TOML: a seed, and per table and column a masker) [default: mask in config.toml]')
            [CompletionResult]::new('--subset', '--subset', [CompletionResultType]::ParameterName, 'Keep only TABLE''s rows matching WHERE, and the rows they reference through foreign keys (repeatable)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--with-data', '--with-data', [CompletionResultType]::ParameterName, 'Copy every row too, not only the schema')
            [CompletionResult]::new('--schema-only', '--schema-only', [CompletionResultType]::ParameterName, 'Copy only the schema')
            [CompletionResult]::new('--mask-check', '--mask-check', [CompletionResultType]::ParameterName, 'List the columns that look personal and have no mask rule; fork nothing')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to fork while a column that looks personal has no mask rule')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the file even while other processes have it open (they keep the old, deleted file; what they write next is lost). For a test database whose users you will restart anyway')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the restored state into the same file through SQLite''s backup API, under SQLite''s locks: open connections see it at their next transaction and keep writing into it. For an app that keeps its connection open across resets')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;show' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;path' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;ttl' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--clear', '--clear', [CompletionResultType]::ParameterName, 'Remove the expiry: the database never auto-deletes')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;gc' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'List what would be deleted, and delete nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;resume' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--background', '--background', [CompletionResultType]::ParameterName, 'Run as the background copy started by `db fork --detach`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;wait' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 30s, 10m) with exit code 5 [default: wait for ever]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;diff' {
            [CompletionResult]::new('--rows', '--rows', [CompletionResultType]::ParameterName, 'List up to N changed rows per table (key, and changed columns old → new)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: text, or json with --json; any other format cannot be combined with --json]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--schema', '--schema', [CompletionResultType]::ParameterName, 'Compare schema and settings only, not rows')
            [CompletionResult]::new('--full', '--full', [CompletionResultType]::ParameterName, 'Compare every row, skipping the page comparison (a check on it)')
            [CompletionResult]::new('--since-fork', '--since-fork', [CompletionResultType]::ParameterName, 'Compare the fork A with its base (its state when it was forked): only the fork''s own changes, none of its parent''s later writes')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit with 1 when the databases differ and 0 when they do not (like `git diff --exit-code`)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;merge' {
            [CompletionResult]::new('--into', '--into', [CompletionResultType]::ParameterName, 'Merge into this database (an address or a path) [default: the fork''s parent]')
            [CompletionResult]::new('--prefer', '--prefer', [CompletionResultType]::ParameterName, 'Which side wins a data conflict; never a broken constraint or a schema conflict')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: text, or json with --json]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Report what the merge would do, and write nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Write a parent sqlfork did not create (imported, or a path)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Write a parent sqlfork did not create (imported, or a path)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;rebase' {
            [CompletionResult]::new('--prefer', '--prefer', [CompletionResultType]::ParameterName, 'Which side wins a data conflict')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: text, or json with --json]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;rehearse' {
            [CompletionResult]::new('--down', '--down', [CompletionResultType]::ParameterName, 'Down migrations (a file or a directory): run in reverse order after the ups; each must give back the state before its up')
            [CompletionResult]::new('--mask', '--mask', [CompletionResultType]::ParameterName, 'Mask the fork''s rows with the rules in FILE [default: mask in config.toml]')
            [CompletionResult]::new('--subset', '--subset', [CompletionResultType]::ParameterName, 'Keep only TABLE''s rows matching WHERE, and the rows they reference (repeatable)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: text, or json with --json]')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit 1 when a finding is at least this severe')
            [CompletionResult]::new('--lock-budget', '--lock-budget', [CompletionResultType]::ParameterName, 'A write lock held longer than this is a warning (e.g. 1s, 250ms)')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Keep the rehearsal fork at NS/SLUG instead of deleting it')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;delete' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (never asked when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (never asked when stdin is not a terminal)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Stop a copy still building it, succeed if it does not exist, never ask')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;cancel' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;db;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a new, empty database owned by sqlfork')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Register an existing SQLite file in place (sqlfork never writes or deletes it)')
            [CompletionResult]::new('fork', 'fork', [CompletionResultType]::ParameterValue, 'Fork SRC into a new database DST (schema only unless --with-data)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Reset a fork in place to its parent''s current state, or to one of its snapshots; prints its path')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List databases, optionally in one namespace')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one database in detail, with its lineage')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the absolute path of a database''s file (for shell scripts)')
            [CompletionResult]::new('ttl', 'ttl', [CompletionResultType]::ParameterValue, 'Show, change or clear when a database auto-deletes')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Delete every database sqlfork created whose expiry has passed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue interrupted data copies, pushes and pulls: one, or every one')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until a database is healthy, resuming its copy if no process is copying it')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what changed between two databases: schema, settings and rows')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge a fork''s changes since it was forked into its parent, three ways')
            [CompletionResult]::new('rebase', 'rebase', [CompletionResultType]::ParameterValue, 'Rebuild a fork on its parent''s current state, with its own changes on top')
            [CompletionResult]::new('rehearse', 'rehearse', [CompletionResultType]::ParameterValue, 'Run migrations on a data fork of SOURCE and report what they would do to it')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove a database''s entry, and its file when sqlfork created it')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Stop the process copying a fork that is being built, and remove the half-made fork')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;db;help;create' {
            break
        }
        'sqlfork;db;help;import' {
            break
        }
        'sqlfork;db;help;fork' {
            break
        }
        'sqlfork;db;help;reset' {
            break
        }
        'sqlfork;db;help;list' {
            break
        }
        'sqlfork;db;help;show' {
            break
        }
        'sqlfork;db;help;path' {
            break
        }
        'sqlfork;db;help;ttl' {
            break
        }
        'sqlfork;db;help;gc' {
            break
        }
        'sqlfork;db;help;resume' {
            break
        }
        'sqlfork;db;help;wait' {
            break
        }
        'sqlfork;db;help;diff' {
            break
        }
        'sqlfork;db;help;merge' {
            break
        }
        'sqlfork;db;help;rebase' {
            break
        }
        'sqlfork;db;help;rehearse' {
            break
        }
        'sqlfork;db;help;delete' {
            break
        }
        'sqlfork;db;help;cancel' {
            break
        }
        'sqlfork;db;help;help' {
            break
        }
        'sqlfork;branch' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('put', 'put', [CompletionResultType]::ParameterValue, 'Create the branch NS/SLUG@REF, or reset it to its parent''s current state; prints its path')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the branches of NS/SLUG')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete the branch NS/SLUG@REF and its file')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;branch;put' {
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]')
            [CompletionResult]::new('--mask', '--mask', [CompletionResultType]::ParameterName, 'Mask the rows with the rules in FILE (TOML: a seed, and per table and column a masker) [default: mask in config.toml]')
            [CompletionResult]::new('--subset', '--subset', [CompletionResultType]::ParameterName, 'Keep only TABLE''s rows matching WHERE, and the rows they reference through foreign keys (repeatable)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--with-data', '--with-data', [CompletionResultType]::ParameterName, 'Copy every row too, not only the schema [default: as the branch was made; schema only for a new branch]')
            [CompletionResult]::new('--schema-only', '--schema-only', [CompletionResultType]::ParameterName, 'Copy only the schema, even if the branch was made --with-data')
            [CompletionResult]::new('--mask-check', '--mask-check', [CompletionResultType]::ParameterName, 'List the columns that look personal and have no mask rule; fork nothing')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to fork while a column that looks personal has no mask rule')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the file even while other processes have it open (they keep the old, deleted file; what they write next is lost). For a test database whose users you will restart anyway')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the restored state into the same file through SQLite''s backup API, under SQLite''s locks: open connections see it at their next transaction and keep writing into it. For an app that keeps its connection open across resets')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;branch;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;branch;delete' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (never asked when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (never asked when stdin is not a terminal)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Stop a copy still building it, succeed if it does not exist, never ask')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;branch;help' {
            [CompletionResult]::new('put', 'put', [CompletionResultType]::ParameterValue, 'Create the branch NS/SLUG@REF, or reset it to its parent''s current state; prints its path')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the branches of NS/SLUG')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete the branch NS/SLUG@REF and its file')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;branch;help;put' {
            break
        }
        'sqlfork;branch;help;list' {
            break
        }
        'sqlfork;branch;help;delete' {
            break
        }
        'sqlfork;branch;help;help' {
            break
        }
        'sqlfork;git-hook' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install a post-checkout hook in the current git repository')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the hook `install` wrote, and put back the hook it replaced')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'What the installed hook runs on a checkout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;git-hook;install' {
            [CompletionResult]::new('--path-file', '--path-file', [CompletionResultType]::ParameterName, 'Where the hook writes the database''s path (relative to the work tree''s top)')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--with-data', '--with-data', [CompletionResultType]::ParameterName, 'Branch databases get every row too, not only the schema')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'Reset the branch''s database to NS/SLUG''s current state on every switch [default: keep it; only the first switch forks it]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;git-hook;uninstall' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;git-hook;run' {
            [CompletionResult]::new('--path-file', '--path-file', [CompletionResultType]::ParameterName, 'path-file')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Expire this long from now; the next `db gc` after that deletes it (1h to 30d, e.g. 12h, 7d) [default: default_ttl in config.toml]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--with-data', '--with-data', [CompletionResultType]::ParameterName, 'with-data')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'reset')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;git-hook;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install a post-checkout hook in the current git repository')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the hook `install` wrote, and put back the hook it replaced')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'What the installed hook runs on a checkout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;git-hook;help;install' {
            break
        }
        'sqlfork;git-hook;help;uninstall' {
            break
        }
        'sqlfork;git-hook;help;run' {
            break
        }
        'sqlfork;git-hook;help;help' {
            break
        }
        'sqlfork;mcp' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;snapshot' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Take a read-only snapshot of NS/SLUG (or a branch), with its data')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the snapshots of NS/SLUG (or of REMOTE:NS/SLUG on a remote): name, taken at, size, expiry')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete the snapshot NS/SLUG:NAME and its file (or REMOTE:NS/SLUG:NAME on a remote)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;snapshot;create' {
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Expire this long after it is taken; the next `db gc` after that deletes it (1h to 30d)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;snapshot;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;snapshot;delete' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (never asked when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (never asked when stdin is not a terminal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;snapshot;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Take a read-only snapshot of NS/SLUG (or a branch), with its data')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the snapshots of NS/SLUG (or of REMOTE:NS/SLUG on a remote): name, taken at, size, expiry')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete the snapshot NS/SLUG:NAME and its file (or REMOTE:NS/SLUG:NAME on a remote)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;snapshot;help;create' {
            break
        }
        'sqlfork;snapshot;help;list' {
            break
        }
        'sqlfork;snapshot;help;delete' {
            break
        }
        'sqlfork;snapshot;help;help' {
            break
        }
        'sqlfork;pool' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Make N slots NS/SLUG@pool-1..N for N parallel test workers, forked from a snapshot NS/SLUG:pool-base')
            [CompletionResult]::new('lease', 'lease', [CompletionResultType]::ParameterValue, 'Lease a free slot (reset to the pool''s base) and print its path')
            [CompletionResult]::new('return', 'return', [CompletionResultType]::ParameterValue, 'Give a leased slot back (by number, address or path); it is reset at its next lease')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'The slots of a pool and who holds each')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a pool: its slots and its base snapshot')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;pool;create' {
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'How many slots (1 to 256): one per parallel worker')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Expire the slots and the base this long from now (1h to 30d)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--with-data', '--with-data', [CompletionResultType]::ParameterName, 'Copy every row into each slot, not only the schema')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;pool;lease' {
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'The process that holds the lease [default: the parent of this sqlfork process]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for a free slot (e.g. 30s, 2m)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;pool;return' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;pool;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;pool;delete' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Delete it even while live processes hold slots')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;pool;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Make N slots NS/SLUG@pool-1..N for N parallel test workers, forked from a snapshot NS/SLUG:pool-base')
            [CompletionResult]::new('lease', 'lease', [CompletionResultType]::ParameterValue, 'Lease a free slot (reset to the pool''s base) and print its path')
            [CompletionResult]::new('return', 'return', [CompletionResultType]::ParameterValue, 'Give a leased slot back (by number, address or path); it is reset at its next lease')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'The slots of a pool and who holds each')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a pool: its slots and its base snapshot')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;pool;help;create' {
            break
        }
        'sqlfork;pool;help;lease' {
            break
        }
        'sqlfork;pool;help;return' {
            break
        }
        'sqlfork;pool;help;list' {
            break
        }
        'sqlfork;pool;help;delete' {
            break
        }
        'sqlfork;pool;help;help' {
            break
        }
        'sqlfork;remote' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a remote NAME at URL (s3://BUCKET[/PREFIX] or file:///PATH) to config.toml')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the remotes (with --snapshots, what each holds)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove remote NAME from config.toml (what it holds stays on it)')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove a remote''s expired snapshots and the stored data no snapshot needs')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;remote;add' {
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'The bucket''s region [default: AWS_REGION, else ~/.aws/config]')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'An S3-compatible service''s endpoint, like http://127.0.0.1:9000 [default: AWS_ENDPOINT_URL]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--require-masked', '--require-masked', [CompletionResultType]::ParameterName, 'Refuse snapshots that no masked fork made (originals never leave this machine)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;remote;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--snapshots', '--snapshots', [CompletionResultType]::ParameterName, 'Also list every snapshot each remote holds')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;remote;remove' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;remote;gc' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Keep unreferenced objects younger than this')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say what would be removed; remove nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;remote;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a remote NAME at URL (s3://BUCKET[/PREFIX] or file:///PATH) to config.toml')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the remotes (with --snapshots, what each holds)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove remote NAME from config.toml (what it holds stays on it)')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove a remote''s expired snapshots and the stored data no snapshot needs')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;remote;help;add' {
            break
        }
        'sqlfork;remote;help;list' {
            break
        }
        'sqlfork;remote;help;remove' {
            break
        }
        'sqlfork;remote;help;gc' {
            break
        }
        'sqlfork;remote;help;help' {
            break
        }
        'sqlfork;push' {
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Expire on the remote this long after the push; `remote gc` removes it then')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;pull' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;completions' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'Home directory holding the registry, config and database files [default: $SQLFORK_HOME, else the platform data directory]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print exactly one JSON document on stdout instead of human output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the result and errors (no progress, no notes)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sqlfork;help' {
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Create, fork, inspect and delete databases')
            [CompletionResult]::new('branch', 'branch', [CompletionResultType]::ParameterValue, 'Branches NS/SLUG@REF: forks of a database that `branch put` creates or resets')
            [CompletionResult]::new('git-hook', 'git-hook', [CompletionResultType]::ParameterValue, 'Give each git branch its own database: a post-checkout hook that runs `branch put`')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve these commands to agents over the Model Context Protocol on stdio')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Snapshots NS/SLUG:NAME: read-only restore points to fork from or reset to')
            [CompletionResult]::new('pool', 'pool', [CompletionResultType]::ParameterValue, 'Pools: N forks of a database for N parallel test workers, leased one per worker')
            [CompletionResult]::new('remote', 'remote', [CompletionResultType]::ParameterValue, 'Remotes: shared stores of snapshots on S3-compatible object storage or a shared directory')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Upload the snapshot NS/SLUG:NAME to a remote (only the pages it does not hold yet)')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download the remote snapshot REMOTE:NS/SLUG:NAME into this home (forks of it are then local)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for SHELL to stdout (they complete database addresses too, by asking sqlfork)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlfork;help;db' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a new, empty database owned by sqlfork')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Register an existing SQLite file in place (sqlfork never writes or deletes it)')
            [CompletionResult]::new('fork', 'fork', [CompletionResultType]::ParameterValue, 'Fork SRC into a new database DST (schema only unless --with-data)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Reset a fork in place to its parent''s current state, or to one of its snapshots; prints its path')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List databases, optionally in one namespace')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one database in detail, with its lineage')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the absolute path of a database''s file (for shell scripts)')
            [CompletionResult]::new('ttl', 'ttl', [CompletionResultType]::ParameterValue, 'Show, change or clear when a database auto-deletes')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Delete every database sqlfork created whose expiry has passed')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue interrupted data copies, pushes and pulls: one, or every one')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until a database is healthy, resuming its copy if no process is copying it')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what changed between two databases: schema, settings and rows')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge a fork''s changes since it was forked into its parent, three ways')
            [CompletionResult]::new('rebase', 'rebase', [CompletionResultType]::ParameterValue, 'Rebuild a fork on its parent''s current state, with its own changes on top')
            [CompletionResult]::new('rehearse', 'rehearse', [CompletionResultType]::ParameterValue, 'Run migrations on a data fork of SOURCE and report what they would do to it')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove a database''s entry, and its file when sqlfork created it')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Stop the process copying a fork that is being built, and remove the half-made fork')
            break
        }
        'sqlfork;help;db;create' {
            break
        }
        'sqlfork;help;db;import' {
            break
        }
        'sqlfork;help;db;fork' {
            break
        }
        'sqlfork;help;db;reset' {
            break
        }
        'sqlfork;help;db;list' {
            break
        }
        'sqlfork;help;db;show' {
            break
        }
        'sqlfork;help;db;path' {
            break
        }
        'sqlfork;help;db;ttl' {
            break
        }
        'sqlfork;help;db;gc' {
            break
        }
        'sqlfork;help;db;resume' {
            break
        }
        'sqlfork;help;db;wait' {
            break
        }
        'sqlfork;help;db;diff' {
            break
        }
        'sqlfork;help;db;merge' {
            break
        }
        'sqlfork;help;db;rebase' {
            break
        }
        'sqlfork;help;db;rehearse' {
            break
        }
        'sqlfork;help;db;delete' {
            break
        }
        'sqlfork;help;db;cancel' {
            break
        }
        'sqlfork;help;branch' {
            [CompletionResult]::new('put', 'put', [CompletionResultType]::ParameterValue, 'Create the branch NS/SLUG@REF, or reset it to its parent''s current state; prints its path')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the branches of NS/SLUG')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete the branch NS/SLUG@REF and its file')
            break
        }
        'sqlfork;help;branch;put' {
            break
        }
        'sqlfork;help;branch;list' {
            break
        }
        'sqlfork;help;branch;delete' {
            break
        }
        'sqlfork;help;git-hook' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install a post-checkout hook in the current git repository')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the hook `install` wrote, and put back the hook it replaced')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'What the installed hook runs on a checkout')
            break
        }
        'sqlfork;help;git-hook;install' {
            break
        }
        'sqlfork;help;git-hook;uninstall' {
            break
        }
        'sqlfork;help;git-hook;run' {
            break
        }
        'sqlfork;help;mcp' {
            break
        }
        'sqlfork;help;snapshot' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Take a read-only snapshot of NS/SLUG (or a branch), with its data')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the snapshots of NS/SLUG (or of REMOTE:NS/SLUG on a remote): name, taken at, size, expiry')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete the snapshot NS/SLUG:NAME and its file (or REMOTE:NS/SLUG:NAME on a remote)')
            break
        }
        'sqlfork;help;snapshot;create' {
            break
        }
        'sqlfork;help;snapshot;list' {
            break
        }
        'sqlfork;help;snapshot;delete' {
            break
        }
        'sqlfork;help;pool' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Make N slots NS/SLUG@pool-1..N for N parallel test workers, forked from a snapshot NS/SLUG:pool-base')
            [CompletionResult]::new('lease', 'lease', [CompletionResultType]::ParameterValue, 'Lease a free slot (reset to the pool''s base) and print its path')
            [CompletionResult]::new('return', 'return', [CompletionResultType]::ParameterValue, 'Give a leased slot back (by number, address or path); it is reset at its next lease')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'The slots of a pool and who holds each')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a pool: its slots and its base snapshot')
            break
        }
        'sqlfork;help;pool;create' {
            break
        }
        'sqlfork;help;pool;lease' {
            break
        }
        'sqlfork;help;pool;return' {
            break
        }
        'sqlfork;help;pool;list' {
            break
        }
        'sqlfork;help;pool;delete' {
            break
        }
        'sqlfork;help;remote' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a remote NAME at URL (s3://BUCKET[/PREFIX] or file:///PATH) to config.toml')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the remotes (with --snapshots, what each holds)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove remote NAME from config.toml (what it holds stays on it)')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove a remote''s expired snapshots and the stored data no snapshot needs')
            break
        }
        'sqlfork;help;remote;add' {
            break
        }
        'sqlfork;help;remote;list' {
            break
        }
        'sqlfork;help;remote;remove' {
            break
        }
        'sqlfork;help;remote;gc' {
            break
        }
        'sqlfork;help;push' {
            break
        }
        'sqlfork;help;pull' {
            break
        }
        'sqlfork;help;completions' {
            break
        }
        'sqlfork;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
