/* Sorting and filtering for the batch table. The page reads fully without it. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var table = document.getElementById("files-table");
  if (table && table.tBodies.length && table.tHead) {
    var tbody = table.tBodies[0];
    var heads = table.tHead.rows[0].cells;
    var rows = Array.prototype.slice.call(tbody.rows);
    var keyOf = function (row, col) {
      var cell = row.cells[col];
      var v = cell ? cell.getAttribute("data-sort") : null;
      if (v !== null) { return parseFloat(v); }
      return cell ? cell.textContent.trim().toLowerCase() : "";
    };
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var numeric = rows.length && typeof keyOf(rows[0], col) === "number";
        var current = th.getAttribute("aria-sort");
        var dir = current ? (current === "descending" ? "ascending" : "descending")
                          : (numeric ? "descending" : "ascending");
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir);
        var sign = dir === "ascending" ? 1 : -1;
        var sorted = rows.slice().sort(function (a, b) {
          var x = keyOf(a, col), y = keyOf(b, col);
          if (x < y) { return -sign; }
          if (x > y) { return sign; }
          return keyOf(a, 0) - keyOf(b, 0);
        });
        sorted.forEach(function (r) { tbody.appendChild(r); });
      });
    });
    var controls = document.getElementById("controls");
    var filter = document.getElementById("filter");
    var only = document.getElementById("only-indicators");
    var shown = document.getElementById("shown");
    if (controls && filter && only && shown) {
      controls.hidden = false;
      var apply = function () {
        var needle = filter.value.trim().toLowerCase();
        var n = 0;
        rows.forEach(function (r) {
          var ok = (!needle || r.textContent.toLowerCase().indexOf(needle) >= 0) &&
                   (!only.checked || r.getAttribute("data-indicators") === "1");
          r.hidden = !ok;
          if (ok) { n += 1; }
        });
        shown.textContent = n + " of " + rows.length + " shown";
      };
      filter.addEventListener("input", apply);
      only.addEventListener("change", apply);
      apply();
    }
  }
  root.setAttribute("data-js", "ready");
}());
