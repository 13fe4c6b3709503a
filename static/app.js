/* The schedule page: search as you type, filters, URL state, venue or local times. */
(function () {
  "use strict";

  var doc = document;
  doc.documentElement.classList.add("js");
  var MAX_SHOWN = 200;

  var form = doc.getElementById("search-form");
  var input = doc.getElementById("q");
  var status = doc.getElementById("search-status");
  var results = doc.getElementById("results");
  var list = doc.getElementById("result-list");
  var localTime = doc.getElementById("local-time");
  var filters = {
    edition: doc.getElementById("filter-edition"),
    type: doc.getElementById("filter-type"),
    day: doc.getElementById("filter-day")
  };
  var defaultStatus = status.textContent;
  var engine = null;
  var lastSearch = location.search;
  var editionNames = {};
  Array.prototype.forEach.call(filters.edition.options, function (o) { editionNames[o.value] = o.textContent; });

  function setStatus(text) {
    if (status.textContent !== text) status.textContent = text;
  }

  function readUrl() {
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    Object.keys(filters).forEach(function (name) { filters[name].value = params.get(name) || ""; });
    localTime.checked = params.get("tz") === "local";
  }

  function writeUrl() {
    var params = new URLSearchParams();
    if (input.value) params.set("q", input.value);
    Object.keys(filters).forEach(function (name) { if (filters[name].value) params.set(name, filters[name].value); });
    if (localTime.checked) params.set("tz", "local");
    var query = params.toString();
    var url = location.pathname + (query ? "?" + query : "") + location.hash;
    // file:// pages cannot always rewrite their URL; searching must not depend on it.
    try { history.replaceState(null, "", url); } catch (e) { /* keep searching */ }
    lastSearch = location.search;
  }

  function cardMatchesFilters(card) {
    if (filters.edition.value && card.edition !== filters.edition.value) return false;
    if (filters.type.value && card.type !== filters.type.value) return false;
    if (filters.day.value && card.start.slice(0, 10) !== filters.day.value) return false;
    return true;
  }

  function formatTime(iso) {
    if (!iso) return "";
    if (localTime.checked) {
      return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
    }
    return iso.slice(11, 16);
  }

  function formatDay(iso) {
    if (!iso) return "Not scheduled";
    var date = localTime.checked ? new Date(iso) : new Date(iso.slice(0, 10) + "T12:00:00Z");
    var options = { weekday: "short", day: "numeric", month: "short", year: "numeric" };
    if (!localTime.checked) options.timeZone = "UTC";
    return new Intl.DateTimeFormat(undefined, options).format(date);
  }

  /* Append text to a node, wrapping words whose index terms matched in <mark>. */
  function appendHighlighted(node, text, matched) {
    if (!matched || !matched.size) { node.textContent = text; return; }
    var last = 0;
    text.replace(window.PipelineSearch.WORD, function (word, offset) {
      var terms = engine.termsOf(word);
      var hit = terms.some(function (t) { return matched.has(t); });
      if (hit) {
        node.appendChild(doc.createTextNode(text.slice(last, offset)));
        var mark = doc.createElement("mark");
        mark.textContent = word;
        node.appendChild(mark);
        last = offset + word.length;
      }
      return word;
    });
    node.appendChild(doc.createTextNode(text.slice(last)));
  }

  function el(tag, className, text) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function renderCard(card, terms) {
    var matched = terms ? new Set(terms) : null;
    var li = el("li", "result result--" + card.kind);
    li.setAttribute("data-id", card.id);
    var title = el("a", "result-title");
    title.href = "#" + card.id;
    appendHighlighted(title, card.title, matched);
    var heading = el("h2", "result-heading");
    heading.appendChild(title);
    var meta = el("p", "result-meta");
    meta.appendChild(el("span", "result-kind", card.label));
    var when = card.start ? formatDay(card.start) + ", " + formatTime(card.start) + (card.end ? "–" + formatTime(card.end) : "") : "Not scheduled";
    meta.appendChild(doc.createTextNode(" " + (editionNames[card.edition] || card.edition) + " · " + when));
    li.appendChild(meta);
    li.appendChild(heading);
    if (card.people) {
      var people = el("p", "result-people");
      appendHighlighted(people, card.people, matched);
      li.appendChild(people);
    }
    if (card.snippet) {
      var snippet = el("p", "result-snippet");
      appendHighlighted(snippet, card.snippet, matched);
      li.appendChild(snippet);
    }
    return li;
  }

  function describeFilters() {
    var parts = [];
    Object.keys(filters).forEach(function (name) {
      var select = filters[name];
      if (select.value) parts.push(select.options[select.selectedIndex].textContent);
    });
    return parts.length ? " in " + parts.join(", ") : "";
  }

  function update() {
    writeUrl();
    var text = input.value;
    var filtering = Object.keys(filters).some(function (n) { return filters[n].value; });
    if (!text.trim() && !filtering) {
      doc.body.classList.remove("searching");
      results.hidden = true;
      setStatus(defaultStatus);
      return;
    }
    if (!engine) { setStatus("Loading search…"); return; }
    var hits;
    if (text.trim()) {
      hits = engine.search(text);
    } else {
      hits = engine.docs.filter(function (c) { return c.kind === "item"; }).map(function (c) { return { id: c.id, card: c, terms: null }; });
    }
    hits = hits.filter(function (h) { return cardMatchesFilters(h.card); });
    var fragment = doc.createDocumentFragment();
    hits.slice(0, MAX_SHOWN).forEach(function (h) { fragment.appendChild(renderCard(h.card, h.terms)); });
    list.replaceChildren(fragment);
    var what = text.trim() ? " for ‘" + text.trim() + "’" : "";
    if (!hits.length) {
      var empty = el("li", "results-empty", "No results" + what + describeFilters() + ". Try fewer words, another spelling, or clear the filters.");
      list.appendChild(empty);
      setStatus("No results" + what + describeFilters());
    } else {
      var count = hits.length + (hits.length === 1 ? " result" : " results");
      var shown = hits.length > MAX_SHOWN ? " (showing the first " + MAX_SHOWN + ")" : "";
      setStatus(count + what + describeFilters() + shown);
    }
    results.hidden = false;
    doc.body.classList.add("searching");
  }

  function applyTimeZone() {
    var times = doc.querySelectorAll("#program time[datetime]");
    Array.prototype.forEach.call(times, function (t) {
      if (!t.hasAttribute("data-venue")) t.setAttribute("data-venue", t.textContent);
      t.textContent = localTime.checked ? formatTime(t.getAttribute("datetime")) : t.getAttribute("data-venue");
    });
    doc.body.classList.toggle("local-times", localTime.checked);
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
  input.addEventListener("input", update);
  Object.keys(filters).forEach(function (name) { filters[name].addEventListener("change", update); });
  localTime.addEventListener("change", function () { applyTimeZone(); update(); });
  list.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("a")) {
      // Show the whole schedule so the link's target is visible; typing searches again.
      doc.body.classList.remove("searching");
      results.hidden = true;
    }
  });
  doc.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
      input.select();
    } else if (event.key === "Escape" && target === input) {
      input.value = "";
      update();
    }
  });
  window.addEventListener("popstate", function () {
    // Following a link to an item also fires popstate; only a changed query re-runs the search.
    if (location.search === lastSearch) return;
    readUrl();
    applyTimeZone();
    update();
  });

  readUrl();
  applyTimeZone();
  try {
    engine = window.PipelineSearch.create(window.pipelineSearchData);
    doc.documentElement.setAttribute("data-search", "ready");
  } catch (error) {
    setStatus("Search is unavailable: " + error.message);
    doc.documentElement.setAttribute("data-search", "failed");
    return;
  }
  update();
})();
