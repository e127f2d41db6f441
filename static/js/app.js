/* uprtrax: progressive enhancement only. Every page works without this file. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // Search page: facets apply as soon as they change (htmx, on the form's "change"), the text only when the
  // person submits it (Enter or the Search button), not each time the box loses focus.
  var searchText = document.querySelector("[data-search-text]");
  if (searchText) {
    searchText.addEventListener("change", function (event) {
      event.stopPropagation();
    });
  }

  // Search page on a phone: the facets start folded (their summary says how many are chosen), so that the
  // results come first; a person who opens them keeps them open while filters reload the results.
  var narrow = window.matchMedia("(max-width: 59.99em)");
  var facetsOpen = !narrow.matches;
  function facetsPanel(root) {
    var details = root.querySelector("[data-facets-panel]");
    if (details) {
      details.open = facetsOpen;
      details.addEventListener("toggle", function () {
        if (!narrow.matches && !details.open) {
          details.open = true; // beside the results there is no toggle to open them again
        }
        facetsOpen = details.open;
      });
    }
  }
  facetsPanel(document);
  document.body.addEventListener("htmx:afterSwap", function (event) {
    facetsPanel(event.detail.target);
  });

  // Mobile navigation: the menu button shows and hides the navigation and search on narrow screens.
  var toggle = document.querySelector("[data-nav-toggle]");
  var panel = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!toggle || !panel) {
    return;
  }

  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    panel.classList.toggle("is-open", open);
  }

  setOpen(false);

  toggle.addEventListener("click", function () {
    setOpen(toggle.getAttribute("aria-expanded") !== "true");
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();

// Assessing (helper "assessing"): a form with data-confirm asks before it is sent (deleting an assessment); the
// error summary of a form sent back (or a conflict) takes the focus, so that a screen reader reads it first.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  var first = document.querySelector("[data-focus-here]") || document.querySelector("[data-focus-errors] [tabindex]");
  if (first) {
    first.focus();
  }
})();
