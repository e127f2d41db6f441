"""axe-core in the browser: the copy shipped inside axe-playwright-python's wheel, injected into the page (nothing is
loaded from another site), run against the page as it is now.

Only serious and critical violations fail a test: moderate and minor ones are reported by axe as matters of taste
(e.g. a region without a landmark) and would make the check too brittle to keep.
"""

from functools import cache

SERIOUS_IMPACTS = frozenset({"serious", "critical"})
# axe's default rules: WCAG 2.x A and AA plus its best practices (experimental rules stay off).
RUN_OPTIONS = {"resultTypes": ["violations"]}


@cache
def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def axe_violations(page, *, impacts=SERIOUS_IMPACTS) -> list[dict]:
    """The violations axe finds on the page, restricted to the given impacts."""
    response = _axe().run(page, options=RUN_OPTIONS).response
    return [violation for violation in response["violations"] if violation["impact"] in impacts]


def describe_violations(violations: list[dict], *, max_nodes: int = 5) -> str:
    """One paragraph per violation: rule id, impact, what it means and where (CSS selectors of the elements)."""
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        more = f" and {len(targets) - max_nodes} more" if len(targets) > max_nodes else ""
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"  at {', '.join(targets[:max_nodes])}{more}\n"
            f"  {violation['helpUrl']}"
        )
    return "\n".join(lines)


def assert_no_serious_violations(page) -> None:
    """Fail listing every serious or critical violation axe finds on the current page."""
    violations = axe_violations(page)
    report = describe_violations(violations)
    assert not violations, f"axe found {len(violations)} serious or critical violation(s) on {page.url}:\n{report}"
