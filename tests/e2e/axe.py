"""axe-core in a Playwright page: the accessibility check the browser tests run on every page they visit.

axe-core comes pinned inside the `axe-playwright-python` wheel (requirements.txt, `# Tests`), so nothing is
downloaded at test time. We inject its `axe.min.js` ourselves rather than use the package's wrapper, so the
results stay plain dicts and the rule set and impact filter are ours.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@cache
def axe_source() -> str:
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def check_page(page: Any, *, exclude: tuple[str, ...] | list[str] = ()) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; return the serious and critical violations, each as axe reports
    it (`id`, `impact`, `help`, `helpUrl`, `nodes`). `exclude` takes CSS selectors of regions to leave out
    (say, a third-party widget the page does not control)."""
    # Runtime.evaluate, which page.evaluate uses, is not subject to the page's Content-Security-Policy.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    context = {"include": [["html"]], "exclude": [[selector] for selector in exclude]}
    options = {"resultTypes": ["violations"]}
    results = page.evaluate(f"axe.run({json.dumps(context)}, {json.dumps(options)})")
    return [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation, with the first few offending elements, for an assertion message."""
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node.get('target')}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
    return "\n".join(lines)


def assert_accessible(page: Any, *, exclude: tuple[str, ...] | list[str] = ()) -> None:
    """Fail with a readable list when axe-core finds a serious or critical violation on the page."""
    violations = check_page(page, exclude=exclude)
    assert not violations, f"axe-core on {page.url}:\n{describe(violations)}"
