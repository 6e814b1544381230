//! The one error type of the library; each face maps it once.

use std::path::{Path, PathBuf};

/// Why an auxiliary-session request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuxiliaryErrorKind {
    /// `initialize` was never called.
    NotInitialized,
    /// The agent process could not be started (command not found, not executable…).
    StartFailed,
    /// The agent broke the protocol or answered a request with an error.
    Protocol,
    /// The agent did not answer within the request timeout.
    Timeout,
    /// The agent process exited.
    Exited,
}

impl AuxiliaryErrorKind {
    /// Stable lower-case name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotInitialized => "not_initialized",
            Self::StartFailed => "start_failed",
            Self::Protocol => "protocol",
            Self::Timeout => "timeout",
            Self::Exited => "exited",
        }
    }
}

/// Every failure of the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No session with this id exists in the store.
    #[error("session not found: {0}")]
    SessionNotFound(String),
    /// Another live process holds the session's lock.
    #[error("session {session_id} is locked: {detail}")]
    SessionLocked { session_id: String, detail: String },
    /// The lock holder is processing a prompt; only an interrupt may take it.
    #[error("session {session_id} is processing: {detail}")]
    SessionProcessing { session_id: String, detail: String },
    /// The lock holder waits for a permission answer; only an interrupt may take it.
    #[error("session {session_id} is waiting for permission: {detail}")]
    WaitingForPermission { session_id: String, detail: String },
    /// This lock handle no longer owns the session lock.
    #[error("lock not held for session {0}")]
    LockNotHeld(String),
    /// The store was closed.
    #[error("store is closed")]
    StoreClosed,
    /// `pop` on an empty queue.
    #[error("queue is empty")]
    QueueEmpty,
    /// `add` on a queue that has reached its maximum size.
    #[error("queue is full ({0} messages)")]
    QueueFull(usize),
    /// No queued message with this id.
    #[error("message not found: {0}")]
    MessageNotFound(String),
    /// No image with this id in the session.
    #[error("image not found: {0}")]
    ImageNotFound(String),
    /// The image exceeds the per-image size limit.
    #[error("image too large: {size} bytes (limit {limit})")]
    ImageTooLarge { size: u64, limit: u64 },
    /// The image is not png, jpeg, gif or webp.
    #[error("unsupported image format: {0}")]
    UnsupportedImageFormat(String),
    /// The session already holds the maximum number of images.
    #[error("session image limit reached ({0} images)")]
    SessionImageLimit(usize),
    /// The session's images would exceed the total storage limit.
    #[error("session image storage limit reached ({limit} bytes)")]
    StorageLimit { limit: u64 },
    /// A bad argument: id, JSON, direction, UTF-8, null pointer…
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A file holds data that cannot be parsed.
    #[error("corrupt data in {}{}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    CorruptData {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// An operating-system error on a path.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The auxiliary ACP session failed.
    #[error("auxiliary session error ({}): {message}", kind.as_str())]
    Auxiliary {
        kind: AuxiliaryErrorKind,
        message: String,
    },
}

/// Result with the library's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// Invalid-argument error with a message.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// Corrupt data in `path`, optionally at a 1-based line.
    pub fn corrupt(path: impl AsRef<Path>, line: Option<usize>, msg: impl Into<String>) -> Self {
        Error::CorruptData {
            path: path.as_ref().to_path_buf(),
            line,
            message: msg.into(),
        }
    }

    /// Auxiliary-session error of a kind.
    pub fn auxiliary(kind: AuxiliaryErrorKind, msg: impl Into<String>) -> Self {
        Error::Auxiliary {
            kind,
            message: msg.into(),
        }
    }
}

/// Adds the path to an `std::io::Result`.
pub(crate) trait IoContext<T> {
    /// Maps the error to [`Error::Io`] on `path`.
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
