//! Images attached to prompts: formats, limits, and the store's image API.
//! A filesystem store keeps them under `<session>/images/<image id>`.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::ids;
use crate::store::Store;
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

/// A new image's id: its number in the session, random digits, the extension.
pub(crate) fn new_image_id(existing: usize, format: ImageFormat) -> String {
    format!(
        "img_{:03}_{}.{}",
        existing + 1,
        ids::random_hex(4),
        format.extension()
    )
}

/// Checks a new image against the session's count and total size limits.
pub(crate) fn check_limits(existing: usize, existing_bytes: u64, size: u64) -> Result<()> {
    if existing >= MAX_IMAGES_PER_SESSION {
        return Err(Error::SessionImageLimit(MAX_IMAGES_PER_SESSION));
    }
    if existing_bytes + size > MAX_TOTAL_IMAGE_SIZE {
        return Err(Error::StorageLimit {
            limit: MAX_TOTAL_IMAGE_SIZE,
        });
    }
    Ok(())
}

impl Store {
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
        self.check(session_id)?;
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
        let id = self.backend().save_image(session_id, data, format)?;
        Ok(ImageInfo {
            name: name.filter(|n| !n.is_empty()).unwrap_or(&id).to_string(),
            id,
            mime_type: format.mime_type().to_string(),
            size,
            created_at: Some(timefmt::now()),
        })
    }

    /// The bytes of a stored image.
    pub fn image_data(&self, session_id: &str, image_id: &str) -> Result<Vec<u8>> {
        self.check(session_id)?;
        ids::image(image_id)?;
        self.backend().image_data(session_id, image_id)
    }

    /// The path of a stored image of a filesystem store (a server store has
    /// none: [`Error::InvalidArgument`]; use [`Store::image_data`]).
    pub fn image_path(&self, session_id: &str, image_id: &str) -> Result<PathBuf> {
        self.check(session_id)?;
        ids::image(image_id)?;
        self.backend().image_path(session_id, image_id)
    }

    /// The session's images, sorted by id.
    pub fn list_images(&self, session_id: &str) -> Result<Vec<ImageInfo>> {
        self.check(session_id)?;
        self.backend().list_images(session_id)
    }

    /// Deletes a stored image.
    pub fn delete_image(&self, session_id: &str, image_id: &str) -> Result<()> {
        self.check(session_id)?;
        ids::image(image_id)?;
        self.backend().delete_image(session_id, image_id)
    }

    /// Removes images older than `max_age` from sessions not updated within
    /// `preserve_recent`; returns how many were removed.
    pub fn cleanup_old_images(
        &self,
        max_age: Duration,
        preserve_recent: Duration,
    ) -> Result<usize> {
        if self.is_closed() {
            return Err(Error::StoreClosed);
        }
        self.backend().cleanup_old_images(max_age, preserve_recent)
    }
}
