//! billrisk: parse the command line, run the command, print any error cause by cause with a
//! hint, and exit with the code of SPEC section 2.

use std::error::Error as _;
use std::process::ExitCode;

use clap::Parser;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Groups per thread that Polars' streaming group-by aggregates as the rows arrive (its default is
/// 4096). The rows of any other group are kept, keys and values, until the end of the input: the
/// usage summary has 120k groups at 10.8M usage lines in no useful order, so with the default it
/// held nearly every line's seven text keys, and a 10.8M-row run from Parquet peaked at 2.8-3.1
/// GiB. With 65536 the same run peaked at 2.5 GiB (the summary's plan alone 1.9 GiB instead of
/// 2.8) and took 4 % longer in two paired runs (53.0 -> 56.1 s, 57.8 -> 60.4 s); at 1M rows it
/// takes 0.8 GiB instead of 0.7. Read by Polars when it builds each group-by, from
/// the environment, so it is set here before any thread starts; a value set by the user wins.
const HOT_TABLE_SIZE: &str = "65536";

fn main() -> ExitCode {
    if std::env::var_os("POLARS_HOT_TABLE_SIZE").is_none() {
        std::env::set_var("POLARS_HOT_TABLE_SIZE", HOT_TABLE_SIZE);
    }
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
