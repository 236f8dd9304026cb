"""Read a server-sent events stream as the page's EventSource does: `event:` names the next `data:`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any


def strict_json(text: str) -> Any:
    """Parse JSON that must hold no NaN or Infinity (Python's json would accept them)."""
    def refuse(constant: str) -> Any:
        raise AssertionError(f"{constant} in a response")
    return json.loads(text, parse_constant=refuse)


def sse_events(lines: Iterable[str | bytes], parse: Callable[[str], Any] = strict_json
               ) -> list[tuple[str | None, Any]]:
    """Return the (event name, parsed data) pairs of a whole stream, in order, given its lines (str
    from httpx's iter_lines, or bytes from urllib); every data line is parsed strictly by default."""
    events: list[tuple[str | None, Any]] = []
    event = None
    for raw in lines:
        line = (raw.decode() if isinstance(raw, bytes) else raw).rstrip("\r\n")
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: "):
            events.append((event, parse(line[len("data: "):])))
    return events
