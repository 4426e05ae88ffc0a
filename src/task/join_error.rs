//! `JoinError`: why a task produced no output. Its own file so the task's raw core (which
//! stores it) and `JoinHandle` (which returns it) both import it without importing each
//! other.

use core::fmt;

/// Why a task produced no output.
///
/// ```
/// use readyloop::{JoinError, Loop};
/// let lp = Loop::new().unwrap();
/// let task = lp.handle().spawn(core::future::pending::<()>());
/// task.abort();
/// let err: JoinError = lp.block_on(task).unwrap_err();
/// assert!(err.is_cancelled());
/// ```
#[non_exhaustive]
pub enum JoinError {
    /// The task was aborted, or its loop was dropped before it finished.
    Cancelled,
    /// The task panicked (with `std`); the payload is what `panic!` was given.
    #[cfg(feature = "std")]
    Panicked(alloc::boxed::Box<dyn core::any::Any + Send + 'static>),
}

impl JoinError {
    #[cfg(feature = "std")]
    pub(crate) fn panicked(
        payload: alloc::boxed::Box<dyn core::any::Any + Send + 'static>,
    ) -> Self {
        JoinError::Panicked(payload)
    }

    /// True if the task was cancelled.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let task = lp.handle().spawn(core::future::pending::<()>());
    /// task.abort();
    /// assert!(lp.block_on(task).unwrap_err().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// True if the task panicked.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let task = lp.handle().spawn(async { panic!("boom") });
    /// let err = lp.block_on(task).unwrap_err();
    /// assert!(err.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        !self.is_cancelled()
    }

    /// The panic message, when the payload was a string.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let task = lp.handle().spawn(async { panic!("lost the {}", "thread") });
    /// let err = lp.block_on(task).unwrap_err();
    /// assert_eq!(err.panic_message(), Some("lost the thread"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Cancelled => None,
            #[cfg(feature = "std")]
            JoinError::Panicked(p) => p.downcast_ref::<&'static str>().copied().or_else(|| {
                p.downcast_ref::<alloc::string::String>()
                    .map(|s| s.as_str())
            }),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("Cancelled"),
            #[cfg(feature = "std")]
            JoinError::Panicked(_) => write!(f, "Panicked({:?})", self.panic_message()),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.panic_message() {
            _ if self.is_cancelled() => f.write_str("task was cancelled"),
            Some(m) => write!(f, "task panicked: {m}"),
            None => f.write_str("task panicked"),
        }
    }
}

impl core::error::Error for JoinError {}

impl From<JoinError> for crate::Error {
    fn from(_: JoinError) -> Self {
        crate::Error::cancelled()
    }
}
