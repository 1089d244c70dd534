//! What the server reports while a command runs, on stderr: progress (a live bar on a terminal,
//! plain `progress 2/3 message` lines otherwise) and log notifications, one line each.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mcp_http_client::ProgressUpdate;
use mcp_http_client::proto::LoggingMessageNotificationParams;

/// The bar's resolution: progress is shown as a fraction of the total.
const BAR_LENGTH: u64 = 1000;

/// Writes progress and logs to stderr, keeping a progress bar (if any) below the lines.
pub(crate) struct Reporter {
    tty: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Reporter {
    /// A reporter that draws a bar when stderr is a terminal.
    pub(crate) fn new() -> Self {
        Reporter {
            tty: std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
        }
    }

    fn bar(&self) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
        mcp_http_core::sync::lock(&self.bar)
    }

    /// One progress notification.
    pub(crate) fn progress(&self, update: &ProgressUpdate) {
        let amount = match update.total {
            Some(total) => format!("{}/{}", number(update.progress), number(total)),
            None => number(update.progress),
        };
        let text = match &update.message {
            Some(message) => format!("{amount} {}", one_line(message)),
            None => amount,
        };
        if !self.tty {
            self.line(&format!("progress {text}"));
            return;
        }
        let mut slot = self.bar();
        let bar = slot.get_or_insert_with(|| new_bar(update.total.is_some()));
        if let Some(total) = update.total.filter(|t| *t > 0.0) {
            if bar.length().is_none() {
                bar.set_length(BAR_LENGTH);
                bar.set_style(bar_style());
            }
            let fraction = (update.progress / total).clamp(0.0, 1.0);
            bar.set_position((fraction * BAR_LENGTH as f64).round() as u64);
        }
        bar.set_message(text);
    }

    /// One `notifications/message`: `[level] logger: data`.
    pub(crate) fn log(&self, log: &LoggingMessageNotificationParams) {
        let level = serde_json::to_value(log.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "log".to_owned());
        let data = match &log.data {
            serde_json::Value::String(s) => one_line(s),
            other => other.to_string(),
        };
        match &log.logger {
            Some(logger) => self.line(&format!("[{level}] {logger}: {data}")),
            None => self.line(&format!("[{level}] {data}")),
        }
    }

    /// A line on stderr, above the bar when one is drawn.
    pub(crate) fn line(&self, text: &str) {
        match self.bar().as_ref() {
            Some(bar) => bar.suspend(|| write_stderr(text)),
            None => write_stderr(text),
        }
    }

    /// Runs `f` with the bar hidden (while asking the user something on the terminal).
    pub(crate) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        let bar = self.bar().clone();
        match bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar before the result is printed.
    pub(crate) fn finish(&self) {
        if let Some(bar) = self.bar().take() {
            bar.finish_and_clear();
        }
    }
}

fn new_bar(with_total: bool) -> ProgressBar {
    let bar = if with_total {
        ProgressBar::with_draw_target(Some(BAR_LENGTH), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
    };
    bar.set_style(if with_total {
        bar_style()
    } else {
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
    });
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} [{elapsed}] {wide_bar} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn write_stderr(text: &str) {
    // A closed stderr is no reason to fail the command.
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// `2` for 2.0, `2.5` for 2.5.
pub(crate) fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Keeps a message on one line.
pub(crate) fn one_line(text: &str) -> String {
    text.trim_end()
        .replace("\r\n", " ")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_without_needless_decimals() {
        assert_eq!(number(2.0), "2");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(-3.0), "-3");
    }

    #[test]
    fn messages_stay_on_one_line() {
        assert_eq!(one_line("a\nb\r\nc\n"), "a b c");
    }
}
