"""The checkpoint file: every audit checkpoint the node signs, kept outside the store, by its keys.

Whoever can write the store (a database administrator, anyone holding a copy of the store file)
could otherwise delete the checkpoint rows, rewrite the log, re-chain it and move its head. So
the node also appends every checkpoint it signs to ``<data_dir>/keys/audit-checkpoints`` (0600,
in the 0700 keys folder), in the unit of work that stores the checkpoint row: the line is written
and fsynced *before* that transaction commits, and once the commit is done a second line says so.
`node.audit.log.verify_store` then holds the store to the file.

Format: UTF-8 text, one record a line, fields separated by one space; hashes, keys and signatures
in lower-case hex::

    mash-audit-checkpoints/v1
    checkpoint SIZE HEAD SIGNED_AT VERIFY_KEY SIGNATURE BASE_SIZE BASE_HEAD
    committed SIZE SIGNATURE

A ``checkpoint`` line is a checkpoint exactly as signed (`node.audit.chain`: the Ed25519 signature
covers ``checkpoint_message(SIZE, HEAD, SIGNED_AT)``), so the file alone proves what the node
signed. BASE_SIZE and BASE_HEAD are the log as committed when the unit of work that signed it
began: what the store still holds if that unit of work never commits. A ``committed`` line follows
once the unit of work has committed (or, if the process died first, when the next checkpoint finds
the row in the store). It is written but not fsynced: losing it to a power cut makes its checkpoint
look uncommitted, which verification tolerates as described in `verify_store`, and never makes an
intact log look tampered with.

A last line without its newline was being written when the process died (before the commit it
precedes) and is ignored; the next append cuts it off. Writers take an exclusive ``flock`` on the
file, so the web server's processes and the CLI append whole lines in turn.
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from node.audit.chain import Checkpoint
from node.audit.verify import HASH_SIZE, KEY_SIZE, SIGNATURE_SIZE, AuditTampered
from node.errors import DomainError, ErrorCode

FILE_NAME = "audit-checkpoints"
HEADER = b"mash-audit-checkpoints/v1"
TAIL_BYTES = 8 << 10  # how far back `tail` reads: the last fifteen checkpoints or so
_CHECKPOINT = b"checkpoint"
_COMMITTED = b"committed"


class CheckpointFileError(DomainError):
    """The checkpoint file cannot be used: missing where the store needs it, or open to others."""

    code = ErrorCode.UNAVAILABLE


@dataclass(frozen=True)
class Filed:
    """One checkpoint as the file holds it, with the log its unit of work began from."""

    line: int
    checkpoint: Checkpoint
    base_size: int
    base_head: bytes


@dataclass(frozen=True)
class FileContents:
    """The complete lines of the file from some point: its checkpoints in the order they were
    signed, the signatures of those marked committed, and where the reading ended."""

    records: tuple[Filed, ...] = ()
    committed: frozenset[bytes] = frozenset()
    end: int = 0  # bytes of complete lines read
    lines: int = 0  # complete lines read (the header included)

    def is_committed(self, checkpoint: Checkpoint) -> bool:
        return checkpoint.signature in self.committed


class CheckpointFile:
    """The node's checkpoint file at `path` (usually `beside` the keys)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def beside(cls, keys_dir: Path) -> CheckpointFile:
        return cls(keys_dir / FILE_NAME)

    def __repr__(self) -> str:
        return f"CheckpointFile({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, checkpoint: Checkpoint, base_size: int, base_head: bytes) -> None:
        """Append `checkpoint`, signed in a unit of work that began with the log at `base_size`
        entries ending in `base_head`, and fsync it; creates the file (0600) if it is missing."""
        with self._locked() as fd:
            os.write(fd, _checkpoint_line(checkpoint, base_size, base_head))
            os.fsync(fd)

    def confirm(self, checkpoints: Sequence[Checkpoint]) -> None:
        """Say that the units of work that signed `checkpoints` have committed (not fsynced: a
        lost line only makes its checkpoint look uncommitted)."""
        if not checkpoints:
            return
        with self._locked() as fd:
            os.write(fd, b"".join(_committed_line(checkpoint) for checkpoint in checkpoints))

    def start(self, committed: Sequence[tuple[Checkpoint, int, bytes]]) -> None:
        """Create the file holding `committed` checkpoints (with their bases), each marked
        committed, durably; for a store from before the file (see `start_checkpoint_file`)."""
        with self._locked() as fd:
            lines = [_checkpoint_line(*item) + _committed_line(item[0]) for item in committed]
            os.write(fd, b"".join(lines))
            os.fsync(fd)

    def read(self, after: FileContents | None = None) -> FileContents:
        """The whole file's complete lines (or those of `after` and the lines added since)."""
        start = after or FileContents()
        with self._reading() as handle:
            if handle is None:
                return start
            handle.seek(start.end)
            return _parse(self.path, handle, start, whole=True)

    def tail(self, size: int = TAIL_BYTES) -> FileContents:
        """The complete records in the last `size` bytes of the file (for the checks made at
        each checkpoint; `read` reads them all)."""
        with self._reading() as handle:
            if handle is None:
                return FileContents()
            length = os.fstat(handle.fileno()).st_size
            if length <= size:
                return _parse(self.path, handle, FileContents(), whole=True)
            handle.seek(length - size)
            skipped = len(handle.readline())  # most likely the end of a line cut by the seek
            start = FileContents(end=length - size + skipped)
            return _parse(self.path, handle, start, whole=False)

    @contextmanager
    def _reading(self) -> Iterator[BinaryIO | None]:
        """The file open for reading (None if there is none yet), refused if others may use it;
        a failure to read it is a CheckpointFileError naming it."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            yield None
            return
        except OSError as exc:
            raise CheckpointFileError(f"{self.path}: cannot open it: {exc.strerror}") from None
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            os.close(fd)
            raise CheckpointFileError(f"{self.path}: the audit checkpoint file is not a file")
        with os.fdopen(fd, "rb") as handle:
            self._check_private(status.st_mode)
            try:
                yield handle
            except OSError as exc:
                raise CheckpointFileError(f"{self.path}: cannot read it: {exc.strerror}") from None

    @contextmanager
    def _locked(self) -> Iterator[int]:
        """The file open for appending under an exclusive lock, created with its header if it is
        missing, and any line cut short by a crash removed."""
        created = False
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            created = True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            status = os.fstat(fd)
            self._check_private(status.st_mode)
            _cut_partial_line(self.path, fd, status.st_size)
            if os.fstat(fd).st_size == 0:
                os.write(fd, HEADER + b"\n")
                os.fsync(fd)
            if created:
                _fsync_dir(self.path.parent)
            yield fd
        finally:
            os.close(fd)  # releases the lock

    def _check_private(self, mode: int) -> None:
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CheckpointFileError(
                f"{self.path}: the audit checkpoint file is open to others; "
                f"run `chmod 600 {self.path}`"
            )


def _checkpoint_line(checkpoint: Checkpoint, base_size: int, base_head: bytes) -> bytes:
    fields = (
        _CHECKPOINT,
        str(checkpoint.size).encode(),
        checkpoint.head_hash.hex().encode(),
        _text_field(checkpoint.signed_at),
        checkpoint.verify_key.hex().encode(),
        checkpoint.signature.hex().encode(),
        str(base_size).encode(),
        base_head.hex().encode(),
    )
    return b" ".join(fields) + b"\n"


def _committed_line(checkpoint: Checkpoint) -> bytes:
    return (
        b" ".join((_COMMITTED, str(checkpoint.size).encode(), checkpoint.signature.hex().encode()))
        + b"\n"
    )


def _text_field(text: str) -> bytes:
    data = text.encode("utf-8")
    if not data or any(byte <= 0x20 for byte in data):
        raise ValueError(f"a checkpoint time must be text without spaces; got {text!r}")
    return data


def _cut_partial_line(path: Path, fd: int, length: int) -> None:
    """Remove a last line without its newline (a write cut short by a crash)."""
    if length == 0 or os.pread(fd, 1, length - 1) == b"\n":
        return
    keep = length
    while keep > 0:
        chunk = os.pread(fd, min(4096, keep), max(0, keep - 4096))
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            keep = keep - len(chunk) + newline + 1
            break
        keep -= len(chunk)
    os.ftruncate(fd, keep)
    os.fsync(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse(path: Path, handle: BinaryIO, start: FileContents, *, whole: bool) -> FileContents:
    """Parse complete lines from `handle` (at `start.end`) on top of `start`. With `whole`, the
    reading began at the file's start (or at the end of a whole reading), so line numbers are
    exact and the first line must be the header."""
    records = list(start.records)
    committed = set(start.committed)
    known = {record.checkpoint.signature: record.checkpoint.size for record in records}
    end, number = start.end, start.lines
    for raw in handle:
        if not raw.endswith(b"\n"):
            break  # cut short by a crash: ignored
        end += len(raw)
        number += 1
        line = raw[:-1]
        where = f"{path} line {number}" if whole else f"{path} near its end"
        if whole and number == 1:
            if line != HEADER:
                raise AuditTampered(None, f"{where} is not the checkpoint file's header")
            continue
        fields = line.split(b" ")
        if fields[0] == _CHECKPOINT:
            record = _checkpoint_record(fields, number, where)
            records.append(record)
            known[record.checkpoint.signature] = record.checkpoint.size
        elif fields[0] == _COMMITTED:
            size, signature = _committed_record(fields, where)
            if known.get(signature, size if not whole else None) != size:
                raise AuditTampered(None, f"{where} marks a checkpoint the file does not hold")
            committed.add(signature)
        else:
            raise AuditTampered(None, f"{where} is not a checkpoint file record")
    return FileContents(tuple(records), frozenset(committed), end, number)


def _checkpoint_record(fields: list[bytes], number: int, where: str) -> Filed:
    if len(fields) != 8:
        raise AuditTampered(None, f"{where} is a checkpoint record with {len(fields) - 1} fields")
    try:
        checkpoint = Checkpoint(
            size=_number(fields[1]),
            head_hash=_hex(fields[2], HASH_SIZE),
            signed_at=fields[3].decode("utf-8"),
            verify_key=_hex(fields[4], KEY_SIZE),
            signature=_hex(fields[5], SIGNATURE_SIZE),
        )
        return Filed(number, checkpoint, _number(fields[6]), _hex(fields[7], HASH_SIZE))
    except ValueError as exc:
        raise AuditTampered(None, f"{where} is a damaged checkpoint record: {exc}") from None


def _committed_record(fields: list[bytes], where: str) -> tuple[int, bytes]:
    if len(fields) != 3:
        raise AuditTampered(None, f"{where} is a commit record with {len(fields) - 1} fields")
    try:
        return _number(fields[1]), _hex(fields[2], SIGNATURE_SIZE)
    except ValueError as exc:
        raise AuditTampered(None, f"{where} is a damaged commit record: {exc}") from None


def _number(field: bytes) -> int:
    if not field.isdigit() or len(field) > 19:
        raise ValueError(f"{field[:30]!r} is not a number of entries")
    return int(field)


def _hex(field: bytes, size: int) -> bytes:
    if len(field) != 2 * size:
        raise ValueError(f"expected {size} bytes in hex, found {len(field)} characters")
    return bytes.fromhex(field.decode("ascii"))
