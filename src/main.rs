//! billrisk: parse the command line, run the command, print any error cause by cause with a
//! hint, and exit with the code of SPEC section 2. Allocator and Polars tuning: `tuning.rs`.

mod tuning;

use std::error::Error as _;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tuning::tune();
    let cli = match billrisk::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let usage = e.use_stderr();
            return ExitCode::from(if usage { billrisk::app::EXIT_USAGE } else { 0 });
        }
    };
    let err = match billrisk::app::execute(cli) {
        Ok(code) => return ExitCode::from(code),
        Err(err) => err,
    };
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
