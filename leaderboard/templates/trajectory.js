/* editbench leaderboard: the trajectory viewer. The address names a data chunk and a result
   (#trj-003/<key>); the chunk (data-trj-003.js) is loaded on demand with a script element,
   which works from file:// (fetching a local file does not). Shows the plan step by step, each step's
   region drawn over its input image, intermediate and final images, and the judges' notes. */
(function () {
  "use strict";
  var h = EB.h, D = EB.DATA, meta = D.meta;
  var root = document.getElementById("viewer");
  if (!meta || !root) { return; }
  var ADDRESS = /^#(trj-\d{3,6})\/([0-9a-f]{12})$/;
  var OVERLAY = /^img\/region-[0-9a-f]{32}\.png$/;

  function message(text, link) {
    root.textContent = "";
    root.appendChild(h("div", { class: "panel empty-state" }, h("p", { text: text }),
      link ? h("p", null, h("a", { href: "compare.html", text: "Open the comparison" }), " and follow a result’s “trajectory →” link.") : null));
  }

  function load() {
    var m = ADDRESS.exec(location.hash);
    if (!m) { message("No trajectory chosen.", true); return; }
    var chunk = m[1], key = m[2];
    if (D[chunk]) { render(D[chunk], key, chunk); return; }
    message("Loading…");
    var s = document.createElement("script");
    s.src = "data-" + chunk + ".js";
    s.onload = function () { if (D[chunk]) { render(D[chunk], key, chunk); } else { message("This trajectory’s data file is empty.", true); } };
    s.onerror = function () { message("This trajectory’s data file (data-" + chunk + ".js) is missing.", true); };
    document.body.appendChild(s);
  }

  function kv(rows, cls) {
    if (!rows || !rows.length) { return null; }
    return h("dl", { class: "kv " + (cls || "") }, rows.map(function (r) { return h("div", null, h("dt", { text: r[0] }), h("dd", { text: r[1] })); }));
  }
  function section(title, cls) { return h("section", { class: "panel " + (cls || "") }, h("h2", { class: "panel-title", text: title })); }

  function checklist(items, verdicts) {
    return h("ul", { class: "checklist" }, items.map(function (c) {
      var li = h("li", { class: "kind-" + (["goal", "preserve", "quality"].indexOf(c[1]) >= 0 ? c[1] : "goal") },
        h("span", { class: "cid", title: c[1], text: c[0] }), " " + c[2]);
      if (verdicts && verdicts[c[0]]) { li.appendChild(h("b", { class: "verdict " + EB.verdictClass(verdicts[c[0]]), text: verdicts[c[0]] })); }
      return li;
    }));
  }

  function render(data, key, chunk) {
    var t = data.trajectories[key];
    if (!t) { message("No such trajectory in this data file.", true); return; }
    var suite = meta.suites[t.suite], sys = meta.systems[t.sys], sample = data.samples[t.sample];
    document.title = sys.name + " · " + t.sample + " · " + meta.title;
    root.textContent = "";

    var head = h("header", { class: "traj-head" },
      h("p", { class: "eyebrow" }, h("a", { href: "compare.html#suite=" + encodeURIComponent(suite.anchor), text: "← " + suite.name + " comparison" })),
      h("h1", null, EB.swatch(sys.color), sys.name, h("span", { class: "muted", text: " on " + t.sample })),
      h("p", { class: "summary" },
        h("span", { class: "badge badge-" + t.status, text: t.status }),
        h("span", { text: sys.track || "track not declared" }),
        h("span", { text: t.steps.length + " step" + (t.steps.length === 1 ? "" : "s") }),
        t.tele.seconds ? h("span", { text: EB.seconds(t.tele.seconds) }) : null,
        t.tele.calls ? h("span", { text: t.tele.calls + " calls" }) : null,
        (t.tele.tokens_in || t.tele.tokens_out) ? h("span", { text: t.tele.tokens_in + " + " + t.tele.tokens_out + " tokens" }) : null,
        t.tele.dollars ? h("span", { text: "$" + t.tele.dollars.toFixed(4) }) : null));
    var others = h("nav", { class: "others", "aria-label": "Other systems on this sample" }, h("span", { class: "ctl-label", text: "Systems" }));
    sample.systems.forEach(function (pair) {
      var o = meta.systems[pair[0]];
      var a = h("a", { class: "chip", href: "trajectory.html#" + chunk + "/" + pair[1] }, EB.swatch(o.color), o.name);
      if (pair[1] === key) { a.setAttribute("aria-current", "page"); }
      others.appendChild(a);
    });
    head.appendChild(others);
    root.appendChild(head);
    if (t.error) { root.appendChild(h("p", { class: "note err", text: t.error })); }

    var verdicts = {};
    t.judgements.forEach(function (j) { j.verdicts.forEach(function (v) { verdicts[v[0]] = verdicts[v[0]] || v[1]; }); });
    var top = h("div", { class: "traj-top" });
    var src = section("Source and goal", "source-panel");
    src.appendChild(h("div", { class: "pair" },
      h("figure", { class: "card" }, EB.frame(sample.src, "Source image"), h("figcaption", null, h("span", { class: "role", text: "Source" }))),
      h("figure", { class: "card" }, t.final ? EB.frame(t.final, "Final result") : h("div", { class: "frame placeholder" }, h("span", { class: "label", text: t.status })),
        h("figcaption", null, h("span", { class: "role", text: "Final result" })))));
    src.appendChild(h("p", { class: "goal", text: sample.goal }));
    if (sample.checklist.length) { src.appendChild(checklist(sample.checklist, verdicts)); }
    top.appendChild(src);

    var plan = section("Plan", "plan-panel");
    if (!t.plan) { plan.appendChild(h("p", { class: "muted", text: "This system recorded no plan (a single edit or an unplanned run)." })); }
    else {
      if (t.plan.instruction) { plan.appendChild(h("p", null, h("strong", { text: "Instruction: " }), t.plan.instruction)); }
      if (t.plan.reasoning) { plan.appendChild(h("p", { class: "reasoning", text: t.plan.reasoning })); }
      if (t.plan.context.length) { plan.appendChild(h("h3", { text: "Context as read" })); plan.appendChild(kv(t.plan.context, "compact")); }
      if (t.plan.checklist.length) { plan.appendChild(h("h3", { text: "Checklist used" })); plan.appendChild(checklist(t.plan.checklist)); }
      if (t.plan.subtasks.length) {
        plan.appendChild(h("h3", { text: "Subtasks" }));
        plan.appendChild(h("ol", { class: "subtasks" }, t.plan.subtasks.map(function (s) {
          return h("li", null, h("span", { class: "cid", text: s.id }), " ", h("strong", { text: s.text }),
            s.reasoning ? h("p", { class: "reasoning", text: s.reasoning }) : null,
            s.action ? h("p", { class: "muted" }, "action ", h("code", { text: s.action }), s.action_params.length ? " " + s.action_params.map(function (p) { return p[0] + "=" + p[1]; }).join(", ") : "") : null,
            s.tool ? h("p", { class: "muted" }, "tool ", h("code", { text: s.tool }), s.params.length ? " " + s.params.map(function (p) { return p[0] + "=" + p[1]; }).join(", ") : "", s.region ? " · region " + s.region : "") : null);
        })));
      }
    }
    top.appendChild(plan);
    root.appendChild(top);

    var steps = section("Steps", "steps-panel");
    if (!t.steps.length) { steps.appendChild(h("p", { class: "muted", text: "No tool was called." })); }
    t.steps.forEach(function (s) {
      var overlay = s.region && s.region.overlay && OVERLAY.test(s.region.overlay) ? s.region.overlay : null;
      var step = h("article", { class: "step" + (s.error ? " step-error" : ""), "data-step": String(s.n) },
        h("header", null, h("span", { class: "step-n", text: String(s.n) }), h("code", { class: "tool", text: s.tool }),
          s.subtask_text ? h("span", { class: "subtask", text: s.subtask_text }) : (s.subtask ? h("span", { class: "subtask", text: s.subtask }) : null),
          h("span", { class: "muted step-meta", text: [EB.seconds(s.sec), s.cached ? "cached" : ""].filter(Boolean).join(" · ") })));
      step.appendChild(h("div", { class: "pair" },
        h("figure", { class: "card" }, EB.frame(s.in, "Input of step " + s.n, overlay),
          h("figcaption", null, h("span", { class: "role", text: "Input" }), s.region ? h("span", { class: "region", text: "region: " + s.region.desc }) : h("span", { class: "region muted", text: "whole image" }))),
        h("figure", { class: "card" }, s.out ? EB.frame(s.out, "Output of step " + s.n) : h("div", { class: "frame placeholder" }, h("span", { class: "label", text: "No output" })),
          h("figcaption", null, h("span", { class: "role", text: "Output" })))));
      var details = [];
      if (s.params.length) { details.push(kv(s.params)); }
      if (s.region_query) { details.push(h("p", null, h("strong", { text: "Region asked for: " }), s.region_query)); }
      if (s.instruction) { details.push(h("p", null, h("strong", { text: "Instruction: " }), s.instruction)); }
      if (s.error) { details.push(h("p", { class: "err", text: s.error })); }
      if (details.length) { step.appendChild(h("div", { class: "step-details" }, details)); }
      steps.appendChild(step);
    });
    root.appendChild(steps);

    var judges = section("Judges", "judges-panel");
    if (!t.judgements.length) { judges.appendChild(h("p", { class: "muted", text: "Not judged." })); }
    t.judgements.forEach(function (j) {
      var judge = meta.judges[j.judge] || { name: "judge" };
      var texts = {};
      sample.checklist.forEach(function (c) { texts[c[0]] = c[2]; });
      var card = h("article", { class: "judgement" },
        h("header", null, h("strong", { class: "judge", text: judge.name }),
          j.versus !== undefined && j.versus !== null && meta.systems[j.versus] ? h("span", { class: "versus" }, " versus ", EB.swatch(meta.systems[j.versus].color), meta.systems[j.versus].name) : null,
          j.status !== "ok" ? h("span", { class: "warn", text: " (" + j.status + ")" }) : null,
          j.model ? h("span", { class: "muted", text: " · " + j.model + (j.host ? " @ " + j.host : "") }) : null));
      if (j.scores.length) {
        card.appendChild(h("dl", { class: "scorelist" }, j.scores.map(function (s) {
          return h("div", { class: s[2], title: s[3] || null }, h("dt", { text: s[0] }), h("dd", { text: s[1] }));
        })));
      }
      if (j.win !== undefined && j.win !== null) {
        card.appendChild(h("p", { class: "win" }, "Outcome for this system: ",
          h("b", { text: j.win === 1 ? "win" : j.win === 0 ? "loss" : j.win === 0.5 ? "tie" : String(j.win) })));
      }
      if (j.verdicts.length) {
        card.appendChild(h("ul", { class: "verdicts" }, j.verdicts.map(function (v) {
          return h("li", { class: EB.verdictClass(v[1]), title: texts[v[0]] || v[0] }, v[0] + " ", h("b", { text: v[1] }));
        })));
      }
      if (j.rationale) { card.appendChild(h("p", { class: "rationale", text: j.rationale })); }
      if (j.error && j.error !== j.rationale) { card.appendChild(h("p", { class: "err", text: j.error })); }
      judges.appendChild(card);
    });
    root.appendChild(judges);
    window.scrollTo(0, 0);
  }

  window.addEventListener("hashchange", load);
  load();
})();
