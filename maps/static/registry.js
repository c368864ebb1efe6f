// Registry admin page: send the chosen file to the import route as text/csv or
// application/geo+json (the session cookie authenticates), show the answer, reload on success.
"use strict";
(function () {
  function typeOf(name) {
    return /\.csv$/i.test(name) ? "text/csv" : "application/geo+json";
  }
  function message(body) {
    if (body && body.error) {
      return body.error.message + (body.error.message_en ? "\n" + body.error.message_en : "");
    }
    if (body && typeof body.total === "number") {
      return "OK: " + body.created.length + " baru / new, " + body.updated.length +
        " diperbarui / updated" + (body.notes.length ? "\n" + body.notes.join("\n") : "");
    }
    return JSON.stringify(body);
  }
  document.querySelectorAll("form.upload").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = form.querySelector("input[type=file]").files[0];
      var out = form.querySelector(".result");
      if (!file) { return; }
      out.className = "result";
      out.textContent = "…";
      fetch(form.dataset.endpoint, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": typeOf(file.name) }, body: file
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          out.textContent = message(body);
          if (r.ok) { setTimeout(function () { window.location.reload(); }, 1200); }
          else { out.className = "result error"; }
        });
      }).catch(function (err) {
        out.className = "result error";
        out.textContent = String(err);
      });
    });
  });
}());
