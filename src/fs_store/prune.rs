//! Pruning a filesystem session: the log is replaced by a renumbered copy.

use std::fs;
use std::io::Write;
use std::os::unix::fs::FileExt;

use serde_json::Value;

use super::images::{list_dir, refuse_symlink};
use super::{files, FsStore};
use crate::error::{IoContext, Result};
use crate::fsutil;
use crate::prune::{self, PruneLimits, PruneResult};
use crate::timefmt;

impl FsStore {
    pub(super) fn prune_log(
        &self,
        session_id: &str,
        limits: PruneLimits,
    ) -> Result<Option<PruneResult>> {
        self.with_session(session_id, |s| {
            let path = s.events_path();
            let len = s.log_len();
            let mut buf = vec![0u8; len as usize];
            s.log_file().read_exact_at(&mut buf, 0).at(&path)?;
            let images_dir = s.dir.join(files::IMAGES);
            refuse_symlink(&images_dir)?;
            let Some(plan) = prune::plan(&buf, list_dir(&images_dir)?, limits) else {
                return Ok(None);
            };

            // Write the new log and lock it before it replaces the old one, so
            // no other writer can slip in between the rename and our metadata.
            let tmp = fsutil::temp_path_for(&path);
            let replace = (|| -> std::io::Result<fs::File> {
                let mut f = fsutil::private_open_options()
                    .read(true)
                    .append(true)
                    .create_new(true)
                    .open(&tmp)?;
                f.lock()?;
                f.write_all(&plan.log)?;
                fs::rename(&tmp, &path)?;
                Ok(f)
            })();
            let file = match replace {
                Ok(f) => f,
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(crate::Error::io(&path, e));
                }
            };
            s.replace_log(file, plan.log.len() as u64, plan.last_seq)?;

            let meta = s.metadata()?;
            meta.set("event_count", Value::from(plan.last_seq));
            meta.set_str("updated_at", &timefmt::now_string());
            s.write_metadata()?;

            let mut result = plan.result;
            for img in plan.orphans {
                let p = images_dir.join(&img.id);
                match fs::remove_file(&p) {
                    Ok(()) => {
                        result.images_removed += 1;
                        result.bytes_reclaimed += img.size;
                    }
                    Err(e) => log::warn!("{}: image not removed: {e}", p.display()),
                }
            }
            Ok(Some(result))
        })
    }
}
