//! billrisk: parse the command line, run the command, print any error cause by cause with a
//! hint, and exit with the code of SPEC section 2.

use std::error::Error as _;
use std::process::ExitCode;

use clap::Parser;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match billrisk::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                billrisk::app::EXIT_USAGE
            } else {
                0
            });
        }
    };
    match billrisk::app::execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            if let Some(hint) = err.hint() {
                eprintln!("\nhint: {hint}");
            }
            ExitCode::from(err.exit_code())
        }
    }
}
