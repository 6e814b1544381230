//! agentsession: the session layer of clients of the Agent Client Protocol.
//!
//! A [`Store`] keeps each conversation as an append-only event log in a
//! directory of its own (the on-disk format of the mitto client, read and
//! written without loss). [`Recorder`] writes a session, [`Player`] reads one
//! back.
#![forbid(unsafe_code)]

pub mod error;
pub mod event;
pub mod eventlog;
pub mod fsutil;
pub mod ids;
pub mod metadata;
pub mod store;
pub mod timefmt;

pub use error::{AuxiliaryErrorKind, Error, Result};
pub use event::{Event, EventData};
pub use eventlog::{CorruptLine, EventsRead};
pub use metadata::Metadata;
pub use store::{CreateOptions, NewEvent, SessionList, SkippedSession, Store, StoreOptions};
