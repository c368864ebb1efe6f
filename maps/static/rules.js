// Perbup SLA rules page: send the edited JSON document to PUT /api/v1/rules/{kode_kab} (the
// session cookie authenticates), show the answer (every problem of a refused document), reload
// on success.
"use strict";
(function () {
  var form = document.getElementById("rules-form");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var out = form.querySelector(".result");
    var body;
    out.className = "result";
    try {
      body = JSON.parse(form.querySelector("textarea").value);
    } catch (err) {
      out.className = "result error";
      out.textContent = "JSON tidak sah / invalid JSON: " + err.message;
      return;
    }
    out.textContent = "…";
    fetch(form.dataset.endpoint, {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        if (r.ok) {
          out.textContent = "OK: versi / version " + answer.version;
          setTimeout(function () { window.location.reload(); }, 1200);
          return;
        }
        out.className = "result error";
        out.textContent = answer && answer.error ? answer.error.message +
          (answer.error.message_en ? "\n" + answer.error.message_en : "") :
          JSON.stringify(answer);
      });
    }).catch(function (err) {
      out.className = "result error";
      out.textContent = String(err);
    });
  });
}());
