"""agentsession: the session layer of Agent Client Protocol clients.

A :class:`Store` keeps each conversation as an append-only event log in a
directory of its own (the on-disk format of the mitto client). A
:class:`Recorder` writes a session, a :class:`Player` reads one back. Every
failure raises a subclass of :class:`Error` (I/O failures raise the matching
:class:`OSError` subclass). In a notebook, a store shows as a table of
sessions and a player as the conversation; ``to_pandas()`` exports either
(install the ``agentsession[pandas]`` extra).
"""

from ._native import (
    AuxiliaryError,
    CorruptData,
    CorruptDataWarning,
    Error,
    Event,
    ImageError,
    ImageInfo,
    InvalidArgument,
    LockNotHeld,
    MessageNotFound,
    Metadata,
    Player,
    PruneResult,
    QueueEmpty,
    QueueFull,
    Recorder,
    SessionLocked,
    SessionNotFound,
    SessionProcessing,
    SessionWaitingPermission,
    Store,
    StoreClosed,
    __version__,
    build_conversation_history,
    last_agent_message,
)

__all__ = [
    "AuxiliaryError",
    "CorruptData",
    "CorruptDataWarning",
    "Error",
    "Event",
    "ImageError",
    "ImageInfo",
    "InvalidArgument",
    "LockNotHeld",
    "MessageNotFound",
    "Metadata",
    "Player",
    "PruneResult",
    "QueueEmpty",
    "QueueFull",
    "Recorder",
    "SessionLocked",
    "SessionNotFound",
    "SessionProcessing",
    "SessionWaitingPermission",
    "Store",
    "StoreClosed",
    "__version__",
    "build_conversation_history",
    "last_agent_message",
]
