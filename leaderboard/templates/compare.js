/* editbench leaderboard: the side-by-side comparison. Data: data-meta.js and data-cmp-*.js
   (loaded by the page's script tags). Filters live in the address (#suite=…&tag=…), so a
   view can be linked; rows are drawn 20 at a time as the reader scrolls. */
(function () {
  "use strict";
  var h = EB.h, D = EB.DATA, meta = D.meta;
  var PAGE = 20;
  var root = document.getElementById("rows");
  if (!meta || !root) { return; }
  var samples = [];
  meta.suites.forEach(function (s, si) {
    s.chunks.forEach(function (name) { var c = D[name]; if (c) { c.samples.forEach(function (x) { samples.push(x); }); } });
  });
  var el = {
    suite: document.getElementById("f-suite"), tag: document.getElementById("f-tag"),
    verdict: document.getElementById("f-verdict"), sort: document.getElementById("f-sort"),
    systems: document.getElementById("f-systems"), status: document.getElementById("status"),
    more: document.getElementById("more"), note: document.getElementById("sort-note")
  };
  var state = { suite: "", tag: "", verdict: "", sort: "order", hide: {} };
  var list = [], drawn = 0;

  function suiteByAnchor(a) { for (var i = 0; i < meta.suites.length; i++) { if (meta.suites[i].anchor === a) { return i; } } return -1; }

  function readState() {
    var p = EB.params();
    var si = suiteByAnchor(p.suite || "");
    state.suite = si >= 0 ? String(si) : (meta.suites.length === 1 ? "0" : "");
    state.tag = p.tag || "";
    state.verdict = ["pass", "partial", "fail", "undecidable"].indexOf(p.verdict) >= 0 ? p.verdict : "";
    state.sort = p.sort === "spread" ? "spread" : "order";
    state.hide = {};
    (p.hide || "").split(",").forEach(function (x) { if (/^\d+$/.test(x)) { state.hide[x] = true; } });
  }
  function writeState() {
    EB.setParams({ suite: state.suite === "" ? "" : meta.suites[+state.suite].anchor, tag: state.tag, verdict: state.verdict,
                   sort: state.sort === "order" ? "" : state.sort, hide: Object.keys(state.hide).join(",") });
  }

  function option(value, text, selected) { var o = h("option", { value: value, text: text }); o.selected = !!selected; return o; }

  function buildControls() {
    el.suite.textContent = "";
    if (meta.suites.length > 1) { el.suite.appendChild(option("", "All suites", state.suite === "")); }
    meta.suites.forEach(function (s, i) { el.suite.appendChild(option(String(i), s.name + " (" + s.size + ")", state.suite === String(i))); });
    el.tag.textContent = "";
    el.tag.appendChild(option("", "Any tag", state.tag === ""));
    var tags = {};
    meta.suites.forEach(function (s, i) {
      if (state.suite !== "" && String(i) !== state.suite) { return; }
      Object.keys(s.tags).forEach(function (k) { s.tags[k].forEach(function (v) { tags[k + "=" + v] = true; }); });
    });
    Object.keys(tags).sort().forEach(function (kv) { el.tag.appendChild(option(kv, kv.replace("=", " = "), state.tag === kv)); });
    el.verdict.value = state.verdict;
    el.sort.value = state.sort;
    el.systems.textContent = "";
    var shown = {};
    meta.suites.forEach(function (s, i) {
      if (state.suite === "" || String(i) === state.suite) { s.systems.forEach(function (k) { shown[k] = true; }); }
    });
    Object.keys(shown).map(Number).sort(function (a, b) { return a - b; }).forEach(function (k) {
      var sys = meta.systems[k];
      var box = h("input", { type: "checkbox", value: String(k) });
      box.checked = !state.hide[k];
      box.addEventListener("change", function () { if (box.checked) { delete state.hide[k]; } else { state.hide[k] = true; } update(); });
      el.systems.appendChild(h("label", { class: "sys-toggle" }, box, EB.swatch(sys.color), sys.name));
    });
  }

  function matches(s) {
    if (state.suite !== "" && String(s.suite) !== state.suite) { return false; }
    if (state.tag) {
      var ok = s.tags.some(function (kv) { return kv[0] + "=" + kv[1] === state.tag; });
      if (!ok) { return false; }
    }
    if (state.verdict) {
      var hit = s.res.some(function (r) {
        return !state.hide[r.sys] && (r.vd || []).some(function (v) { return v[1] === state.verdict; });
      });
      if (!hit) { return false; }
    }
    return true;
  }

  function update() {
    writeState();
    list = samples.filter(matches);
    if (state.sort === "spread") {
      list.sort(function (a, b) {
        var x = a.spread === null ? -1 : a.spread, y = b.spread === null ? -1 : b.spread;
        return y - x || a.suite - b.suite || a.i - b.i;
      });
    } else {
      list.sort(function (a, b) { return a.suite - b.suite || a.i - b.i; });
    }
    el.note.hidden = state.sort !== "spread";
    root.textContent = "";
    drawn = 0;
    more();
  }

  function more() {
    var stop = Math.min(list.length, drawn + PAGE);
    for (; drawn < stop; drawn++) { root.appendChild(row(list[drawn])); }
    el.status.textContent = "Showing " + drawn + " of " + list.length + " sample" + (list.length === 1 ? "" : "s") +
      (list.length !== samples.length ? " (" + samples.length + " in all)" : "") + ".";
    el.more.hidden = drawn >= list.length;
  }

  function scoreList(suite, r) {
    var dl = h("dl", { class: "scorelist" });
    (r.sc || []).forEach(function (cell, k) {
      var col = suite.scores[k];
      dl.appendChild(h("div", { class: cell[1] + (col.primary ? " primary" : ""), title: cell[2] || null },
        h("dt", { text: col.label }), h("dd", { text: cell[0] })));
    });
    return dl;
  }

  function resultCard(s, suite, r) {
    var sys = meta.systems[r.sys];
    var alt = "Result of " + sys.name + " on sample " + s.id;
    var fig = h("figure", { class: "card result status-" + r.st, "data-system": sys.name });
    if (r.st === "ok" && r.img) { fig.appendChild(EB.frame(r.img, alt)); }
    else {
      var label = { failed: "Edit failed", refused: "Refused", missing: "Not run", "no-image": "Image missing" }[r.st] || r.st;
      fig.appendChild(h("div", { class: "frame placeholder", role: "img", "aria-label": sys.name + ": " + r.st,
                                 style: s.src ? { "aspect-ratio": s.src.fw + " / " + s.src.fh } : null },
        h("span", { class: "label", text: label }), r.err ? h("span", { class: "err", text: r.err }) : null));
    }
    var cap = h("figcaption", null, h("span", { class: "role" }, EB.swatch(sys.color), sys.name));
    if (r.sc) { cap.appendChild(scoreList(suite, r)); }
    if (r.vd && r.vd.length) {
      var texts = {};
      s.checklist.forEach(function (c) { texts[c[0]] = c[2]; });
      cap.appendChild(h("ul", { class: "verdicts" }, r.vd.map(function (v) {
        var judge = meta.judges[v[2]] ? meta.judges[v[2]].name : "judge";
        return h("li", { class: EB.verdictClass(v[1]), title: judge + ": " + (texts[v[0]] || v[0]) }, v[0] + " ", h("b", { text: v[1] }));
      })));
    }
    if (r.st !== "missing") {
      var bits = [r.steps + " step" + (r.steps === 1 ? "" : "s")];
      if (r.sec) { bits.push(EB.seconds(r.sec)); }
      if (r.notes) { bits.push(r.notes + " judge note" + (r.notes === 1 ? "" : "s")); }
      cap.appendChild(h("p", { class: "trace" }, bits.join(" · ") + " · ",
        h("a", { class: "traj-link", href: "trajectory.html#" + s.traj + "/" + r.key, text: "trajectory →" })));
    }
    fig.appendChild(cap);
    return fig;
  }

  function row(s) {
    var suite = meta.suites[s.suite];
    var head = h("header", { class: "sample-head" }, h("h3", { text: s.id }));
    if (meta.suites.length > 1) { head.appendChild(EB.chip(suite.name, "tag suite-tag")); }
    s.tags.forEach(function (kv) { head.appendChild(h("span", { class: "tag" }, h("span", { text: kv[0] }), kv[1])); });
    if (s.spread !== null && state.sort === "spread") {
      head.appendChild(h("span", { class: "spread", title: "spread of the primary score over systems, relative to its range on the suite" },
        "spread " + Math.round(100 * s.spread) + "%", h("span", { class: "spread-bar" }, h("span", { style: { width: (100 * s.spread).toFixed(1) + "%" } }))));
    }
    var src = h("figure", { class: "card source" },
      s.src ? EB.frame(s.src, "Source image of sample " + s.id) : h("div", { class: "frame placeholder" }, h("span", { class: "label", text: "Source missing" })),
      h("figcaption", null, h("span", { class: "role", text: "Source" }), h("p", { class: "goal", text: s.goal }),
        s.checklist.length ? h("ul", { class: "checklist" }, s.checklist.map(function (c) {
          return h("li", { class: "kind-" + (["goal", "preserve", "quality"].indexOf(c[1]) >= 0 ? c[1] : "goal") },
            h("span", { class: "cid", title: c[1], text: c[0] }), " " + c[2]);
        })) : null));
    var cards = h("div", { class: "cards" }, src);
    s.res.forEach(function (r) { if (!state.hide[r.sys]) { cards.appendChild(resultCard(s, suite, r)); } });
    return h("article", { class: "sample", "data-sample": s.id, "data-spread": s.spread === null ? "" : String(s.spread) }, head, cards);
  }

  [el.suite, el.tag, el.verdict, el.sort].forEach(function (x) {
    x.addEventListener("change", function () {
      state.suite = el.suite.value; state.tag = el.tag.value; state.verdict = el.verdict.value; state.sort = el.sort.value;
      if (x === el.suite) { state.tag = ""; buildControls(); }
      update();
    });
  });
  el.more.addEventListener("click", more);
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; }) && drawn < list.length) { more(); }
    }, { rootMargin: "800px" }).observe(el.more);
  }
  window.addEventListener("hashchange", function () { readState(); buildControls(); update(); });
  readState();
  buildControls();
  update();
})();
