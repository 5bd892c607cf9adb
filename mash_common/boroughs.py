"""A borough code: the one name a node has in config, certificates, envelopes and the directory."""

from __future__ import annotations

import re

# Lower-case letters, digits and hyphens, starting with a letter: a valid DNS label, so it can be
# the first label of the node's certificate name (`<code>.mash-node`).
_BOROUGH_CODE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


class BoroughCodeInvalid(ValueError):
    """The text is not a borough code."""

    code = "invalid"

    def __init__(self, text: object) -> None:
        self.message = (
            f"borough code {text!r} must be 2-40 lower-case letters, digits and hyphens, "
            "starting with a letter (e.g. 'hackney')"
        )
        super().__init__(self.message)


def is_borough_code(text: object) -> bool:
    return isinstance(text, str) and _BOROUGH_CODE.fullmatch(text) is not None


def require_borough_code(text: object) -> str:
    """`text` if it is a borough code; raises BoroughCodeInvalid otherwise."""
    if not is_borough_code(text):
        raise BoroughCodeInvalid(text)
    assert isinstance(text, str)
    return text
