//! A progress bar over a benchmark's phases, on stderr: drawn only on a terminal and never
//! with `--json` (whose stdout is one JSON object).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::OnceLock;
use std::time::Duration;

static BAR: OnceLock<ProgressBar> = OnceLock::new();

/// Starts the bar for `phases` phases (hidden when `quiet`).
pub fn start(phases: u64, quiet: bool) {
    let bar = ProgressBar::with_draw_target(
        Some(phases),
        if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let _ = BAR.set(bar);
}

/// Marks the previous phase done and names the next.
pub fn phase(what: &str) {
    if let Some(bar) = BAR.get() {
        if !bar.message().is_empty() {
            bar.inc(1);
        }
        bar.set_message(what.to_owned());
    }
}

/// Removes the bar (before the result is printed).
pub fn finish() {
    if let Some(bar) = BAR.get() {
        bar.finish_and_clear();
    }
}
