//! The small JSON documents of a filesystem session (`queue.json`,
//! `action_buttons.json`): replaced whole by a durable temp file + rename.
//!
//! A change takes two locks, in this order: a mutex shared by every handle
//! of the file in the process (threads wait on it cheaply), then an advisory
//! `flock` on a hidden side file next to it (`.queue.lock`,
//! `.action_buttons.lock`) for other processes. Readers take no lock: the
//! file is only ever replaced whole. The side file stays as long as the
//! session does: removing a lock file that others may hold open lets two
//! writers in at once.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use parking_lot::Mutex;

use super::{files, FsStore, Stamp};
use crate::backend::{Doc, DocChange, DocVersion};
use crate::error::{Error, IoContext, Result};
use crate::fsutil::{self, Durability};
use crate::jsonfile::{self, Registry};

/// The in-process mutex of each document file.
static THREAD_LOCKS: LazyLock<Registry<Mutex<()>>> = LazyLock::new(Registry::new);

/// The document's file name and the side file whose `flock` guards changes.
fn names(doc: Doc) -> (&'static str, &'static str) {
    match doc {
        Doc::Queue => (files::QUEUE, ".queue.lock"),
        Doc::ActionButtons => (files::ACTION_BUTTONS, ".action_buttons.lock"),
    }
}

impl From<Stamp> for DocVersion {
    fn from(s: Stamp) -> DocVersion {
        DocVersion([s.ino, s.len, s.mtime_ns as u64])
    }
}

/// The version of the file at `path`; `None` when there is none.
fn file_version(path: &Path) -> Result<Option<DocVersion>> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(Stamp::of(&m).into())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

impl FsStore {
    pub(super) fn doc_path(&self, session_id: &str, doc: Doc) -> PathBuf {
        self.inner.base.join(session_id).join(names(doc).0)
    }

    pub(super) fn read_doc(
        &self,
        session_id: &str,
        doc: Doc,
    ) -> Result<Option<(Vec<u8>, DocVersion)>> {
        self.existing_session_dir(session_id)?;
        let path = self.doc_path(session_id, doc);
        let mut file = match fsutil::private_open_options().read(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let meta = file.metadata().at(&path)?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut bytes).at(&path)?;
        Ok(Some((bytes, Stamp::of(&meta).into())))
    }

    pub(super) fn doc_stamp(&self, session_id: &str, doc: Doc) -> Result<Option<DocVersion>> {
        self.existing_session_dir(session_id)?;
        file_version(&self.doc_path(session_id, doc))
    }

    pub(super) fn change_doc(
        &self,
        session_id: &str,
        doc: Doc,
        f: &mut dyn FnMut(Option<&[u8]>) -> Result<DocChange>,
    ) -> Result<Option<DocVersion>> {
        let dir = self.existing_session_dir(session_id)?;
        let path = self.doc_path(session_id, doc);
        let thread = THREAD_LOCKS.get(&path);
        let _held = jsonfile::lock_exclusive(&thread, &dir.join(names(doc).1))?;
        let current = fsutil::read_optional(&path)?;
        match f(current.as_deref())? {
            DocChange::Keep => file_version(&path),
            DocChange::Write(bytes) => {
                fsutil::write_atomic(&path, &bytes, Durability::Durable)?;
                file_version(&path)
            }
            DocChange::Remove => {
                fsutil::remove_if_exists(&path)?;
                Ok(None)
            }
        }
    }
}
