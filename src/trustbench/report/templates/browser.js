(function () {
  "use strict";
  var PAGE = 50;
  function el(id) { return document.getElementById(id); }
  var count = el("tb-count");
  function fail(e) { count.textContent = "could not read the embedded samples: " + e; }
  // The samples are gzip-compressed JSON in base64 (a third of the size of the JSON itself),
  // decompressed here by the browser's own DecompressionStream: no network, no eval.
  if (typeof DecompressionStream === "undefined") {
    fail("this browser has no DecompressionStream (Chrome 80+, Firefox 113+, Safari 16.4+); the samples are in samples.jsonl");
    return;
  }
  var bytes;
  try {
    var bin = atob(el("tb-samples").textContent.trim());
    bytes = new Uint8Array(bin.length);
    for (var b = 0; b < bin.length; b++) bytes[b] = bin.charCodeAt(b);
  } catch (e) { fail(e); return; }
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function (text) {
    var data;
    try { data = JSON.parse(text); } catch (e) { fail(e); return; }
    start(data);
  }, fail);

  function start(data) {
  var rows = data.rows, tasks = data.tasks, tags = data.tags;
  var offered = {};  // the tags offered as filters and shown as chips (free-text verdicts are not)
  data.offered.forEach(function (i) { offered[i] = true; });
  var taskSel = el("tb-task"), tagSel = el("tb-verdict"), search = el("tb-search");
  var list = el("tb-rows"), prev = el("tb-prev"), next = el("tb-next"), pageLabel = el("tb-page");

  function option(sel, value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    sel.appendChild(o);
  }
  tasks.forEach(function (t, i) { option(taskSel, String(i), t + " (" + data.taskCounts[i] + ")"); });
  data.offered.forEach(function (i) { if (data.tagCounts[i] > 0) option(tagSel, String(i), tags[i] + " (" + data.tagCounts[i] + ")"); });

  var hay = null;
  function haystack() {
    if (hay === null) {
      hay = new Array(rows.length);
      for (var i = 0; i < rows.length; i++) {
        var r = rows[i], parts = [r[1], r[3] || "", r[4] || "", r[5] || ""];
        for (var j = 0; j < r[2].length; j++) parts.push(r[2][j][1]);
        hay[i] = parts.join("\n").toLowerCase();
      }
    }
    return hay;
  }

  var matches = [], page = 0;
  function applyFilters() {
    var t = taskSel.value === "" ? -1 : Number(taskSel.value);
    var g = tagSel.value === "" ? -1 : Number(tagSel.value);
    var q = search.value.trim().toLowerCase();
    var h = q ? haystack() : null;
    matches = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (t >= 0 && r[0] !== t) continue;
      if (g >= 0 && r[6].indexOf(g) < 0) continue;
      if (q && h[i].indexOf(q) < 0) continue;
      matches.push(i);
    }
    page = 0;
    render();
  }

  function add(parent, tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    parent.appendChild(e);
    return e;
  }

  function snippet(r) {
    var s = r[3] === null ? (r[4] || "no response") : r[3];
    s = s.replace(/\s+/g, " ");
    return s.length > 160 ? s.slice(0, 160) + "\u2026" : s;
  }

  function body(d, r) {
    var b = add(d, "div", "tb-body");
    for (var j = 0; j < r[2].length; j++) {
      add(b, "div", "lbl", "message: " + r[2][j][0]);
      add(b, "pre", "msg", r[2][j][1]);
    }
    add(b, "div", "lbl", "response");
    add(b, "pre", "resp", r[3] === null ? "(no response)" : r[3]);
    if (r[4]) { add(b, "div", "lbl", "error"); add(b, "pre", "err", r[4]); }
    add(b, "div", "lbl", "verdicts");
    add(b, "pre", "verdicts", r[5] || "(none)");
    add(b, "div", "lbl", "score fields");
    add(b, "pre", "score", r[7] || "(none)");
    if (r[8]) add(b, "div", "lbl", "response served from the cache");
  }

  function rowElement(r) {
    var d = document.createElement("details");
    d.className = "tb-row";
    var s = add(d, "summary", null);
    add(s, "span", "tb-task", tasks[r[0]]);
    add(s, "span", "tb-id", r[1]);
    for (var k = 0; k < r[6].length; k++) if (offered[r[6][k]]) add(s, "span", r[6][k] === 0 ? "chip fail" : "chip", tags[r[6][k]]);
    add(s, "span", "tb-snippet", snippet(r));
    d.addEventListener("toggle", function () {
      if (d.open && !d.hasAttribute("data-filled")) { d.setAttribute("data-filled", "1"); body(d, r); }
    });
    return d;
  }

  function render() {
    var pages = Math.max(1, Math.ceil(matches.length / PAGE));
    if (page >= pages) page = pages - 1;
    var start = page * PAGE, end = Math.min(matches.length, start + PAGE);
    var frag = document.createDocumentFragment();
    for (var j = start; j < end; j++) frag.appendChild(rowElement(rows[matches[j]]));
    list.textContent = "";
    list.appendChild(frag);
    count.textContent = matches.length + " of " + rows.length + " samples match";
    count.setAttribute("data-count", String(matches.length));
    pageLabel.textContent = matches.length ? "rows " + (start + 1) + "\u2013" + end + ", page " + (page + 1) + " of " + pages : "no rows";
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  var timer = null;
  search.addEventListener("input", function () {
    if (timer) clearTimeout(timer);
    timer = setTimeout(applyFilters, 120);
  });
  taskSel.addEventListener("change", applyFilters);
  tagSel.addEventListener("change", applyFilters);
  prev.addEventListener("click", function () { if (page > 0) { page--; render(); } });
  next.addEventListener("click", function () { page++; render(); });
  applyFilters();
  document.body.setAttribute("data-browser-ready", "1");
  }
})();
