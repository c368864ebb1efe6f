/* Siaga console, a whole shift: units on the map (call signs at every zoom, agency filter,
   stale trackers, the road route of each unit on its way with an ETA that follows it), the
   agency (OPD) desk queue, and the shift handover. Loaded after console.js; uses only the JSON
   API and window.SiagaConsole. */
(function () {
  "use strict";
  var C = window.SiagaConsole; if (!C) return;
  var S = C.S, esc = C.esc, api = C.api, state = C.state, CFG = C.CFG;
  var OPEN = { "new": 1, triaged: 1, dispatched: 1, on_scene: 1 };
  var STEPS = ["acknowledge", "depart", "arrive", "clear"];
  // state.shift is read by the browser tests and the scale benchmark
  var shift = state.shift = { filter: "", staleMin: 10, stale: {}, seen: {}, lastPos: {},
    routes: {}, routeIntervalMs: 12000, routeMinMoveM: 25, routeCalls: 0, fetched: {},
    trackersLoaded: false, desk: null, handover: null };
  var staleLayer = L.layerGroup().addTo(C.map), routeLayer = L.layerGroup().addTo(C.map);
  function $(id) { return document.getElementById(id); }
  function meters(a, b) {
    var k = Math.PI / 180, x = (b.lon - a.lon) * k * Math.cos((a.lat + b.lat) * k / 2), y = (b.lat - a.lat) * k;
    return Math.sqrt(x * x + y * y) * 6371008.8;
  }
  function setHtml(node, html) { if (node && node.__html !== html) { node.innerHTML = html; node.__html = html; } }

  // ---------- units: labels, agency filter, stale trackers ----------
  state.labelMinZoom = 0; // call signs drawn at every zoom (console.js's canvas renderer)
  var incidentsSection = $("incident-list").parentNode;
  var unitsBox = document.createElement("section");
  unitsBox.id = "shift-units";
  unitsBox.innerHTML = '<label><span data-i18n="sh_agency_filter">' + esc(S("sh_agency_filter")) + "</span>" +
    '<select id="unit-agency-filter"></select></label>' +
    '<h3 data-i18n="sh_route_eta">' + esc(S("sh_route_eta")) + '</h3><ul id="unit-routes" class="list"></ul>';
  incidentsSection.parentNode.insertBefore(unitsBox, incidentsSection);
  $("unit-agency-filter").addEventListener("change", function () { shift.filter = this.value; applyFilter(); });
  var agencyList = "";
  function refreshAgencies() {
    var seen = {};
    Object.keys(state.units).forEach(function (k) { var a = state.units[k].agency_code; if (a) seen[a] = 1; });
    var list = Object.keys(seen).sort(), key = list.join(",") + "|" + C.lang();
    if (key === agencyList) return;
    agencyList = key;
    $("unit-agency-filter").innerHTML = '<option value="">' + esc(S("sh_all_agencies")) + "</option>" +
      list.map(function (a) { return '<option value="' + esc(a) + '"' + (a === shift.filter ? " selected" : "") + ">" + esc(a) + "</option>"; }).join("");
  }
  function visible(rec) { return !shift.filter || rec.agency_code === shift.filter; }
  function applyFilter() {
    Object.keys(state.markers).forEach(function (key) {
      var m = state.markers[key], rec = state.units[key], want = !!rec && visible(rec);
      if (want !== C.layers.units.hasLayer(m)) { if (want) C.layers.units.addLayer(m); else C.layers.units.removeLayer(m); }
    });
  }
  function lastFixMs(rec) {
    var t = state.trackers[rec.device_id], at = t && t.last_fix_at ? Date.parse(t.last_fix_at) : null, seen = shift.seen[rec.key];
    return seen != null && (at == null || seen > at) ? seen : at;
  }
  function isStale(rec, now) {
    if (!rec.device_id || rec.status === "out_of_service" || !shift.trackersLoaded) return false;
    var last = lastFixMs(rec);
    return last == null || now - last > shift.staleMin * 60000;
  }
  function staleText(rec) { return (rec.call_sign || rec.device_id) + " — " + S("sh_stale").replace("{n}", String(shift.staleMin)); }
  function updateUnits(now) {
    Object.keys(state.units).forEach(function (key) {
      var rec = state.units[key], p = rec.pos, last = shift.lastPos[key];
      if (p && last && (p.lat !== last.lat || p.lon !== last.lon)) shift.seen[key] = now; // a live fix moved it
      if (p) shift.lastPos[key] = { lat: p.lat, lon: p.lon };
      var stale = p && visible(rec) && isStale(rec, now), ring = shift.stale[key];
      if (stale && !ring) {
        ring = shift.stale[key] = L.circleMarker([p.lat, p.lon], { radius: 11, color: "#444", weight: 2, dashArray: "2 3", fill: false })
          .bindTooltip(function () { return esc(staleText(rec)); }).addTo(staleLayer);
      } else if (stale) ring.setLatLng([p.lat, p.lon]);
      else if (ring) { staleLayer.removeLayer(ring); delete shift.stale[key]; }
    });
  }

  // ---------- routes of units on their way, ETA following each unit ----------
  function activeAssignments() {
    var out = [];
    Object.keys(state.incidents).forEach(function (id) {
      var inc = state.incidents[id];
      (inc.assignments || []).forEach(function (a) {
        if (!a.arrived_at && !a.cleared_at && a.status !== "cancelled") out.push({ a: a, inc: inc });
      });
    });
    return out;
  }
  function fetchRoute(r, rec, to) {
    var from = { lat: rec.pos.lat, lon: rec.pos.lon };
    r.pending = true;
    var q = "/api/v1/routing/route?region=" + encodeURIComponent(CFG.kode_kab) + "&from_lat=" + from.lat + "&from_lon=" + from.lon +
      "&to_lat=" + to.lat + "&to_lon=" + to.lon + "&profile=" + encodeURIComponent(rec.profile || "ambulance");
    shift.routeCalls++;
    api("GET", q).then(function (f) {
      var props = (f && f.properties) || {};
      r.pending = false; r.at = Date.now(); r.from = from; r.count = (r.count || 0) + 1; r.error = null;
      r.eta_s = props.eta_s; r.distance_m = props.distance_m;
      if (r.line) routeLayer.removeLayer(r.line);
      r.line = L.geoJSON(f, { style: { color: "#7c3aed", weight: 4, opacity: 0.75, dashArray: "6 4" } }).addTo(routeLayer);
      renderRoutes();
    }).catch(function (e) { r.pending = false; r.at = Date.now(); r.error = e.message; });
  }
  function updateRoutes(now) {
    var alive = {};
    activeAssignments().forEach(function (x) {
      var a = x.a, rec = C.findUnitById(a.unit_id), to = C.lonlat(x.inc);
      alive[a.id] = true;
      if (!rec || !rec.pos || !to) return;
      var r = shift.routes[a.id] || (shift.routes[a.id] = { id: a.id, incident: x.inc.id, unit: rec.key });
      r.call_sign = a.call_sign || rec.call_sign;
      if (r.pending) return;
      // throttled: once at first, then only when the unit moved and the interval has passed
      if (!r.at || (now - r.at >= shift.routeIntervalMs && (!r.from || meters(r.from, rec.pos) > shift.routeMinMoveM))) fetchRoute(r, rec, to);
    });
    Object.keys(shift.routes).forEach(function (id) {
      if (alive[id]) return;
      if (shift.routes[id].line) routeLayer.removeLayer(shift.routes[id].line);
      delete shift.routes[id];
    });
  }
  function etaLeft(r) { return r.eta_s == null ? null : Math.max(0, r.eta_s - (Date.now() - r.at) / 1000); }
  function renderRoutes() {
    var ids = Object.keys(shift.routes).sort(function (a, b) { return a - b; });
    setHtml($("unit-routes"), ids.length ? ids.map(function (id) {
      var r = shift.routes[id];
      return '<li class="unit-route" data-assignment="' + esc(id) + '" data-incident="' + esc(r.incident) + '"><b>' + esc(r.call_sign || "") + "</b> → #" + esc(r.incident) +
        " · " + esc(S("eta")) + ' <span class="route-eta">' + C.fmtDur(etaLeft(r)) + "</span> · " + C.fmtDist(r.distance_m) + "</li>";
    }).join("") : '<li class="muted">' + esc(S("sh_none")) + "</li>");
  }
  $("unit-routes").addEventListener("click", function (e) {
    var li = e.target.closest("li.unit-route"); if (li) C.select(li.getAttribute("data-incident"));
  });
  function loadAssignmentsOnce() {
    // the list has no assignments: read the detail of incidents with units on the way, once
    var n = 0;
    Object.keys(state.incidents).forEach(function (id) {
      var inc = state.incidents[id];
      if (n < 20 && (inc.status === "dispatched" || inc.status === "on_scene") && !inc.assignments && !shift.fetched[id]) {
        shift.fetched[id] = true; n++; C.refreshIncident(id);
      }
    });
  }

  // ---------- agency (OPD) desk: its own queue, acknowledge, assignment steps ----------
  function myPart(inc) {
    var code = state.me && state.me.agency_code;
    return (inc.agencies || []).filter(function (a) { return a.agency === code; })[0] || null;
  }
  function deskSteps(a) {
    if (a.cleared_at) return [];
    var steps = [];
    if (!a.acknowledged_at) steps.push("acknowledge"); else if (!a.departed_at && !a.arrived_at) steps.push("depart");
    steps.push(a.arrived_at ? "clear" : "arrive");
    return steps;
  }
  function renderDesk() {
    var ids = Object.keys(state.incidents).filter(function (id) { return OPEN[state.incidents[id].status]; })
      .sort(function (a, b) { return b - a; });
    setHtml($("desk-queue"), ids.length ? ids.map(function (id) {
      var inc = state.incidents[id], part = myPart(inc), btns = [];
      if (part && !part.acknowledged_at) btns.push('<button type="button" class="desk-ack" data-incident="' + esc(id) + '">' + esc(S("sh_ack_opd")) + "</button>");
      (inc.assignments || []).forEach(function (a) {
        deskSteps(a).forEach(function (st) {
          btns.push('<button type="button" class="desk-step" data-assignment="' + esc(a.id) + '" data-step="' + st + '">' +
            esc((a.call_sign || "#" + a.unit_id) + ": " + S("act_" + st)) + "</button>");
        });
      });
      return '<li class="desk-item" data-id="' + esc(id) + '"><a href="#" class="desk-open">#' + esc(id) + " " + esc(S("cat_" + inc.category)) + "</a> — " +
        esc(inc.nama_desa || inc.place_text || "") + ' <span class="muted">' + esc(S("inc_" + inc.status)) +
        (part && part.acknowledged_at ? " · " + esc(S("ev_acknowledged")) : "") + '</span><div class="desk-actions">' + btns.join(" ") + "</div></li>";
    }).join("") : '<li class="muted">' + esc(S("sh_desk_empty")) + "</li>");
  }
  function refreshDesk() {
    Object.keys(state.incidents).forEach(function (id) { if (OPEN[state.incidents[id].status]) C.refreshIncident(id); });
  }
  function startDesk() {
    document.body.classList.add("desk-mode");
    var box = document.createElement("section");
    box.id = "desk";
    box.innerHTML = '<h3><span data-i18n="sh_desk_queue">' + esc(S("sh_desk_queue")) + "</span> " + esc(state.me.agency_code || "") +
      '</h3><ul id="desk-queue" class="list"></ul>';
    var panel = $("panel"); panel.insertBefore(box, panel.firstChild);
    shift.desk = { started: Date.now() };
    $("desk-queue").addEventListener("click", function (e) {
      var open = e.target.closest("a.desk-open");
      if (open) { e.preventDefault(); C.select(open.closest("li").getAttribute("data-id")); return; }
      var btn = e.target.closest("button"); if (!btn) return;
      btn.disabled = true;
      var call = btn.classList.contains("desk-ack")
        ? api("POST", "/api/v1/incidents/" + btn.getAttribute("data-incident") + "/agencies/" + encodeURIComponent(state.me.agency_code) + "/acknowledge", {})
        : api("POST", "/api/v1/assignments/" + btn.getAttribute("data-assignment") + "/" + btn.getAttribute("data-step"), {});
      call.then(function (out) {
        var id = btn.getAttribute("data-incident") || (out && out.incident_id);
        if (id) return C.refreshIncident(id);
        refreshDesk();
      }).catch(function (err) { btn.disabled = false; C.notify(S("error") + ": " + err.message, true); });
    });
    refreshDesk();
    setInterval(refreshDesk, 30000);
  }

  // ---------- shift handover ----------
  var overlay = document.createElement("div");
  overlay.id = "handover"; overlay.className = "overlay handover"; overlay.hidden = true;
  overlay.innerHTML = '<div class="card handover-card"><h2><span data-i18n="sh_handover_title">' + esc(S("sh_handover_title")) + "</span> " + esc(CFG.region_name || CFG.kode_kab) +
    '</h2><p class="handover-tools"><a id="handover-print" target="_blank" data-i18n="sh_printable">' + esc(S("sh_printable")) + "</a> " +
    '<button type="button" id="handover-refresh" data-i18n="sh_refresh">' + esc(S("sh_refresh")) + "</button> " +
    '<button type="button" id="handover-close" data-i18n="sh_close">' + esc(S("sh_close")) + '</button></p><div id="handover-body"></div></div>';
  document.body.appendChild(overlay);
  var openBtn = document.createElement("button");
  openBtn.type = "button"; openBtn.id = "handover-open"; openBtn.className = "link"; openBtn.hidden = true;
  openBtn.setAttribute("data-i18n", "sh_handover"); openBtn.textContent = S("sh_handover");
  $("topbar").insertBefore(openBtn, $("logout"));
  function table(id, head, rows) {
    if (!rows.length) return '<p class="muted" id="' + id + '">' + esc(S("sh_none")) + "</p>";
    return '<table class="handover-table" id="' + id + '"><tr>' + head.map(function (h) { return "<th>" + esc(h) + "</th>"; }).join("") + "</tr>" + rows.join("") + "</table>";
  }
  function renderHandover() {
    var h = shift.handover; if (!h) return;
    $("handover-print").href = "/console/handover?kode_kab=" + encodeURIComponent(CFG.kode_kab) + "&lang=" + C.lang();
    var inc = h.incidents.map(function (i) {
      var sla = S("sh_sla_" + i.sla) + (i.sla_left_s != null ? " (" + C.fmtDur(i.sla_left_s) + ")" : "");
      return '<tr data-id="' + esc(i.id) + '"><td>#' + esc(i.id) + "</td><td>" + (i.drill ? esc(S("drill_banner")) + " " : "") + esc(S("cat_" + i.category)) +
        "</td><td>" + esc(i.place) + "</td><td>" + esc(i.priority == null ? "–" : i.priority) + "</td><td>" + esc(S("inc_" + i.status)) +
        "</td><td>" + C.fmtDur(i.age_s) + '</td><td class="sla-' + esc(i.sla) + '">' + esc(sla) + "</td></tr>";
    });
    var fu = h.follow_ups.map(function (f) {
      return '<tr data-kind="' + esc(f.kind) + '"><td>' + esc(S("sh_fu_" + f.kind)) + (f.ticket_no ? " " + esc(f.ticket_no) : "") + "</td><td>#" + esc(f.incident_id) +
        "</td><td>" + esc(f.agency) + "</td><td>" + C.fmtTime(f.due_at) + "</td><td>" + C.fmtDur(f.overdue_s) + "</td></tr>";
    });
    var units = h.units.map(function (u) {
      return '<tr data-reason="' + esc(u.reason) + '"><td>' + esc(u.call_sign) + "</td><td>" + esc(u.agency) + "</td><td>" +
        esc(u.reason === "stale" ? S("sh_unit_stale") : S("status_out_of_service")) + "</td><td>" + (u.last_fix_at ? C.fmtTime(u.last_fix_at) : esc(S("sh_never"))) + "</td></tr>";
    });
    setHtml($("handover-body"),
      "<h3>" + esc(S("sh_open_incidents")) + " (" + h.counts.open + ")</h3>" +
      table("handover-incidents", ["#", S("category"), S("sh_place"), S("sh_priority"), S("sh_status"), S("sh_age"), S("sh_sla")], inc) +
      "<h3>" + esc(S("sh_follow_ups")) + " (" + h.counts.follow_ups + ")</h3>" +
      table("handover-follow-ups", [S("sh_kind"), "#", S("sh_agency"), S("sh_due"), S("sh_overdue")], fu) +
      "<h3>" + esc(S("sh_units_attention")) + "</h3>" +
      table("handover-units", [S("sh_unit"), S("sh_agency"), S("sh_reason"), S("sh_last_fix")], units));
  }
  function loadHandover() {
    return api("GET", "/api/v1/handover?kode_kab=" + encodeURIComponent(CFG.kode_kab) + "&stale_after_min=" + shift.staleMin)
      .then(function (h) { shift.handover = h; renderHandover(); })
      .catch(function (err) { setHtml($("handover-body"), '<p class="error">' + esc(S("error") + ": " + err.message) + "</p>"); });
  }
  openBtn.addEventListener("click", function () { overlay.hidden = false; loadHandover(); });
  $("handover-refresh").addEventListener("click", loadHandover);
  $("handover-close").addEventListener("click", function () { overlay.hidden = true; });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !overlay.hidden) overlay.hidden = true; });

  // ---------- start once logged in; one tick per second ----------
  document.querySelectorAll(".lang-switch").forEach(function (b) {
    b.addEventListener("click", function () { agencyList = ""; refreshAgencies(); renderRoutes(); if (shift.desk) renderDesk(); renderHandover(); });
  });
  // the console's list call reads the newest 100 incidents: also every open one, however many
  function loadOpen() {
    var q = "/api/v1/incidents?kode_kab=" + encodeURIComponent(CFG.kode_kab) + "&limit=1000" +
      Object.keys(OPEN).map(function (st) { return "&status=" + st; }).join("");
    return api("GET", q).then(function (d) {
      // also over rows known only from the queue (no location yet: no marker)
      (d.incidents || []).forEach(function (inc) { var known = state.incidents[inc.id]; if ((!known || !known.location) && C.upsertIncident) C.upsertIncident(inc); });
      shift.openLoaded = (d.incidents || []).length;
    }).catch(function (e) { console.warn("open incidents", e); });
  }
  var started = false;
  function tick() {
    if (!state.me) return;
    if (!started) {
      started = true;
      openBtn.hidden = state.me.role === "viewer";
      if (state.me.role === "agency") startDesk();
      state.loadTrackers().then(function () { shift.trackersLoaded = true; });
      loadOpen();
    }
    var now = Date.now();
    refreshAgencies(); applyFilter(); updateUnits(now); loadAssignmentsOnce(); updateRoutes(now); renderRoutes();
    if (shift.desk) renderDesk();
  }
  setInterval(tick, 1000);
})();
