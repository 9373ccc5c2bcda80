use clap::Parser;

fn main() {
    let _cli = billrisk::cli::Cli::parse();
}
