/* uprtrax, assessing many at once: the work view's rows saved in place (htmx), and the search page's checkboxes.
   Progressive enhancement only: without this file every row saves with its button and the page comes back. */
(function () {
  "use strict";

  var FIELDS = ["status", "comment", "visibility"];

  // The row's form, from any element of the row (htmx names the form for some events, the row for others).
  function rowForm(element) {
    if (!element || !element.closest) {
      return null;
    }
    var row = element.closest(".work-row");
    return element.closest("form[data-work-row]") || (row && row.querySelector("form[data-work-row]"));
  }

  // Search page: ticking a result chooses it for "Assess the selected"; it must not reload the search (the results
  // sit inside the search form, whose every change applies the filters).
  document.addEventListener(
    "change",
    function (event) {
      if (event.target.matches && event.target.matches("[data-bulk-pick]")) {
        event.stopPropagation();
      }
    },
    true
  );

  // Enter on a status or visibility list never submits the row by surprise (only the Save button does).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.tagName === "SELECT" && rowForm(event.target)) {
      event.preventDefault();
    }
  });

  // A row without a status is not saved on its own (someone typing a comment first); its Save button says why.
  document.addEventListener("htmx:confirm", function (event) {
    var form = rowForm(event.target);
    var trigger = event.detail.triggeringEvent;
    if (form && trigger && trigger.type === "change" && !form.elements.status.value) {
      event.preventDefault();
    }
  });

  // One save at a time per row (hx-sync drops the others): what the person changed while it was on its way is put
  // back into the row that replaces it, and saved in turn, with the new version.
  var pending = {};
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = rowForm(event.detail.elt);
    var config = event.detail.requestConfig;
    if (!form || !config) {
      return;
    }
    // A save that came back from somewhere else (the login page, once the session expired) replaces no row: the
    // page reloads instead, which leads to the login and back here.
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && new URL(xhr.responseURL).pathname !== new URL(config.path, window.location).pathname) {
      event.detail.shouldSwap = false;
      window.location.reload();
      return;
    }
    var changed = {};
    var any = false;
    FIELDS.forEach(function (name) {
      var field = form.elements[name];
      if (field && config.formData && field.value !== (config.formData.get(name) || "")) {
        changed[name] = field.value;
        any = true;
      }
    });
    var row = form.closest(".work-row");
    if (any && row) {
      pending[row.id] = changed;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var id = event.detail.target && event.detail.target.id;
    var row = id && document.getElementById(id);
    if (!row || !row.classList.contains("work-row")) {
      return;
    }
    var form = row.querySelector("form[data-work-row]");
    var changed = pending[id];
    delete pending[id];
    if (form && changed) {
      Object.keys(changed).forEach(function (name) {
        if (form.elements[name]) {
          form.elements[name].value = changed[name];
        }
      });
      if (!row.classList.contains("work-row--conflict")) {
        form.setAttribute("data-resave", "");
      }
      return;
    }
    // "Saved 10:42" goes into the row's live region once it is in the page, so that screen readers announce it.
    var saved = row.querySelector("[data-saved]");
    if (saved) {
      window.setTimeout(function () {
        saved.textContent = saved.getAttribute("data-saved");
      }, 100);
    }
  });

  // htmx listens to the new row once it has settled: only then can it save it again.
  document.addEventListener("htmx:afterSettle", function (event) {
    var form = rowForm(event.target);
    if (form && form.hasAttribute("data-resave")) {
      form.removeAttribute("data-resave");
      window.htmx.trigger(form, "change");
    }
  });

  // The server said no (an expired session, an error): say so in the row instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var form = rowForm(event.detail.elt);
    var message = form && form.querySelector(".work-row__saved");
    if (!message) {
      return;
    }
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    message.textContent =
      status === 403
        ? "Not saved: you may no longer edit this. Reload the page."
        : "Not saved (the server answered " + status + "). Reload the page and try again.";
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = rowForm(event.detail.elt);
    var message = form && form.querySelector(".work-row__saved");
    if (message) {
      message.textContent = "Not saved: the connection failed. Try again.";
    }
  });
})();
