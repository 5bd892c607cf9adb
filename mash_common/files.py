"""Private files: keys, created readable by the owner only, never replaced, refused if others
can read them (the same rules as node/keys.py, for code that must not import the node); and
state rewritten whole (a peer's filter, the directory held), replaced atomically, 0600."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path


class PrivateFileError(Exception):
    """A private file is missing, already there, or readable by others."""

    code = "unavailable"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def write_private(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 and write `data`, durably; refuses to replace a file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PrivateFileError(f"{path}: already exists; it is never replaced") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def replace_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` (0600) whole or not at all: a temporary file beside it, fsynced,
    then renamed over it, so a reader sees the old content or the new, never part of either."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def read_private(path: Path) -> bytes:
    """The bytes of a private file, refusing one that group or others may read or write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise PrivateFileError(f"{path}: file missing") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PrivateFileError(f"{path}: readable by others; run `chmod 600 {path}`")
    return path.read_bytes()


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if missing and make it the owner's only (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path
