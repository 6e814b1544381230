//! Images of the filesystem store: `<session>/images/<image id>`.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{files, FsStore};
use crate::error::{Error, IoContext, Result};
use crate::fsutil::{self, Durability};
use crate::image::{self, ImageFormat, ImageInfo, MAX_IMAGE_SIZE};
use crate::timefmt::{self, Timestamp};

fn mtime(m: &fs::Metadata) -> Option<Timestamp> {
    let t: chrono::DateTime<chrono::Utc> = m.modified().ok()?.into();
    Some(t.fixed_offset())
}

impl FsStore {
    /// The session's `images/` directory (which may not exist yet); a
    /// symlink there is refused rather than followed.
    fn images_dir(&self, session_id: &str) -> Result<PathBuf> {
        let dir = self.existing_session_dir(session_id)?.join(files::IMAGES);
        refuse_symlink(&dir)?;
        Ok(dir)
    }

    pub(super) fn save_image_file(
        &self,
        session_id: &str,
        data: &[u8],
        format: ImageFormat,
    ) -> Result<String> {
        // Serialise with other writers of the session so the limits hold.
        self.with_session(session_id, |s| {
            let dir = s.dir.join(files::IMAGES);
            refuse_symlink(&dir)?;
            fsutil::create_private_dir_all(&dir)?;
            let existing = list_dir(&dir)?;
            let bytes: u64 = existing.iter().map(|i| i.size).sum();
            image::check_limits(existing.len(), bytes, data.len() as u64)?;
            let id = image::new_image_id(existing.len(), format);
            fsutil::write_atomic(&dir.join(&id), data, Durability::Atomic)?;
            Ok(id)
        })
    }

    pub(super) fn import_image_file(
        &self,
        session_id: &str,
        image_id: &str,
        data: &[u8],
    ) -> Result<()> {
        self.with_session(session_id, |s| {
            let dir = s.dir.join(files::IMAGES);
            refuse_symlink(&dir)?;
            fsutil::create_private_dir_all(&dir)?;
            let path = dir.join(image_id);
            if fs::symlink_metadata(&path).is_ok() {
                return Ok(());
            }
            fsutil::write_atomic(&path, data, Durability::Atomic)
        })
    }

    pub(super) fn image_file(&self, session_id: &str, image_id: &str) -> Result<PathBuf> {
        let path = self.images_dir(session_id)?.join(image_id);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_file() => Ok(path),
            Ok(_) => Err(Error::ImageNotFound(image_id.to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(Error::ImageNotFound(image_id.to_string()))
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// The image's bytes; a file larger than any saved image (put there by
    /// hand) is `ImageTooLarge`, and not read whole.
    pub(super) fn image_bytes(&self, session_id: &str, image_id: &str) -> Result<Vec<u8>> {
        let path = self.image_file(session_id, image_id)?;
        let file = fsutil::private_open_options()
            .read(true)
            .open(&path)
            .at(&path)?;
        let mut bytes = Vec::new();
        file.take(MAX_IMAGE_SIZE + 1)
            .read_to_end(&mut bytes)
            .at(&path)?;
        match bytes.len() as u64 {
            size if size > MAX_IMAGE_SIZE => Err(Error::ImageTooLarge {
                size,
                limit: MAX_IMAGE_SIZE,
            }),
            _ => Ok(bytes),
        }
    }

    pub(super) fn image_files(&self, session_id: &str) -> Result<Vec<ImageInfo>> {
        list_dir(&self.images_dir(session_id)?)
    }

    pub(super) fn delete_image_file(&self, session_id: &str, image_id: &str) -> Result<()> {
        let path = self.image_file(session_id, image_id)?;
        fs::remove_file(&path).at(&path)
    }

    pub(super) fn cleanup_image_files(
        &self,
        max_age: Duration,
        preserve_recent: Duration,
    ) -> Result<usize> {
        let now = SystemTime::now();
        let now_ts = timefmt::now();
        let mut removed = 0;
        for meta in crate::backend::Backend::list(self)?.sessions {
            let recent = meta
                .updated_at()
                .is_none_or(|u| (now_ts - u).to_std().unwrap_or(Duration::ZERO) < preserve_recent);
            if recent {
                continue;
            }
            let Ok(dir) = self.images_dir(meta.session_id()) else {
                continue;
            };
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(m) = entry.metadata() else { continue };
                if !m.is_file() {
                    continue;
                }
                let age = m
                    .modified()
                    .ok()
                    .and_then(|t| now.duration_since(t).ok())
                    .unwrap_or(Duration::ZERO);
                if age > max_age && fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

pub(crate) fn refuse_symlink(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::io(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "is a symlink; not followed"),
        )),
        _ => Ok(()),
    }
}

/// The images in a directory (a missing directory is empty).
pub(crate) fn list_dir(dir: &Path) -> Result<Vec<ImageInfo>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.at(dir)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some(format) = ImageFormat::from_file_name(&name) else {
            continue;
        };
        let m = entry.metadata().at(&entry.path())?;
        if !m.is_file() || name.starts_with('.') {
            continue;
        }
        out.push(ImageInfo {
            id: name.clone(),
            name,
            mime_type: format.mime_type().to_string(),
            size: m.len(),
            created_at: mtime(&m),
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}
