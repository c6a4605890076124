/* editbench leaderboard: sortable tables, track filter and grouping. Inlined (its hash is in the
   page's content policy); no modules, no fetch, works from file://. Sorting reads each cell's
   data-value attribute (numbers for scores, text for names); rows with no value always sink to
   the bottom, whatever the direction. Group rows (class "group-row") are rebuilt after a sort. */
(function () {
  "use strict";

  function keyOf(cell, type) {
    var v = cell ? cell.getAttribute("data-value") : null;
    if (type === "text") { return (v || "").toLowerCase(); }
    if (v === null || v === "") { return null; }
    var x = parseFloat(v);
    return isNaN(x) ? null : x;
  }

  function dataRows(table) {
    return Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.classList.contains("group-row"); });
  }

  function regroup(table) {
    var body = table.tBodies[0];
    Array.prototype.slice.call(body.querySelectorAll("tr.group-row")).forEach(function (r) { body.removeChild(r); });
    var rows = dataRows(table);
    if (!table.classList.contains("grouped")) { return; }
    var order = [], groups = {};
    rows.forEach(function (r) {
      var t = r.getAttribute("data-track") || "";
      if (!groups[t]) { groups[t] = []; order.push(t); }
      groups[t].push(r);
    });
    var width = table.tHead.rows[0].cells.length;
    order.forEach(function (t) {
      var tr = document.createElement("tr"), th = document.createElement("th");
      tr.className = "group-row";
      th.colSpan = width;
      th.scope = "rowgroup";
      th.textContent = t + " · " + groups[t].length + " system" + (groups[t].length === 1 ? "" : "s");
      tr.appendChild(th);
      body.appendChild(tr);
      groups[t].forEach(function (r) { body.appendChild(r); });
    });
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
    var rows = dataRows(table);
    var sign = dir === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var ka = keyOf(a.cells[col], type), kb = keyOf(b.cells[col], type);
      if (ka === null || kb === null) { return ka === kb ? 0 : (ka === null ? 1 : -1); }
      return ka < kb ? -sign : (ka > kb ? sign : 0);
    });
    for (var r = 0; r < rows.length; r++) { body.appendChild(rows[r]); }
    regroup(table);
  }

  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector("button");
      if (button) { button.addEventListener("click", function () { sortBy(table, th, col); }); }
    });
  });

  // Track filter (chips) and grouping (checkbox), on the overview table and the systems table.
  var chips = document.querySelectorAll("[data-track-filter]");
  var shown = {};  // track -> true; empty: all
  function applyTracks() {
    var all = Object.keys(shown).length === 0;
    Array.prototype.forEach.call(chips, function (c) {
      var t = c.getAttribute("data-track-filter");
      c.setAttribute("aria-pressed", String(t === "" ? all : !!shown[t]));
    });
    Array.prototype.forEach.call(document.querySelectorAll("tr[data-track]"), function (r) {
      r.hidden = !all && !shown[r.getAttribute("data-track")];
    });
    Array.prototype.forEach.call(document.querySelectorAll("tr.group-row"), function (g) {
      var next = g.nextElementSibling, any = false;
      while (next && !next.classList.contains("group-row")) { any = any || !next.hidden; next = next.nextElementSibling; }
      g.hidden = !any;
    });
  }
  Array.prototype.forEach.call(chips, function (c) {
    c.addEventListener("click", function () {
      var t = c.getAttribute("data-track-filter");
      if (t === "") { shown = {}; } else if (shown[t]) { delete shown[t]; } else { shown[t] = true; }
      applyTracks();
    });
  });
  var group = document.getElementById("group-by-track");
  if (group) {
    group.addEventListener("change", function () {
      var table = document.getElementById("overview-table");
      table.classList.toggle("grouped", group.checked);
      regroup(table);
      applyTracks();
    });
  }
})();
