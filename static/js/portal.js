// Small behaviours htmx does not cover, hooked by data- attributes and htmx events.
(function () {
  "use strict";

  // Read a status change out loud (the server names it in an HX-Trigger header).
  document.body.addEventListener("portal:announce", function (event) {
    var announcer = document.getElementById("announcer");
    if (announcer && event.detail && event.detail.value) {
      announcer.textContent = event.detail.value;
    }
  });

  // A new entry line takes the focus in its first field.
  document.body.addEventListener("htmx:afterSwap", function () {
    var field = document.querySelector("[data-autofocus]");
    if (field) {
      field.removeAttribute("data-autofocus");
      field.focus();
    }
  });

  // htmx does not swap error answers: show their message in the page's alert region instead.
  document.body.addEventListener("htmx:responseError", function (event) {
    var alerts = document.getElementById("alerts");
    var xhr = event.detail.xhr;
    if (!alerts) { return; }
    var message = document.createElement("p");
    message.className = "alert alert-error";
    message.setAttribute("role", "alert");
    var text = (xhr.responseText || "").replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
    message.textContent = text.length > 0 && text.length < 400
      ? text
      : document.body.dataset.messageServerError + " (" + xhr.status + ")";
    alerts.replaceChildren(message);
  });

  document.body.addEventListener("htmx:sendError", function () {
    var alerts = document.getElementById("alerts");
    if (!alerts) { return; }
    var message = document.createElement("p");
    message.className = "alert alert-warning";
    message.textContent = document.body.dataset.messageUnreachable;
    alerts.replaceChildren(message);
  });

  // A sending form cannot be sent twice by an impatient second click.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    window.setTimeout(function () {
      form.querySelectorAll("[data-disable-on-submit]").forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    }, 0);
  });

  // Refuse an oversize invoice before it is uploaded.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxBytes) { return; }
    var file = input.files && input.files[0];
    var limit = parseInt(input.dataset.maxBytes, 10);
    input.setCustomValidity(file && file.size > limit ? document.body.dataset.messageFileTooLarge : "");
    input.reportValidity();
  });
})();
