//! Whether a failure may pass if tried again later: the one question every error type of the
//! library answers, so a caller (cron through exit status 75, the IMAP retry) asks it the
//! same way whatever the error.
//!
//! A leaf error decides for itself (a locked store or index, a server that cannot be reached);
//! an error that wraps others only names the wrapped error that decides, so the question is
//! answered once, at the bottom. A broken pipe needs no such help: every write error keeps its
//! `std::io::Error` in the [`std::error::Error::source`] chain, which the binary walks.

/// An error that knows whether it is transient, or which wrapped error knows.
pub trait Fault {
    /// The wrapped error that decides, when this one only carries another.
    fn inner(&self) -> Option<&dyn Fault> {
        None
    }

    /// Whether trying again later may succeed, so a cron job should retry rather than give up.
    fn is_transient(&self) -> bool {
        self.inner().is_some_and(Fault::is_transient)
    }
}
