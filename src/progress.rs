//! Stage progress on stderr: a spinner per stage on a terminal (indicatif), plain log lines
//! otherwise (schedulers capture stderr); nothing with -q. Stage timings go to the manifest.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// What the binary runs before each stage to hand memory freed by the stages before back to the
/// system (see the binary's tuning.rs); nothing in a library use.
static RELEASE_FREE_MEMORY: OnceLock<fn()> = OnceLock::new();

/// Sets the function run before each stage to give freed memory back (the allocator is the
/// binary's choice, so the library only calls what it is given). The first one set stays.
pub fn set_memory_release(f: fn()) {
    let _ = RELEASE_FREE_MEMORY.set(f);
}

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
        if let Some(release) = RELEASE_FREE_MEMORY.get() {
            release();
        }
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
            match peak_memory() {
                Some(peak) => eprintln!(
                    "billrisk: {name} ({:.2} s, peak memory so far {peak})",
                    took.as_secs_f64()
                ),
                None => eprintln!("billrisk: {name} ({:.2} s)", took.as_secs_f64()),
            }
        }
        self.timings.push((name.to_string(), took));
        out
    }

    pub fn timings(&self) -> &[(String, Duration)] {
        &self.timings
    }
}

/// Developer aid for the benchmarks (issue 8): with `BILLRISK_PEAK_MEMORY=1`, each stage line also
/// gives the process's peak resident memory so far, to find the stage that sets the peak.
fn peak_memory() -> Option<String> {
    if !crate::environment::environment().peak_memory {
        return None;
    }
    Some(format!("{:.2} GiB", peak_memory_gib()?))
}

/// One field of /proc/self/status in GiB (Linux only; None elsewhere).
fn status_gib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0 / 1024.0)
}

/// Resident memory of the process now (VmRSS), in GiB.
pub fn resident_memory_gib() -> Option<f64> {
    status_gib("VmRSS:")
}

/// Peak resident memory of the process (VmHWM), in GiB.
pub fn peak_memory_gib() -> Option<f64> {
    status_gib("VmHWM:")
}

/// Resets the peak to the current resident memory (Linux's clear_refs 5) and returns the
/// current resident memory in GiB: the next [`peak_memory_gib`] is then the peak since now.
pub fn reset_peak_memory() -> Option<f64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    resident_memory_gib()
}
