"""The rows an import set aside (`mash-node import --rejects FILE`), written with their reasons and
their content, so that they can be put right and imported again.

FILE is JSON Lines, one refused row a line, in file and line order:
`{"file": ..., "line": ..., "errors": [{"field": ..., "reason": ...}], "row": {...}}`, where
`row` is the row as read (null for a line that was no row at all, such as broken JSON). It holds
personal data, so it is created 0600 and never logged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from node.importing.rows import BadRow, FileRefused, open_rows
from node.importing.service import Rejected


def write_rejects(path: Path, rejected: Rejected) -> int:
    """Write the refused rows to `path` (created 0600; an existing file is replaced);
    return how many were written."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
        for file, lines in rejected.items():
            for line, raw in _rows_at(Path(file), set(lines)):
                entry = {
                    "file": file,
                    "line": line,
                    "errors": [{"field": f, "reason": r} for f, r in lines[line]],
                    "row": raw,
                }
                out.write(json.dumps(entry) + "\n")  # ensure_ascii: any text survives
                written += 1
    return written


def _rows_at(path: Path, wanted: set[int]) -> list[tuple[int, dict | None]]:
    """The rows of a file at some lines, as read (None where a line was no row), in line order;
    every wanted line is there, with None when the file cannot give it again."""
    found: dict[int, dict | None] = dict.fromkeys(wanted)
    try:
        _kind, rows = open_rows(path)
    except FileRefused:
        return sorted(found.items())
    for line, raw in rows:
        if line in found and not isinstance(raw, BadRow):
            found[line] = raw
    return sorted(found.items())
