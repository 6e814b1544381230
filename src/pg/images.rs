//! Images of the PostgreSQL store: rows of `images`, the bytes as `bytea`,
//! `created_at` stamped by the server.

use std::time::Duration;

use postgres::types::Type;
use postgres::GenericClient;

use super::store::{micros_time, OnServer, PgStore};
use super::{rows, Pg};
use crate::error::{Error, Result};
use crate::image::{self, ImageFormat, ImageInfo};

/// The session's images, sorted by id; `SessionNotFound` when it does not exist.
fn list(c: &mut impl GenericClient, pg: &Pg, session_id: &str) -> Result<Vec<ImageInfo>> {
    let rows = c
        .query_typed(
            "SELECT i.image_id, octet_length(i.bytes)::int8,
                    (extract(epoch FROM i.created_at) * 1000000)::int8
               FROM sessions s LEFT JOIN images i ON i.session_id = s.session_id
              WHERE s.session_id = $1 ORDER BY i.image_id COLLATE \"C\"",
            &[(&session_id, Type::TEXT)],
        )
        .on(pg)?;
    if rows.is_empty() {
        return Err(Error::SessionNotFound(session_id.to_string()));
    }
    Ok(rows
        .iter()
        .filter_map(|row| {
            let id: String = row.get::<_, Option<String>>(0)?;
            let format = ImageFormat::from_file_name(&id).filter(|_| !id.starts_with('.'))?;
            Some(ImageInfo {
                name: id.clone(),
                id,
                mime_type: format.mime_type().to_string(),
                size: row.get::<_, i64>(1) as u64,
                created_at: micros_time(row.get(2)),
            })
        })
        .collect())
}

impl PgStore {
    /// The session's images (for a prune, inside its transaction).
    pub(super) fn images_in(
        c: &mut impl GenericClient,
        pg: &Pg,
        session_id: &str,
    ) -> Result<Vec<ImageInfo>> {
        list(c, pg, session_id)
    }

    pub(super) fn save_image_row(
        &self,
        session_id: &str,
        data: &[u8],
        format: ImageFormat,
    ) -> Result<String> {
        let (pg, mut c) = self.conn()?;
        let mut tx = c.transaction().on(&pg)?;
        // Serialise with other image writers of the session so the limits hold.
        rows::lock_session(&mut tx, &pg, session_id)?;
        let existing = list(&mut tx, &pg, session_id)?;
        let bytes: u64 = existing.iter().map(|i| i.size).sum();
        image::check_limits(existing.len(), bytes, data.len() as u64)?;
        let id = image::new_image_id(existing.len(), format);
        tx.execute_typed(
            "INSERT INTO images (session_id, image_id, bytes) VALUES ($1, $2, $3)",
            &[
                (&session_id, Type::TEXT),
                (&id, Type::TEXT),
                (&data, Type::BYTEA),
            ],
        )
        .on(&pg)?;
        tx.commit().on(&pg)?;
        Ok(id)
    }

    pub(super) fn import_image_row(
        &self,
        session_id: &str,
        image_id: &str,
        data: &[u8],
    ) -> Result<()> {
        self.require(session_id)?;
        let (pg, mut c) = self.conn()?;
        c.execute_typed(
            "INSERT INTO images (session_id, image_id, bytes) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[
                (&session_id, Type::TEXT),
                (&image_id, Type::TEXT),
                (&data, Type::BYTEA),
            ],
        )
        .on(&pg)?;
        Ok(())
    }

    pub(super) fn image_bytes(&self, session_id: &str, image_id: &str) -> Result<Vec<u8>> {
        let (pg, mut c) = self.conn()?;
        let row = c
            .query_typed_opt(
                "SELECT i.bytes FROM sessions s
                   LEFT JOIN images i ON i.session_id = s.session_id AND i.image_id = $2
                  WHERE s.session_id = $1",
                &[(&session_id, Type::TEXT), (&image_id, Type::TEXT)],
            )
            .on(&pg)?
            .ok_or_else(|| Error::SessionNotFound(session_id.to_string()))?;
        row.get::<_, Option<Vec<u8>>>(0)
            .ok_or_else(|| Error::ImageNotFound(image_id.to_string()))
    }

    pub(super) fn image_rows(&self, session_id: &str) -> Result<Vec<ImageInfo>> {
        let (pg, mut c) = self.conn()?;
        list(&mut *c, &pg, session_id)
    }

    pub(super) fn delete_image_row(&self, session_id: &str, image_id: &str) -> Result<()> {
        let (pg, mut c) = self.conn()?;
        let n = c
            .execute_typed(
                "DELETE FROM images WHERE session_id = $1 AND image_id = $2",
                &[(&session_id, Type::TEXT), (&image_id, Type::TEXT)],
            )
            .on(&pg)?;
        drop(c);
        if n == 0 {
            self.require(session_id)?;
            return Err(Error::ImageNotFound(image_id.to_string()));
        }
        Ok(())
    }

    pub(super) fn cleanup_image_rows(
        &self,
        max_age: Duration,
        preserve_recent: Duration,
    ) -> Result<usize> {
        let now = crate::timefmt::now();
        let idle: Vec<String> = crate::backend::Backend::list(self)?
            .sessions
            .iter()
            .filter(|m| {
                m.updated_at().is_some_and(|u| {
                    (now - u).to_std().unwrap_or(Duration::ZERO) >= preserve_recent
                })
            })
            .map(|m| m.session_id().to_string())
            .collect();
        if idle.is_empty() {
            return Ok(0);
        }
        let (pg, mut c) = self.conn()?;
        let max_age = max_age.as_secs_f64();
        let n = c
            .execute_typed(
                "DELETE FROM images WHERE session_id = ANY($1)
                    AND created_at < clock_timestamp() - make_interval(secs => $2)",
                &[(&idle, Type::TEXT_ARRAY), (&max_age, Type::FLOAT8)],
            )
            .on(&pg)?;
        Ok(n as usize)
    }
}
