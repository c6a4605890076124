/* editbench leaderboard: sortable score tables. Inlined; no modules, no fetch, works from file://.
   Sorting reads each cell's data-value attribute (numbers for scores, text for names); rows with
   no value always sink to the bottom, whatever the direction. */
(function () {
  "use strict";

  function keyOf(cell, type) {
    var v = cell ? cell.getAttribute("data-value") : null;
    if (type === "text") { return (v || "").toLowerCase(); }
    if (v === null || v === "") { return null; }
    var x = parseFloat(v);
    return isNaN(x) ? null : x;
  }

  function sortBy(table, th, col) {
    var heads = table.tHead.rows[0].cells;
    var type = th.getAttribute("data-type") || "number";
    var current = th.getAttribute("aria-sort");
    var first = type === "text" || th.getAttribute("data-better") === "low" ? "ascending" : "descending";
    var dir = current ? (current === "ascending" ? "descending" : "ascending") : first;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", dir);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = dir === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var ka = keyOf(a.cells[col], type), kb = keyOf(b.cells[col], type);
      if (ka === null || kb === null) { return ka === kb ? 0 : (ka === null ? 1 : -1); }
      return ka < kb ? -sign : (ka > kb ? sign : 0);
    });
    for (var r = 0; r < rows.length; r++) { body.appendChild(rows[r]); }
  }

  var tables = document.querySelectorAll("table.sortable");
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var heads = table.tHead ? table.tHead.rows[0].cells : [];
      for (var c = 0; c < heads.length; c++) {
        (function (th, col) {
          var button = th.querySelector("button");
          if (button) { button.addEventListener("click", function () { sortBy(table, th, col); }); }
        })(heads[c], c);
      }
    })(tables[t]);
  }
})();
