/* Print button of the shift handover page (no inline script: the page's CSP forbids it). */
(function () {
  "use strict";
  var b = document.getElementById("print");
  if (b) b.addEventListener("click", function () { window.print(); });
})();
