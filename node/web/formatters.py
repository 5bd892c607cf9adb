"""Words the pages share: how roles are named to people (the views and templates use these)."""

from __future__ import annotations

from node.store.models import Role

ROLE_NAMES = {
    Role.AGENCY_PROFESSIONAL: "Agency professional",
    Role.MASH_MANAGER: "MASH manager",
    Role.NODE_ADMIN: "Node administrator",
    Role.AUDITOR: "Auditor",
    Role.PARTNERSHIP_ANALYST: "Partnership analyst",
}
