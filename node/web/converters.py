"""URL parts the node's routes use: `<id:name>`, an id the store can hold (1 to ID_MAX).

An id beyond what the store's columns hold (2^63, or 2^31 on PostgreSQL) is no page: the route
does not match and the visitor gets 404, where an `<id:>` route sent the number to the store
and got a 500.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from node.store.models import ID_MAX


class StoreIdConverter(IntegerConverter):
    def __init__(self, url_map: Map, *_args: Any, **_kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=ID_MAX)


CONVERTERS = {"id": StoreIdConverter}
