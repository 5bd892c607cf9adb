"""What may leave the hub: the firewall's one rule, applied to everything that goes out.

An item leaves in full only when its owning agency's professional has released it (and nothing
blocks release, such as an adult's withdrawn consent). Every other item, held or signposted,
leaves only as a signpost: the owning agency, its contact route and a reference, never its
title or content. The information product uses this, and so will a disclosure to another
borough: both carry exactly what `what_may_leave` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from node.store.models import ReleaseState


@dataclass(frozen=True)
class HubItem:
    """One agency's item as the hub holds it, with its release decision."""

    agency_code: str
    title: str
    content: str
    reference: str  # the agency's own reference, or one the hub gave it
    release_state: ReleaseState
    lawful_basis: str = ""
    borough: str = ""  # the borough whose agency holds it (another's, if it came in an answer)


@dataclass(frozen=True)
class AgencyContact:
    """Who holds an item, and how a professional outside the hub asks them."""

    name: str
    contact_route: str


@dataclass(frozen=True)
class ReleasedItem:
    agency: str
    title: str
    content: str
    reference: str
    lawful_basis: str
    borough: str = ""

    @property
    def holder(self) -> str:
        """ "Police, Hackney": the agency, labelled with its borough."""
        return f"{self.agency}, {self.borough}" if self.borough else self.agency


@dataclass(frozen=True)
class Signpost:
    agency: str
    contact_route: str
    reference: str
    borough: str = ""

    @property
    def holder(self) -> str:
        return f"{self.agency}, {self.borough}" if self.borough else self.agency


@dataclass(frozen=True)
class Outgoing:
    """What leaves the hub: the released items in full, and a signpost for every other item."""

    released: tuple[ReleasedItem, ...]
    signposts: tuple[Signpost, ...]


def what_may_leave(
    items: Iterable[HubItem], agencies: Mapping[str, AgencyContact], *, release_blocked: bool
) -> Outgoing:
    """Apply the firewall to `items`, in order. With `release_blocked`, nothing leaves in full."""
    released: list[ReleasedItem] = []
    signposts: list[Signpost] = []
    for item in items:
        agency = agencies[item.agency_code]
        if item.release_state is ReleaseState.RELEASED and not release_blocked:
            released.append(
                ReleasedItem(
                    agency.name,
                    item.title,
                    item.content,
                    item.reference,
                    item.lawful_basis,
                    item.borough,
                )
            )
        else:
            signposts.append(
                Signpost(agency.name, agency.contact_route, item.reference, item.borough)
            )
    return Outgoing(tuple(released), tuple(signposts))
