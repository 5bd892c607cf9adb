"""The firewall's one rule for what leaves the hub (`node.firewall.what_may_leave`), by property:
no held or signposted item's title or content ever comes out, every item comes out exactly once
(in full or as a signpost), and nothing comes out in full while release is blocked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from node.firewall import AgencyContact, HubItem, what_may_leave
from node.store.models import ReleaseState

AGENCIES = {
    "police": AgencyContact("Police", "MASH police desk"),
    "health": AgencyContact("Health", "Safeguarding nurse"),
    "education": AgencyContact("Education", "Education safeguarding lead"),
}
# Titles and contents are unique markers, so a leak is found by searching the output for them.
items = st.lists(
    st.builds(
        HubItem,
        agency_code=st.sampled_from(sorted(AGENCIES)),
        title=st.uuids().map(lambda u: f"title-{u}"),
        content=st.uuids().map(lambda u: f"content-{u}"),
        reference=st.text(min_size=1, max_size=12),
        release_state=st.sampled_from(list(ReleaseState)),
        lawful_basis=st.text(max_size=12),
    ),
    max_size=12,
)


@given(items, st.booleans())
def test_only_released_items_leave_in_full(hub_items: list[HubItem], blocked: bool) -> None:
    out = what_may_leave(hub_items, AGENCIES, release_blocked=blocked)
    text = repr(out)
    for item in hub_items:
        leaves_in_full = item.release_state is ReleaseState.RELEASED and not blocked
        assert (item.content in text) is leaves_in_full
        assert (item.title in text) is leaves_in_full
    assert len(out.released) + len(out.signposts) == len(hub_items)
    if blocked:
        assert out.released == ()


@given(items)
def test_a_signpost_says_who_holds_it_and_how_to_ask(hub_items: list[HubItem]) -> None:
    out = what_may_leave(hub_items, AGENCIES, release_blocked=False)
    held = [i for i in hub_items if i.release_state is not ReleaseState.RELEASED]
    assert [(s.agency, s.contact_route, s.reference) for s in out.signposts] == [
        (AGENCIES[i.agency_code].name, AGENCIES[i.agency_code].contact_route, i.reference)
        for i in held
    ]
