/* The API token page: a Copy button beside a new token (without JavaScript, the person selects and copies it).
   Revoking asks first through the site-wide data-confirm of app.js. */
(function () {
  "use strict";

  var button = document.querySelector("[data-copy]");
  var input = button && document.getElementById(button.getAttribute("data-copy"));
  var status = document.querySelector("[data-copy-status]");
  if (!button || !input) {
    return;
  }
  input.addEventListener("focus", function () {
    input.select();
  });
  if (!navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(input.value).then(
      function () {
        if (status) {
          status.textContent = "Copied.";
        }
      },
      function () {
        input.select();
        if (status) {
          status.textContent = "Copying was refused: the token is selected, press Ctrl+C.";
        }
      }
    );
  });
})();
