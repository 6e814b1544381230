"""The exception classes: hierarchy, attributes, pickling, and the core errors that raise them."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
from support import raises_naming

import agentsession as ags

SUBCLASSES = [
    ags.SessionNotFound,
    ags.SessionLocked,
    ags.SessionProcessing,
    ags.SessionWaitingPermission,
    ags.LockNotHeld,
    ags.StoreClosed,
    ags.QueueEmpty,
    ags.QueueFull,
    ags.MessageNotFound,
    ags.ImageError,
    ags.InvalidArgument,
    ags.CorruptData,
    ags.AuxiliaryError,
]


@pytest.mark.parametrize("cls", SUBCLASSES, ids=lambda c: c.__name__)
def test_every_class_derives_from_error(cls: type[ags.Error]) -> None:
    assert issubclass(cls, ags.Error)
    assert issubclass(ags.Error, Exception)
    assert cls.__module__ == "agentsession"
    assert cls.__doc__
    e = cls("message")
    assert str(e) == "message"
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cls and str(back) == "message"


def test_builtin_bases() -> None:
    assert issubclass(ags.InvalidArgument, ValueError)
    assert issubclass(ags.SessionNotFound, LookupError)
    assert issubclass(ags.MessageNotFound, LookupError)
    assert issubclass(ags.CorruptDataWarning, UserWarning)
    assert not issubclass(ags.CorruptDataWarning, ags.Error)
    for cls in SUBCLASSES:
        if cls not in (ags.InvalidArgument, ags.SessionNotFound, ags.MessageNotFound):
            assert ags.Error in cls.__bases__ and len(cls.__bases__) == 1


def test_attribute_defaults_on_the_classes() -> None:
    assert ags.SessionLocked.session_id == ""
    assert ags.QueueFull.max_size == 0
    assert ags.MessageNotFound.message_id == ""
    assert ags.ImageError.kind == ""
    assert ags.AuxiliaryError.kind == ""
    assert ags.CorruptData.path == "" and ags.CorruptData.line is None


def test_session_not_found(store: ags.Store) -> None:
    with pytest.raises(ags.SessionNotFound) as e:
        store.metadata("gone")
    assert e.value.session_id == "gone"
    assert str(e.value) == "session not found: gone"
    back = pickle.loads(pickle.dumps(e.value))
    assert back.session_id == "gone"
    with pytest.raises(LookupError):
        store.events("gone")


def test_invalid_argument_is_a_value_error(store: ags.Store) -> None:
    with pytest.raises(ValueError) as e:
        store.create("..", "a", "/w")
    assert isinstance(e.value, ags.InvalidArgument)
    assert "session id" in str(e.value)


def test_store_closed(tmp_path: Path) -> None:
    s = ags.Store(tmp_path)
    s.close()
    with pytest.raises(ags.StoreClosed, match="closed"):
        s.list()


def test_corrupt_data(store: ags.Store) -> None:
    store.create("c", "a", "/w")
    (store.path / "c" / "metadata.json").write_text('{"session_id": "c",\n  oops}')
    with pytest.raises(ags.CorruptData) as e:
        store.metadata("c")
    assert e.value.path == str(store.path / "c" / "metadata.json")
    assert e.value.line == 2
    assert "metadata.json line 2" in str(e.value)


def test_io_errors_are_os_errors(tmp_path: Path) -> None:
    base = tmp_path / "store"
    s = ags.Store(base)
    shutil.rmtree(base)
    with pytest.raises(FileNotFoundError) as e:
        s.list()
    assert e.value.filename == str(base)
    assert e.value.errno == 2
    assert not isinstance(e.value, ags.Error)


def test_image_errors(store: ags.Store) -> None:
    store.create("i", "a", "/w")
    with pytest.raises(ags.ImageError, match="unsupported image format") as e:
        store.save_image("i", b"not an image", "image/png")
    assert e.value.kind == "unsupported_format"
    with pytest.raises(ags.ImageError) as e:
        store.delete_image("i", "img_001_00000000.png")
    assert e.value.kind == "not_found"


def test_type_errors_name_the_argument(store: ags.Store) -> None:
    with raises_naming(TypeError, "session_id"):
        store.metadata(None)  # type: ignore[arg-type]
    with raises_naming(TypeError, "after_seq"):
        store.events("s", "1")  # type: ignore[arg-type]
    with raises_naming(TypeError, "max_age_s"):
        store.cleanup_old_images("1", 0)  # type: ignore[arg-type]
