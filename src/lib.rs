//! agentsession: the session layer of clients of the Agent Client Protocol.
//!
//! A [`Store`] keeps each conversation as an append-only event log: in a
//! directory of its own (the on-disk format of the mitto client, read and
//! written without loss), or on a PostgreSQL server shared by several hosts. [`Recorder`] writes a session, [`Player`] reads one
//! back; images and pruning live on the store. [`acp`] records the agent's
//! `session/update` notifications as events and replays them. A [`Lock`]
//! guards a session so that one process at a time drives it; the
//! process-wide [`runtime`] keeps every held lock's heartbeat.
#![forbid(unsafe_code)]

pub mod acp;
pub mod action_buttons;
pub mod auxiliary;
mod backend;
pub mod error;
pub mod event;
pub mod eventlog;
pub mod export;
pub mod follow;
pub(crate) mod fs_store;
pub mod fsutil;
pub mod ids;
pub mod image;
mod jsonfile;
pub mod lock;
pub mod metadata;
pub mod migrate;
pub(crate) mod pg;
pub mod player;
pub mod prune;
pub mod queue;
pub mod recorder;
pub mod runtime;
pub mod search;
pub mod store;
pub mod timefmt;

pub use acp::{AcpRecorded, ResumeMethod, ResumePlan, UsageRow, UsageSummary, UsageTotals};
pub use action_buttons::{ActionButton, ActionButtons, ActionButtonsStore};
pub use auxiliary::{AuxiliarySession, FollowUp};
pub use error::{AuxiliaryErrorKind, Error, Result};
pub use event::{Event, EventData};
pub use eventlog::{CorruptLine, EventsRead};
pub use export::ExportFormat;
pub use follow::{Follow, FollowOptions, FollowStopper};
pub use image::{ImageFormat, ImageInfo};
pub use lock::{Lock, LockCheck, LockInfo, LockState, LockStatus};
pub use metadata::Metadata;
pub use migrate::{migrate, MigrateProgress, MigrateReport};
/// The PostgreSQL connection of URL-opened stores, public for its integration tests only.
#[doc(hidden)]
pub use pg::sql as pg_sql;
#[doc(hidden)]
pub use pg::Pg;
pub use player::{build_conversation_history, last_agent_message, Player};
pub use prune::{PruneLimits, PruneResult};
pub use queue::{MoveDirection, Queue, QueueConfig, QueuedMessage};
pub use recorder::Recorder;
pub use runtime::{
    active_lock_count, cleanup_all_locks, configure, heartbeat_stats, release_locks_on_signals,
    reset_heartbeat_stats, shutdown, HeartbeatStats, Settings,
};
pub use search::{Search, SearchHit, SearchQuery};
pub use store::{CreateOptions, NewEvent, SessionList, SkippedSession, Store, StoreOptions};
