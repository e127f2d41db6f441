/* uprtrax: the import run page follows its job live. Progressive enhancement: without this file the page
   reloads itself every few seconds (a <noscript> meta refresh) and has a link to refresh it. */
(function () {
  "use strict";

  var panel = document.querySelector("[data-import-progress]");
  if (!panel || !window.fetch) {
    return;
  }
  var url = panel.getAttribute("data-url");
  var phaseEl = panel.querySelector("[data-progress-phase]");
  var rowsEl = panel.querySelector("[data-progress-rows]");
  var elapsedEl = panel.querySelector("[data-progress-elapsed]");
  var noteEl = panel.querySelector("[data-progress-note]");
  var labelsEl = document.getElementById("import-phases");
  var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  var startedAt = Date.now() - 1000 * (parseInt(panel.getAttribute("data-elapsed"), 10) || 0);
  var failures = 0;
  var INTERVAL = 1000;

  function secondsText(total) {
    var minutes = Math.floor(total / 60);
    var seconds = total % 60;
    return minutes ? minutes + " min " + (seconds < 10 ? "0" : "") + seconds + " s" : seconds + " s";
  }

  function setText(el, text) {
    // Only on change: the phase sits in an aria-live region, which must not repeat itself every second.
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }

  function tick() {
    setText(elapsedEl, secondsText(Math.max(0, Math.round((Date.now() - startedAt) / 1000))));
  }

  function show(run) {
    var progress = run.progress || {};
    if (progress.phase) {
      setText(phaseEl, labels[progress.phase] || progress.phase);
    }
    if (typeof progress.rows === "number") {
      setText(rowsEl, progress.rows.toLocaleString("en"));
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (run) {
        failures = 0;
        if (run.status !== "pending" && run.status !== "running") {
          // Finished: the page itself shows the report.
          window.location.reload();
          return;
        }
        show(run);
        window.setTimeout(poll, INTERVAL);
      })
      .catch(function () {
        failures += 1;
        if (failures < 5) {
          window.setTimeout(poll, INTERVAL * failures);
        } else if (noteEl) {
          setText(noteEl, "The progress cannot be read just now. Refresh the page to see how far the import is.");
        }
      });
  }

  if (noteEl) {
    noteEl.textContent = "This page follows the import as it goes. You may leave it; the import goes on, and " +
      "this page shows the result when you come back.";
  }
  tick();
  window.setInterval(tick, 1000);
  window.setTimeout(poll, INTERVAL);
})();
