/* Siaga console, call taking: the keyboard-first call form (F2 / Alt+N), probable duplicates
   with one action to attach the call, and the incident queue (priority, then SLA time left from
   GET /api/v1/incidents/queue) with its sound + banner alerts. Loaded after console.js. */
(function () {
  "use strict";
  var C = window.SiagaConsole; if (!C) return;
  var S = C.S, esc = C.esc, api = C.api, state = C.state, CFG = C.CFG;
  function $(id) { return document.getElementById(id); }
  function fill(text, vars) { return text.replace(/\{(\w+)\}/g, function (m, k) { return vars[k] != null ? vars[k] : m; }); }
  var ct = state.callTaking = { openedAt: null, dupKey: "", frozenKey: null, dups: [], queue: [], byId: {},
    skewMs: 0, alerts: {}, silenced: {}, beeps: 0, flashes: 0, ws: null };
  try { ct.silenced = JSON.parse(sessionStorage.getItem("siaga.ct.silenced") || "{}"); } catch (e) { ct.silenced = {}; }

  // ---------- keyboard-first call form ----------
  function newCall() {
    $("incident-form").reset();
    state.picked = null; $("picked").textContent = ""; $("place-results").innerHTML = "";
    $("form-error").hidden = true; ct.frozenKey = null; ct.dupKey = ""; renderDups([]);
    updateCallback();
    ct.openedAt = Date.now();
    $("calltaker").scrollIntoView({ block: "nearest" });
    $("caller").focus();
  }
  function updateCallback() {
    var digits = ($("caller").value || "").replace(/[^0-9+]/g, ""), a = $("ct-callback");
    a.hidden = digits.length < 3; a.href = "tel:" + digits; $("ct-callback-number").textContent = digits;
  }
  $("caller").addEventListener("input", updateCallback);
  function submitForm() { var f = $("incident-form"); if (f.requestSubmit) f.requestSubmit(); else f.dispatchEvent(new Event("submit", { cancelable: true })); }
  // selects: Enter submits; letters pick the option whose label starts with them (typed within
  // 0.9 s, per select and per focus; when the longer prefix matches nothing, the last letter
  // alone, as a native select does); arrows step
  ["category", "channel"].forEach(function (id) {
    var sel = $(id), typed = "", typedAt = 0;
    function find(prefix) {
      for (var k = 0; k < sel.options.length; k++) {
        if (sel.options[k].textContent.trim().toLowerCase().indexOf(prefix) === 0) return k;
      }
      return -1;
    }
    sel.addEventListener("focus", function () { typed = ""; });
    sel.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.altKey || e.metaKey) return;
      var i = sel.selectedIndex, n = sel.options.length;
      if (e.key === "Enter") { e.preventDefault(); submitForm(); return; }
      if (e.key === "ArrowDown" || e.key === "ArrowUp") { i = Math.max(0, Math.min(n - 1, i + (e.key === "ArrowDown" ? 1 : -1))); }
      else if (e.key.length === 1 && e.key !== " ") {
        var now = Date.now(), key = e.key.toLowerCase();
        typed = (now - typedAt < 900 ? typed : "") + key; typedAt = now;
        var k = find(typed);
        if (k < 0) { typed = key; k = find(key); }
        if (k >= 0) i = k;
      } else return;
      e.preventDefault();
      if (i !== sel.selectedIndex) { sel.selectedIndex = i; sel.dispatchEvent(new Event("change", { bubbles: true })); }
    });
  });
  $("description").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submitForm(); }
  });
  // place suggestions: arrow keys move, Enter picks (the list's own click handler), Esc closes
  var active = -1;
  function items() { return $("place-results").querySelectorAll("li"); }
  function highlight(i) {
    var li = items(); active = li.length ? (i + li.length) % li.length : -1;
    li.forEach(function (el, k) { el.classList.toggle("active", k === active); el.setAttribute("aria-selected", k === active ? "true" : "false"); });
    if (active >= 0) li[active].scrollIntoView({ block: "nearest" });
  }
  new MutationObserver(function () {
    active = -1; $("place").setAttribute("aria-expanded", items().length ? "true" : "false");
    items().forEach(function (el, k) { el.setAttribute("role", "option"); el.id = "place-opt-" + k; });
  }).observe($("place-results"), { childList: true });
  $("place").addEventListener("keydown", function (e) {
    var n = items().length;
    if (e.key === "ArrowDown" && n) { e.preventDefault(); highlight(active + 1); }
    else if (e.key === "ArrowUp" && n) { e.preventDefault(); highlight(active - 1); }
    else if (e.key === "Escape" && n) { e.preventDefault(); $("place-results").innerHTML = ""; }
    else if (e.key === "Enter" && n) {
      e.preventDefault(); // a suggestion is open: Enter picks it (the first one if none is highlighted)
      items()[active >= 0 ? active : 0].click();
      $("category").focus();
    }
  });
  // after a new incident is submitted: no suggestion of itself until the next call
  $("incident-form").addEventListener("submit", function () { ct.frozenKey = dupKey(); renderDups([]); });

  // ---------- probable duplicates: as soon as place and category are known ----------
  function dupKey() {
    var p = state.picked; if (!p) return "";
    return p.lat.toFixed(5) + "," + p.lon.toFixed(5) + "," + $("category").value;
  }
  function checkDuplicates() {
    var key = dupKey();
    if (key === ct.dupKey) return;
    ct.dupKey = key;
    if (!key || key === ct.frozenKey || !state.me) { renderDups([]); return; }
    var p = state.picked;
    api("GET", "/api/v1/incidents/duplicates?kode_kab=" + encodeURIComponent(CFG.kode_kab) + "&lat=" + p.lat +
        "&lon=" + p.lon + "&category=" + encodeURIComponent($("category").value)).then(function (out) {
      if (dupKey() === key) renderDups(out.candidates || []);
    }).catch(function () { renderDups([]); });
  }
  function renderDups(list) {
    ct.dups = list; var box = $("ct-duplicates");
    box.hidden = !list.length;
    box.innerHTML = list.length ? '<div class="ct-dup-title">' + esc(S("ct_dup_title")) + "</div>" + list.map(function (c, i) {
      return '<div class="ct-dup" data-id="' + esc(c.incident_id) + '"><div><b>#' + esc(c.incident_id) + "</b> " + esc(S("cat_" + c.category)) +
        " — " + esc(c.nama_desa || c.place_text || "") + ' <span class="muted">' + Math.round(c.distance_m) + " " + esc(S("ct_away")) +
        " · " + esc(S("inc_" + c.status)) + (c.calls ? " · " + c.calls + " " + esc(S("ct_calls")) : "") + "</span>" +
        (c.description ? '<div class="muted">' + esc(c.description) + "</div>" : "") + "</div>" +
        '<button type="button" class="ct-attach" data-id="' + esc(c.incident_id) + '">' + esc(fill(S("ct_attach"), { id: c.incident_id })) +
        (i === 0 ? " <kbd>Alt+G</kbd>" : "") + "</button></div>";
    }).join("") : "";
  }
  $("ct-duplicates").addEventListener("click", function (e) {
    var b = e.target.closest("button.ct-attach"); if (b) attach(+b.getAttribute("data-id"));
  });
  function attach(id) {
    var body = { channel: $("channel").value, note: $("description").value.trim() };
    var phone = $("caller").value.trim(); if (phone) body.caller_phone = phone;
    return api("POST", "/api/v1/incidents/" + id + "/calls", body).then(function (call) {
      ct.lastAttached = call; ct.frozenKey = dupKey(); renderDups([]);
      $("caller").value = ""; $("description").value = ""; updateCallback();
      C.notify(fill(S("ct_attached"), { id: id }), false);
      C.select(id);
      return call;
    }).catch(function (err) { C.notify(S("error") + ": " + err.message, true); });
  }
  setInterval(checkDuplicates, 300);

  // ---------- the queue: priority, then SLA time left (server figures), colours ----------
  function nowServer() { return Date.now() + ct.skewMs; }
  function leftOf(q) { return q.deadline ? (Date.parse(q.deadline) - nowServer()) / 1000 : null; }
  function urgency(q) {
    var left = leftOf(q);
    if (left == null) return "none";
    if (left < 0) return "breached";
    return q.limit_s && left < 0.25 * q.limit_s ? "warning" : "ok";
  }
  function loadQueue() {
    if (!state.me || state.me.role === "viewer") return Promise.resolve();
    return api("GET", "/api/v1/incidents/queue?kode_kab=" + encodeURIComponent(CFG.kode_kab)).then(function (out) {
      ct.skewMs = Date.parse(out.now) - Date.now();
      ct.queue = out.items || []; ct.byId = {};
      ct.queue.forEach(function (q, i) {
        q.rank = i; ct.byId[q.incident_id] = q;
        if (!state.incidents[q.incident_id]) C.upsertIncident({ id: q.incident_id, category: q.category, status: q.status,
          priority: q.priority, received_at: q.received_at, nama_desa: q.nama_desa, place_text: q.place_text, drill: q.drill });
        (q.ack_overdue || []).forEach(function (a) { raise("ack:" + q.incident_id + ":" + a, { kind: "ack", id: q.incident_id, agency: a, via: "queue" }); });
        (q.escalated || []).forEach(function (a) { raise("esc:" + q.incident_id + ":" + a, { kind: "esc", id: q.incident_id, agency: a, via: "queue" }); });
      });
      applyQueue(); tick();
    }).catch(function (e) { console.warn("queue", e); });
  }
  var listObserver = new MutationObserver(function () { applyQueue(); });
  function observeList() { listObserver.observe($("incident-list"), { childList: true }); }
  function applyQueue() {
    var ul = $("incident-list"); listObserver.disconnect();
    var lis = Array.prototype.slice.call(ul.children), pos = {};
    lis.forEach(function (li, i) { pos[li.getAttribute("data-id")] = i; });
    lis.sort(function (a, b) {
      var qa = ct.byId[a.getAttribute("data-id")], qb = ct.byId[b.getAttribute("data-id")];
      if (qa && qb) return qa.rank - qb.rank;
      if (qa || qb) return qa ? -1 : 1;
      return pos[a.getAttribute("data-id")] - pos[b.getAttribute("data-id")];
    });
    lis.forEach(function (li) {
      ul.appendChild(li);
      var q = ct.byId[li.getAttribute("data-id")], badge = li.querySelector(".q-badge");
      li.classList.toggle("q-item", !!q);
      if (!q) { if (badge) badge.remove(); li.classList.remove("q-ok", "q-warning", "q-breached"); return; }
      if (!badge) { badge = document.createElement("span"); badge.className = "q-badge"; li.insertBefore(badge, li.firstChild); }
    });
    observeList(); tick();
  }
  function tick() {
    document.querySelectorAll("#incident-list li.q-item").forEach(function (li) {
      var q = ct.byId[li.getAttribute("data-id")]; if (!q) return;
      var u = urgency(q), left = leftOf(q);
      ["ok", "warning", "breached"].forEach(function (k) { li.classList.toggle("q-" + k, u === k); });
      li.setAttribute("data-urgency", u);
      li.querySelector(".q-badge").textContent = (q.priority ? "P" + q.priority : "–") +
        (left == null ? "" : " · " + C.fmtDur(Math.abs(left)) + " " + S(left < 0 ? "ct_overdue" : "ct_left"));
      if (u === "breached") raise("breach:" + q.incident_id, { kind: "breach", id: q.incident_id, via: "queue" });
    });
  }
  setInterval(tick, 1000);
  setInterval(loadQueue, 15000);

  // ---------- alerts: SLA breached, OPD not acknowledged in time, escalation ----------
  var banner = document.createElement("div");
  banner.id = "ct-alert"; banner.className = "ct-alert"; banner.setAttribute("role", "alert"); banner.hidden = true;
  banner.innerHTML = '<ul id="ct-alert-list"></ul><button type="button" id="ct-alert-ack"></button>';
  document.body.appendChild(banner);
  function alertText(a) {
    var inc = "#" + a.id;
    if (a.kind === "breach") return S("ct_alert_breach") + ": " + inc;
    if (a.kind === "ack") return a.agency + " " + S("ct_alert_ack") + ": " + inc;
    return S("ct_alert_escalated") + " " + a.agency + ": " + inc;
  }
  function renderAlerts() {
    var keys = Object.keys(ct.alerts);
    banner.hidden = !keys.length;
    $("ct-alert-list").innerHTML = keys.map(function (k) {
      return '<li data-key="' + esc(k) + '" data-id="' + esc(ct.alerts[k].id) + '" data-via="' + esc(ct.alerts[k].via) + '">' + esc(alertText(ct.alerts[k])) + "</li>";
    }).join("");
    $("ct-alert-ack").textContent = S("ct_alert_silence");
  }
  function raise(key, a) {
    if (ct.silenced[key] || ct.alerts[key]) return;
    ct.alerts[key] = a; renderAlerts();
    banner.classList.remove("flash"); void banner.offsetWidth; banner.classList.add("flash"); ct.flashes++;
    beep();
  }
  function silence() {
    Object.keys(ct.alerts).forEach(function (k) { ct.silenced[k] = true; });
    ct.alerts = {}; renderAlerts();
    try { sessionStorage.setItem("siaga.ct.silenced", JSON.stringify(ct.silenced)); } catch (e) { /* private mode */ }
  }
  $("ct-alert-ack").addEventListener("click", silence);
  $("ct-alert-list").addEventListener("click", function (e) { var li = e.target.closest("li"); if (li) C.select(li.getAttribute("data-id")); });
  function beep() {
    ct.beeps++; banner.setAttribute("data-beeps", String(ct.beeps));
    try {
      var AC = window.AudioContext || window.webkitAudioContext; if (!AC) return;
      ct.audio = ct.audio || new AC();
      var o = ct.audio.createOscillator(), g = ct.audio.createGain(), t = ct.audio.currentTime;
      o.type = "square"; o.frequency.value = 880; g.gain.value = 0.12;
      o.connect(g); g.connect(ct.audio.destination); o.start(t); o.stop(t + 0.3);
    } catch (e) { /* no audio device: the banner still shows */ }
  }
  // unacknowledged alerts keep sounding every 20 s
  setInterval(function () { if (Object.keys(ct.alerts).length) beep(); }, 20000);
  function resumeAudio() { if (ct.audio && ct.audio.state === "suspended") ct.audio.resume(); }
  document.addEventListener("pointerdown", resumeAudio);

  // the live WebSocket: escalations raise an alert; incident changes refresh the queue
  var refreshTimer = null;
  function onLive(msg) {
    var data; try { data = JSON.parse(msg.data); } catch (e) { return; }
    if (!data || data.type !== "events") return;
    var refresh = false;
    (data.events || []).forEach(function (ev) {
      var d = ev.data || {};
      if (ev.kind === "sla" && d.action === "escalated" && d.incident_id != null) {
        raise("esc:" + d.incident_id + ":" + d.agency, { kind: "esc", id: d.incident_id, agency: d.agency, via: "live" }); refresh = true;
      } else if (ev.kind === "incident" || ev.kind === "sla") refresh = true;
    });
    if (refresh) { clearTimeout(refreshTimer); refreshTimer = setTimeout(loadQueue, 500); }
  }
  setInterval(function () {
    if (state.ws && state.ws !== ct.ws) { ct.ws = state.ws; ct.ws.addEventListener("message", onLive); }
  }, 500);

  // ---------- keys: F2 / Alt+N new call, Alt+G attach to the first duplicate, Alt+K silence ----------
  document.addEventListener("keydown", function (e) {
    resumeAudio();
    var k = (e.key || "").toLowerCase();
    if (e.key === "F2" || (e.altKey && !e.ctrlKey && !e.metaKey && k === "n")) { e.preventDefault(); newCall(); }
    else if (e.altKey && !e.ctrlKey && k === "g" && ct.dups.length) { e.preventDefault(); attach(ct.dups[0].incident_id); }
    else if (e.altKey && !e.ctrlKey && k === "k") { e.preventDefault(); silence(); }
  });
  document.querySelectorAll(".lang-switch").forEach(function (b) { b.addEventListener("click", function () { renderAlerts(); renderDups(ct.dups); tick(); }); });

  observeList();
  var started = setInterval(function () { if (state.me) { clearInterval(started); loadQueue(); } }, 300);
  window.SiagaConsole.callTaking = { newCall: newCall, attach: attach, loadQueue: loadQueue, silence: silence };
})();
