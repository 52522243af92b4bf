//! The `sqlfork` binary: the library's command line, run.

fn main() -> std::process::ExitCode {
    sqlfork::run_cli()
}
