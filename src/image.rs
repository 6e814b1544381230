//! Images attached to prompts, stored under `<session>/images/<image id>`.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::error::{Error, IoContext, Result};
use crate::fsutil::{self, Durability};
use crate::ids;
use crate::store::{files, Store};
use crate::timefmt::{self, Timestamp};

/// Largest image accepted, in bytes.
pub const MAX_IMAGE_SIZE: u64 = 10 * 1024 * 1024;
/// Most images one session holds.
pub const MAX_IMAGES_PER_SESSION: usize = 50;
/// Most bytes of images one session holds.
pub const MAX_TOTAL_IMAGE_SIZE: u64 = 100 * 1024 * 1024;

/// A supported image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
}

impl ImageFormat {
    /// The MIME type.
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Webp => "image/webp",
        }
    }

    /// The file extension written for new images.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Gif => "gif",
            ImageFormat::Webp => "webp",
        }
    }

    /// The format of a MIME type, if supported.
    pub fn from_mime(mime: &str) -> Option<ImageFormat> {
        match mime.trim().to_ascii_lowercase().as_str() {
            "image/png" => Some(ImageFormat::Png),
            "image/jpeg" | "image/jpg" => Some(ImageFormat::Jpeg),
            "image/gif" => Some(ImageFormat::Gif),
            "image/webp" => Some(ImageFormat::Webp),
            _ => None,
        }
    }

    /// The format of a file name's extension (`.jpeg` is read too).
    pub fn from_file_name(name: &str) -> Option<ImageFormat> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "png" => Some(ImageFormat::Png),
            "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
            "gif" => Some(ImageFormat::Gif),
            "webp" => Some(ImageFormat::Webp),
            _ => None,
        }
    }

    /// The format the bytes actually are, from their signature.
    pub fn detect(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageFormat::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else {
            None
        }
    }
}

/// A stored image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Image id, also its file name.
    pub id: String,
    /// Original name when just saved; the id when listed.
    pub name: String,
    /// MIME type.
    pub mime_type: String,
    /// Size in bytes.
    pub size: u64,
    /// When the file was written (its modification time).
    pub created_at: Option<Timestamp>,
}

fn mtime(m: &fs::Metadata) -> Option<Timestamp> {
    let t: chrono::DateTime<chrono::Utc> = m.modified().ok()?.into();
    Some(t.fixed_offset())
}

impl Store {
    /// The session's `images/` directory (which may not exist yet); a
    /// symlink there is refused rather than followed.
    fn images_dir(&self, session_id: &str) -> Result<PathBuf> {
        let dir = self.existing_session_dir(session_id)?.join(files::IMAGES);
        refuse_symlink(&dir)?;
        Ok(dir)
    }

    /// Saves an image for a session, checking its real format and the limits.
    ///
    /// `mime_type` may be empty (the bytes decide); a declared type that is
    /// not a supported image type is refused, and the bytes' own format wins
    /// over a wrong declaration.
    pub fn save_image(
        &self,
        session_id: &str,
        data: &[u8],
        mime_type: &str,
        name: Option<&str>,
    ) -> Result<ImageInfo> {
        if !mime_type.is_empty() && ImageFormat::from_mime(mime_type).is_none() {
            return Err(Error::UnsupportedImageFormat(mime_type.to_string()));
        }
        let size = data.len() as u64;
        if size > MAX_IMAGE_SIZE {
            return Err(Error::ImageTooLarge {
                size,
                limit: MAX_IMAGE_SIZE,
            });
        }
        let format = ImageFormat::detect(data).ok_or_else(|| {
            Error::UnsupportedImageFormat(format!(
                "data is not a png, jpeg, gif or webp image (declared {mime_type:?})"
            ))
        })?;
        if let Some(declared) = ImageFormat::from_mime(mime_type) {
            if declared != format {
                log::warn!(
                    "image declared {mime_type} is really {}; stored as such",
                    format.mime_type()
                );
            }
        }
        // Serialise with other writers of the session so the limits hold.
        self.with_session(session_id, |s| {
            let dir = s.dir.join(files::IMAGES);
            refuse_symlink(&dir)?;
            fsutil::create_private_dir_all(&dir)?;
            let existing = list_dir(&dir)?;
            if existing.len() >= MAX_IMAGES_PER_SESSION {
                return Err(Error::SessionImageLimit(MAX_IMAGES_PER_SESSION));
            }
            let total: u64 = existing.iter().map(|i| i.size).sum();
            if total + size > MAX_TOTAL_IMAGE_SIZE {
                return Err(Error::StorageLimit {
                    limit: MAX_TOTAL_IMAGE_SIZE,
                });
            }
            let id = format!(
                "img_{:03}_{}.{}",
                existing.len() + 1,
                ids::random_hex(4),
                format.extension()
            );
            fsutil::write_atomic(&dir.join(&id), data, Durability::Atomic)?;
            Ok(ImageInfo {
                name: name.filter(|n| !n.is_empty()).unwrap_or(&id).to_string(),
                id,
                mime_type: format.mime_type().to_string(),
                size,
                created_at: Some(timefmt::now()),
            })
        })
    }

    /// The path of a stored image.
    pub fn image_path(&self, session_id: &str, image_id: &str) -> Result<PathBuf> {
        ids::image(image_id)?;
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

    /// The session's images, sorted by id.
    pub fn list_images(&self, session_id: &str) -> Result<Vec<ImageInfo>> {
        list_dir(&self.images_dir(session_id)?)
    }

    /// Deletes a stored image.
    pub fn delete_image(&self, session_id: &str, image_id: &str) -> Result<()> {
        let path = self.image_path(session_id, image_id)?;
        fs::remove_file(&path).at(&path)
    }

    /// Removes images older than `max_age` from sessions not updated within
    /// `preserve_recent`; returns how many were removed.
    pub fn cleanup_old_images(
        &self,
        max_age: Duration,
        preserve_recent: Duration,
    ) -> Result<usize> {
        let now = SystemTime::now();
        let now_ts = timefmt::now();
        let mut removed = 0;
        for meta in self.list()?.sessions {
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

pub(crate) fn refuse_symlink(path: &std::path::Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::io(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "is a symlink; not followed"),
        )),
        _ => Ok(()),
    }
}

/// The images in a directory (a missing directory is empty).
pub(crate) fn list_dir(dir: &std::path::Path) -> Result<Vec<ImageInfo>> {
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
