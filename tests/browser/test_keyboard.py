"""A keyboard user's pages: the skip link first, every control reached with Tab in turn, each with a focus ring one
can see, and the phone menu opened with Enter and closed with Escape."""

import re

import pytest

from tests.browser.conftest import MOBILE, open_tab

pytestmark = pytest.mark.browser

# What the browser puts in the Tab order: the same list a person would reach.
TABBABLE = (
    "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), "
    "textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])"
)

# The focused element as the person sees it: a stable key, whether it is on screen, and its focus indicator.
FOCUSED = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    const described = element.id || element.getAttribute('name') || element.getAttribute('href')
        || element.textContent.trim().slice(0, 40);
    return {
        key: element.dataset.tabKey || null,
        label: element.tagName.toLowerCase() + ' ' + described,
        onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight,
        outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        shadow: style.boxShadow !== 'none',
    };
}"""

# Number every visible tabbable element so that the walk can tell which ones it reached.
MARK_TABBABLE = """selector => {
    const visible = element => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== 'hidden';
    };
    const elements = [...document.querySelectorAll(selector)].filter(element => {
        // A closed <details> hides everything but its summary from the Tab order.
        const closed = element.closest('details:not([open])');
        if (closed && element !== closed.querySelector(':scope > summary')) return false;
        // A group of radio buttons is one Tab stop (its checked button, else its first); arrows move inside it.
        if (element.type === 'radio') {
            const group = [...(element.form || document).querySelectorAll('input[type=radio]')]
                .filter(other => other.name === element.name && visible(other));
            if (element !== (group.find(other => other.checked) || group[0])) return false;
        }
        return visible(element);
    });
    elements.forEach((element, index) => { element.dataset.tabKey = String(index); });
    return elements.length;
}"""


def _walk_with_tab(page, *, limit: int = 400) -> list[dict]:
    """Press Tab until focus leaves the page or comes back round; what had the focus at each step."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["label"].startswith("body"):
            break
        if stops and focused["key"] is not None and focused["key"] == stops[0]["key"]:
            break
        stops.append(focused)
    return stops


@pytest.mark.parametrize(
    "path",
    ["/", "/recommendations/", "/recommendations/?q=torture&response=accepted", "/recommendations/{ratify}/"],
)
def test_tab_reaches_every_control_in_turn_each_with_a_visible_focus_ring(desktop, live_site, path):
    page = desktop.page
    page.goto(live_site.url + path.format(ratify=live_site.ratify.pk))
    tabbable = page.evaluate(MARK_TABBABLE, TABBABLE)

    stops = _walk_with_tab(page)

    assert stops, "Tab focuses nothing"
    assert stops[0]["label"] == "a #main"  # the skip link comes first
    reached = [stop["key"] for stop in stops if stop["key"] is not None]
    unreached = page.evaluate(
        "reached => [...document.querySelectorAll('[data-tab-key]')]"
        ".filter(element => !reached.includes(element.dataset.tabKey)).map(element => element.outerHTML.slice(0, 120))",
        reached,
    )
    assert unreached == [], "cannot be reached with Tab"
    assert len(reached) == tabbable
    assert all(stop["key"] is not None for stop in stops), "Tab stops on something hidden"
    unseen = [stop["label"] for stop in stops if not stop["onScreen"]]
    assert unseen == [], "focused but not scrolled into view"
    ringless = [stop["label"] for stop in stops if not (stop["outline"] or stop["shadow"])]
    assert ringless == [], "focused without a visible focus indicator"
    desktop.assert_clean()


def test_skip_link_moves_focus_past_the_header_to_the_page_content(desktop, live_site):
    page = desktop.page
    page.goto(live_site.url + "/recommendations/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The next Tab goes into the content, not back to the header's navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_phone_menu_opens_with_enter_and_closes_with_escape(browser, live_site):
    context, tab = open_tab(browser, live_site, viewport=MOBILE, is_mobile=True, has_touch=True)
    page = tab.page
    page.goto(live_site.url + "/recommendations/")
    toggle = page.get_by_role("button", name="Menu")
    states = page.get_by_role("navigation", name="Main").get_by_role("link", name="States")

    # Skip link, brand, then the menu button.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.hasAttribute('data-nav-toggle')")
    assert not states.is_visible()

    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert states.is_visible()
    # The next Tab goes into the menu that just opened.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#site-nav') !== null")

    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not states.is_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-nav-toggle')")  # focus back on the button

    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-expanded") == "true"
    states.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/states/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "States"
    tab.assert_clean()
    context.close()
