//! Log setup: text or JSON lines on stderr, filtered by `RUST_LOG` or the config's `log.filter`.
//!
//! Invariant: logging never stops the relayer. A line that cannot be written (stderr redirected
//! to a file on a full disk, a closed pipe) is dropped and counted
//! (`toss_log_lines_lost_total`). Left to itself, tracing-subscriber reports a failed write
//! with `eprintln!`, which panics when stderr is what failed: every task that logged during a
//! full disk died, and the relayer answered `503 shutting_down` for good (found by the
//! disk-full drill of the real-validator suite).

use crate::config::{LogConfig, LogFormat};
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Log lines dropped because they could not be written, since the process started.
static LINES_LOST: AtomicU64 = AtomicU64::new(0);

/// Log lines dropped because they could not be written, since the process started.
pub fn lines_lost() -> u64 {
    LINES_LOST.load(Ordering::Relaxed)
}

/// A writer that never fails: each line it cannot write whole is counted and dropped.
pub struct Lossy<W>(pub W);

impl<W: Write> Write for Lossy<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.0.write_all(buf).is_err() {
            LINES_LOST.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = self.0.flush();
        Ok(())
    }
}

/// Stderr behind [`Lossy`].
struct LossyStderr;

impl<'a> MakeWriter<'a> for LossyStderr {
    type Writer = Lossy<io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        Lossy(io::stderr())
    }
}

/// The subscriber [`init`] installs, writing its lines through `writer`.
pub fn subscriber<W>(log: &LogConfig, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_new(&log.filter).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    build(filter, log.format, writer)
}

/// [`subscriber`] with `filter` as given (`RUST_LOG` not consulted).
fn build<W>(
    filter: EnvFilter,
    format: LogFormat,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .log_internal_errors(false);
    match format {
        LogFormat::Json => Box::new(builder.json().finish()),
        LogFormat::Text => Box::new(builder.finish()),
    }
}

/// Installs the global subscriber on stderr (once; later calls are ignored).
pub fn init(log: &LogConfig) {
    let _ = subscriber(log, LossyStderr).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk that is full: every write fails.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(27)) // EFBIG
        }

        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from_raw_os_error(27))
        }
    }

    #[test]
    fn a_line_that_cannot_be_written_is_counted_and_never_an_error() {
        let before = lines_lost();
        let mut w = Lossy(Full);
        assert_eq!(w.write(b"one line\n").ok(), Some(9));
        assert!(w.write_all(b"another\n").is_ok());
        assert!(w.flush().is_ok());
        assert!(lines_lost() >= before + 2);
    }

    #[test]
    fn logging_to_a_full_disk_drops_lines_in_both_formats() {
        for format in [LogFormat::Text, LogFormat::Json] {
            let before = lines_lost();
            // Not `subscriber`: `RUST_LOG` (scripts/test sets `error`) must not filter these.
            let sub = build(EnvFilter::new("trace"), format, || Lossy(Full));
            tracing::subscriber::with_default(sub, || {
                tracing::error!(intent = "ab", "store write failed");
                tracing::info!("still running");
            });
            assert!(lines_lost() >= before + 2, "{format:?}");
        }
    }
}
