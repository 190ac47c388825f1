//! Progress on stderr (the binary's side of `envinspect::progress`), drawn by indicatif only when stderr is a terminal and only once work has
//! lasted a moment (a quick run prints nothing). Never on stdout, so never in JSON or YAML.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use envinspect::progress::{Phase, Progress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Work shorter than this shows no progress at all.
const QUIET_FOR: Duration = Duration::from_millis(300);

pub(crate) struct Bar {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: Mutex<bool>,
}

impl Bar {
    pub(crate) fn new(terminal: bool) -> Self {
        Bar {
            bar: terminal
                .then(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())),
            started: Instant::now(),
            shown: Mutex::new(false),
        }
    }

    /// Shows the bar once the work has lasted long enough to be worth watching.
    fn tick(&self, bar: &ProgressBar) {
        if self.started.elapsed() < QUIET_FOR {
            return;
        }
        if let Ok(mut shown) = self.shown.lock() {
            if !*shown {
                *shown = true;
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    }

    pub(crate) fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn phase(&self, phase: Phase, total: Option<u64>) {
        let Some(bar) = &self.bar else { return };
        let style = match total {
            Some(_) => "{msg} {bar:30} {bytes}/{total_bytes}",
            None if phase == Phase::Bundle => "{spinner} {msg} {bytes} read",
            None if phase == Phase::Read => "{spinner} {msg} {bytes}",
            None => "{spinner} {msg}",
        };
        if let Ok(s) = ProgressStyle::with_template(style) {
            bar.set_style(s);
        }
        bar.set_length(total.unwrap_or(0));
        bar.set_position(0);
        bar.set_message(phase.label());
        self.tick(bar);
        bar.tick();
    }

    fn bytes(&self, n: u64) {
        let Some(bar) = &self.bar else { return };
        bar.inc(n);
        self.tick(bar);
    }

    fn items(&self, done: u64) {
        let Some(bar) = &self.bar else { return };
        bar.set_message(format!("{}: {done} proxies", Phase::Bundle.label()));
        self.tick(bar);
    }

    fn finish(&self) {
        self.clear();
    }
}
