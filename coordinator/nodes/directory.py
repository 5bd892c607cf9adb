"""The federation directory: every enrolled node (revoked ones marked so, with the reason),
versioned (each enrolment and revocation bumps the version) and signed with the coordinator's
directory key (mash_common/directory.py) when a node fetches it, valid for
`directory.valid_seconds` from then."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordinator.keys import CoordinatorKeys
from coordinator.store.models import Borough, DirectoryVersion, EnrolledNode
from mash_common.directory import sign_directory
from protos.mash.coordinator.v1 import directory_pb2


def bump_version(session: Session, now: dt.datetime) -> int:
    """The next directory version, stored; returns it. Enrolments at once (a deployment enrols
    its boroughs in parallel) each get their own: the first makes the row, the others wait on
    its lock."""
    row = session.get(DirectoryVersion, 1, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(DirectoryVersion(id=1, version=0, changed_at=now))
        except IntegrityError:
            pass  # another enrolment made the row first; it is locked below
        row = session.get(DirectoryVersion, 1, with_for_update=True, populate_existing=True)
        assert row is not None
    row.version += 1
    row.changed_at = now
    session.flush()
    return row.version


def current_version(session: Session) -> int:
    row = session.get(DirectoryVersion, 1)
    return row.version if row is not None else 0


def _ms(moment: dt.datetime | None) -> int:
    return int(moment.timestamp() * 1000) if moment is not None else 0


def directory_body(
    session: Session, *, now: dt.datetime, valid_for: dt.timedelta
) -> directory_pb2.DirectoryBody:
    """The directory as it stands, to be signed."""
    names = {code: name for code, name in session.execute(select(Borough.code, Borough.name))}
    entries = [
        directory_pb2.DirectoryEntry(
            borough=node.borough,
            name=names.get(node.borough, node.borough),
            endpoint=node.endpoint,
            verify_key=node.verify_key,
            box_key=node.box_key,
            oprf_public_key=node.oprf_public_key,
            oprf_epoch=node.oprf_epoch,
            certificate_sha256=node.certificate_sha256,
            enrolled_at_ms=_ms(node.enrolled_at),
            revoked=node.revoked_at is not None,
            revoked_reason=node.revoked_reason or "",
            revoked_at_ms=_ms(node.revoked_at),
        )
        for node in session.scalars(select(EnrolledNode).order_by(EnrolledNode.borough))
    ]
    return directory_pb2.DirectoryBody(
        version=current_version(session),
        issued_at_ms=_ms(now),
        expires_at_ms=_ms(now + valid_for),
        nodes=entries,
    )


def signed_directory(
    session: Session, keys: CoordinatorKeys, *, now: dt.datetime, valid_for: dt.timedelta
) -> directory_pb2.SignedDirectory:
    return sign_directory(directory_body(session, now=now, valid_for=valid_for), keys)
