"""The signed federation directory: the coordinator signs its serialized body with its Ed25519
directory key (RFC 8032) under a context label, and a node opens it with the key it pinned at
enrolment. A directory that does not verify is refused, never half-read."""

from __future__ import annotations

from typing import Protocol

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from mash_common.errors import Refusal, Refused
from protos.mash.coordinator.v1 import directory_pb2

CONTEXT = b"mash-directory/v1"


class DirectoryRefused(Refused):
    """A directory whose signature does not verify, or that does not parse."""

    def __init__(self, message: str) -> None:
        super().__init__(Refusal.BAD_SIGNATURE, message)


class DirectorySigner(Protocol):
    def sign_directory(self, message: bytes) -> bytes: ...


def sign_directory(
    body: directory_pb2.DirectoryBody, signer: DirectorySigner
) -> directory_pb2.SignedDirectory:
    data = body.SerializeToString()
    return directory_pb2.SignedDirectory(body=data, signature=signer.sign_directory(CONTEXT + data))


def open_directory(
    signed: directory_pb2.SignedDirectory, pinned_key: bytes
) -> directory_pb2.DirectoryBody:
    """The directory's body, if its signature is the pinned key's; DirectoryRefused if not."""
    try:
        VerifyKey(pinned_key).verify(CONTEXT + signed.body, signed.signature)
    except (BadSignatureError, ValueError):
        raise DirectoryRefused(
            "the directory's signature is not the coordinator's pinned directory key's; it is "
            "not used"
        ) from None
    try:
        return directory_pb2.DirectoryBody.FromString(signed.body)
    except Exception:
        raise DirectoryRefused("the signed directory does not parse") from None
