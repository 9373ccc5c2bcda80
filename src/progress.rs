//! Stage progress on stderr: a spinner per stage on a terminal (indicatif), plain log lines
//! otherwise (schedulers capture stderr); nothing with -q. Stage timings go to the manifest.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

pub struct Progress {
    verbosity: Verbosity,
    tty: bool,
    timings: Vec<(String, Duration)>,
}

impl Progress {
    pub fn new(verbosity: Verbosity) -> Progress {
        Progress {
            verbosity,
            tty: std::io::stderr().is_terminal(),
            timings: Vec::new(),
        }
    }

    /// A note for the user (always shown unless quiet).
    pub fn note(&self, msg: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("billrisk: {msg}");
        }
    }

    /// Detail shown with -v only.
    pub fn detail(&self, msg: &str) {
        if self.verbosity == Verbosity::Verbose {
            eprintln!("billrisk: {msg}");
        }
    }

    /// Runs one stage, showing it while it runs and recording its duration.
    pub fn stage<T>(&mut self, name: &str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let bar = if self.tty && self.verbosity != Verbosity::Quiet {
            let pb = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                pb.set_style(style);
            }
            pb.set_message(name.to_string());
            pb.enable_steady_tick(Duration::from_millis(120));
            Some(pb)
        } else {
            None
        };
        let out = f();
        let took = start.elapsed();
        if let Some(pb) = bar {
            pb.finish_and_clear();
        }
        if self.verbosity != Verbosity::Quiet {
            eprintln!("billrisk: {name} ({:.2} s)", took.as_secs_f64());
        }
        self.timings.push((name.to_string(), took));
        out
    }

    pub fn timings(&self) -> &[(String, Duration)] {
        &self.timings
    }
}
