"""Disclosure between boroughs (DESIGN section 7): a hub's request to the borough that holds
something on a referral's subject (`asking`), the holding hub's review, item by item, and its
answer (`holding`), and their delivery until acknowledged (`delivery`)."""

from node.errors import DomainError


class DisclosureError(DomainError):
    """A step on a disclosure cannot be taken as asked."""
