"""One-time enrolment tokens: issued for one borough by the project team, usable once, until
they expire. The secret is kept sealed with the coordinator's key and shown only once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coordinator.errors import DomainError, ErrorCode
from coordinator.keys import CoordinatorKeys
from coordinator.store.models import EnrolmentToken as TokenRow
from coordinator.store.models import utcnow
from mash_common.boroughs import require_borough_code
from mash_common.enrolment import EnrolmentRefused, EnrolmentToken, new_token


class TokenUnusable(DomainError):
    code = ErrorCode.FORBIDDEN


@dataclass(frozen=True)
class IssuedToken:
    token: EnrolmentToken
    borough: str
    expires_at: dt.datetime


def issue_token(
    session: Session,
    keys: CoordinatorKeys,
    borough: str,
    *,
    valid_for: dt.timedelta,
    issued_by: str,
    now: dt.datetime | None = None,
) -> IssuedToken:
    """A new token for `borough`'s node, stored with its secret sealed."""
    borough = require_borough_code(borough)
    now = now or utcnow()
    token = new_token()
    session.add(
        TokenRow(
            id=token.token_id,
            borough=borough,
            sealed_secret=keys.seal(token.secret.encode("ascii")),
            created_by=issued_by[:80],
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    session.flush()
    return IssuedToken(token, borough, now + valid_for)


def claim_token(
    session: Session, keys: CoordinatorKeys, token_id: str, *, now: dt.datetime
) -> tuple[TokenRow, bytes]:
    """The token row (locked for this transaction) and its MAC key, if it can still be used;
    raises EnrolmentRefused saying why not. The caller marks it used once the MAC checks."""
    from mash_common.enrolment import mac_key

    row = session.get(TokenRow, token_id, with_for_update=True)
    if row is None:
        raise EnrolmentRefused("no such enrolment token: ask the project team for a new one")
    if row.used_at is not None:
        raise EnrolmentRefused(
            "this enrolment token has been used already; each token enrols one node once"
        )
    if row.expires_at <= now:
        raise EnrolmentRefused(
            f"this enrolment token expired at {row.expires_at:%Y-%m-%d %H:%M} UTC; ask the "
            "project team for a new one"
        )
    return row, mac_key(keys.unseal(row.sealed_secret).decode("ascii"))
