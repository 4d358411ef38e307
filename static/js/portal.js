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

  // A section of the deposit form that the invoice's reading filled opens to show it.
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    var node = (event.detail && event.detail.target) || event.target;
    var section = node instanceof Element ? node.closest("details.form-section") : null;
    if (section && section.querySelector(".read-mark")) { section.open = true; }
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
      if (event.defaultPrevented) { return; }  // held back (uploads still going up)
      form.querySelectorAll("[data-disable-on-submit]").forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    }, 0);
  });

  // Back to a page the browser kept (bfcache): its Send button works again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("[data-disable-on-submit]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  });
})();

// ---------------------------------------------------------------------------------------------
// Entries editor: after an editor button ([data-line-edit]) did its work, number the lines
// again, put the focus somewhere useful after a removal, and have the totals recomputed.
(function () {
  "use strict";

  var pendingFocus = null;

  function lines() {
    return document.getElementById("entry-lines");
  }

  function renumber() {
    var container = lines();
    if (!container) { return; }
    var template = container.dataset.legend || "Line {n}";
    container.querySelectorAll(":scope > fieldset.entry-line > legend").forEach(function (legend, index) {
      legend.textContent = template.replace("{n}", String(index + 1));
    });
  }

  function firstField(fieldset) {
    return fieldset ? fieldset.querySelector("input, select, textarea") : null;
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!(elt instanceof Element) || !elt.matches(".remove-line[data-line-edit]")) { return; }
    var line = elt.closest("fieldset.entry-line");
    var next = line && line.nextElementSibling;
    var previous = line && line.previousElementSibling;
    pendingFocus = firstField(next) || firstField(previous) || document.getElementById("add-line");
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    // A removed button is detached: htmx then reports on an ancestor, so ask the request.
    var config = event.detail.requestConfig;
    var elt = config ? config.elt : event.detail.elt;
    if (!(elt instanceof Element) || !elt.hasAttribute("data-line-edit") || !event.detail.successful) { return; }
    renumber();
    if (elt.matches(".remove-line") && pendingFocus) {
      pendingFocus.focus();
      var announcer = document.getElementById("announcer");
      var container = lines();
      if (announcer && container) { announcer.textContent = container.dataset.removedMessage || ""; }
    }
    pendingFocus = null;
    document.body.dispatchEvent(new CustomEvent("portal:lines-changed", { bubbles: true }));
  });
})();

// Counterparty suggestions: arrow keys move from the name field into the list and along it,
// Escape goes back to the field (Tab and clicks work as well: they are plain buttons).
(function () {
  "use strict";

  function suggestionButtons(list) {
    return Array.prototype.slice.call(list.querySelectorAll("button"));
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLElement)) { return; }
    var listId = target.getAttribute("aria-controls");
    var list = listId ? document.getElementById(listId) : target.closest(".suggestions");
    if (!list || !list.classList.contains("suggestions")) { return; }
    var buttons = suggestionButtons(list);
    var field = document.querySelector('[aria-controls="' + list.id + '"]');
    var position = buttons.indexOf(target);
    var next = null;
    if (event.key === "ArrowDown") {
      next = buttons[Math.min(position + 1, buttons.length - 1)];
    } else if (event.key === "ArrowUp") {
      next = position > 0 ? buttons[position - 1] : field;
    } else if (event.key === "Escape" && position >= 0) {
      next = field;
    } else if (event.key === "Enter" && buttons.length) {
      // Enter never sends the form from here: on a suggestion it picks that one; in the field
      // it picks the only suggestion, and otherwise leaves the name as typed.
      event.preventDefault();
      if (position >= 0) { buttons[position].click(); }
      else if (buttons.length === 1) { buttons[0].click(); }
      return;
    }
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
})();
