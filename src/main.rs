use clap::Parser;

/// mimalloc: memory allocated on one thread (rows read) and freed on another (subjects
/// evaluated) costs glibc's malloc locks and consolidation; see Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Output read by `head` and the like: when the reader goes away, stop quietly as other
    // command-line tools do (Rust ignores SIGPIPE, so printing would panic instead).
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; SIG_DFL is a valid action for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = crit::cli::Cli::parse();
    std::process::exit(crit::cli::run(cli));
}
