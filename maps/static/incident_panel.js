/* Siaga console, incident panel: the selected incident's whole timeline, edits (location by map
   click or search, category, description), triage override with a reason, notes, agency
   acknowledgement and hand-off with a reference, close/cancel with a reason, the SOP checklist
   and a link to the printable sheet. Loaded after console.js; uses only the JSON API and
   window.SiagaConsole. */
(function () {
  "use strict";
  var C = window.SiagaConsole; if (!C) return;
  var S = C.S, esc = C.esc, api = C.api, state = C.state, CFG = C.CFG;
  var OPEN = { "new": 1, triaged: 1, dispatched: 1, on_scene: 1 };
  // state.panel is read by the browser test
  var panel = state.panel = { id: null, lang: null, picking: false, picked: null, timeline: [], sop: null, busy: 0 };
  var pickMarker = null, loadTimer = null;
  function $(id) { return document.getElementById(id); }
  function ops() { var r = state.me && state.me.role; return r === "dispatcher" || r === "admin"; }
  function inc() { return state.incidents[panel.id] || {}; }

  var box = document.createElement("section");
  box.id = "ip-panel"; box.hidden = true;
  var selected = $("selected");
  selected.parentNode.insertBefore(box, selected.nextSibling);

  function categoryOptions(current) {
    return (CFG.categories || []).map(function (c) {
      return '<option value="' + esc(c) + '"' + (c === current ? " selected" : "") + ">" + esc(S("cat_" + c)) + "</option>";
    }).join("");
  }
  // The panel's frame, built when another incident is selected or the language changes
  // (the values being typed are kept).
  function build() {
    var keep = {};
    ["ip-description", "ip-triage-reason", "ip-note", "ip-status-reason", "ip-place"].forEach(function (id) { if ($(id)) keep[id] = $(id).value; });
    var i = inc(), canEdit = ops();
    box.innerHTML =
      '<h3><span>' + esc(S("ip_panel")) + ' #' + esc(panel.id) + '</span> <a id="ip-print" target="_blank" rel="noopener">' + esc(S("ip_print")) + " / Print</a></h3>" +
      '<p id="ip-error" class="error" hidden></p>' +
      (canEdit ? '<details id="ip-edit-box" open><summary>' + esc(S("ip_edit")) + "</summary>" +
        '<label>' + esc(S("category")) + ' <select id="ip-category">' + categoryOptions(i.category) + "</select></label>" +
        '<label>' + esc(S("description")) + ' <textarea id="ip-description" rows="2" maxlength="4000"></textarea></label>' +
        '<label>' + esc(S("ip_new_location")) + ' <input id="ip-place" autocomplete="off" placeholder="' + esc(S("ip_search_place")) + '"></label>' +
        '<ul id="ip-place-results" class="results"></ul>' +
        '<div class="ip-row"><button type="button" id="ip-pick">' + esc(S("ip_pick_on_map")) + '</button> <span id="ip-picked" class="muted"></span></div>' +
        '<button type="button" id="ip-save">' + esc(S("ip_save")) + "</button></details>" +
        '<details id="ip-triage-box"><summary>' + esc(S("ip_triage_override")) + "</summary>" +
        '<label>' + esc(S("ip_priority")) + ' <select id="ip-priority">' + [1, 2, 3, 4, 5].map(function (p) {
          return '<option value="' + p + '"' + (p === i.priority ? " selected" : "") + ">" + p + "</option>"; }).join("") + "</select></label>" +
        '<label>' + esc(S("ip_reason")) + ' <input id="ip-triage-reason" maxlength="1000"></label>' +
        '<button type="button" id="ip-triage-apply">' + esc(S("ip_apply")) + "</button></details>" : "") +
      '<h4>' + esc(S("ip_agencies")) + '</h4><ul id="ip-agencies" class="list"></ul>' +
      '<h4>' + esc(S("ip_sop")) + ' <span id="ip-sop-progress" class="muted"></span></h4><ul id="ip-sop" class="list"></ul>' +
      '<h4>' + esc(S("ip_notes")) + '</h4><textarea id="ip-note" rows="2" maxlength="4000" placeholder="' + esc(S("ip_note_hint")) + '"></textarea>' +
      '<button type="button" id="ip-note-add">' + esc(S("ip_note_add")) + "</button>" +
      (canEdit ? '<h4>' + esc(S("ip_status_reason")) + '</h4><input id="ip-status-reason" maxlength="1000">' +
        '<div class="ip-row"><button type="button" id="ip-close">' + esc(S("ip_close")) + '</button> <button type="button" id="ip-cancel">' + esc(S("ip_cancel")) + "</button></div>" : "") +
      '<h4>' + esc(S("timeline")) + '</h4><ol id="ip-timeline"></ol>';
    Object.keys(keep).forEach(function (id) { if ($(id)) $(id).value = keep[id]; });
    if ($("ip-description") && !("ip-description" in keep)) $("ip-description").value = i.description || "";
    panel.lang = C.lang(); panel.built = panel.id;
    showPicked();
    render();
  }
  function fail(err) {
    var el = $("ip-error"); if (!el) return;
    el.textContent = S("error") + ": " + (err && err.message || err); el.hidden = false;
  }
  function ok() { var el = $("ip-error"); if (el) el.hidden = true; }
  function busy(p) {
    panel.busy++;
    return p.then(function (v) { ok(); return v; }, function (e) { fail(e); throw e; })
      .finally(function () { panel.busy--; });
  }
  function after() { return C.refreshIncident(panel.id).then(load); }

  // ---------- what changes while the incident is open ----------
  function render() {
    var i = inc();
    $("ip-print").href = "/console/incidents/" + encodeURIComponent(panel.id) + "/sheet?lang=" + C.lang();
    ["ip-save", "ip-triage-apply", "ip-close", "ip-cancel", "ip-pick"].forEach(function (id) { if ($(id)) $(id).disabled = !OPEN[i.status] && id !== "ip-close"; });
    if ($("ip-close")) $("ip-close").disabled = !(OPEN[i.status] || i.status === "resolved");
    // a re-render (the incident refreshed by a live event) keeps references being typed
    var typed = {}, focused = document.activeElement;
    var focusedRef = focused && focused.classList && focused.classList.contains("ip-ref") ? focused.getAttribute("data-agency") : null;
    document.querySelectorAll("#ip-agencies .ip-ref").forEach(function (el) { if (el.value) typed[el.getAttribute("data-agency")] = el.value; });
    $("ip-agencies").innerHTML = (i.agencies || []).map(function (a) {
      var done = a.handoff_ref ? " — " + esc(S("ev_handoff")) + " " + esc(a.handoff_ref) : a.acknowledged_at ? " — " + esc(S("ev_acknowledged")) : "";
      var desk = !state.me || state.me.role !== "agency" || state.me.agency_code === a.agency;
      var acts = "";
      if (desk && !a.acknowledged_at && a.kind !== "external") acts += ' <button type="button" class="ip-ack" data-agency="' + esc(a.agency) + '">' + esc(S("ip_ack")) + "</button>";
      if (desk && a.kind === "external" && !a.handoff_ref) acts += ' <input class="ip-ref" data-agency="' + esc(a.agency) + '" placeholder="' + esc(S("ip_reference")) + '" maxlength="120">' +
        ' <button type="button" class="ip-handoff" data-agency="' + esc(a.agency) + '">' + esc(S("ip_handoff")) + " " + esc(a.handoff_number || a.agency) + "</button>";
      return '<li data-agency="' + esc(a.agency) + '"><b>' + esc(a.agency) + "</b> <span class=muted>" + esc(a.role) + "</span>" + done + acts + "</li>";
    }).join("");
    document.querySelectorAll("#ip-agencies .ip-ref").forEach(function (el) {
      var code = el.getAttribute("data-agency");
      if (typed[code]) el.value = typed[code];
      if (code === focusedRef) el.focus();
    });
    var sop = panel.sop;
    $("ip-sop-progress").textContent = sop ? "(" + sop.done + "/" + sop.total + ")" : "";
    $("ip-sop").innerHTML = !sop ? "" : !sop.items.length ? '<li class="muted">' + esc(S("ip_no_sop")) + "</li>" : sop.items.map(function (s) {
      var text = C.lang() === "en" && s.text_en ? s.text_en : s.text;
      return '<li class="ip-step' + (s.done ? " done" : "") + '"><label><input type="checkbox" class="ip-tick" data-agency="' + esc(s.agency) + '" data-step="' + esc(s.step_no) + '"' +
        (s.done ? " checked" : "") + (s.may_tick ? "" : " disabled") + "> <b>" + esc(s.agency) + "</b> " + esc(s.step_no) + ". " + esc(text) + "</label>" +
        (s.done ? ' <span class="muted">' + esc(s.checked_by) + " " + C.fmtTime(s.checked_at) + "</span>" : "") + "</li>";
    }).join("");
    $("ip-timeline").innerHTML = panel.timeline.map(function (e) {
      return '<li data-kind="' + esc(e.kind) + '">' + C.fmtTime(e.at) + " — <b>" + esc(S("ip_k_" + e.kind)) + "</b> " +
        esc(C.lang() === "en" ? e.text_en : e.text) + ' <span class="muted">' + esc(e.actor) + "</span></li>";
    }).join("");
  }
  function load() {
    var id = panel.id; if (id == null) return Promise.resolve();
    return Promise.all([api("GET", "/api/v1/incidents/" + id + "/timeline"), api("GET", "/api/v1/incidents/" + id + "/sop")])
      .then(function (r) {
        if (panel.id !== id) return;
        panel.timeline = r[0].items; panel.sop = r[1]; panel.loadedAt = Date.now(); render();
      }).catch(function (e) { console.warn("incident panel", e); });
  }
  // console.js re-renders the selected incident (#selected-title) on every change of it and
  // on a language switch: follow it.
  function follow() {
    if (!state.selected) { box.hidden = true; return; }
    box.hidden = false;
    if (panel.id !== state.selected || panel.lang !== C.lang()) {
      if (panel.id !== state.selected) { panel.id = state.selected; panel.picked = null; panel.timeline = []; panel.sop = null; box.innerHTML = ""; }
      build();
    } else render();
    clearTimeout(loadTimer); loadTimer = setTimeout(load, 150);
  }
  new MutationObserver(follow).observe($("selected-title"), { childList: true, characterData: true, subtree: true });

  // ---------- location: map click or search ----------
  function showPicked() {
    var el = $("ip-picked"); if (!el) return;
    el.textContent = panel.picking ? S("ip_picking") : panel.picked ? (panel.picked.label ? panel.picked.label + " " : "") +
      panel.picked.lat.toFixed(5) + ", " + panel.picked.lon.toFixed(5) : "";
  }
  function pickAt(lat, lon, label) {
    panel.picked = { lat: lat, lon: lon, label: label || null }; panel.picking = false;
    if (pickMarker) pickMarker.setLatLng([lat, lon]);
    else pickMarker = L.circleMarker([lat, lon], { radius: 9, color: "#7c3aed", weight: 3, fillOpacity: 0 }).addTo(C.map);
    showPicked();
  }
  C.map.on("click", function (e) { if (panel.picking) pickAt(e.latlng.lat, e.latlng.lng); });
  var searchTimer = null;
  box.addEventListener("input", function (e) {
    if (e.target.id !== "ip-place") return;
    clearTimeout(searchTimer);
    var q = e.target.value.trim();
    if (q.length < 2) { $("ip-place-results").innerHTML = ""; return; }
    searchTimer = setTimeout(function () {
      api("GET", "/api/v1/geocode/search?q=" + encodeURIComponent(q) + "&kode_kab=" + encodeURIComponent(inc().kode_kab || CFG.kode_kab)).then(function (data) {
        var items = (Array.isArray(data) ? data : (data.candidates || data.results || [])).slice(0, 8);
        panel.places = items;
        $("ip-place-results").innerHTML = items.map(function (c, n) {
          return '<li data-i="' + n + '">' + esc(c.nama || c.name || c.nama_desa) + ' <span class="muted">' + esc(c.nama_kec || "") + "</span></li>";
        }).join("");
      }).catch(function (err) { console.warn("search", err); });
    }, 200);
  });

  // ---------- actions ----------
  var actions = {
    "ip-pick": function () { panel.picking = true; showPicked(); },
    "ip-save": function () {
      var i = inc(), body = {};
      if ($("ip-category").value !== i.category) body.category = $("ip-category").value;
      if ($("ip-description").value !== (i.description || "")) body.description = $("ip-description").value;
      if (panel.picked) { body.lon = panel.picked.lon; body.lat = panel.picked.lat; }
      if (!Object.keys(body).length) return;
      return busy(api("PATCH", "/api/v1/incidents/" + panel.id, body)).then(function () {
        panel.picked = null; $("ip-place").value = ""; showPicked(); C.notify(S("ip_saved")); return after();
      });
    },
    "ip-triage-apply": function () {
      var reason = $("ip-triage-reason").value.trim();
      if (!reason) return fail(S("ip_reason_required"));
      return busy(api("POST", "/api/v1/incidents/" + panel.id + "/triage", { priority: +$("ip-priority").value, reason: reason }))
        .then(function () { $("ip-triage-reason").value = ""; return after(); });
    },
    "ip-note-add": function () {
      var text = $("ip-note").value.trim(); if (!text) return;
      return busy(api("POST", "/api/v1/incidents/" + panel.id + "/notes", { text: text }))
        .then(function () { $("ip-note").value = ""; return after(); });
    },
    "ip-close": function () { return setStatus("closed"); },
    "ip-cancel": function () { return setStatus("cancelled"); }
  };
  // Closing goes through "resolved" when the incident is still open (the lifecycle's order).
  function setStatus(target) {
    var reason = $("ip-status-reason").value.trim(), path = "/api/v1/incidents/" + panel.id + "/status";
    if (!reason) return fail(S("ip_reason_required"));
    var first = target === "closed" && inc().status !== "resolved" ? api("POST", path, { status: "resolved" }) : Promise.resolve();
    return busy(first.then(function () { return api("POST", path, { status: target, reason: reason }); }))
      .then(function () { $("ip-status-reason").value = ""; return after(); });
  }
  box.addEventListener("click", function (e) {
    var t = e.target, run = t.id && actions[t.id];
    if (run) { e.preventDefault(); var p = run(); if (p && p.catch) p.catch(function () {}); return; }
    var li = t.closest("#ip-place-results li");
    if (li) {
      var c = panel.places[+li.getAttribute("data-i")], p = C.lonlat(c.point || c.representative_point || c);
      if (p) { pickAt(p.lat, p.lon, c.nama || c.name || c.nama_desa); C.map.setView([p.lat, p.lon], 15); }
      $("ip-place-results").innerHTML = ""; return;
    }
    var code = t.getAttribute && t.getAttribute("data-agency"), base = "/api/v1/incidents/" + panel.id + "/agencies/" + encodeURIComponent(code || "");
    if (t.classList.contains("ip-ack")) { t.disabled = true; busy(api("POST", base + "/acknowledge", {})).then(after).catch(function () { t.disabled = false; }); }
    if (t.classList.contains("ip-handoff")) {
      var ref = box.querySelector('.ip-ref[data-agency="' + code + '"]').value.trim();
      if (!ref) { fail(S("ip_reference")); return; }
      t.disabled = true; busy(api("POST", base + "/handoff", { reference: ref })).then(after).catch(function () { t.disabled = false; });
    }
  });
  box.addEventListener("change", function (e) {
    var t = e.target; if (!t.classList.contains("ip-tick")) return;
    var ticking = t.checked;  // unticking undoes a tick made by mistake (asked first; audited)
    if (!ticking && !window.confirm(S("ip_untick_confirm"))) { t.checked = true; return; }
    t.disabled = true;
    var url = "/api/v1/incidents/" + panel.id + "/sop/" + encodeURIComponent(t.getAttribute("data-agency")) + "/" + t.getAttribute("data-step");
    busy(ticking ? api("POST", url, {}) : api("DELETE", url))
      .then(function (sop) { panel.sop = sop; render(); return load(); })
      .catch(function () { t.checked = !ticking; t.disabled = false; });
  });
})();
