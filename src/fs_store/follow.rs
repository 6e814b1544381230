//! Following a filesystem session: the byte offset of the last complete
//! line read, and inotify (through the `notify` crate) plus polling, so it
//! works where notifications are not delivered (network file systems).

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use super::{files, FsStore};
use crate::backend::FollowSource;
use crate::error::{Error, IoContext, Result};
use crate::event::{fast_seq, Event};

/// The log of one followed session.
pub(super) struct FsFollow {
    path: PathBuf,
    session_id: String,
    file: Option<(File, u64)>,
    offset: u64,
    notifications: Option<(notify::RecommendedWatcher, Receiver<()>)>,
}

impl FsStore {
    pub(super) fn follow_log(&self, session_id: &str) -> Result<FsFollow> {
        let dir = self.existing_session_dir(session_id)?;
        let (tx, rx) = mpsc::channel();
        let watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
            let _ = tx.send(());
        })
        .and_then(|mut w| {
            use notify::Watcher;
            w.watch(&dir, notify::RecursiveMode::NonRecursive)?;
            Ok(w)
        });
        let notifications = match watcher {
            Ok(w) => Some((w, rx)),
            Err(e) => {
                log::debug!("no file notifications for {}, polling: {e}", dir.display());
                None
            }
        };
        Ok(FsFollow {
            path: dir.join(files::EVENTS),
            session_id: session_id.to_string(),
            file: None,
            offset: 0,
            notifications,
        })
    }
}

impl FollowSource for FsFollow {
    fn read_new(&mut self, after_seq: u64) -> Result<Option<Vec<Event>>> {
        let stat = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::SessionNotFound(self.session_id.clone()))
            }
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let replaced = self
            .file
            .as_ref()
            .is_some_and(|(_, ino)| *ino != stat.ino())
            || stat.len() < self.offset;
        if replaced {
            self.file = None;
            self.offset = stat.len();
            return Ok(None);
        }
        if self.file.is_none() {
            let f = File::open(&self.path).at(&self.path)?;
            self.file = Some((f, stat.ino()));
        }
        let (file, _) = self.file.as_ref().expect("opened above");
        let mut out = Vec::new();
        if stat.len() <= self.offset {
            return Ok(Some(out));
        }
        file.lock_shared().at(&self.path)?;
        let len = file.metadata().at(&self.path)?.len();
        let mut buf = vec![0u8; (len - self.offset) as usize];
        let read = file.read_exact_at(&mut buf, self.offset);
        let _ = file.unlock();
        read.at(&self.path)?;
        // Only whole lines: a line without its newline is still being written.
        let Some(end) = memchr::memrchr(b'\n', &buf) else {
            return Ok(Some(out));
        };
        for line in buf[..end].split(|b| *b == b'\n') {
            if line.is_empty() || fast_seq(line).is_some_and(|s| s <= after_seq) {
                continue;
            }
            match serde_json::from_slice::<Event>(line) {
                Ok(ev) if ev.seq > after_seq => out.push(ev),
                Ok(_) => {}
                Err(e) => log::warn!("{}: skipping a corrupt line: {e}", self.path.display()),
            }
        }
        self.offset += end as u64 + 1;
        Ok(Some(out))
    }

    fn wait(&mut self, timeout: Duration) {
        match &self.notifications {
            Some((_, rx)) => {
                let _ = rx.recv_timeout(timeout);
                while rx.try_recv().is_ok() {}
            }
            None => std::thread::sleep(timeout),
        }
    }
}
