//! Validation and generation of session, image and queue-message ids.

use crate::error::{Error, Result};

/// Longest id accepted, in bytes (a file-name component on common file systems).
pub const MAX_ID_LEN: usize = 255;

/// Checks that `id` can name one directory entry and nothing else.
///
/// Rejects empty ids, `.` and `..`, path separators, NUL, ids starting with a
/// dot (hidden or special files such as `.lock`) and ids over [`MAX_ID_LEN`] bytes.
pub fn validate(what: &str, id: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid(format!("{what} {id:?} {why}")));
    if id.is_empty() {
        return bad("is empty");
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid(format!(
            "{what} is {} bytes long (limit {MAX_ID_LEN})",
            id.len()
        )));
    }
    if id.starts_with('.') {
        return bad("starts with a dot");
    }
    if id.contains(['/', '\\', '\0']) {
        return bad("contains a path separator or NUL");
    }
    if id.chars().any(char::is_control) {
        return bad("contains a control character");
    }
    Ok(())
}

/// Checks a session id.
pub fn session(id: &str) -> Result<()> {
    validate("session id", id)
}

/// Checks an image id.
pub fn image(id: &str) -> Result<()> {
    validate("image id", id)
}

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The OS random source does not fail on supported platforms; fall back to
    // time and a counter so an id is still produced if it ever does.
    if getrandom::fill(&mut buf).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (u64::from(std::process::id()) << 32)
            ^ COUNTER
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> ((i % 8) * 8)) as u8;
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new session id: `YYYYMMDD-HHMMSS-<8 hex>` in local time.
pub fn new_session_id() -> String {
    let now = chrono::Local::now();
    format!("{}-{}", now.format("%Y%m%d-%H%M%S"), random_hex(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_escapes() {
        for bad in [
            "", ".", "..", "a/b", "a\\b", "a\0b", "../x", ".lock", "a\nb",
        ] {
            assert!(session(bad).is_err(), "{bad:?} accepted");
        }
        assert!(session(&"x".repeat(256)).is_err());
        session("20260201-120000-fixture01-complete").unwrap();
        image("img_001_65a695f3.png").unwrap();
    }

    #[test]
    fn session_id_shape() {
        let id = new_session_id();
        let parts: Vec<_> = id.split('-').collect();
        assert_eq!(parts.len(), 3, "{id}");
        assert_eq!(parts[0].len(), 8);
        assert_eq!(parts[1].len(), 6);
        assert_eq!(parts[2].len(), 8);
        assert!(parts[2].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
