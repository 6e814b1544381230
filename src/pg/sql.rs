//! The statements of the PostgreSQL store's hot paths (append, tail read,
//! search, document change, lock acquisition and release), named so that
//! the benchmark can send the very same text. Each is sent with
//! `query_typed`/`execute_typed`, its parameters typed as noted.

macro_rules! meta_columns {
    () => {
        "metadata, last_seq, appended_at, user_message_at"
    };
}

macro_rules! record_columns {
    () => {
        "info,
    (extract(epoch FROM heartbeat) * 1000000)::int8,
    (extract(epoch FROM clock_timestamp() - heartbeat) * 1000000)::int8"
    };
}

/// The columns of `sessions` a metadata read needs, in this order.
pub const META_COLUMNS: &str = meta_columns!();

/// The lock row's columns a record needs: the info, the server's heartbeat
/// and the time since, both in microseconds.
pub const RECORD_COLUMNS: &str = record_columns!();

/// The first key of the advisory locks guarding lock acquisitions.
pub const LOCK_CLASS: i32 = 1;

/// The first key of the advisory locks guarding queue changes.
pub const QUEUE_CLASS: i32 = 2;

/// The first key of the advisory locks guarding follow-up suggestion changes.
pub const ACTION_BUTTONS_CLASS: i32 = 3;

/// Every session's metadata and id; no parameter.
pub const LIST_SESSIONS: &str = concat!("SELECT ", meta_columns!(), ", session_id FROM sessions");

/// The append, one statement: raises `last_seq` by the number of lines and
/// inserts them with their seqs spliced in. `$1` session (TEXT), `$2` line
/// tails without `{"seq":N` (TEXT[]), `$3` time (TEXT), `$4` time of the
/// last user prompt (TEXT, NULL if none); returns the seq before the batch.
pub const APPEND: &str = "
WITH s AS (
    UPDATE sessions
       SET last_seq = last_seq + cardinality($2::text[]),
           appended_at = $3,
           user_message_at = coalesce($4, user_message_at)
     WHERE session_id = $1
 RETURNING last_seq - cardinality($2::text[]) AS base
), ins AS (
    INSERT INTO events (session_id, seq, line)
    SELECT $1, s.base + t.n, '{\"seq\":' || (s.base + t.n) || t.tail
      FROM s, unnest($2::text[]) WITH ORDINALITY AS t(tail, n)
)
SELECT base FROM s";

/// The newest log rows below a seq: `$1` session (TEXT), `$2` seq bound
/// (INT8), `$3` limit (INT8). One row of NULLs when the session has no such
/// rows, none when it does not exist.
pub const EVENTS_LAST: &str = "SELECT e.seq, e.line FROM sessions s
                       LEFT JOIN LATERAL (
                           SELECT seq, line FROM events
                            WHERE session_id = s.session_id AND seq < $2
                            ORDER BY seq DESC LIMIT $3) e ON true
                      WHERE s.session_id = $1";

/// Every log row of a session: `$1` session (TEXT).
pub const SEARCH_ALL: &str = "SELECT e.line FROM sessions s
                   LEFT JOIN events e ON e.session_id = s.session_id
                  WHERE s.session_id = $1 ORDER BY e.seq";

/// The log rows a search for a needle must look at: `$1` session (TEXT),
/// `$2` the `LIKE` pattern on the lowered line (TEXT). Two index scans: the
/// trigram index for the needle, and the partial index `events_unusual` for
/// the lines whose lowered text cannot tell (`\u` escapes, U+017F, U+212A).
pub const SEARCH_FILTERED: &str = "SELECT e.line FROM sessions s
                       LEFT JOIN (SELECT seq, line FROM events
                                   WHERE session_id = $1 AND lower(line) LIKE $2
                                  UNION
                                  SELECT seq, line FROM events
                                   WHERE session_id = $1 AND (strpos(line, '\\u') > 0 OR strpos(line, chr(383)) > 0 OR strpos(line, chr(8490)) > 0)) e ON true
                      WHERE s.session_id = $1 ORDER BY e.seq";

/// The transaction-level advisory lock on a session: `$1` class (INT4),
/// `$2` session (TEXT).
pub const ADVISORY_XACT_LOCK: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

/// A document and its version, the session row held against deletion
/// until commit: `$1` session (TEXT), `$2` document name (TEXT).
pub const DOC_FOR_CHANGE: &str = "SELECT d.content, d.version FROM sessions s
                   LEFT JOIN documents d ON d.session_id = s.session_id AND d.doc = $2
                  WHERE s.session_id = $1 FOR KEY SHARE OF s";

/// Stores a document under a new version: `$1` session (TEXT), `$2`
/// document name (TEXT), `$3` content (TEXT); returns the version.
pub const DOC_WRITE: &str = "INSERT INTO documents (session_id, doc, content) VALUES ($1, $2, $3)
                         ON CONFLICT (session_id, doc) DO UPDATE
                            SET content = $3, version = nextval('document_versions')
                         RETURNING version";

/// The session row, held against deletion until commit: `$1` session (TEXT).
pub const SESSION_FOR_KEY_SHARE: &str =
    "SELECT 1 FROM sessions WHERE session_id = $1 FOR KEY SHARE";

/// The lock row as a record: `$1` session (TEXT).
pub const LOCK_READ: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM locks WHERE session_id = $1"
);

/// Takes the lock row: `$1` session (TEXT), `$2` instance id (TEXT), `$3`
/// hostname (TEXT), `$4` pid (INT8), `$5` info JSON (TEXT).
pub const LOCK_WRITE: &str =
    "INSERT INTO locks (session_id, instance_id, hostname, pid, info, heartbeat)
             VALUES ($1, $2, $3, $4, $5, clock_timestamp())
             ON CONFLICT (session_id) DO UPDATE
                SET instance_id = $2, hostname = $3, pid = $4, info = $5,
                    heartbeat = clock_timestamp()";

/// Removes the lock row if it is the holder's: `$1` session (TEXT), `$2`
/// instance id (TEXT).
pub const LOCK_REMOVE: &str = "DELETE FROM locks WHERE session_id = $1 AND instance_id = $2";
