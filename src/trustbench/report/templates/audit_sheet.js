(function () {
  "use strict";
  function el(id) { return document.getElementById(id); }
  var status = el("tb-status");
  var data;
  try {
    data = JSON.parse(el("tb-audit").textContent);
  } catch (e) {
    status.textContent = "could not read the embedded items: " + e;
    return;
  }
  var items = data.items, n = items.length;
  // labels[i]: undefined (not yet labelled), true, false, or null (skipped / unsure)
  var labels = new Array(n), cur = 0;

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(data.storageKey) || "null");
      if (saved && saved.length === n) {
        for (var i = 0; i < n; i++) if (saved[i] === true || saved[i] === false || saved[i] === null) labels[i] = saved[i];
      }
    } catch (e) { /* storage unavailable: labels live in this page only */ }
  }
  function save() {
    try {
      var out = [];
      for (var i = 0; i < n; i++) out.push(labels[i] === undefined ? "todo" : labels[i]);
      window.localStorage.setItem(data.storageKey, JSON.stringify(out));
    } catch (e) { /* ignore */ }
  }

  function add(parent, tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function q(it) { return data.questions[it.key]; }
  function word(it, v) { return v === true ? q(it).yes : v === false ? q(it).no : "skipped"; }

  function reveal(parent, i) {
    var it = items[i], v = labels[i];
    parent.textContent = "";
    if (v === undefined) { add(parent, "span", "muted", "The judge's verdict is hidden until you label this item."); return; }
    add(parent, "span", null, "#" + (i + 1) + " " + it.task + " " + it.id + ": you: " + word(it, v) + " · judge " + it.judge + ": " + word(it, it.verdict) + " ");
    if (v !== null) add(parent, "span", v === it.verdict ? "agree" : "disagree", v === it.verdict ? "agree" : "disagree");
  }

  function counts() {
    var done = 0, skipped = 0;
    for (var i = 0; i < n; i++) { if (labels[i] === true || labels[i] === false) done++; else if (labels[i] === null) skipped++; }
    return [done, skipped];
  }

  function render() {
    var it = items[cur], c = counts();
    el("tb-progress").value = c[0] + c[1];
    status.textContent = c[0] + " of " + n + " labelled" + (c[1] ? ", " + c[1] + " skipped" : "") + (c[0] + c[1] === n ? " — all done: export the labels" : "");
    status.setAttribute("data-labelled", String(c[0]));
    status.setAttribute("data-skipped", String(c[1]));
    el("tb-pos").textContent = "item " + (cur + 1) + " of " + n;
    el("tb-task").textContent = it.task;
    el("tb-id").textContent = "id " + it.id;
    el("tb-judge").textContent = "judge " + it.judge + " (" + it.key + ")";
    var box = el("tb-messages");
    box.textContent = "";
    for (var j = 0; j < it.messages.length; j++) {
      add(box, "div", "lbl", "message: " + it.messages[j][0]);
      add(box, "pre", "msg", it.messages[j][1]);
    }
    el("tb-response").textContent = it.response;
    el("tb-question").textContent = q(it).q;
    el("tb-yes").textContent = "1 · " + q(it).yes;
    el("tb-no").textContent = "2 · " + q(it).no;
    el("tb-yes").className = "choice" + (labels[cur] === true ? " chosen" : "");
    el("tb-no").className = "choice" + (labels[cur] === false ? " chosen" : "");
    el("tb-prev").disabled = cur === 0;
    el("tb-next").disabled = cur === n - 1;
    reveal(el("tb-verdict"), cur);
    document.body.setAttribute("data-current", String(cur));
  }

  function nextOpen(from) {
    for (var k = 1; k <= n; k++) { var i = (from + k) % n; if (labels[i] === undefined) return i; }
    return Math.min(from + 1, n - 1);
  }

  function setLabel(v) {
    labels[cur] = v;
    save();
    reveal(el("tb-last"), cur);
    cur = nextOpen(cur);
    render();
  }
  function clearLabel() { labels[cur] = undefined; save(); render(); }
  function go(d) { cur = Math.max(0, Math.min(n - 1, cur + d)); render(); }

  function exportText() {
    var lines = [];
    for (var i = 0; i < n; i++) {
      var it = items[i], v = labels[i] === true || labels[i] === false ? labels[i] : null;
      lines.push(JSON.stringify({ task: it.task, id: it.id, judge: it.judge, verdict: it.verdict, label: v, response_sha256: it.response_sha256 }));
    }
    return lines.join("\n") + "\n";
  }
  function doExport() {
    var text = exportText();
    var url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = "labels.jsonl";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    document.body.setAttribute("data-exported", String(counts()[0]));
  }

  el("tb-yes").addEventListener("click", function () { setLabel(true); });
  el("tb-no").addEventListener("click", function () { setLabel(false); });
  el("tb-skip").addEventListener("click", function () { setLabel(null); });
  el("tb-prev").addEventListener("click", function () { go(-1); });
  el("tb-next").addEventListener("click", function () { go(1); });
  el("tb-export").addEventListener("click", doExport);
  el("tb-reset").addEventListener("click", function () {
    if (window.confirm("Clear all " + n + " labels of this sheet?")) { labels = new Array(n); cur = 0; save(); el("tb-last").textContent = ""; render(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    var t = e.target && e.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT") return;
    var k = e.key, handled = true;
    if (k === "1" || k === "y") setLabel(true);
    else if (k === "2" || k === "n") setLabel(false);
    else if (k === "0" || k === "s") setLabel(null);
    else if (k === "u" || k === "Backspace") clearLabel();
    else if (k === "ArrowRight" || k === "j") go(1);
    else if (k === "ArrowLeft" || k === "k") go(-1);
    else if (k === "e") doExport();
    else handled = false;
    if (handled) e.preventDefault();
  });

  load();
  cur = labels[0] === undefined ? 0 : nextOpen(0);  // resume at the first item not yet labelled
  render();
  document.body.setAttribute("data-audit-ready", "1");
})();
