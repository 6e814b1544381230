//! `agentsession.Queue`: the messages typed while the agent is busy.

use std::path::PathBuf;
use std::str::FromStr;

use agentsession::queue::MoveDirection;
use pyo3::prelude::*;

use crate::convert::{count, quoted};
use crate::data::QueuedMessage;
use crate::errors::Res;

/// The message queue of one session (`store.queue(id)`). Every handle of the
/// same session, in any thread or process, sees and changes the same queue.
#[pyclass(module = "agentsession", name = "Queue", frozen)]
pub struct Queue {
    pub inner: agentsession::Queue,
}

fn messages(list: Vec<agentsession::QueuedMessage>) -> Vec<QueuedMessage> {
    list.into_iter()
        .map(|inner| QueuedMessage { inner })
        .collect()
}

#[pymethods]
impl Queue {
    /// The session this queue belongs to.
    #[getter]
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }

    /// Path of `queue.json`.
    #[getter]
    fn path(&self) -> PathBuf {
        self.inner.path().to_path_buf()
    }

    /// Appends a message and returns it as stored; `max_size` (0: no limit)
    /// is the most messages the queue may hold, past which `QueueFull` is raised.
    #[pyo3(signature = (message, image_ids=None, client_id=None, max_size=0))]
    fn add(
        &self,
        py: Python<'_>,
        message: &str,
        image_ids: Option<Vec<String>>,
        client_id: Option<&str>,
        max_size: i128,
    ) -> Res<QueuedMessage> {
        let max_size = count(max_size, "max_size")? as usize;
        let image_ids = image_ids.unwrap_or_default();
        let inner = py.detach(|| self.inner.add(message, &image_ids, client_id, max_size))?;
        Ok(QueuedMessage { inner })
    }

    /// Every queued message, front first.
    fn list(&self, py: Python<'_>) -> Res<Vec<QueuedMessage>> {
        Ok(messages(py.detach(|| self.inner.list())?))
    }

    /// One message (`MessageNotFound` if it is not queued).
    fn get(&self, py: Python<'_>, message_id: &str) -> Res<QueuedMessage> {
        let inner = py.detach(|| self.inner.get(message_id))?;
        Ok(QueuedMessage { inner })
    }

    /// Removes one message and returns it (`MessageNotFound`).
    fn remove(&self, py: Python<'_>, message_id: &str) -> Res<QueuedMessage> {
        let inner = py.detach(|| self.inner.remove(message_id))?;
        Ok(QueuedMessage { inner })
    }

    /// Removes and returns the front message (`QueueEmpty` when there is none).
    fn pop(&self, py: Python<'_>) -> Res<QueuedMessage> {
        let inner = py.detach(|| self.inner.pop())?;
        Ok(QueuedMessage { inner })
    }

    /// Removes every message.
    fn clear(&self, py: Python<'_>) -> Res<()> {
        Ok(py.detach(|| self.inner.clear())?)
    }

    /// Sets a message's title ("" removes it) and returns the message.
    fn update_title(&self, py: Python<'_>, message_id: &str, title: &str) -> Res<QueuedMessage> {
        let inner = py.detach(|| self.inner.update_title(message_id, title))?;
        Ok(QueuedMessage { inner })
    }

    /// Swaps a message with its neighbour, `"up"` (sent sooner) or `"down"`;
    /// returns the new order.
    fn r#move(&self, py: Python<'_>, message_id: &str, direction: &str) -> Res<Vec<QueuedMessage>> {
        let direction = MoveDirection::from_str(direction)?;
        Ok(messages(py.detach(|| {
            self.inner.move_message(message_id, direction)
        })?))
    }

    /// Removes `queue.json` (also the way to discard a file that does not parse).
    fn delete(&self, py: Python<'_>) -> Res<()> {
        Ok(py.detach(|| self.inner.delete())?)
    }

    fn __len__(&self, py: Python<'_>) -> Res<usize> {
        Ok(py.detach(|| self.inner.len())?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Queue(session_id={})",
            quoted(py, self.inner.session_id())?
        ))
    }
}
