// The deposit page's uploads: files chosen or dropped go up at once, one request each, with
// their own progress bar; the server answers each file's line (ready, with the token the form
// sends, or refused with the reason). Photos of one invoice's pages are joined into one PDF
// before the form is sent. Without script, the same inputs are posted with the form.
(function () {
  "use strict";

  var form = document.getElementById("deposit-form");
  if (!form) { return; }
  var list = document.getElementById("draft-list");
  var photoBox = document.getElementById("photo-pages");
  var photoList = document.getElementById("photo-page-list");
  var photoStatus = document.getElementById("photo-pages-status");
  var accepted = (form.dataset.accept || "").split(" ");
  var maxBytes = parseInt(form.dataset.maxBytes, 10);
  var maxFiles = parseInt(form.dataset.maxFiles, 10);
  var pending = 0;
  var UPLOAD_TIMEOUT_MS = 180000;  // a 5 MB file on a slow phone connection
  var waitingSubmitter = null;

  function message(name, values) {
    var text = form.dataset[name] || "";
    Object.keys(values || {}).forEach(function (key) { text = text.replace("{" + key + "}", values[key]); });
    return text;
  }

  function fileCount() {
    var photos = photoList.querySelectorAll("input[name=photo_draft]").length ? 1 : 0;
    return list.querySelectorAll("input[name=draft]").length + photos;
  }

  // Per-invoice details (reference, counterparty, entries) are offered for one file only.
  function refresh() {
    var several = fileCount() + pending > 1;
    var single = document.getElementById("single-invoice");
    var note = document.getElementById("several-files-note");
    var holdsDetails = single && single.querySelector("details[open]");
    if (single && !holdsDetails) { single.hidden = several; }
    if (note) { note.hidden = !several; }
    var status = document.getElementById("upload-status");
    var ready = fileCount();
    if (status && pending === 0) { status.textContent = ready ? status.dataset.ready.replace("{count}", String(ready)) : ""; }
    var pages = photoList.querySelectorAll("input[name=photo_draft]").length;
    photoBox.hidden = photoList.children.length === 0;
    photoStatus.textContent = pages === 1 ? photoStatus.dataset.one
      : pages > 1 ? photoStatus.dataset.many.replace("{count}", String(pages)) : "";
  }

  function line(file) {
    var item = document.createElement("li");
    item.className = "draft draft-uploading";
    var name = document.createElement("span");
    name.className = "draft-name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", message("messageUploading", { file: file.name }));
    item.append(name, " ", bar);
    return item;
  }

  function refuse(item, file, reason) {
    var html = document.createElement("li");
    html.className = "draft draft-refused";
    html.setAttribute("role", "alert");
    var name = document.createElement("span");
    name.className = "draft-name";
    name.textContent = file.name;
    var why = document.createElement("span");
    why.className = "error";
    why.textContent = reason;
    html.append(name, " ", why);
    item.replaceWith(html);
  }

  function clientRefusal(file) {
    var dot = file.name.lastIndexOf(".");
    var extension = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
    if (accepted.indexOf(extension) < 0) { return message("messageWrongType"); }
    if (file.size > maxBytes) { return message("messageTooLarge"); }
    if (fileCount() + pending >= maxFiles) { return message("messageTooMany"); }
    return null;
  }

  var waiting = document.getElementById("upload-waiting");

  function stopWaiting() {
    waitingSubmitter = null;
    if (waiting) { waiting.hidden = true; }
  }

  // Send pressed while files were going up: send once they are all up, unless one of them was
  // refused on the way (its reason must be read, not lost to the next page).
  // One invoice uploaded alone: ask what it says (the answer fills the form's blank fields).
  var readToken = null;
  function askReading() {
    var panel = document.getElementById("invoice-reading");
    var tokens = list.querySelectorAll("input[name=draft]");
    if (!panel || !window.htmx) { return; }
    if (tokens.length !== 1 || photoList.querySelector("li")) {
      readToken = null;
      panel.replaceChildren();
      return;
    }
    if (tokens[0].value === readToken) { return; }
    readToken = tokens[0].value;
    window.htmx.trigger(panel, "portal:read");
  }

  function finished() {
    pending -= 1;
    refresh();
    if (pending === 0) { askReading(); }
    if (pending > 0 || waitingSubmitter === null) { return; }
    var submitter = waitingSubmitter;
    stopWaiting();
    var refused = list.querySelector(".draft-refused") || photoList.querySelector(".draft-refused");
    if (refused) {
      refused.setAttribute("tabindex", "-1");
      refused.focus();
      return;
    }
    form.requestSubmit(submitter instanceof HTMLElement ? submitter : undefined);
  }

  function upload(file, photo) {
    var item = line(file);
    (photo ? photoList : list).append(item);
    var refusal = clientRefusal(file);
    if (refusal) { refuse(item, file, refusal); refresh(); return; }
    pending += 1;
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("generated_reference", form.elements.generated_reference.value);
    data.append("invoice_file", file, file.name);
    if (photo) { data.append("photo", "1"); }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.stageUrl);
    var bar = item.querySelector("progress");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { bar.value = Math.round((event.loaded / event.total) * 100); }
    });
    xhr.addEventListener("load", function () {
      if ((xhr.status === 200 || xhr.status === 422) && xhr.responseText.trim().indexOf("<li") === 0) {
        item.outerHTML = xhr.responseText;
      } else {
        refuse(item, file, message("messageUploadFailed") + " (" + xhr.status + ")");
      }
      finished();
    });
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    ["error", "timeout", "abort"].forEach(function (type) {
      xhr.addEventListener(type, function () {
        refuse(item, file, message("messageUploadFailed"));
        finished();
      });
    });
    xhr.send(data);
    refresh();
  }

  function take(files, photo) {
    // Files kept from the previous attempt give way to a new choice (the user chose again).
    list.querySelectorAll(".draft-kept").forEach(function (kept) { kept.remove(); });
    var note = document.getElementById("drafts-kept");
    if (note) { note.remove(); }
    Array.prototype.forEach.call(files, function (file) { upload(file, photo); });
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.stage) { return; }
    input.setCustomValidity("");
    take(input.files, input.dataset.stage === "photo");
    // The files are on the server now: the form sends their tokens, never the bytes again.
    input.dataset.staged = "true";
    if (input.id === "add-page-input") { input.value = ""; }
  });

  // The whole page takes a drop; the drop zone shows where it lands.
  function carriesFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") >= 0;
  }
  document.addEventListener("dragover", function (event) {
    if (!carriesFiles(event)) { return; }
    event.preventDefault();
    document.body.classList.add("dragging-files");
  });
  document.addEventListener("dragleave", function (event) {
    if (event.relatedTarget === null) { document.body.classList.remove("dragging-files"); }
  });
  document.addEventListener("drop", function (event) {
    document.body.classList.remove("dragging-files");
    if (!carriesFiles(event)) { return; }
    event.preventDefault();  // never let the browser open the file in place of the page
    if (!event.dataTransfer.files.length) { return; }
    var input = form.elements.invoice_file;
    try { input.files = event.dataTransfer.files; } catch (ignored) { /* older browsers */ }
    take(event.dataTransfer.files, false);
    input.dataset.staged = "true";
  });

  // A staged file taken out of the list is not sent.
  form.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest(".draft-discard") : null;
    if (!button) { return; }
    event.preventDefault();
    var item = button.closest("li");
    var next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    var focus = next ? next.querySelector(".draft-discard") : null;
    (focus || form.elements.invoice_file).focus();
    refresh();
    askReading();
  });

  function joinPhotos(submitter) {
    var tokens = Array.prototype.map.call(photoList.querySelectorAll("input[name=photo_draft]"),
      function (input) { return input.value; });
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    tokens.forEach(function (token) { data.append("draft", token); });
    pending += 1;
    fetch(form.dataset.joinUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (html) { return { ok: response.ok, html: html.trim() }; });
      })
      .then(function (answer) {
        if (answer.ok && answer.html.indexOf("<li") === 0) {
          photoList.replaceChildren();  // the pages are one PDF now
          list.insertAdjacentHTML("beforeend", answer.html);
          waitingSubmitter = submitter;
        } else {
          // Refused (too large together, say): the pages stay, with the reason under them.
          stopWaiting();
          if (answer.html.indexOf("<li") === 0) { photoList.insertAdjacentHTML("beforeend", answer.html); }
          else { photoList.insertAdjacentHTML("beforeend", "<li class=\"draft draft-refused\" role=\"alert\"></li>"); photoList.lastElementChild.textContent = message("messageUploadFailed"); }
        }
        finished();
      })
      .catch(function () {
        stopWaiting();
        finished();
      });
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var sending = !submitter || submitter.name === "submit";
    if (!sending) { return; }
    if (pending > 0) {
      event.preventDefault();
      waitingSubmitter = submitter || true;
      if (waiting) { waiting.hidden = false; }
      return;
    }
    var refused = list.querySelector(".draft-refused") || photoList.querySelector(".draft-refused");
    if (refused && fileCount() === 0) {
      // Nothing can be sent: keep the reason in sight rather than lose it to a new page.
      event.preventDefault();
      refused.setAttribute("tabindex", "-1");
      refused.focus();
      return;
    }
    var photos = photoList.querySelectorAll("input[name=photo_draft]");
    if (photos.length > 1) {
      event.preventDefault();
      joinPhotos(submitter || true);
      return;
    }
    photos.forEach(function (input) { input.name = "draft"; });
    form.querySelectorAll("input[type=file][data-staged]").forEach(function (input) {
      input.disabled = true;
    });
  });

  // Back to a page the browser kept: its inputs and its Send button work again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    form.querySelectorAll("input[type=file]").forEach(function (input) { input.disabled = false; });
  });

  // After a form error, the summary of what to correct takes the focus.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  refresh();
})();
