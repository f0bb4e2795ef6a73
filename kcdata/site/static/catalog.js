/* Instant search and filters for the catalog. Progressive enhancement: without this script the
   full list is still on the page; the data comes from the embedded JSON block (no fetch, so the
   site also works from file://). */
(function () {
  "use strict";
  var dataEl = document.getElementById("catalog-data");
  var form = document.getElementById("filters");
  var list = document.getElementById("catalog-list");
  if (!dataEl || !form || !list) { return; }
  var items = JSON.parse(dataEl.textContent);
  var cards = list.querySelectorAll("li[data-index]");
  var count = document.getElementById("result-count");
  var empty = document.getElementById("no-results");
  var fields = {
    q: document.getElementById("q"),
    department: document.getElementById("f-department"),
    status: document.getElementById("f-status"),
    theme: document.getElementById("f-theme"),
    access: document.getElementById("f-access"),
    goal: document.getElementById("f-goal")
  };

  function norm(s) {
    return String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  items.forEach(function (it) {
    it.text = norm([it.title, it.description, (it.keywords || []).join(" "), it.department_name,
                    it.department, it.theme, it.id].join(" "));
  });

  function matches(it, terms, f) {
    if (f.department && it.department !== f.department) { return false; }
    if (f.status && it.status !== f.status) { return false; }
    if (f.theme && it.theme !== f.theme) { return false; }
    if (f.access && it.access_level !== f.access) { return false; }
    if (f.goal && (it.goals || []).indexOf(f.goal) < 0) { return false; }
    for (var i = 0; i < terms.length; i++) {
      if (it.text.indexOf(terms[i]) < 0) { return false; }
    }
    return true;
  }

  function state() {
    var f = {};
    Object.keys(fields).forEach(function (k) { f[k] = fields[k] ? fields[k].value : ""; });
    return f;
  }

  function remember(f) {
    var params = new URLSearchParams();
    Object.keys(f).forEach(function (k) { if (f[k]) { params.set(k, f[k]); } });
    var qs = params.toString();
    try {
      history.replaceState(null, "", qs ? "?" + qs : location.pathname);
    } catch (e) { /* some browsers refuse replaceState on file:// pages; the filters still work */ }
  }

  function apply() {
    var f = state();
    var terms = norm(f.q).split(/\s+/).filter(Boolean);
    var shown = 0;
    for (var i = 0; i < cards.length; i++) {
      var idx = parseInt(cards[i].getAttribute("data-index"), 10);
      var ok = matches(items[idx], terms, f);
      cards[i].hidden = !ok;
      if (ok) { shown++; }
    }
    count.textContent = shown === items.length ? items.length + " datasets"
      : "Showing " + shown + " of " + items.length + " datasets";
    empty.hidden = shown !== 0;
    remember(f);
  }

  var initial = new URLSearchParams(location.search);
  Object.keys(fields).forEach(function (k) {
    var v = initial.get(k);
    if (v && fields[k]) { fields[k].value = v; }
  });
  form.hidden = false;
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  apply();
}());
