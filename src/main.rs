use clap::Parser;

fn main() {
    let cli = crit::cli::Cli::parse();
    std::process::exit(crit::cli::run(cli));
}
