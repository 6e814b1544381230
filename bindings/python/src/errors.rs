//! The exception classes of `agentsession` and the one mapping from the
//! core's error to them.
//!
//! Every class derives from `agentsession.Error`. A few also derive from the
//! built-in class a Python user would reach for: `InvalidArgument` is a
//! `ValueError`, `SessionNotFound` and `MessageNotFound` are `LookupError`s.
//! I/O failures are not `agentsession.Error`s: they raise the `OSError`
//! subclass of their errno (`FileNotFoundError`, `PermissionError`, ...) with
//! the path as `filename`.

use std::ffi::CString;

use agentsession::eventlog::CorruptLine;
use agentsession::Error as CoreError;
use pyo3::exceptions::{PyException, PyLookupError, PyOSError, PyUserWarning, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// The exception and warning classes the module defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exc {
    Error,
    SessionNotFound,
    SessionLocked,
    SessionProcessing,
    SessionWaitingPermission,
    LockNotHeld,
    StoreClosed,
    QueueEmpty,
    QueueFull,
    MessageNotFound,
    ImageError,
    InvalidArgument,
    CorruptData,
    AuxiliaryError,
    CorruptDataWarning,
}

const COUNT: usize = 15;

/// The class objects, created on first use.
static CLASSES: [PyOnceLock<Py<PyType>>; COUNT] = [const { PyOnceLock::new() }; COUNT];

impl Exc {
    /// Every class, base first.
    pub const ALL: [Exc; COUNT] = [
        Exc::Error,
        Exc::SessionNotFound,
        Exc::SessionLocked,
        Exc::SessionProcessing,
        Exc::SessionWaitingPermission,
        Exc::LockNotHeld,
        Exc::StoreClosed,
        Exc::QueueEmpty,
        Exc::QueueFull,
        Exc::MessageNotFound,
        Exc::ImageError,
        Exc::InvalidArgument,
        Exc::CorruptData,
        Exc::AuxiliaryError,
        Exc::CorruptDataWarning,
    ];

    /// The class name in the `agentsession` module.
    pub fn name(self) -> &'static str {
        match self {
            Exc::Error => "Error",
            Exc::SessionNotFound => "SessionNotFound",
            Exc::SessionLocked => "SessionLocked",
            Exc::SessionProcessing => "SessionProcessing",
            Exc::SessionWaitingPermission => "SessionWaitingPermission",
            Exc::LockNotHeld => "LockNotHeld",
            Exc::StoreClosed => "StoreClosed",
            Exc::QueueEmpty => "QueueEmpty",
            Exc::QueueFull => "QueueFull",
            Exc::MessageNotFound => "MessageNotFound",
            Exc::ImageError => "ImageError",
            Exc::InvalidArgument => "InvalidArgument",
            Exc::CorruptData => "CorruptData",
            Exc::AuxiliaryError => "AuxiliaryError",
            Exc::CorruptDataWarning => "CorruptDataWarning",
        }
    }

    fn doc(self) -> &'static str {
        match self {
            Exc::Error => "Base class of every agentsession error.",
            Exc::SessionNotFound => {
                "No session with this id exists in the store (also a LookupError). Attribute: session_id."
            }
            Exc::SessionLocked => {
                "Another live process holds the session's lock. Attribute: session_id."
            }
            Exc::SessionProcessing => {
                "The lock holder is processing a prompt; only an interrupt may take the lock. Attribute: session_id."
            }
            Exc::SessionWaitingPermission => {
                "The lock holder waits for a permission answer; only an interrupt may take the lock. Attribute: session_id."
            }
            Exc::LockNotHeld => {
                "This lock handle no longer owns the session lock. Attribute: session_id."
            }
            Exc::StoreClosed => "The store was closed.",
            Exc::QueueEmpty => "pop() on an empty queue.",
            Exc::QueueFull => "add() on a queue at its maximum size. Attribute: max_size.",
            Exc::MessageNotFound => {
                "No queued message with this id (also a LookupError). Attribute: message_id."
            }
            Exc::ImageError => {
                "An image was not found, is too large, has an unsupported format, or a session limit was reached. \
                 Attribute: kind, one of 'not_found', 'too_large', 'unsupported_format', \
                 'session_image_limit', 'storage_limit'."
            }
            Exc::InvalidArgument => {
                "A bad argument: id, JSON, direction, value out of range (also a ValueError)."
            }
            Exc::CorruptData => {
                "A file holds data that cannot be parsed. Attributes: path, line (None when unknown)."
            }
            Exc::AuxiliaryError => {
                "The auxiliary ACP session failed. Attribute: kind, one of 'not_initialized', \
                 'start_failed', 'protocol', 'timeout', 'exited'."
            }
            Exc::CorruptDataWarning => {
                "A line of an event log was skipped because it could not be parsed; the message names the file and line."
            }
        }
    }

    fn bases<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let base = || Exc::Error.class(py);
        match self {
            Exc::Error => PyTuple::new(py, [py.get_type::<PyException>()]),
            Exc::InvalidArgument => PyTuple::new(py, [base()?, py.get_type::<PyValueError>()]),
            Exc::SessionNotFound | Exc::MessageNotFound => {
                PyTuple::new(py, [base()?, py.get_type::<PyLookupError>()])
            }
            Exc::CorruptDataWarning => PyTuple::new(py, [py.get_type::<PyUserWarning>()]),
            _ => PyTuple::new(py, [base()?]),
        }
    }

    /// Class-level values of the attributes every instance gets.
    fn defaults(self, ns: &Bound<'_, PyDict>) -> PyResult<()> {
        match self {
            Exc::SessionNotFound
            | Exc::SessionLocked
            | Exc::SessionProcessing
            | Exc::SessionWaitingPermission
            | Exc::LockNotHeld => ns.set_item("session_id", ""),
            Exc::QueueFull => ns.set_item("max_size", 0),
            Exc::MessageNotFound => ns.set_item("message_id", ""),
            Exc::ImageError | Exc::AuxiliaryError => ns.set_item("kind", ""),
            Exc::CorruptData => {
                ns.set_item("path", "")?;
                ns.set_item("line", ns.py().None())
            }
            _ => Ok(()),
        }
    }

    /// The class object.
    pub fn class(self, py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
        let cell = &CLASSES[self as usize];
        let class = cell.get_or_try_init(py, || -> PyResult<Py<PyType>> {
            let ns = PyDict::new(py);
            ns.set_item("__module__", "agentsession")?;
            ns.set_item("__doc__", self.doc())?;
            self.defaults(&ns)?;
            let class = py
                .get_type::<PyType>()
                .call1((self.name(), self.bases(py)?, ns))?;
            Ok(class.cast_into::<PyType>()?.unbind())
        })?;
        Ok(class.bind(py).clone())
    }

    /// An exception of this class with `message` and attributes.
    fn raise(
        self,
        py: Python<'_>,
        message: &str,
        attrs: &[(&str, Bound<'_, PyAny>)],
    ) -> PyResult<PyErr> {
        let value = self.class(py)?.call1((message,))?;
        for (name, v) in attrs {
            value.setattr(*name, v)?;
        }
        Ok(PyErr::from_value(value))
    }
}

/// Adds every class to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for exc in Exc::ALL {
        m.add(exc.name(), exc.class(m.py())?)?;
    }
    Ok(())
}

/// A failure of a call: a core error (mapped to its class when raised) or a
/// Python exception already built.
#[derive(Debug)]
pub enum Failure {
    Core(CoreError),
    Py(PyErr),
}

/// The result type of the module's functions.
pub type Res<T> = Result<T, Failure>;

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Core(e)
    }
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Self {
        Failure::Py(e)
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        match f {
            Failure::Py(e) => e,
            Failure::Core(e) => Python::attach(|py| to_python(py, e).unwrap_or_else(|err| err)),
        }
    }
}

/// Maps every kind of core error to its exception.
fn to_python(py: Python<'_>, e: CoreError) -> PyResult<PyErr> {
    let message = e.to_string();
    let s = |v: &str| v.into_pyobject(py).map(|o| o.into_any());
    let image = |kind: &str| -> PyResult<PyErr> {
        Exc::ImageError.raise(py, &message, &[("kind", s(kind)?)])
    };
    match &e {
        CoreError::SessionNotFound(id) => {
            Exc::SessionNotFound.raise(py, &message, &[("session_id", s(id)?)])
        }
        CoreError::SessionLocked { session_id, .. } => {
            Exc::SessionLocked.raise(py, &message, &[("session_id", s(session_id)?)])
        }
        CoreError::SessionProcessing { session_id, .. } => {
            Exc::SessionProcessing.raise(py, &message, &[("session_id", s(session_id)?)])
        }
        CoreError::WaitingForPermission { session_id, .. } => {
            Exc::SessionWaitingPermission.raise(py, &message, &[("session_id", s(session_id)?)])
        }
        CoreError::LockNotHeld(id) => {
            Exc::LockNotHeld.raise(py, &message, &[("session_id", s(id)?)])
        }
        CoreError::StoreClosed => Exc::StoreClosed.raise(py, &message, &[]),
        CoreError::QueueEmpty => Exc::QueueEmpty.raise(py, &message, &[]),
        CoreError::QueueFull(n) => Exc::QueueFull.raise(
            py,
            &message,
            &[("max_size", n.into_pyobject(py)?.into_any())],
        ),
        CoreError::MessageNotFound(id) => {
            Exc::MessageNotFound.raise(py, &message, &[("message_id", s(id)?)])
        }
        CoreError::ImageNotFound(_) => image("not_found"),
        CoreError::ImageTooLarge { .. } => image("too_large"),
        CoreError::UnsupportedImageFormat(_) => image("unsupported_format"),
        CoreError::SessionImageLimit(_) => image("session_image_limit"),
        CoreError::StorageLimit { .. } => image("storage_limit"),
        CoreError::InvalidArgument(_) => Exc::InvalidArgument.raise(py, &message, &[]),
        CoreError::CorruptData { path, line, .. } => Exc::CorruptData.raise(
            py,
            &message,
            &[
                ("path", s(&path.to_string_lossy())?),
                ("line", line.into_pyobject(py)?.into_any()),
            ],
        ),
        CoreError::Io { path, source } => os_error(py, path, source),
        CoreError::Auxiliary { kind, .. } => {
            Exc::AuxiliaryError.raise(py, &message, &[("kind", s(kind.as_str())?)])
        }
        _ => Exc::Error.raise(py, &message, &[]),
    }
}

/// `OSError(errno, strerror, path)`: Python picks the subclass from the errno.
fn os_error(py: Python<'_>, path: &std::path::Path, e: &std::io::Error) -> PyResult<PyErr> {
    let (errno, text) = match e.raw_os_error() {
        Some(code) => {
            let text: String = py
                .import("os")?
                .getattr("strerror")?
                .call1((code,))?
                .extract()?;
            (code, text)
        }
        None => (errno_of_kind(e.kind()), e.to_string()),
    };
    let value = py
        .get_type::<PyOSError>()
        .call1((errno, text, path.to_string_lossy()))?;
    Ok(PyErr::from_value(value))
}

/// The errno matching an error kind, for I/O errors the library built itself.
fn errno_of_kind(kind: std::io::ErrorKind) -> i32 {
    use std::io::ErrorKind as K;
    match kind {
        K::NotFound => libc::ENOENT,
        K::PermissionDenied => libc::EACCES,
        K::AlreadyExists => libc::EEXIST,
        K::NotADirectory => libc::ENOTDIR,
        K::IsADirectory => libc::EISDIR,
        K::DirectoryNotEmpty => libc::ENOTEMPTY,
        K::InvalidInput => libc::EINVAL,
        K::WouldBlock => libc::EAGAIN,
        K::Interrupted => libc::EINTR,
        K::TimedOut => libc::ETIMEDOUT,
        K::StorageFull => libc::ENOSPC,
        K::ReadOnlyFilesystem => libc::EROFS,
        _ => libc::EIO,
    }
}

/// Emits one `CorruptDataWarning` per skipped line (an error when warnings
/// are turned into errors).
pub fn warn_skipped(py: Python<'_>, skipped: &[CorruptLine]) -> PyResult<()> {
    if skipped.is_empty() {
        return Ok(());
    }
    let class = Exc::CorruptDataWarning.class(py)?;
    for bad in skipped {
        warn(py, &class, &format!("skipped a corrupt line: {bad}"))?;
    }
    Ok(())
}

/// Emits a warning of `class` attributed to the calling Python code.
pub fn warn(py: Python<'_>, class: &Bound<'_, PyType>, message: &str) -> PyResult<()> {
    let text = CString::new(message.replace('\0', "\u{FFFD}")).expect("NULs were replaced");
    PyErr::warn(py, class.as_any(), &text, 1)
}
