/* editbench leaderboard: helpers shared by the comparison page and the trajectory viewer.
   Every string from a run reaches the page through text nodes (textContent), never as HTML;
   image paths are built only from 64-hex-digit content ids; links only to this site's pages. */
var EB = (function () {
  "use strict";
  var DATA = window.EDITBENCH_DATA || (window.EDITBENCH_DATA = {});
  var HEX64 = /^[0-9a-f]{64}$/;
  var LOCAL = /^(?:img\/[0-9a-z.-]+\.(?:png|jpg)|(?:compare|trajectory|index|suite-[A-Za-z0-9_-]+)\.html(?:#[A-Za-z0-9_=&.%\/-]*)?)$/;

  /* h("div", {class: "x", title: "..."}, child, ...): children are nodes or text. */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) { return; }
        if (k === "class") { el.className = v; }
        else if (k === "text") { el.textContent = String(v); }
        else if (k === "href" || k === "src") {
          if (!LOCAL.test(String(v))) { throw new Error("refusing a non-local " + k); }
          el.setAttribute(k, v);
        } else if (/^on/i.test(k)) { throw new Error("no inline handlers"); }
        else if (k === "style") { Object.keys(v).forEach(function (p) { el.style.setProperty(p, v[p]); }); }
        else { el.setAttribute(k, String(v)); }
      });
    }
    for (var i = 2; i < arguments.length; i++) { add(el, arguments[i]); }
    return el;
  }
  function add(el, child) {
    if (child === null || child === undefined || child === false) { return; }
    if (Array.isArray(child)) { child.forEach(function (c) { add(el, c); }); return; }
    el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  function paths(ref) {
    if (!ref || !HEX64.test(ref.id)) { return null; }
    return { thumb: "img/" + ref.id + ".thumb.jpg", full: "img/" + ref.id + ".png" };
  }

  /* A lazily loaded thumbnail that opens the full-size image in a lightbox. */
  function frame(ref, alt, overlay) {
    var p = paths(ref);
    if (!p) { return h("div", { class: "frame placeholder", role: "img", "aria-label": alt }, h("span", { class: "label", text: "Image missing" })); }
    var img = h("img", { src: p.thumb, width: ref.w, height: ref.h, loading: "lazy", decoding: "async", alt: alt });
    var a = h("a", { class: "frame", href: p.full, title: "Full size: " + ref.fw + "×" + ref.fh + " px · " + ref.id.slice(0, 12),
                     style: { "aspect-ratio": ref.fw + " / " + ref.fh } }, img);
    if (overlay) {
      a.classList.add("has-overlay");
      a.appendChild(h("img", { class: "overlay", src: overlay, alt: "", "aria-hidden": "true" }));
    }
    a.addEventListener("click", function (ev) {
      if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) { return; }
      ev.preventDefault();
      openLightbox(p.full, alt, ref);
    });
    return a;
  }

  var box = null;
  function openLightbox(src, caption, ref) {
    if (!box) {
      box = h("div", { class: "lightbox", role: "dialog", "aria-modal": "true", "aria-label": "Full-size image", tabindex: "-1" });
      box.addEventListener("click", closeLightbox);
      document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { closeLightbox(); } });
      document.body.appendChild(box);
    }
    box.textContent = "";
    add(box, h("figure", null, h("img", { src: src, alt: caption, width: ref.fw, height: ref.fh }),
                h("figcaption", { text: caption + " · " + ref.fw + "×" + ref.fh + " px · sha256 " + ref.id.slice(0, 16) + "…" })));
    box.hidden = false;
    box.focus();
  }
  function closeLightbox() { if (box) { box.hidden = true; box.textContent = ""; } }

  function params() {
    var out = {};
    (location.hash || "").replace(/^#/, "").split("&").forEach(function (kv) {
      if (!kv) { return; }
      var i = kv.indexOf("=");
      var k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? "" : kv.slice(i + 1);
      try { out[decodeURIComponent(k)] = decodeURIComponent(v); } catch (e) { /* a malformed address is ignored */ }
    });
    return out;
  }
  function setParams(obj) {
    var parts = [];
    Object.keys(obj).forEach(function (k) {
      if (obj[k] !== "" && obj[k] !== null && obj[k] !== undefined) { parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(obj[k])); }
    });
    history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search);
  }

  function chip(text, cls, title) { return h("span", { class: cls, title: title || null, text: text }); }
  function swatch(color) {
    return h("span", { class: "swatch", style: { background: /^#[0-9a-f]{6}$/i.test(color) ? color : "#888888" } });
  }
  function verdictClass(v) { return "v-" + (["pass", "partial", "fail", "undecidable"].indexOf(v) >= 0 ? v : "undecidable"); }
  function seconds(s) { return s ? (s < 0.01 ? "<0.01 s" : s.toFixed(2) + " s") : ""; }

  return { DATA: DATA, h: h, add: add, frame: frame, paths: paths, params: params, setParams: setParams, chip: chip,
           swatch: swatch, verdictClass: verdictClass, seconds: seconds };
})();
