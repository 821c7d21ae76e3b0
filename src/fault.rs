//! Whether a failure may pass if tried again later: the one question every error type of the
//! library answers, so a caller (cron through exit status 75, the IMAP retry) asks it the
//! same way whatever the error.
//!
//! A leaf error decides for itself (a locked store or index, a server that cannot be reached);
//! an error that wraps others only names the wrapped error that decides, so the question is
//! answered once, at the bottom. A broken pipe needs no such help: every write error keeps its
//! `std::io::Error` in the [`std::error::Error::source`] chain (a `serde_json::Error` tells
//! its kind instead), which the binary walks to end quietly when the reader went away.
//!
//! A full disk (or an exhausted quota) is transient wherever it surfaces, and says so plainly:
//! space freed, the next run succeeds, so a mail server retries a delivery rather than
//! bouncing it. [`into_io`] carries an error through an `std::io::Error` (a sink's, a hook's)
//! with its answer kept in the error's kind.

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

/// Implements [`Fault`] for an error enum by naming its variants that only carry another
/// error (a single field), which then decides; every other variant is not transient.
macro_rules! carried_by {
    ($error:ty: $($variant:ident),+) => {
        impl $crate::fault::Fault for $error {
            fn inner(&self) -> Option<&dyn $crate::fault::Fault> {
                #[allow(unreachable_patterns)]
                match self {
                    $(Self::$variant(e) => Some(e),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use carried_by;

/// Whether an I/O error is a full disk (ENOSPC) or an exhausted quota (EDQUOT).
pub fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// An I/O error: transient when the disk is full, or when it carries a transient error
/// ([`into_io`]).
impl Fault for std::io::Error {
    fn is_transient(&self) -> bool {
        is_disk_full(self) || self.kind() == std::io::ErrorKind::ResourceBusy
    }
}

/// `error` as an `std::io::Error`, for a trait that returns one (a sink's, a hook's), its
/// answer kept in the kind: ResourceBusy when it is transient, Other when not.
pub fn into_io<E>(error: E) -> std::io::Error
where
    E: Fault + std::error::Error + Send + Sync + 'static,
{
    let kind = if error.is_transient() {
        std::io::ErrorKind::ResourceBusy
    } else {
        std::io::ErrorKind::Other
    };
    std::io::Error::new(kind, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_and_an_exhausted_quota_are_transient_and_other_io_errors_not() {
        // The errno a write gets on a full disk, and on a user's exhausted quota (EDQUOT
        // cannot be met on a test's tmpfs without quota tools; the kernel's number can).
        for errno in [libc::ENOSPC, libc::EDQUOT] {
            let error = std::io::Error::from_raw_os_error(errno);
            assert!(is_disk_full(&error), "{error}");
            assert!(error.is_transient(), "{error}");
            assert!(into_io(error).is_transient());
        }
        let denied = std::io::Error::from_raw_os_error(libc::EACCES);
        assert!(!is_disk_full(&denied) && !denied.is_transient());
        assert!(!into_io(denied).is_transient());
    }
}
