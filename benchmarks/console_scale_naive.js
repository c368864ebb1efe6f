/* The naive console of benchmarks/console_scale.py (injected into the console page with the
   console's own scripts blocked); the regency code fills the placeholder of the list URL. */
(function () {
  var map = L.map("map").setView([-7.8014, 110.3695], 13), list = document.getElementById("incident-list");
  var units = {}, lag = []; window.__naive = { done: null, incidents: 0, lag: lag };
  fetch("/api/v1/incidents?kode_kab=%s&limit=1000").then(function (r) { return r.json(); }).then(async function (d) {
    for (const inc of d.incidents) {  // each incident's detail, marker and row, one at a time
      const det = await fetch("/api/v1/incidents/" + inc.id).then(function (r) { return r.json(); });
      const p = det.location || det.point || {};
      const c = p.coordinates || [p.lon, p.lat];
      L.marker([c[1], c[0]], { icon: L.divIcon({ className: "", html: '<div class="inc-icon">' + det.category[0] + "</div>" }) }).addTo(map);
      const li = document.createElement("li");
      li.textContent = "#" + det.id + " " + det.category + " " + det.status + " " + (det.assignments || []).length;
      list.appendChild(li); window.__naive.incidents++;
    }
    window.__naive.done = performance.now();
  });
  var ws = new WebSocket("ws://" + location.host + "/api/v1/live");
  ws.onmessage = function (m) {
    var data = JSON.parse(m.data), fixes = [];
    (data.events || []).forEach(function (ev) {
      if (ev.kind !== "position") return;
      var d = ev.data, c = (d.position || d.point || d).coordinates || [d.lon, d.lat], mk = units[d.device_id];
      if (!mk) { mk = units[d.device_id] = L.marker([c[1], c[0]], { icon: L.divIcon({ className: "",
        html: '<div style="background:#1a9641;width:10px;height:10px;border-radius:5px"></div><span>' + d.device_id + "</span>" }) }).addTo(map); }
      else mk.setLatLng([c[1], c[0]]);
      fixes.push(Date.parse(d.fix_time));
    });
    requestAnimationFrame(function () { var now = Date.now(); fixes.forEach(function (t) { lag.push(now - t); }); });
  };
})();
