//! `patchbay`: inspect plugins, list providers, call any operation.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
