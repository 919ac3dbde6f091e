"""The API's JSON parser: DRF's, with nesting bounded and strings checked (DEFAULT_PARSER_CLASSES).

Kept apart from vifsite/api.py, which imports rest_framework.views: DRF imports the parser classes while
it defines APIView, so this module must not need APIView itself."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Python's json recurses once per nesting level: a body of a few thousand brackets exhausts the stack, and
# far fewer break canonical JSON, the database and every recursive reader after it. Agents never need more.
MAX_JSON_DEPTH = 64
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why parsed JSON cannot be taken (nested deeper than ``max_depth``, or a string holding a lone surrogate
    escape such as \\ud800, which no UTF-8 text can carry), or None. Iterative: deep input cannot exhaust it."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return "JSON strings must be valid Unicode: a lone surrogate escape (\\ud800-\\udfff) is refused."
            continue
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= max_depth:
            return f"JSON nested more than {max_depth} levels deep is refused."
        stack.extend((child, depth + 1) for child in children)
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing nesting deeper than MAX_JSON_DEPTH and strings that are not Unicode."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep is refused.") from None
        problem = json_problem(data)
        if problem:
            raise ParseError(problem)
        return data
