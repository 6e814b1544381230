"""agentsession: the session layer of Agent Client Protocol clients.

A :class:`Store` keeps each conversation as an append-only event log in a
directory of its own (the on-disk format of the mitto client). A
:class:`Recorder` writes a session, a :class:`Player` reads one back. A store
also takes a session's :class:`Lock` (kept fresh by a heartbeat thread;
every lock is released at interpreter exit), gives its :class:`Queue` of
waiting messages and its :class:`ActionButtonsStore` of follow-up
suggestions, searches and exports sessions and follows one live.
:mod:`agentsession.auxiliary` runs a hidden ACP session for utility prompts
(titles, prompt improvement, suggestions).

Every failure raises a subclass of :class:`Error` (I/O failures raise the
matching :class:`OSError` subclass). In a notebook, a store shows as a table
of sessions and a player as the conversation; ``to_pandas()`` exports either
(install the ``agentsession[pandas]`` extra).
"""

from ._native import (
    AcpRecorded,
    ActionButton,
    ActionButtonsStore,
    AuxiliaryError,
    CorruptData,
    CorruptDataWarning,
    Error,
    Event,
    Follow,
    FollowUp,
    ImageError,
    ImageInfo,
    InvalidArgument,
    Lock,
    LockCheck,
    LockInfo,
    LockNotHeld,
    MessageNotFound,
    Metadata,
    Player,
    PruneResult,
    Queue,
    QueueEmpty,
    QueueFull,
    QueuedMessage,
    Recorder,
    ResumePlan,
    Search,
    SearchHit,
    SessionLocked,
    SessionNotFound,
    SessionProcessing,
    SessionWaitingPermission,
    Store,
    StoreClosed,
    UsageRow,
    UsageSummary,
    UsageTotals,
    active_lock_count,
    auxiliary,
    build_conversation_history,
    cleanup_all_locks,
    configure,
    last_agent_message,
    release_locks_on_signals,
    __version__,
)

__all__ = [
    "AcpRecorded",
    "ActionButton",
    "ActionButtonsStore",
    "AuxiliaryError",
    "CorruptData",
    "CorruptDataWarning",
    "Error",
    "Event",
    "Follow",
    "FollowUp",
    "ImageError",
    "ImageInfo",
    "InvalidArgument",
    "Lock",
    "LockCheck",
    "LockInfo",
    "LockNotHeld",
    "MessageNotFound",
    "Metadata",
    "Player",
    "PruneResult",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "QueuedMessage",
    "Recorder",
    "ResumePlan",
    "Search",
    "SearchHit",
    "SessionLocked",
    "SessionNotFound",
    "SessionProcessing",
    "SessionWaitingPermission",
    "Store",
    "StoreClosed",
    "UsageRow",
    "UsageSummary",
    "UsageTotals",
    "active_lock_count",
    "auxiliary",
    "build_conversation_history",
    "cleanup_all_locks",
    "configure",
    "last_agent_message",
    "release_locks_on_signals",
    "__version__",
]
