//! `agentsession.Store`: the session store. Every call that touches the disk
//! runs with the GIL released.

use std::borrow::Cow;
use std::path::PathBuf;
use std::str::FromStr;

use agentsession::store::{CreateOptions, NewEvent, StoreOptions};
use agentsession::ExportFormat;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use serde_json::Value;

use crate::acp::{UsageSummary, UsageTotals};
use crate::action_buttons::ActionButtonsStore;
use crate::convert::{count, from_py, quoted, seconds, time_from_py};
use crate::data::{events_to_py, Event, ImageInfo, Metadata, PruneResult};
use crate::errors::{warn, warn_skipped, Exc, Res};
use crate::insight;
use crate::lock::{Lock, LockCheck, LockInfo};
use crate::notebook;
use crate::queue::Queue;
use crate::record::record_of;

/// A store of sessions under a base directory (created if missing).
///
/// `Store()` opens the default location (`$AGENTSESSION_DIR`, else the
/// platform data dir); `Store.mitto()` opens the mitto client's store. A
/// store is thread-safe and a context manager (closed on exit).
#[pyclass(module = "agentsession", name = "Store", frozen)]
pub struct Store {
    pub inner: agentsession::Store,
}

fn options(batched: bool) -> StoreOptions {
    StoreOptions {
        batched,
        ..StoreOptions::default()
    }
}

/// An event to append from `(type, data)` or `(type, data, timestamp)`.
fn new_event(item: &Bound<'_, PyAny>, what: &str) -> PyResult<NewEvent> {
    let tuple = item.cast::<PyTuple>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be a (type, data) or (type, data, timestamp) tuple"
        ))
    })?;
    let (event_type, data, timestamp) = match tuple.len() {
        2 => (tuple.get_item(0)?, tuple.get_item(1)?, None),
        3 => (
            tuple.get_item(0)?,
            tuple.get_item(1)?,
            Some(tuple.get_item(2)?).filter(|t| !t.is_none()),
        ),
        n => {
            return Err(PyValueError::new_err(format!(
                "{what} has {n} items; expected (type, data) or (type, data, timestamp)"
            )))
        }
    };
    let event_type: String = event_type
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{what}: the type must be a str")))?;
    let mut ev = NewEvent::new(event_type, from_py(&data, &format!("{what}: data"))?);
    if let Some(t) = timestamp {
        ev = ev.at(time_from_py(&t, &format!("{what}: timestamp"))?);
    }
    Ok(ev)
}

#[pymethods]
impl Store {
    #[new]
    #[pyo3(signature = (path=None, batched=false))]
    fn new(py: Python<'_>, path: Option<PathBuf>, batched: bool) -> Res<Store> {
        let inner = py.detach(|| {
            let path = match path {
                Some(p) => p,
                None => agentsession::Store::default_dir()?,
            };
            agentsession::Store::open_with(path, options(batched))
        })?;
        Ok(Store { inner })
    }

    /// Opens the mitto client's store (`$MITTO_DIR/sessions`, else its data dir).
    #[staticmethod]
    #[pyo3(signature = (batched=false))]
    fn mitto(py: Python<'_>, batched: bool) -> Res<Store> {
        let inner = py.detach(|| {
            agentsession::Store::open_with(agentsession::Store::mitto_dir()?, options(batched))
        })?;
        Ok(Store { inner })
    }

    /// The default location: `$AGENTSESSION_DIR`, else `<data dir>/agentsession/sessions`.
    #[staticmethod]
    fn default_dir() -> Res<PathBuf> {
        Ok(agentsession::Store::default_dir()?)
    }

    /// The mitto client's store location.
    #[staticmethod]
    fn mitto_dir() -> Res<PathBuf> {
        Ok(agentsession::Store::mitto_dir()?)
    }

    /// The base directory of a filesystem store; `None` for a server store.
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.inner.base_dir().map(PathBuf::from)
    }

    /// Where the store lives: its directory, or its URL without the password.
    #[getter]
    fn location(&self) -> String {
        self.inner.location()
    }

    /// Whether metadata writes are deferred to `flush()` (or a short interval).
    #[getter]
    fn batched(&self) -> bool {
        self.inner.is_batched()
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The directory of a session (the id is checked; the directory may not exist).
    fn session_dir(&self, session_id: &str) -> Res<PathBuf> {
        Ok(self.inner.session_dir(session_id)?)
    }

    /// Creates a session; `session_id=None` generates `YYYYMMDD-HHMMSS-<8 hex>`.
    #[pyo3(signature = (session_id, acp_server, working_dir, *, acp_command=None, name=None, description=None))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        &self,
        py: Python<'_>,
        session_id: Option<String>,
        acp_server: String,
        working_dir: String,
        acp_command: Option<String>,
        name: Option<String>,
        description: Option<String>,
    ) -> Res<Metadata> {
        let opts = CreateOptions {
            session_id,
            acp_server,
            working_dir,
            acp_command,
            name,
            description,
        };
        let inner = py.detach(|| self.inner.create(&opts))?;
        Ok(Metadata { inner })
    }

    /// Appends one event; returns its seq. `data` is JSON data (a dict for
    /// the format's own types); `timestamp` an aware datetime or RFC 3339
    /// text (None: now).
    #[pyo3(signature = (session_id, r#type, data, timestamp=None))]
    fn append_event(
        &self,
        py: Python<'_>,
        session_id: &str,
        r#type: String,
        data: &Bound<'_, PyAny>,
        timestamp: Option<&Bound<'_, PyAny>>,
    ) -> Res<u64> {
        let mut ev = NewEvent::new(r#type, from_py(data, "data")?);
        if let Some(t) = timestamp.filter(|t| !t.is_none()) {
            ev = ev.at(time_from_py(t, "timestamp")?);
        }
        Ok(py.detach(|| self.inner.append_event(session_id, ev))?)
    }

    /// Appends `(type, data)` or `(type, data, timestamp)` tuples in one
    /// write and one metadata update; returns their seqs.
    fn append_events(
        &self,
        py: Python<'_>,
        session_id: &str,
        events: &Bound<'_, PyAny>,
    ) -> Res<Vec<u64>> {
        let mut batch = Vec::new();
        for (i, item) in events.try_iter()?.enumerate() {
            batch.push(new_event(&item?, &format!("events[{i}]"))?);
        }
        Ok(py.detach(|| self.inner.append_events(session_id, batch))?)
    }

    /// The session's metadata.
    fn metadata(&self, py: Python<'_>, session_id: &str) -> Res<Metadata> {
        let inner = py.detach(|| self.inner.metadata(session_id))?;
        Ok(Metadata { inner })
    }

    /// Changes metadata fields (`name=`, `description=`, `status=`, unknown
    /// fields...; None removes an optional field); returns the new metadata.
    #[pyo3(signature = (session_id, **fields))]
    fn update_metadata(
        &self,
        py: Python<'_>,
        session_id: &str,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> Res<Metadata> {
        let mut changes = serde_json::Map::new();
        if let Some(fields) = fields {
            for (k, v) in fields.iter() {
                let k: String = k.extract()?;
                let is_time = matches!(k.as_str(), "updated_at" | "last_user_message_at");
                let value = if is_time && !v.is_none() {
                    Value::String(time_from_py(&v, &k)?)
                } else {
                    from_py(&v, &k)?
                };
                changes.insert(k, value);
            }
        }
        let inner = py.detach(|| self.inner.update_metadata_fields(session_id, &changes))?;
        Ok(Metadata { inner })
    }

    /// Every event with `seq > after_seq`, oldest first. A corrupt line is
    /// skipped with a `CorruptDataWarning`, or raises `CorruptData` when `strict`.
    #[pyo3(signature = (session_id, after_seq=0, strict=false))]
    fn events(
        &self,
        py: Python<'_>,
        session_id: &str,
        after_seq: i128,
        strict: bool,
    ) -> Res<Vec<Py<Event>>> {
        let after_seq = count(after_seq, "after_seq")?;
        let read = py.detach(|| self.inner.events(session_id, after_seq))?;
        let events = if strict {
            read.strict()?
        } else {
            warn_skipped(py, &read.skipped)?;
            read.events
        };
        Ok(events_to_py(py, events)?)
    }

    /// The last `limit` events with `seq < before_seq` (0: no bound), oldest
    /// first, or newest first when `reverse`. Reads backwards from the end.
    #[pyo3(signature = (session_id, limit, before_seq=0, reverse=false, strict=false))]
    fn events_last(
        &self,
        py: Python<'_>,
        session_id: &str,
        limit: i128,
        before_seq: i128,
        reverse: bool,
        strict: bool,
    ) -> Res<Vec<Py<Event>>> {
        let limit = count(limit, "limit")? as usize;
        let before_seq = count(before_seq, "before_seq")?;
        let read = py.detach(|| {
            self.inner
                .events_last(session_id, limit, before_seq, reverse)
        })?;
        let events = if strict {
            read.strict()?
        } else {
            warn_skipped(py, &read.skipped)?;
            read.events
        };
        Ok(events_to_py(py, events)?)
    }

    /// Metadata of every session, sorted by id. A directory that cannot be
    /// read as a session is skipped with a `CorruptDataWarning`.
    fn list(&self, py: Python<'_>) -> Res<Vec<Metadata>> {
        let list = py.detach(|| self.inner.list())?;
        if !list.skipped.is_empty() {
            let class = Exc::CorruptDataWarning.class(py)?;
            for s in &list.skipped {
                warn(
                    py,
                    &class,
                    &format!("skipped session directory {:?}: {}", s.session_id, s.error),
                )?;
            }
        }
        Ok(list
            .sessions
            .into_iter()
            .map(|inner| Metadata { inner })
            .collect())
    }

    /// Deletes a session and all its files.
    fn delete(&self, py: Python<'_>, session_id: &str) -> Res<()> {
        Ok(py.detach(|| self.inner.delete(session_id))?)
    }

    /// Whether the session exists (an invalid id raises InvalidArgument).
    fn exists(&self, py: Python<'_>, session_id: &str) -> Res<bool> {
        Ok(py.detach(|| self.inner.exists(session_id))?)
    }

    /// `id in store`: False for anything that is not the id of an existing session.
    fn __contains__(&self, py: Python<'_>, session_id: &Bound<'_, PyAny>) -> Res<bool> {
        let Ok(id) = session_id.cast::<PyString>() else {
            return Ok(false);
        };
        let id = id.to_cow()?;
        let id: &str = &id;
        if agentsession::ids::session(id).is_err() {
            return Ok(false);
        }
        Ok(py.detach(|| self.inner.exists(id))?)
    }

    /// Writes every deferred metadata update (batched mode).
    fn flush(&self, py: Python<'_>) -> Res<()> {
        Ok(py.detach(|| self.inner.flush())?)
    }

    /// Flushes and closes; every later call raises `StoreClosed`. Closing twice is fine.
    fn close(&self, py: Python<'_>) -> Res<()> {
        Ok(py.detach(|| self.inner.close())?)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> Res<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// Saves an image for a session; `mime_type` may be "" (the bytes decide).
    #[pyo3(signature = (session_id, data, mime_type, name=None))]
    fn save_image(
        &self,
        py: Python<'_>,
        session_id: &str,
        data: Cow<'_, [u8]>,
        mime_type: &str,
        name: Option<&str>,
    ) -> Res<ImageInfo> {
        let info = py.detach(|| self.inner.save_image(session_id, &data, mime_type, name))?;
        Ok(ImageInfo::new(&info))
    }

    /// The bytes of a stored image.
    fn image_data<'py>(
        &self,
        py: Python<'py>,
        session_id: &str,
        image_id: &str,
    ) -> Res<Bound<'py, PyBytes>> {
        let data = py.detach(|| self.inner.image_data(session_id, image_id))?;
        Ok(PyBytes::new(py, &data))
    }

    /// The path of a stored image of a filesystem store (a server store has
    /// none: `InvalidArgument`; use `image_data`).
    fn image_path(&self, py: Python<'_>, session_id: &str, image_id: &str) -> Res<PathBuf> {
        Ok(py.detach(|| self.inner.image_path(session_id, image_id))?)
    }

    /// The session's images, sorted by id.
    fn list_images(&self, py: Python<'_>, session_id: &str) -> Res<Vec<ImageInfo>> {
        let images = py.detach(|| self.inner.list_images(session_id))?;
        Ok(images.into_iter().map(|i| ImageInfo::new(&i)).collect())
    }

    /// Deletes a stored image.
    fn delete_image(&self, py: Python<'_>, session_id: &str, image_id: &str) -> Res<()> {
        Ok(py.detach(|| self.inner.delete_image(session_id, image_id))?)
    }

    /// Removes images older than `max_age_s` seconds from sessions not
    /// updated within `preserve_recent_s`; returns how many were removed.
    fn cleanup_old_images(
        &self,
        py: Python<'_>,
        max_age_s: f64,
        preserve_recent_s: f64,
    ) -> Res<usize> {
        let max_age = seconds(max_age_s, "max_age_s")?;
        let preserve = seconds(preserve_recent_s, "preserve_recent_s")?;
        Ok(py.detach(|| self.inner.cleanup_old_images(max_age, preserve))?)
    }

    /// Drops the oldest events (renumbering from 1) and unreferenced images
    /// until the session is within the limits (0: no limit); None when
    /// nothing was removed.
    #[pyo3(signature = (session_id, max_messages=0, max_size_bytes=0))]
    fn prune_if_needed(
        &self,
        py: Python<'_>,
        session_id: &str,
        max_messages: i128,
        max_size_bytes: i128,
    ) -> Res<Option<PruneResult>> {
        let limits = agentsession::PruneLimits {
            max_messages: count(max_messages, "max_messages")? as usize,
            max_size_bytes: count(max_size_bytes, "max_size_bytes")?,
        };
        let r = py.detach(|| self.inner.prune_if_needed(session_id, limits))?;
        Ok(r.map(|r| PruneResult::new(&r)))
    }

    /// The message queue of a session.
    fn queue(&self, session_id: &str) -> Res<Queue> {
        Ok(Queue {
            inner: self.inner.queue(session_id)?,
        })
    }

    /// The follow-up suggestions of a session.
    fn action_buttons(&self, session_id: &str) -> Res<ActionButtonsStore> {
        Ok(ActionButtonsStore {
            inner: self.inner.action_buttons(session_id)?,
        })
    }

    /// Takes the session's lock unless a live holder has it (a dead or stale
    /// holder's lock is taken over); `SessionLocked` otherwise.
    fn try_acquire_lock(&self, py: Python<'_>, session_id: &str, client_type: &str) -> Res<Lock> {
        let inner = py.detach(|| self.inner.try_acquire_lock(session_id, client_type))?;
        Ok(Lock { inner })
    }

    /// Takes the lock also from an idle live holder; `SessionProcessing` or
    /// `SessionWaitingPermission` while the holder is busy.
    fn force_acquire_lock(&self, py: Python<'_>, session_id: &str, client_type: &str) -> Res<Lock> {
        let inner = py.detach(|| self.inner.force_acquire_lock(session_id, client_type))?;
        Ok(Lock { inner })
    }

    /// Takes the lock whatever the holder is doing (ask the user first).
    fn force_interrupt_lock(
        &self,
        py: Python<'_>,
        session_id: &str,
        client_type: &str,
    ) -> Res<Lock> {
        let inner = py.detach(|| self.inner.force_interrupt_lock(session_id, client_type))?;
        Ok(Lock { inner })
    }

    /// The session's `.lock` as written, even if stale; None when there is none.
    fn lock_info(&self, py: Python<'_>, session_id: &str) -> Res<Option<LockInfo>> {
        let info = py.detach(|| self.inner.lock_info(session_id))?;
        Ok(info.map(|i| record_of(&i)))
    }

    /// Whether a live holder (not dead, not stale) has the session.
    fn is_locked(&self, py: Python<'_>, session_id: &str) -> Res<bool> {
        Ok(py.detach(|| self.inner.is_locked(session_id))?)
    }

    /// Where the session's lock stands, what each acquisition mode would do,
    /// and a sentence saying so.
    fn check_lock_status(&self, py: Python<'_>, session_id: &str) -> Res<LockCheck> {
        let check = py.detach(|| self.inner.check_lock_status(session_id))?;
        Ok(LockCheck::new(&check))
    }

    /// Searches the text of every session; an iterator of `SearchHit`s,
    /// newest session first. Literal, case-insensitive text by default;
    /// `regex=True` takes a pattern. `types` / `status` filter by event type
    /// and session status (a str or a list), `since` / `until` by time;
    /// `progress(done, total)` is called after each session.
    #[pyo3(signature = (text, *, regex=false, types=None, status=None, since=None, until=None, limit=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        py: Python<'_>,
        text: String,
        regex: bool,
        types: Option<&Bound<'_, PyAny>>,
        status: Option<&Bound<'_, PyAny>>,
        since: Option<&Bound<'_, PyAny>>,
        until: Option<&Bound<'_, PyAny>>,
        limit: Option<i128>,
        progress: Option<Bound<'_, PyAny>>,
    ) -> Res<insight::Search> {
        insight::search(
            py,
            &self.inner,
            text,
            regex,
            types,
            status,
            since,
            until,
            limit,
            progress,
        )
    }

    /// One session as a Markdown document (`"md"`) or a self-contained HTML page (`"html"`).
    #[pyo3(signature = (session_id, format="md"))]
    fn export(&self, py: Python<'_>, session_id: &str, format: &str) -> Res<String> {
        let format = ExportFormat::from_str(format)?;
        Ok(py.detach(|| self.inner.export(session_id, format))?)
    }

    /// Follows a session: an iterator of its events with `seq > after_seq`,
    /// then of each new one as it is appended, until `session_end`, `stop()`
    /// or `timeout` seconds without a new event (None: no limit).
    #[pyo3(signature = (session_id, after_seq=0, timeout=None))]
    fn follow(
        &self,
        py: Python<'_>,
        session_id: &str,
        after_seq: i128,
        timeout: Option<f64>,
    ) -> Res<insight::Follow> {
        insight::follow(py, &self.inner, session_id, after_seq, timeout)
    }

    /// The usage the agent reported in a session (tokens in context, cost).
    fn usage(&self, py: Python<'_>, session_id: &str) -> Res<UsageTotals> {
        let usage = py.detach(|| self.inner.usage(session_id))?;
        Ok(record_of::<UsageTotals>(&usage))
    }

    /// The usage of all sessions: in total, per day, per agent and per session.
    fn usage_summary(&self, py: Python<'_>) -> Res<UsageSummary> {
        let summary = py.detach(|| self.inner.usage_summary())?;
        Ok(record_of::<UsageSummary>(&summary))
    }

    /// One row per session (pandas is the optional extra `agentsession[pandas]`).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        notebook::call(slf.py(), "store_frame", slf.as_any())
    }

    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        notebook::call(slf.py(), "store_html", slf.as_any())?.extract()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let path = quoted(py, &self.inner.location())?;
        let batched = if self.inner.is_batched() {
            ", batched=True"
        } else {
            ""
        };
        let closed = if self.inner.is_closed() {
            " (closed)"
        } else {
            ""
        };
        Ok(format!("Store({path}{batched}){closed}"))
    }
}
