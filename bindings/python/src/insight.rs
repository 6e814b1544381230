//! Search across sessions and following a session live: the iterators
//! `store.search(...)` and `store.follow(...)` return.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use agentsession::{FollowOptions, FollowStopper, SearchQuery};
use parking_lot::Mutex;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::convert::{count, seconds, timestamp_from_py};
use crate::data::{Event, SearchHit};
use crate::errors::Res;

/// How often a thread waiting for a followed session's next event checks
/// for Ctrl-C (KeyboardInterrupt).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

fn busy(what: &str) -> PyErr {
    PyRuntimeError::new_err(format!(
        "this {what} is already being iterated by another thread"
    ))
}

/// One string or an iterable of strings; `what` names the argument in errors.
fn strings(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(vec![s.to_cow()?.into_owned()]);
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        out.push(item?.extract::<String>().map_err(|_| {
            PyTypeError::new_err(format!("{what} must be a str or an iterable of str"))
        })?);
    }
    Ok(out)
}

/// Streams search hits, newest session first (`store.search(...)`).
#[pyclass(module = "agentsession", name = "Search", frozen)]
pub struct Search {
    inner: Mutex<agentsession::Search>,
    session_count: usize,
    /// The first exception raised by the progress callback, raised by `__next__`.
    callback_error: Arc<Mutex<Option<PyErr>>>,
}

/// `store.search(...)`.
#[allow(clippy::too_many_arguments)]
pub fn search(
    py: Python<'_>,
    store: &agentsession::Store,
    text: String,
    regex: bool,
    types: Option<&Bound<'_, PyAny>>,
    status: Option<&Bound<'_, PyAny>>,
    since: Option<&Bound<'_, PyAny>>,
    until: Option<&Bound<'_, PyAny>>,
    limit: Option<i128>,
    progress: Option<Bound<'_, PyAny>>,
) -> Res<Search> {
    let time = |t: Option<&Bound<'_, PyAny>>, what: &str| {
        t.filter(|t| !t.is_none())
            .map(|t| timestamp_from_py(t, what))
            .transpose()
    };
    let query = SearchQuery {
        text,
        regex,
        types: strings(types, "types")?,
        statuses: strings(status, "status")?,
        since: time(since, "since")?,
        until: time(until, "until")?,
        limit: limit
            .map(|l| count(l, "limit"))
            .transpose()?
            .map(|l| l as usize),
    };
    let progress = progress.filter(|p| !p.is_none());
    if let Some(p) = &progress {
        if !p.is_callable() {
            return Err(PyTypeError::new_err("progress must be callable(done, total)").into());
        }
    }
    let mut search = py.detach(|| store.search(query))?;
    let callback_error = Arc::new(Mutex::new(None));
    if let Some(p) = progress {
        let p = p.unbind();
        let slot = callback_error.clone();
        search = search.with_progress(move |done, total| {
            Python::attach(|py| {
                if let Err(e) = p.call1(py, (done, total)) {
                    slot.lock().get_or_insert(e);
                }
            })
        });
    }
    Ok(Search {
        session_count: search.session_count(),
        inner: Mutex::new(search),
        callback_error,
    })
}

#[pymethods]
impl Search {
    /// Number of sessions this search scans.
    #[getter]
    fn session_count(&self) -> usize {
        self.session_count
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> Res<Option<SearchHit>> {
        let Some(mut search) = self.inner.try_lock() else {
            return Err(busy("search").into());
        };
        let search = &mut *search;
        let next = py.detach(|| search.next());
        if let Some(e) = self.callback_error.lock().take() {
            return Err(e.into());
        }
        match next {
            None => Ok(None),
            Some(hit) => Ok(Some(SearchHit::new(hit?))),
        }
    }
}

/// Yields a session's events as they are appended (`store.follow(...)`),
/// until `session_end`, `stop()` or the idle timeout.
#[pyclass(module = "agentsession", name = "Follow", frozen)]
pub struct Follow {
    inner: Mutex<agentsession::Follow>,
    stopper: FollowStopper,
}

/// `store.follow(...)`.
pub fn follow(
    py: Python<'_>,
    store: &agentsession::Store,
    session_id: &str,
    after_seq: i128,
    timeout: Option<f64>,
) -> Res<Follow> {
    let options = FollowOptions {
        after_seq: count(after_seq, "after_seq")?,
        idle_timeout: timeout.map(|t| seconds(t, "timeout")).transpose()?,
        ..FollowOptions::default()
    };
    let follow = py.detach(|| store.follow(session_id, options))?;
    Ok(Follow {
        stopper: follow.stopper(),
        inner: Mutex::new(follow),
    })
}

#[pymethods]
impl Follow {
    /// Ends the iteration: a waiting `next()` returns within a poll interval.
    /// May be called from any thread.
    fn stop(&self) {
        self.stopper.stop();
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next event, waiting for it with the GIL released. The wait runs
    /// on a helper thread so that this thread can raise KeyboardInterrupt.
    fn __next__(&self, py: Python<'_>) -> Res<Option<Event>> {
        let Some(mut follow) = self.inner.try_lock() else {
            return Err(busy("follow").into());
        };
        let follow = &mut *follow;
        let next = std::thread::scope(|scope| -> PyResult<_> {
            let (tx, rx) = mpsc::channel();
            scope.spawn(move || {
                let _ = tx.send(follow.next());
            });
            let rx = Mutex::new(rx);
            loop {
                match py.detach(|| rx.lock().recv_timeout(SIGNAL_CHECK)) {
                    Ok(next) => return Ok(next),
                    Err(RecvTimeoutError::Timeout) => {
                        if let Err(interrupted) = py.check_signals() {
                            self.stopper.stop();
                            py.detach(|| rx.lock().recv()).ok();
                            return Err(interrupted);
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => return Ok(None),
                }
            }
        })?;
        match next {
            None => Ok(None),
            Some(ev) => Ok(Some(Event::new(ev?))),
        }
    }
}
