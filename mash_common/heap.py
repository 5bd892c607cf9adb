"""A long-running service's heap, settled once it has started."""

from __future__ import annotations

import gc


def freeze_what_started() -> None:
    """Put everything made while the service started (modules, the app and its templates, keys,
    peers' filters: over 100,000 objects that live as long as the process) out of the cycle
    collector's reach. A full collection otherwise walks them all, a pause of tens of
    milliseconds in whichever request set it off (on a node, the tail of an existence check);
    what requests make is collected as before."""
    gc.collect()
    gc.freeze()
