"use strict";
(function () {
  var q = document.getElementById("q");
  // Rows and diagram entries hide when their text lacks every word typed (case-insensitive).
  function filter() {
    var words = q.value.toLowerCase().split(/\s+/).filter(function (w) { return w; });
    var items = document.querySelectorAll("table.data tbody tr, ul.tree > li, .searchable");
    for (var i = 0; i < items.length; i++) {
      var text = items[i].textContent.toLowerCase();
      items[i].hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    }
  }
  q.addEventListener("input", filter);
  // Sortable columns: numbers as numbers, the rest as text; a second click reverses.
  var buttons = document.querySelectorAll("th button.sort");
  for (var b = 0; b < buttons.length; b++) {
    buttons[b].addEventListener("click", function (ev) {
      var th = ev.currentTarget.parentNode;
      var table = th.closest("table");
      var col = Array.prototype.indexOf.call(th.parentNode.children, th);
      var up = th.getAttribute("aria-sort") !== "ascending";
      var heads = table.querySelectorAll("th");
      for (var h = 0; h < heads.length; h++) { heads[h].removeAttribute("aria-sort"); }
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col] ? a.cells[col].textContent : "";
        var y = b.cells[col] ? b.cells[col].textContent : "";
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny) && String(nx) === x.trim() && String(ny) === y.trim())
          ? nx - ny : x.localeCompare(y);
        return up ? c : -c;
      });
      for (var r = 0; r < rows.length; r++) { body.appendChild(rows[r]); }
    });
  }
  function openAll() {
    var d = document.querySelectorAll("details");
    for (var i = 0; i < d.length; i++) { d[i].open = true; }
  }
  document.getElementById("open-all").addEventListener("click", openAll);
  window.addEventListener("beforeprint", openAll);
  // A link to something inside a closed section opens it.
  window.addEventListener("hashchange", function () {
    var t = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    for (var n = t; n; n = n.parentElement) { if (n.tagName === "DETAILS") { n.open = true; } }
  });
})();
