"""agentsession: the session layer of Agent Client Protocol clients.

A :class:`Store` keeps each conversation as an append-only event log in a
directory of its own (the on-disk format of the mitto client). A
:class:`Recorder` writes a session, a :class:`Player` reads one back; a store
also gives each session's :class:`Queue` of waiting messages and its
:class:`ActionButtonsStore` of follow-up suggestions, searches and exports
sessions and follows one live. :mod:`agentsession.auxiliary` runs a hidden ACP
session for utility prompts (titles, prompt improvement, suggestions). Every
failure raises a subclass of :class:`Error` (I/O failures raise the matching
:class:`OSError` subclass). In a notebook, a store shows as a table of
sessions and a player as the conversation; ``to_pandas()`` exports either
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
    auxiliary,
    build_conversation_history,
    last_agent_message,
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
    "auxiliary",
    "build_conversation_history",
    "last_agent_message",
    "__version__",
]
