/* Siaga dispatcher console: plain JS, no build step. Leaflet is served by the app (offline). */
(function () {
  "use strict";
  var CFG = JSON.parse(document.getElementById("siaga-config").textContent);
  var lang = localStorage.getItem("siaga.lang") || CFG.default_language || "id";
  var S = function (key) { return (CFG.strings[lang] || {})[key] || key; };
  var zone = CFG.zone; // {label, iana}
  var state = { me: null, units: {}, byDevice: {}, trackers: {}, incidents: {}, selected: null, picked: null,
                markers: {}, incidentMarkers: {}, routeLayer: null, ws: null, pending: {},
                rafQueued: false, lag: [], hubLag: [], applied: 0 };
  window.__siaga = state; // inspected by the browser test and the load benchmark
  // ?devices=all also draws trackers not registered as units (fleet onboarding, load tests)
  var showAllDevices = /[?&]devices=all(&|$)/.test(location.search);

  // ---------- helpers ----------
  function $(id) { return document.getElementById(id); }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c]; }); }
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (text) {
        var data = text ? JSON.parse(text) : null;
        if (!r.ok) {
          var err = new Error((data && data.error && (lang === "en" && data.error.message_en || data.error.message)) || r.statusText);
          err.status = r.status; throw err;
        }
        return data;
      });
    });
  }
  // one formatter per language: building an Intl.DateTimeFormat costs ~6 ms in Chromium, and the
  // list formats 50 rows on every update (benchmarks/console_scale.py)
  var timeFormats = {};
  function fmtTime(iso) {
    if (!iso) return "";
    var f = timeFormats[lang] || (timeFormats[lang] = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "id-ID",
      { timeZone: zone.iana, hour: "2-digit", minute: "2-digit", second: "2-digit" }));
    return f.format(new Date(iso)) + " " + zone.label;
  }
  function fmtDur(s) {
    if (s == null || !isFinite(s)) return "–";
    var neg = s < 0; s = Math.abs(Math.round(s));
    var m = Math.floor(s / 60), r = s % 60;
    return (neg ? "-" : "") + m + ":" + (r < 10 ? "0" : "") + r;
  }
  function fmtDist(m) { return m == null ? "–" : (m >= 1000 ? (m / 1000).toFixed(1) + " km" : Math.round(m) + " m"); }
  function pick(o, keys) { for (var i = 0; i < keys.length; i++) { if (o && o[keys[i]] != null) return o[keys[i]]; } return null; }
  function lonlat(o) {
    if (!o) return null;
    var p = o.position || o.location || o.last_position || o.point || o;
    if (p && p.type === "Point" && p.coordinates) return { lon: p.coordinates[0], lat: p.coordinates[1] };
    var lat = pick(p, ["lat", "latitude"]), lon = pick(p, ["lon", "lng", "longitude"]);
    return (lat == null || lon == null) ? null : { lat: +lat, lon: +lon };
  }
  function applyLanguage() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = S(el.getAttribute("data-i18n")); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) { el.placeholder = S(el.getAttribute("data-i18n-placeholder")); });
    renderIncidentList(); if (state.selected) renderSelected();
  }

  // ---------- map ----------
  var map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: true })
    .setView([CFG.center.lat, CFG.center.lon], CFG.zoom || 13);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(esc(CFG.attribution));
  if (CFG.tile_url) L.tileLayer(CFG.tile_url, { attribution: esc(CFG.tile_attribution || ""), maxZoom: 19 }).addTo(map);

  // Canvas renderer that also writes call signs next to unit dots (one canvas, no DOM per unit).
  var LabelCanvas = L.Canvas.extend({
    _updateCircle: function (layer) {
      L.Canvas.prototype._updateCircle.call(this, layer);
      if (!layer.options.label || this._map.getZoom() < (state.labelMinZoom == null ? 14 : state.labelMinZoom)) return;
      var ctx = this._ctx, p = layer._point;
      ctx.font = "11px sans-serif"; ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,.9)";
      ctx.strokeText(layer.options.label, p.x + 8, p.y + 4);
      ctx.fillStyle = "#111"; ctx.fillText(layer.options.label, p.x + 8, p.y + 4);
    }
  });
  var UnitMarker = L.CircleMarker.extend({
    _updateBounds: function () {
      L.CircleMarker.prototype._updateBounds.call(this);
      if (this._pxBounds && this.options.label) {
        var p = this._point, r = this._radius + 2;
        this._pxBounds = new L.Bounds(p.subtract([r, r + 8]), p.add([r + 8 + 7 * this.options.label.length, r + 8]));
      }
    }
  });
  var unitRenderer = new LabelCanvas({ padding: 0.2 });
  var boundaryRenderer = L.canvas({ padding: 0.2 });
  var layers = { boundaries: L.layerGroup().addTo(map), roads: L.layerGroup().addTo(map),
                 units: L.layerGroup().addTo(map), incidents: L.layerGroup().addTo(map),
                 recs: L.layerGroup().addTo(map), route: L.layerGroup().addTo(map) };
  L.control.layers(null, { "Batas / boundaries": layers.boundaries, "Jalan / roads": layers.roads,
    "Unit / units": layers.units, "Kejadian / incidents": layers.incidents }, { collapsed: true }).addTo(map);
  L.control.scale().addTo(map);
  var pickMarker = null;
  map.on("click", function (e) {
    state.picked = { lat: e.latlng.lat, lon: e.latlng.lng, label: null };
    if (pickMarker) pickMarker.setLatLng(e.latlng); else pickMarker = L.circleMarker(e.latlng, { radius: 8, color: "#000", weight: 2, fillOpacity: 0 }).addTo(map);
    $("picked").textContent = S("select_point") + ": " + e.latlng.lat.toFixed(5) + ", " + e.latlng.lng.toFixed(5);
    api("GET", "/api/v1/geocode/reverse?lat=" + e.latlng.lat + "&lon=" + e.latlng.lng).then(function (g) {
      var name = g && (pick(g, ["nama_desa"]) || pick(g.desa || {}, ["nama", "name"]));
      if (name) { state.picked.label = name; $("place").value = name; }
    }).catch(function () {});
  });

  function colourFor(status) { return CFG.status_colours[status] || CFG.status_colours.unknown; }

  // ---------- units ----------
  function unitKey(u) { return String(pick(u, ["device_id"]) || "unit:" + pick(u, ["id", "unit_id"])); }
  function upsertUnit(u) {
    var key = unitKey(u), pos = lonlat(u);
    var rec = state.units[key] || (state.units[key] = { key: key });
    ["id", "call_sign", "status", "agency_code", "device_id", "profile"].forEach(function (k) { if (u[k] != null) rec[k] = u[k]; });
    if (u.unit_id != null && rec.id == null) rec.id = u.unit_id;
    if (typeof u.agency === "string") rec.agency_code = u.agency;
    if (pos) rec.pos = pos;
    if (rec.device_id) state.byDevice[rec.device_id] = rec;
    drawUnit(rec);
    return rec;
  }
  function drawUnit(rec) {
    if (!rec.pos) return;
    var m = state.markers[rec.key], label = rec.call_sign || rec.device_id || rec.key;
    var colour = colourFor(rec.status || "unknown");
    if (!m) {
      m = new UnitMarker([rec.pos.lat, rec.pos.lon], { renderer: unitRenderer, radius: 6, weight: 1,
        color: "#222", fillColor: colour, fillOpacity: 0.95, label: label });
      m.bindTooltip(function () {
        var alive = trackerText(rec);
        return esc(label) + " — " + esc(S("status_" + (rec.status || "unknown"))) + (alive ? "<br>" + esc(alive) : "");
      });
      m.addTo(layers.units); state.markers[rec.key] = m;
      $("unit-count").textContent = Object.keys(state.markers).length;
    } else {
      m.setLatLng([rec.pos.lat, rec.pos.lon]);
      if (m.options.fillColor !== colour || m.options.label !== label) { m.options.label = label; m.setStyle({ fillColor: colour }); }
    }
  }
  // A tracker that still reports (cell towers, no GPS fix) after its last fix: "last fix N min
  // ago, tracker alive" (GET /api/v1/tracking/devices: last_fix_at, last_status_at).
  function trackerText(rec) {
    var t = state.trackers[rec.device_id];
    if (!t || !t.alive_without_fix) return "";
    if (!t.last_fix_at) return S("tracker_alive_never");
    var minutes = Math.max(0, Math.round((Date.now() - Date.parse(t.last_fix_at)) / 60000));
    return S("tracker_alive").replace("{n}", String(minutes));
  }
  function loadTrackers() {
    return api("GET", "/api/v1/tracking/devices").then(function (data) {
      var trackers = {};
      (data.devices || []).forEach(function (d) { trackers[d.device_id] = d; });
      state.trackers = trackers;
      Object.keys(state.units).forEach(function (key) {
        var rec = state.units[key], m = state.markers[key];
        if (!m) return;
        var alive = !!trackerText(rec);
        if (m.options.dashArray !== (alive ? "3 2" : null)) m.setStyle({ dashArray: alive ? "3 2" : null, weight: alive ? 2 : 1 });
      });
    }).catch(function (e) { console.warn("trackers", e); });
  }
  state.trackerText = trackerText; state.loadTrackers = loadTrackers; // browser test
  function loadUnits() {
    return api("GET", "/api/v1/units?kode_kab=" + encodeURIComponent(CFG.kode_kab)).then(function (data) {
      (Array.isArray(data) ? data : (data.units || data.items || [])).forEach(upsertUnit);
    }).catch(function (e) { console.warn("units", e); });
  }

  // ---------- live (WebSocket, batched server-side, applied once per animation frame) ----------
  function connectLive() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/api/v1/live");
    state.ws = ws;
    ws.onopen = function () { $("live-status").textContent = S("connected"); $("live-status").classList.add("ok"); };
    ws.onclose = function () {
      $("live-status").textContent = S("disconnected"); $("live-status").classList.remove("ok");
      if (state.me) setTimeout(connectLive, 2000);
    };
    ws.onmessage = function (msg) {
      var data = JSON.parse(msg.data);
      if (data.type !== "events") return;
      if (state.sentAt == null) state.sentAt = data.sent_at; // oldest batch of the next frame
      data.events.forEach(function (ev) {
        if (ev.kind === "position") { var d = ev.data; state.pending[unitKey(d)] = d; }
        else handleEvent(ev);
      });
      if (!state.rafQueued) { state.rafQueued = true; requestAnimationFrame(applyPositions); }
    };
  }
  function applyPositions() {
    state.rafQueued = false;
    var pending = state.pending, fixTimes = [];
    state.pending = {};
    Object.keys(pending).forEach(function (key) {
      var d = pending[key], rec = state.byDevice[d.device_id] || state.units[key];
      if (rec) { var p = lonlat(d); if (p) rec.pos = p; if (d.status) rec.status = d.status; drawUnit(rec); }
      else if (showAllDevices) upsertUnit(d); // unregistered trackers only on request
      if (d.fix_time) fixTimes.push(Date.parse(d.fix_time));
      state.applied++;
    });
    // display lag: fix time → the frame after the canvas was redrawn (and hub flush → drawn)
    var sentAt = state.sentAt; state.sentAt = null;
    if (fixTimes.length) requestAnimationFrame(function () {
      var now = Date.now();
      if (sentAt != null) { state.hubLag.push(now - sentAt * 1000); if (state.hubLag.length > 100000) state.hubLag.shift(); }
      for (var i = 0; i < fixTimes.length; i++) { state.lag.push(now - fixTimes[i]); }
      if (state.lag.length > 200000) state.lag.splice(0, state.lag.length - 200000);
    });
  }
  function handleEvent(ev) {
    var d = ev.data || {};
    if (d.kode_kab && d.kode_kab !== CFG.kode_kab) return; // another regency on the same broker
    if (ev.kind === "unit" && (d.device_id || d.unit_id != null || d.id != null)) {
      var rec = (d.device_id && state.byDevice[d.device_id]) || findUnitById(pick(d, ["unit_id", "id"]));
      if (rec) { if (d.status) rec.status = d.status; drawUnit(rec); } else upsertUnit(d);
    }
    var incId = pick(d, ["incident_id"]);
    if (ev.kind === "incident" && incId == null) incId = pick(d, ["id"]);
    if (ev.kind === "arrival") {
      var r2 = (d.device_id && state.byDevice[d.device_id]) || findUnitById(d.unit_id);
      if (r2) { r2.status = "on_scene"; drawUnit(r2); }
      notify(S("arrived") + ": " + ((r2 && r2.call_sign) || d.device_id || ""));
    }
    if (incId != null) refreshIncident(incId);
  }
  function findUnitById(id) {
    if (id == null) return null;
    for (var k in state.units) { if (String(state.units[k].id) === String(id)) return state.units[k]; }
    return null;
  }

  // ---------- incidents ----------
  var CAT_COLOURS = { fire: "#d7191c", flood: "#2b83ba", landslide: "#8c510a", traffic_accident: "#f46d43",
    medical: "#e7298a", crime: "#542788", fallen_tree: "#1b7837", major_disaster: "#000" };
  function incIcon(inc) {
    var c = inc.category || "", letters = c.split("_").map(function (w) { return w[0]; }).join("").toUpperCase().slice(0, 2);
    return L.divIcon({ className: "", iconSize: [28, 28], html: '<div class="inc-icon" title="' + esc(S("cat_" + c)) +
      '" style="background:' + (CAT_COLOURS[c] || "#555") + '">' + esc(letters || "?") + "</div>" });
  }
  function upsertIncident(inc) {
    var id = pick(inc, ["id", "incident_id"]); if (id == null) return;
    var rec = state.incidents[id] = Object.assign(state.incidents[id] || {}, inc, { id: id });
    var pos = lonlat(rec);
    if (pos) {
      var m = state.incidentMarkers[id];
      if (!m) { m = L.marker([pos.lat, pos.lon], { icon: incIcon(rec) }).on("click", function () { select(id); }).addTo(layers.incidents); state.incidentMarkers[id] = m; }
      else m.setLatLng([pos.lat, pos.lon]);
    }
    renderIncidentList();
    if (state.selected === String(id)) renderSelected();
  }
  function loadIncidents() {
    return api("GET", "/api/v1/incidents?kode_kab=" + encodeURIComponent(CFG.kode_kab)).then(function (data) {
      (Array.isArray(data) ? data : (data.incidents || data.items || [])).forEach(upsertIncident);
    }).catch(function (e) { console.warn("incidents", e); });
  }
  function refreshIncident(id) {
    loadStandby(id);
    return api("GET", "/api/v1/incidents/" + id).then(function (inc) { upsertIncident(inc); return inc; })
      .catch(function (e) { console.warn("incident", id, e); });
  }
  // Whether each agency's standby line was reached (webhook, email, SMS notifications).
  function loadStandby(id) {
    return api("GET", "/api/v1/incidents/" + id + "/notifications").then(function (out) {
      if (String(id) !== state.selected) return;
      state.standby = out;
      var per = {};
      (out.notifications || []).forEach(function (n) {
        var p = per[n.agency] || (per[n.agency] = { channels: {}, failed: 0, pending: 0 });
        if (n.status === "sent") p.channels[n.channel] = true;
        else if (n.status === "failed") p.failed++; else p.pending++;
      });
      var agencies = Object.keys(per).sort();
      $("standby").innerHTML = agencies.length ? agencies.map(function (a) {
        var p = per[a], via = Object.keys(p.channels).sort().join(", ");
        var key = out.reached[a] ? "standby_reached" : p.pending ? "standby_pending" : "standby_failed";
        return '<li class="standby ' + key + '" data-agency="' + esc(a) + '"><b>' + esc(a) + "</b> — " +
          esc(S(key)) + (via ? " (" + esc(via) + ")" : "") + "</li>";
      }).join("") : '<li class="muted">' + esc(S("standby_none")) + "</li>";
    }).catch(function () { $("standby").innerHTML = ""; });
  }
  state.loadStandby = loadStandby;
  // SLA: the earliest on-scene deadline among the incident's agencies still waiting for arrival.
  // SLA: seconds to the earliest on-scene deadline of an assignment still pending, else of an
  // agency notified but with no unit yet; null when nothing is running.
  function slaLeft(inc) {
    var best = null, served = {};
    (inc.assignments || []).forEach(function (a) {
      if (a.sla) served[a.agency_id] = true;
      if (!a.sla || a.sla.status !== "pending" || a.arrived_at) return;
      var left = (Date.parse(a.sla.deadline) - Date.now()) / 1000;
      if (best === null || left < best) best = left;
    });
    if (best === null && !(inc.assignments || []).length) (inc.agencies || []).forEach(function (a) {
      if (!a.notified_at || a.on_scene_min == null || a.role === "informed") return;
      var left = (Date.parse(a.notified_at) + a.on_scene_min * 60000 - Date.now()) / 1000;
      if (best === null || left < best) best = left;
    });
    return best;
  }
  function renderIncidentList() {
    var ul = $("incident-list"); if (!ul) return;
    var ids = Object.keys(state.incidents).sort(function (a, b) { return b - a; }).slice(0, 50);
    ul.innerHTML = ids.map(function (id) {
      var inc = state.incidents[id], left = slaLeft(inc);
      var sla = left == null ? "" : '<span class="sla' + (left < 0 ? " breached" : "") + '" data-sla="' + id + '">' + fmtDur(left) + "</span>";
      // drills (latihan) carry a banner everywhere they are shown
      var drill = inc.drill ? '<span class="tag drill">' + esc(S("drill_banner")) + "</span> " : "";
      return '<li data-id="' + esc(id) + '"' + (inc.drill ? ' class="drill"' : "") + ">" + drill + "#" + esc(id) + " " + esc(S("cat_" + inc.category)) + " — " +
        esc(inc.nama_desa || inc.place_text || "") + " <span class=muted>" + esc(S("inc_" + inc.status)) + " " + fmtTime(inc.received_at) + "</span> " + sla + "</li>";
    }).join("");
  }
  $("incident-list").addEventListener("click", function (e) {
    var li = e.target.closest("li"); if (li) select(li.getAttribute("data-id"));
  });
  setInterval(function () {
    $("clock").textContent = fmtTime(new Date().toISOString());
    document.querySelectorAll("[data-sla]").forEach(function (el) {
      var inc = state.incidents[el.getAttribute("data-sla")]; if (!inc) return;
      var left = slaLeft(inc); el.textContent = fmtDur(left); el.classList.toggle("breached", left < 0);
    });
  }, 1000);

  // ---------- call taker ----------
  var searchTimer = null;
  $("place").addEventListener("input", function () {
    clearTimeout(searchTimer);
    var q = this.value.trim();
    if (q.length < 2) { $("place-results").innerHTML = ""; return; }
    searchTimer = setTimeout(function () {
      api("GET", "/api/v1/geocode/search?q=" + encodeURIComponent(q) + "&kode_kab=" + encodeURIComponent(CFG.kode_kab))
        .then(function (data) {
          var items = Array.isArray(data) ? data : (data.candidates || data.results || []);
          $("place-results").innerHTML = items.slice(0, 8).map(function (c, i) {
            return '<li data-i="' + i + '">' + esc(pick(c, ["nama", "name", "nama_desa"])) + ' <span class="muted">' +
              esc(pick(c, ["level", "jenis"]) || "") + " " + esc(pick(c, ["nama_kec"]) || "") + "</span></li>";
          }).join("");
          $("place-results").onclick = function (e) {
            var li = e.target.closest("li"); if (!li) return;
            var c = items[+li.getAttribute("data-i")], p = lonlat(pick(c, ["point", "representative_point"]) || c);
            state.picked = { lat: p.lat, lon: p.lon, label: pick(c, ["nama", "name", "nama_desa"]) };
            $("place").value = state.picked.label; $("place-results").innerHTML = "";
            $("picked").textContent = S("select_point") + ": " + p.lat.toFixed(5) + ", " + p.lon.toFixed(5);
            map.setView([p.lat, p.lon], 15);
            if (pickMarker) pickMarker.setLatLng([p.lat, p.lon]); else pickMarker = L.circleMarker([p.lat, p.lon], { radius: 8, color: "#000", weight: 2, fillOpacity: 0 }).addTo(map);
          };
        }).catch(function (e) { console.warn("search", e); });
    }, 200);
  });
  $("incident-form").addEventListener("submit", function (e) {
    e.preventDefault();
    $("form-error").hidden = true;
    var body = { kode_kab: CFG.kode_kab, category: $("category").value, channel: $("channel").value,
      description: $("description").value, caller_phone: $("caller").value || null,
      place: $("place").value.trim() || null };
    if (state.picked) { body.lat = state.picked.lat; body.lon = state.picked.lon; }
    api("POST", "/api/v1/incidents", body).then(function (inc) {
      // default triage (category rules: kind, priority, agencies); dispatchers may override later
      return api("POST", "/api/v1/incidents/" + inc.id + "/triage", {}).catch(function () { return inc; });
    }).then(function (inc) {
      upsertIncident(inc); select(pick(inc, ["id", "incident_id"]));
      $("description").value = ""; $("caller").value = "";
    }).catch(function (err) { $("form-error").textContent = S("error") + ": " + err.message; $("form-error").hidden = false; });
  });

  // ---------- selection: recommendations, assignment, route, timeline ----------
  function select(id) {
    state.selected = String(id); state.recs = null;
    $("selected").hidden = false;
    refreshIncident(id).then(function () {
      return api("GET", "/api/v1/incidents/" + id + "/recommendations");
    }).then(function (recs) { state.recs = recs; renderSelected(); })
      .catch(function (err) { $("recommendations").textContent = S("error") + ": " + err.message; });
    renderSelected();
  }
  function recGroups(recs) {
    if (!recs) return [];
    var groups = recs.agencies || recs.groups || (Array.isArray(recs) ? recs : []);
    return groups.map(function (g) {
      var units = (g.units || g.candidates || g.recommendations || []).slice();
      units.sort(function (a, b) { return (a.eta_s == null) - (b.eta_s == null) || a.eta_s - b.eta_s; });
      return { agency: pick(g, ["agency_code", "agency"]) || "", name: pick(g, ["agency_name", "name"]) || "", units: units };
    });
  }
  function renderSelected() {
    var inc = state.incidents[state.selected]; if (!inc) return;
    $("selected-title").textContent = (inc.drill ? S("drill_banner") + " — " : "") + "#" + inc.id + " " + S("cat_" + inc.category);
    $("selected-title").classList.toggle("drill", !!inc.drill);
    layers.recs.clearLayers();
    var assigned = {};
    (inc.assignments || []).forEach(function (a) { if (!a.cleared_at) assigned[a.unit_id] = true; });
    var html = recGroups(state.recs).map(function (g) {
      return '<div class="rec-agency">' + esc(g.agency) + " " + esc(g.name) + "</div>" + g.units.map(function (u) {
        var estimate = u.eta_kind === "estimate" || (u.eta_kind === undefined && u.estimated);
        var tags = (estimate ? '<span class="tag estimate">' + esc(S("estimated")) + "</span>" : "") +
          (u.position_source === "station" || u.position_source === "post" || u.from_station ? '<span class="tag">' + esc(S("no_fix")) + "</span>" : "") +
          (u.reachable === false ? '<span class="tag">' + esc(S("unreachable")) + "</span>" : "");
        var pos = lonlat(u); if (pos) L.circleMarker([pos.lat, pos.lon], { radius: 10, color: "#ff00aa", weight: 2, fill: false }).addTo(layers.recs);
        return '<div class="rec" data-unit="' + esc(u.unit_id) + '"><div><b>' + esc(u.call_sign) + "</b>" + tags +
          '<div class="meta">' + esc(S("eta")) + (estimate ? " ≈ " : " ") + fmtDur(u.eta_s) + " · " + esc(S("distance")) + " " + fmtDist(u.distance_m) +
          (u.sla_can_be_met === false ? " · " + esc(S("sla_breached")) : "") + "</div></div>" +
          '<button type="button" class="assign" data-unit="' + esc(u.unit_id) + '" data-agency="' + esc(g.agency) + '"' +
          (assigned[u.unit_id] ? " disabled>" + esc(S("assigned")) : ">" + esc(S("assign"))) + "</button></div>";
      }).join("");
    }).join("");
    $("recommendations").innerHTML = html;
    // assignments: the agency desk's steps (acknowledge, depart, manual arrival, clear)
    $("assignments").innerHTML = (inc.assignments || []).map(function (a) {
      var steps = [];
      if (!a.cleared_at) {
        if (!a.acknowledged_at) steps.push("acknowledge");
        else if (!a.departed_at && !a.arrived_at) steps.push("depart");
        if (!a.arrived_at) steps.push("arrive"); else steps.push("clear");
      }
      var sla = a.sla ? " · " + esc(S(a.sla.status === "met" ? "sla_met" : a.sla.status === "breached" ? "sla_breached" : "sla_left")) : "";
      return '<div class="rec"><div><b>' + esc(a.call_sign || ("#" + a.unit_id)) + '</b><div class="meta">' +
        esc(a.status) + (a.arrived_at ? " · " + esc(S("ev_arrived")) + " " + fmtTime(a.arrived_at) + (a.arrival_source === "gps" ? " (GPS)" : "") : "") +
        sla + "</div></div><div>" + steps.map(function (st) {
          return '<button type="button" class="step" data-assignment="' + esc(a.id) + '" data-step="' + st + '">' + esc(S("act_" + st)) + "</button>";
        }).join(" ") + "</div></div>";
    }).join("");
    var tl = inc.timeline || [];
    var ACTION = { create: "received", triage: "triaged", triage_override: "triaged", assign: "dispatched",
      acknowledge: "acknowledged", depart: "departed", arrive: "arrived", arrival_revised: "arrived",
      clear: "cleared", escalate: "escalated", handoff: "handoff" };
    var calls = {}; (inc.assignments || []).forEach(function (a) { calls[a.id] = a.call_sign; });
    // audit actions look like "assign", "arrive:gps", "status:on_scene"
    $("timeline").innerHTML = tl.map(function (ev) {
      var act = ev.action || "", parts = act.split(":"), base = parts[0], q = parts[1] || "";
      var key = base === "status" ? (ev.entity === "unit" ? "status_" : "inc_") + q : "ev_" + (ACTION[base] || base);
      var label = S(key) !== key ? S(key) : act, who = "";
      if (ev.entity === "assignment" && calls[ev.entity_id]) who = calls[ev.entity_id];
      if (ev.entity === "unit") { var u = findUnitById(ev.entity_id); who = u ? u.call_sign : "unit " + ev.entity_id; }
      if (q === "gps" || act === "arrival_revised") label += " (GPS)";
      return '<li data-action="' + esc(act) + '">' + fmtTime(ev.at) + " — " + (who ? esc(who) + ": " : "") + esc(label) +
        ' <span class="muted">' + esc(ev.actor || "") + "</span></li>";
    }).join("");
  }
  $("recommendations").addEventListener("click", function (e) {
    var btn = e.target.closest("button.assign"); if (!btn) return;
    btn.disabled = true;
    var unitId = +btn.getAttribute("data-unit"), incId = +state.selected;
    var current = state.incidents[incId] || {};
    var triaged = current.status === "new" ? api("POST", "/api/v1/incidents/" + incId + "/triage", {}) : Promise.resolve();
    triaged.then(function () {
      return api("POST", "/api/v1/assignments", { incident_id: incId, unit_id: unitId });
    }).then(function (a) {
      btn.textContent = S("assigned");
      var inc = state.incidents[incId];
      if (inc) { inc.assignments = (inc.assignments || []).concat([a]); }
      var rec = findUnitById(unitId); if (rec) { rec.status = "dispatched"; drawUnit(rec); }
      drawRoute(unitId, incId);
      refreshIncident(incId);
    }).catch(function (err) { btn.disabled = false; state.lastError = err.message; notify(S("error") + ": " + err.message, true); });
  });
  $("assignments").addEventListener("click", function (e) {
    var btn = e.target.closest("button.step"); if (!btn) return;
    btn.disabled = true;
    api("POST", "/api/v1/assignments/" + btn.getAttribute("data-assignment") + "/" + btn.getAttribute("data-step"), {})
      .then(function () { refreshIncident(state.selected); })
      .catch(function (err) { btn.disabled = false; notify(S("error") + ": " + err.message, true); });
  });
  function drawRoute(unitId, incId) {
    var rec = findUnitById(unitId), inc = state.incidents[incId], to = lonlat(inc);
    if (!rec || !rec.pos || !to) return;
    var q = "/api/v1/routing/route?region=" + encodeURIComponent(CFG.kode_kab) + "&from_lat=" + rec.pos.lat + "&from_lon=" + rec.pos.lon +
      "&to_lat=" + to.lat + "&to_lon=" + to.lon + "&profile=" + encodeURIComponent(rec.profile || "ambulance");
    api("GET", q).then(function (route) {
      layers.route.clearLayers();
      state.route = route;
      L.geoJSON(route, { style: { color: "#ff00aa", weight: 5, opacity: 0.8 } }).addTo(layers.route);
    }).catch(function (e) { console.warn("route", e); });
  }
  // ---------- calls that are not incidents: one click or Alt+1..5, counted in the reports ----------
  function logCall(kind) {
    var body = { kode_kab: CFG.kode_kab, kind: kind, channel: $("channel").value };
    var phone = $("caller").value.trim(); if (phone) body.caller_phone = phone;
    return api("POST", "/api/v1/calls", body).then(function (row) {
      $("caller").value = ""; notify(S("call_logged") + ": " + S("call_" + kind), false); return row;
    }).catch(function (err) { notify(S("error") + ": " + err.message, true); });
  }
  state.logCall = logCall;
  $("non-incident").addEventListener("click", function (e) {
    var btn = e.target.closest("button.call-kind"); if (btn) logCall(btn.getAttribute("data-kind"));
  });
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    var buttons = document.querySelectorAll("#non-incident button.call-kind");
    var i = parseInt(e.key, 10) - 1;
    if (i >= 0 && i < buttons.length) { e.preventDefault(); logCall(buttons[i].getAttribute("data-kind")); }
  });
  function notify(text, isError) {
    var el = $(isError ? "form-error" : "notice"); el.textContent = text; el.hidden = false;
    setTimeout(function () { el.hidden = true; }, 8000);
  }

  // ---------- boundaries and roads (vector layers: the map works with no tiles) ----------
  function loadVectors() {
    (CFG.boundary_urls || []).forEach(function (url, i) {
      api("GET", url).then(function (fc) {
        L.geoJSON(fc, { renderer: boundaryRenderer, interactive: false,
          style: i === 0 ? { color: "#6b7b8c", weight: 0.8, fill: false, dashArray: "2 3" } : { color: "#334", weight: 1.6, fill: false } }).addTo(layers.boundaries);
      }).catch(function (e) { console.warn("boundaries", url, e); });
    });
    if (CFG.roads_url) api("GET", CFG.roads_url).then(function (fc) {
      L.geoJSON(fc, { renderer: boundaryRenderer, interactive: false, style: { color: "#b7a98f", weight: 1 } }).addTo(layers.roads);
      layers.roads.eachLayer(function (l) { if (l.bringToBack) l.bringToBack(); });
    }).catch(function (e) { console.warn("roads", e); });
  }

  // ---------- session ----------
  function start(me) {
    state.me = me;
    $("login").hidden = true;
    $("whoami").textContent = me.username + " (" + me.role + ")";
    $("calltaker").hidden = !(me.role === "dispatcher" || me.role === "admin");
    // monthly report files for the Bupati's office (viewer) and admins
    $("report-form").hidden = !(me.role === "admin" || me.role === "viewer");
    $("report-kab").value = CFG.kode_kab;
    if (!$("report-month").value) $("report-month").value = new Date().toISOString().slice(0, 7);
    $("report-form").addEventListener("submit", function () { $("report-lang").value = lang; });
    loadVectors(); loadUnits().then(loadIncidents).then(loadTrackers); connectLive();
    setInterval(loadTrackers, 60000);
  }
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    api("POST", "/api/v1/auth/login", { username: $("login-username").value, password: $("login-password").value })
      .then(function (r) { $("login-password").value = ""; start(r.user); })
      .catch(function () { $("login-error").textContent = S("login_failed"); $("login-error").hidden = false; });
  });
  $("logout").addEventListener("click", function () {
    api("POST", "/api/v1/auth/logout").finally(function () { state.me = null; if (state.ws) state.ws.close(); location.reload(); });
  });
  document.querySelectorAll(".lang-switch").forEach(function (b) {
    b.addEventListener("click", function () { lang = lang === "id" ? "en" : "id"; localStorage.setItem("siaga.lang", lang); applyLanguage(); });
  });
  window.SiagaConsole = Object.assign(window.SiagaConsole || {}, { CFG: CFG, api: api, S: S, esc: esc, state: state, map: map, layers: layers, select: select, refreshIncident: refreshIncident, findUnitById: findUnitById, lonlat: lonlat, fmtDur: fmtDur, fmtTime: fmtTime, fmtDist: fmtDist, notify: notify, lang: function () { return lang; } });
  $("region-name").textContent = CFG.region_name || CFG.kode_kab;
  applyLanguage();
  window.SiagaConsole = Object.assign(window.SiagaConsole || {}, { api: api, S: S, esc: esc, state: state, map: map, CFG: CFG, select: select, refreshIncident: refreshIncident, notify: notify, fmtDur: fmtDur, lang: function () { return lang; }, upsertIncident: upsertIncident, renderIncidentList: renderIncidentList }); // call taking
  api("GET", "/api/v1/auth/me").then(start).catch(function () { $("login").hidden = false; });
})();
