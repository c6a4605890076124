/* editbench annotation page. Vanilla JS, no modules, no fetch: works from file://.
 *
 * Data comes from data-*.js (window.EDITBENCH_ANNOTATE = {meta, samples}). Results are named by
 * blind tokens, never by system. Everything an annotator does is saved at once in localStorage
 * under "editbench-annotate/v1/<run key>/<mode>/<annotator>", so pages built from other runs, the
 * other mode or other annotators never mix. Export writes the label format bench/labels.py reads.
 * All text from the data is inserted with textContent, never as HTML.
 */
(function () {
  "use strict";

  var D = window.EDITBENCH_ANNOTATE;
  var app = document.getElementById("app");
  if (!D || !D.meta) {
    return; // the "Loading" note stays and says which files are missing
  }
  var META = D.meta, SAMPLES = D.samples, MODE = META.mode, DIMS = META.dimensions;
  var PREFIX = "editbench-annotate/v1/" + META.run_key + "/";
  var ANNOTATOR_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
  var VALUES = [["1", "pass", "pass"], ["2", "partial", "partial"], ["3", "fail", "fail"], ["0", "undecidable", "can't judge"]];
  var LETTERS = "abcdefghijklmnopqrstuvwxyz";

  var state = { annotator: null, items: {}, pos: 0, dim: 0 };
  var ITEMS = [];

  // ------------------------------------------------------------------ storage
  function storageKey() { return PREFIX + MODE + "/" + state.annotator; }

  function readJSON(key) {
    try {
      var text = window.localStorage.getItem(key);
      return text ? JSON.parse(text) : null;
    } catch (e) {
      return null;
    }
  }

  function persist() {
    var saved = document.getElementById("saved");
    try {
      window.localStorage.setItem(storageKey(), JSON.stringify({ items: state.items, pos: state.pos }));
      saved.textContent = "saved " + new Date().toLocaleTimeString();
      saved.className = "ok";
    } catch (e) {
      saved.textContent = "NOT saved (browser storage unavailable): export often";
      saved.className = "error";
    }
  }

  // ------------------------------------------------------------------ seeded shuffle
  function hash32(text) { // FNV-1a, then a final avalanche
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13;
    return h >>> 0;
  }

  function mulberry32(seed) {
    return function () {
      seed = (seed + 0x6d2b79f5) | 0;
      var t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function shuffled(list, seedText) {
    var out = list.slice(), rand = mulberry32(hash32(seedText));
    for (var i = out.length - 1; i > 0; i--) {
      var j = Math.floor(rand() * (i + 1)), tmp = out[i];
      out[i] = out[j]; out[j] = tmp;
    }
    return out;
  }

  // ------------------------------------------------------------------ items
  function buildItems() {
    ITEMS = [];
    for (var s = 0; s < SAMPLES.length; s++) {
      var sample = SAMPLES[s];
      var order = shuffled(sample.results, state.annotator + "\u0000" + sample.suite + "\u0000" + sample.sample_id);
      if (MODE === "rate") {
        for (var r = 0; r < order.length; r++) {
          ITEMS.push({ key: sample.suite + "\u0000" + sample.sample_id + "\u0000" + order[r].token,
                       sample: sample, result: order[r], index: r, of: order.length });
        }
      } else {
        ITEMS.push({ key: sample.suite + "\u0000" + sample.sample_id, sample: sample, order: order,
                     k: Math.min(META.top, order.length) });
      }
    }
  }

  function itemState(item, create) {
    var st = state.items[item.key];
    if (!st && create) {
      st = state.items[item.key] = { ratings: {}, ranking: [], note: "" };
    }
    return st || { ratings: {}, ranking: [], note: "" };
  }

  function ranked(item) { return MODE === "rate" || itemState(item).ranking.length === item.k; }

  function complete(item) {
    var st = itemState(item);
    if (!ranked(item)) { return false; }
    for (var d = 0; d < DIMS.length; d++) {
      if (!st.ratings[DIMS[d].id]) { return false; }
    }
    return true;
  }

  function firstUnrated(item) {
    var st = itemState(item);
    for (var d = 0; d < DIMS.length; d++) {
      if (!st.ratings[DIMS[d].id]) { return d; }
    }
    return 0;
  }

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      if (arguments[i]) { parent.appendChild(arguments[i]); }
    }
    return parent;
  }

  function picture(src, label) {
    var fig = el("figure", "pic");
    if (src) {
      var img = el("img");
      img.src = src;
      img.alt = label;
      img.addEventListener("click", function () { openLightbox(src); });
      fig.appendChild(img);
    } else {
      fig.appendChild(el("div", "missing", "image missing"));
    }
    fig.appendChild(el("figcaption", null, label));
    return fig;
  }

  function samplePanel(sample) {
    var box = el("section", "sample");
    add(box, el("p", "where", sample.suite + " \u00b7 " + sample.sample_id));
    add(box, el("h2", "goal", sample.goal));
    if (sample.checklist.length) {
      var ul = el("ul", "checklist");
      for (var i = 0; i < sample.checklist.length; i++) {
        var c = sample.checklist[i];
        var li = el("li", "kind-" + c.kind);
        add(li, el("span", "kind", c.kind), document.createTextNode(" " + c.text));
        ul.appendChild(li);
      }
      add(box, el("h3", null, "Checklist"), ul);
    }
    if (sample.preserve.length) {
      add(box, el("p", "preserve", "Keep: " + sample.preserve.join("; ")));
    }
    return box;
  }

  function planPanel(result) {
    var box = el("section", "plan");
    var plan = result.plan;
    add(box, el("h3", null, "Plan and reasoning"));
    if (!plan) {
      add(box, el("p", "muted", "This system gave no plan (rate plan and reasoning 0: can't judge)."));
    } else {
      if (plan.reasoning) { add(box, el("p", "reasoning", plan.reasoning)); }
      var ol = el("ol", "steps");
      for (var i = 0; i < plan.subtasks.length; i++) {
        var s = plan.subtasks[i], li = el("li");
        add(li, el("span", "step-text", s.text));
        if (s.action || s.tool) { add(li, el("code", "tool", [s.action, s.tool].filter(Boolean).join(" \u2192 "))); }
        if (s.params) { add(li, el("code", "params", s.params)); }
        if (s.reasoning) { add(li, el("p", "reasoning", s.reasoning)); }
        ol.appendChild(li);
      }
      add(box, ol);
      if (plan.instruction) { add(box, el("p", "instruction", "Instruction to the editor: " + plan.instruction)); }
    }
    if (result.steps && result.steps.length) {
      var tools = result.steps.map(function (st) { return st.tool + (st.error ? " (error)" : ""); });
      add(box, el("p", "muted", "Tool calls: " + tools.join(" \u2192 ")));
    }
    return box;
  }

  function ratingPanel(item) {
    var st = itemState(item);
    var box = el("section", "ratings");
    if (MODE === "rank") {
      var winner = st.ranking.length ? letterOf(item, st.ranking[0]).toUpperCase() : null;
      add(box, el("h3", null, ranked(item) ? "Rate the winner (" + winner + ")" : "Rank the best " + item.k + " first"));
    } else {
      add(box, el("h3", null, "Rate this result"));
    }
    for (var d = 0; d < DIMS.length; d++) {
      (function (d) {
        var dim = DIMS[d];
        var row = el("div", "dim" + (d === state.dim ? " focus" : "") + (ranked(item) ? "" : " disabled"));
        row.setAttribute("data-dim", dim.id);
        var head = el("div", "dim-head");
        add(head, el("span", "dim-name", dim.name), el("span", "dim-help", dim.help));
        var buttons = el("div", "choices");
        for (var v = 0; v < VALUES.length; v++) {
          (function (v) {
            var current = st.ratings[dim.id] && st.ratings[dim.id].value === VALUES[v][1];
            var b = el("button", "choice v-" + VALUES[v][1] + (current ? " chosen" : ""));
            b.type = "button";
            add(b, el("kbd", null, VALUES[v][0]), document.createTextNode(" " + VALUES[v][2]));
            b.setAttribute("aria-pressed", current ? "true" : "false");
            b.addEventListener("click", function () { state.dim = d; rate(VALUES[v][1]); });
            buttons.appendChild(b);
          })(v);
        }
        add(row, head, buttons);
        box.appendChild(row);
      })(d);
    }
    var note = el("textarea", "note");
    note.id = "note";
    note.placeholder = "Comment (optional; press / to write, Esc to leave)";
    note.value = st.note || "";
    note.addEventListener("input", function () {
      itemState(item, true).note = note.value;
      persist();
    });
    add(box, note);
    return box;
  }

  function letterOf(item, token) {
    var i = item.order.map(function (r) { return r.token; }).indexOf(token);
    return i >= 0 && i < LETTERS.length ? LETTERS.charAt(i) : "?";
  }

  function candidatesPanel(item) {
    var st = itemState(item);
    var grid = el("section", "candidates");
    for (var i = 0; i < item.order.length; i++) {
      (function (i) {
        var r = item.order[i];
        var place = st.ranking.indexOf(r.token);
        var card = el("div", "card" + (place >= 0 ? " placed place-" + (place + 1) : ""));
        var label = (i < LETTERS.length ? LETTERS.charAt(i).toUpperCase() : "#" + (i + 1));
        var tag = el("button", "pick", label + (place >= 0 ? " \u00b7 " + ordinal(place + 1) : ""));
        tag.type = "button";
        tag.addEventListener("click", function () { pick(i); });
        add(card, tag, picture(r.image, "result " + label));
        grid.appendChild(card);
      })(i);
    }
    return grid;
  }

  function ordinal(n) { return n + (n === 1 ? "st" : n === 2 ? "nd" : n === 3 ? "rd" : "th"); }

  // ------------------------------------------------------------------ render
  function render() {
    if (!ITEMS.length) {
      app.textContent = "";
      add(app, el("p", null, "Nothing to annotate on this page."));
      return;
    }
    state.pos = Math.max(0, Math.min(state.pos, ITEMS.length - 1));
    state.dim = Math.max(0, Math.min(state.dim, DIMS.length - 1));
    var item = ITEMS[state.pos];
    app.textContent = "";
    var nav = el("nav", "itemnav");
    var where = (MODE === "rate" ? "result " : "sample ") + (state.pos + 1) + " of " + ITEMS.length;
    if (MODE === "rate" && item.of > 1) { where += " (result " + (item.index + 1) + " of " + item.of + " for this sample)"; }
    var status = el("span", "status " + (complete(item) ? "done" : "todo"), complete(item) ? "complete" : "to do");
    status.id = "item-status";
    add(nav, el("span", "position", where), status);
    add(app, nav);
    var top = el("div", "top");
    add(top, samplePanel(item.sample));
    var pics = el("div", "pics");
    add(pics, picture(item.sample.image, "source"));
    if (MODE === "rate") { add(pics, picture(item.result.image, "result")); }
    add(top, pics);
    add(app, top);
    if (MODE === "rank") { add(app, candidatesPanel(item)); }
    var bottom = el("div", "bottom");
    add(bottom, ratingPanel(item));
    if (MODE === "rate") { add(bottom, planPanel(item.result)); }
    add(app, bottom);
    updateProgress();
  }

  function updateProgress() {
    var done = 0;
    for (var i = 0; i < ITEMS.length; i++) { if (complete(ITEMS[i])) { done++; } }
    document.getElementById("progress-text").textContent = done + " / " + ITEMS.length + " complete";
    document.getElementById("progress-fill").style.width = (ITEMS.length ? 100 * done / ITEMS.length : 0) + "%";
    document.body.setAttribute("data-complete", String(done));
  }

  function flash(text) {
    var saved = document.getElementById("saved");
    saved.textContent = text;
    saved.className = "warn";
  }

  // ------------------------------------------------------------------ actions
  function go(delta) {
    state.pos = Math.max(0, Math.min(ITEMS.length - 1, state.pos + delta));
    state.dim = firstUnrated(ITEMS[state.pos]);
    persist();
    render();
    window.scrollTo(0, 0);
  }

  function nextIncomplete() {
    for (var step = 1; step <= ITEMS.length; step++) {
      var i = (state.pos + step) % ITEMS.length;
      if (!complete(ITEMS[i])) { go(i - state.pos); return; }
    }
    flash("every item is complete: export your labels");
  }

  function rate(value) {
    var item = ITEMS[state.pos];
    if (!ranked(item)) { flash("rank the best " + item.k + " first"); return; }
    var st = itemState(item, true);
    var wasComplete = complete(item);
    st.ratings[DIMS[state.dim].id] = { value: value, time: new Date().toISOString() };
    persist();
    var advance = document.getElementById("auto-advance").checked;
    if (complete(item) && !wasComplete && advance && state.pos < ITEMS.length - 1) {
      go(1);
      return;
    }
    var next = -1;
    for (var k = 1; k < DIMS.length; k++) { // the next dimension still unrated, else simply the next one
      var d = (state.dim + k) % DIMS.length;
      if (!st.ratings[DIMS[d].id]) { next = d; break; }
    }
    state.dim = next >= 0 ? next : Math.min(DIMS.length - 1, state.dim + 1);
    render();
  }

  function pick(index) {
    var item = ITEMS[state.pos];
    if (MODE !== "rank" || index >= item.order.length) { return; }
    var st = itemState(item, true), token = item.order[index].token;
    var winnerBefore = st.ranking[0];
    var at = st.ranking.indexOf(token);
    if (at >= 0) {
      st.ranking.splice(at, 1);
    } else if (st.ranking.length < item.k) {
      st.ranking.push(token);
      st.time = new Date().toISOString();
    } else {
      flash("already " + item.k + " places given: press a placed letter or Backspace to take one back");
      return;
    }
    if (st.ranking[0] !== winnerBefore) { st.ratings = {}; } // ratings belong to the winner
    if (ranked(item)) { state.dim = firstUnrated(item); }
    persist();
    render();
  }

  function unpick() {
    var item = ITEMS[state.pos], st = itemState(item, true);
    if (MODE !== "rank" || !st.ranking.length) { return; }
    pick(item.order.map(function (r) { return r.token; }).indexOf(st.ranking[st.ranking.length - 1]));
  }

  // ------------------------------------------------------------------ export
  function labelsOf(item) {
    var st = itemState(item), out = [], s = item.sample, note = st.note || null;
    var base = { annotator: state.annotator, suite: s.suite, sample_id: s.sample_id };
    function label(extra) {
      var lab = { annotator: base.annotator, suite: base.suite, sample_id: base.sample_id, system_id: null,
                  ranking: null, dimension: "overall", value: null, candidates: [], task: MODE, note: note,
                  time: null, v: META.v };
      for (var k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { lab[k] = extra[k]; } }
      return lab;
    }
    var rated = MODE === "rate" ? item.result.token : st.ranking[0];
    if (MODE === "rank") {
      if (!ranked(item)) { return out; }
      out.push(label({ dimension: "ranking", ranking: st.ranking.slice(), time: st.time || null,
                       candidates: item.order.map(function (r) { return r.token; }) }));
    }
    for (var d = 0; d < DIMS.length; d++) {
      var r = st.ratings[DIMS[d].id];
      if (r) { out.push(label({ system_id: rated, dimension: DIMS[d].id, value: r.value, time: r.time })); }
    }
    return out;
  }

  function exportText() {
    var labels = [];
    for (var i = 0; i < ITEMS.length; i++) { labels = labels.concat(labelsOf(ITEMS[i])); }
    var head = { format: META.label_format, v: META.v, run_key: META.run_key, runs: META.runs, mode: MODE,
                 annotator: state.annotator, blinded: true, exported: new Date().toISOString(),
                 n_labels: labels.length };
    var text = JSON.stringify(head);
    var lines = labels.map(function (lab) { return JSON.stringify(lab); });
    return { text: text.slice(0, -1) + ',\n"labels": [\n' + lines.join(",\n") + "\n]}\n", n: labels.length };
  }

  function download() {
    if (!state.annotator) { return; }
    var out = exportText();
    var name = "labels-" + MODE + "-" + state.annotator + "-" + META.run_key.slice(0, 8) + ".json";
    var url = URL.createObjectURL(new Blob([out.text], { type: "application/json" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    document.body.removeChild(a);
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    flash("exported " + out.n + " labels to " + name);
  }

  // ------------------------------------------------------------------ annotator
  function startAs(id) {
    state.annotator = id;
    try { window.localStorage.setItem(PREFIX + "annotator", id); } catch (e) { /* storage off: still usable */ }
    var saved = readJSON(storageKey()) || {};
    state.items = saved.items || {};
    state.pos = saved.pos || 0;
    buildItems();
    state.dim = ITEMS.length ? firstUnrated(ITEMS[Math.min(state.pos, ITEMS.length - 1)]) : 0;
    document.getElementById("who-name").textContent = id;
    document.getElementById("modal").hidden = true;
    if (document.activeElement && document.activeElement.blur) { document.activeElement.blur(); }
    render();
    app.focus();
  }

  function askAnnotator() {
    var modal = document.getElementById("modal"), input = document.getElementById("who-input");
    modal.hidden = false;
    input.value = state.annotator || "";
    input.focus();
  }

  document.getElementById("who-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var id = document.getElementById("who-input").value.trim();
    if (!ANNOTATOR_RE.test(id)) {
      document.getElementById("who-error").textContent =
        "Use 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit.";
      return;
    }
    document.getElementById("who-error").textContent = "";
    startAs(id);
  });

  // ------------------------------------------------------------------ lightbox
  function openLightbox(src) {
    var box = document.getElementById("lightbox");
    box.querySelector("img").src = src;
    box.hidden = false;
  }
  document.getElementById("lightbox").addEventListener("click", function () {
    document.getElementById("lightbox").hidden = true;
  });

  // ------------------------------------------------------------------ keyboard
  document.addEventListener("keydown", function (e) {
    if (!document.getElementById("modal").hidden || !state.annotator) { return; }
    var target = e.target, tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
      if (e.key === "Escape") { target.blur(); e.preventDefault(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var lightbox = document.getElementById("lightbox");
    if (!lightbox.hidden) {
      if (e.key === "Escape") { lightbox.hidden = true; e.preventDefault(); }
      return;
    }
    var key = e.key, handled = true;
    if (key === "ArrowRight") { go(1); }
    else if (key === "ArrowLeft") { go(-1); }
    else if (key === "ArrowDown") { state.dim = Math.min(DIMS.length - 1, state.dim + 1); render(); }
    else if (key === "ArrowUp") { state.dim = Math.max(0, state.dim - 1); render(); }
    else if (key === "Enter") { nextIncomplete(); }
    else if (key === "/") { document.getElementById("note").focus(); }
    else if (key === "?") { document.body.classList.toggle("nohelp"); }
    else if (key === "Backspace" && MODE === "rank") { unpick(); }
    else if (key.length === 1 && "1230".indexOf(key) >= 0) {
      rate(VALUES["1230".indexOf(key)][1]);
    } else if (MODE === "rank" && key.length === 1 && LETTERS.indexOf(key.toLowerCase()) >= 0) {
      pick(LETTERS.indexOf(key.toLowerCase()));
    } else { handled = false; }
    if (handled) { e.preventDefault(); }
  });

  document.getElementById("export").addEventListener("click", download);
  document.getElementById("switch").addEventListener("click", askAnnotator);
  var advance = document.getElementById("auto-advance");
  advance.checked = readJSON(PREFIX + "auto-advance") !== false;
  advance.addEventListener("change", function () {
    try { window.localStorage.setItem(PREFIX + "auto-advance", JSON.stringify(advance.checked)); } catch (e) { /* ignore */ }
  });

  var loading = document.getElementById("loading");
  if (loading) { loading.parentNode.removeChild(loading); }
  var last = null;
  try { last = window.localStorage.getItem(PREFIX + "annotator"); } catch (e) { last = null; }
  if (last && ANNOTATOR_RE.test(last)) { startAs(last); } else { askAnnotator(); }

  // For people and tests: read-only views of the state (no hidden write path).
  window.editbenchAnnotate = {
    storageKey: function () { return state.annotator ? storageKey() : null; },
    position: function () { return state.pos; },
    order: function (i) { var it = ITEMS[i]; return it ? (it.order || [it.result]).map(function (r) { return r.token; }) : null; },
    exportText: function () { return exportText().text; }
  };
})();
