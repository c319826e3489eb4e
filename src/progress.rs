//! Progress on standard error for long runs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A progress bar on standard error for long runs: it appears only after a second, and only
/// when standard error is a terminal.
pub struct Progress {
    bar: indicatif::ProgressBar,
    start: Instant,
    shown: AtomicBool,
    tty: bool,
}

impl Progress {
    pub fn new(total: u64, what: &str) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::hidden(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
            "{{msg:<30}} [{{bar:30}}] {{pos}}/{{len}} {what} ({{eta}} left)"
        )) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress {
            bar,
            start: Instant::now(),
            shown: AtomicBool::new(false),
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn tick(&self) {
        self.bar.inc(1);
        if self.tty
            && self.start.elapsed() > Duration::from_secs(1)
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    pub fn message(&self, m: String) {
        self.bar.set_message(m);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
