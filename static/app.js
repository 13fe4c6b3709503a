/* The schedule page: search as you type, filters, URL state, venue or local times. */
(function () {
  "use strict";

  var doc = document;
  doc.documentElement.classList.add("js");
  // Results come a page at a time: each card shown may cost a file of cards to fetch, so the
  // first page is short and arrives soon; "Show more" brings longer ones.
  var FIRST_PAGE = 10;
  var MORE_PAGE = 30;

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
  // `engine` searches the site's index, loading the term ranges and cards each query needs.
  var engine = null;
  var asked = 0;
  var shown = 0;
  var more = doc.getElementById("more-results");
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

  // Building an Intl.DateTimeFormat costs far more than formatting with one, and every result
  // card formats a day and times: one formatter per kind, for venue and for local times.
  var formatters = {};
  function formatter(kind, local) {
    var key = kind + (local ? ":local" : ":venue");
    if (!formatters[key]) {
      var options = kind === "time"
        ? { hour: "2-digit", minute: "2-digit" }
        : { weekday: "short", day: "numeric", month: "short", year: "numeric" };
      if (kind === "day" && !local) options.timeZone = "UTC";
      formatters[key] = new Intl.DateTimeFormat(undefined, options);
    }
    return formatters[key];
  }

  // Formatting costs about as much as building a result card: each value is formatted once.
  var formatted = new Map();
  function memo(kind, iso, make) {
    var key = kind + (localTime.checked ? "L" : "V") + iso;
    var text = formatted.get(key);
    if (text === undefined) formatted.set(key, text = make());
    return text;
  }

  function formatTime(iso) {
    if (!iso) return "";
    if (!localTime.checked) return iso.slice(11, 16);
    return memo("t", iso, function () { return formatter("time", true).format(new Date(iso)); });
  }

  // In venue time a result's day reads as the schedule's own day headings, which the day
  // filter lists; the first Intl formatter a page makes costs tens of milliseconds, which
  // the first keystroke with results would otherwise pay.
  var dayNames = {};
  Array.prototype.forEach.call(filters.day.options, function (o) { if (o.value) dayNames[o.value] = o.textContent; });

  function formatDay(iso) {
    if (!iso) return "Not scheduled";
    if (!localTime.checked && dayNames[iso.slice(0, 10)]) return dayNames[iso.slice(0, 10)];
    return memo("d", iso, function () {
      var date = localTime.checked ? new Date(iso) : new Date(iso.slice(0, 10) + "T12:00:00Z");
      return formatter("day", localTime.checked).format(date);
    });
  }

  /* Append text to a node, wrapping in <mark> each word that `hit` (a highlighter) accepts. */
  function appendHighlighted(node, text, hit) {
    if (!hit) { node.textContent = text; return; }
    var last = 0;
    text.replace(window.PipelineSearch.WORD, function (word, offset) {
      if (hit(word)) {
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
    var matched = terms && terms.length && engine ? window.PipelineSearch.highlighter(engine, terms) : null;
    var li = el("li", "result result--" + card.kind);
    li.setAttribute("data-id", card.id);
    var title = el("a", "result-title");
    title.href = engine.href(card);
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

  function chosenFilters() {
    var chosen = {};
    Object.keys(filters).forEach(function (name) { chosen[name] = filters[name].value; });
    return chosen;
  }

  // Rewriting the URL costs milliseconds in some browsers: while typing, once the typing pauses.
  var urlTimer = null;
  function writeUrlSoon() {
    clearTimeout(urlTimer);
    urlTimer = setTimeout(writeUrl, 300);
  }

  function update(event) {
    if (event && event.type === "input") writeUrlSoon();
    else { clearTimeout(urlTimer); writeUrl(); }
    var text = input.value;
    var filtering = Object.keys(filters).some(function (n) { return filters[n].value; });
    answered(false);
    if (!text.trim() && !filtering) {
      ++asked;
      answered(true);
      doc.body.classList.remove("searching");
      results.hidden = true;
      setStatus(defaultStatus);
      return;
    }
    // The schedule goes at once, not when the answer comes: while it is shown, a page still
    // being parsed lays out every new row, which slows both the parser and the search.
    doc.body.classList.add("searching");
    results.hidden = false;
    if (!engine) { setStatus("Loading search…"); return; }
    var id = ++asked;
    engine.find(text, chosenFilters(), FIRST_PAGE, 0).then(function (found) {
      show(id, text, found, false);
    }, failed);
  }

  function showMore() {
    var id = asked, text = input.value;
    engine.find(text, chosenFilters(), MORE_PAGE, shown).then(function (found) {
      show(id, text, found, true);
    }, failed);
  }

  /* Whether what is shown answers the latest query and filters (tests and tools wait on it). */
  function answered(yes) {
    doc.documentElement.setAttribute("data-answered", yes ? "true" : "false");
  }

  /* Fetch every search file while the page is idle (small sites only). */
  var prefetching = false;
  function prefetch() {
    var m = engine && engine.manifest;
    // A small site's manifest asks for everything ahead (pipeline/search_shards.py), so typing
    // never waits for the network; a larger one fetches what each query needs.
    if (prefetching || !m || !m.prefetch || !engine.loadCards) return;
    prefetching = true;
    // Term ranges first: a query cannot start without its ranges, and cards come after them.
    var steps = [];
    for (var r = 0; r < m.ranges.length; r++) steps.push(engine.loadRanges.bind(engine, [r]));
    for (var c = 0; c * m.cardsPerFile < m.documents; c++) steps.push(engine.loadCards.bind(engine, [c * m.cardsPerFile]));
    // Idle moments, so prefetching never delays a keystroke; while the page is still parsed
    // there are few, so each waits at most 100 ms.
    var idle = window.requestIdleCallback
      ? function (fn) { return window.requestIdleCallback(fn, { timeout: 100 }); }
      : function (fn) { return setTimeout(fn, 1); };
    // Six at a time, as many as a browser opens to one host over HTTP/1.1.
    function next() {
      var step = steps.shift();
      if (step) idle(function () { step().then(next, function () { /* a query will retry */ }); });
    }
    for (var lane = 0; lane < 6; lane++) next();
  }

  /* Render one answer, unless a newer question was asked meanwhile. */
  function show(id, text, found, appending) {
    if (id !== asked) return;
    answered(true);
    prefetch();
    var fragment = doc.createDocumentFragment();
    found.hits.forEach(function (h) { fragment.appendChild(renderCard(h.card, h.terms)); });
    if (appending) list.appendChild(fragment);
    else list.replaceChildren(fragment);
    shown = (appending ? shown : 0) + found.hits.length;
    var what = text.trim() ? " for ‘" + text.trim() + "’" : "";
    var total = found.total;
    if (!total) {
      var empty = el("li", "results-empty", "No results" + what + describeFilters() + ". Try fewer words, another spelling, or clear the filters.");
      list.appendChild(empty);
      setStatus("No results" + what + describeFilters());
    } else {
      var count = total + (total === 1 ? " result" : " results");
      var part = total > shown ? " (showing the first " + shown + ")" : "";
      setStatus(count + what + describeFilters() + part);
    }
    more.hidden = shown >= total;
    results.hidden = false;
    doc.body.classList.add("searching");
  }

  // Whether the schedule's times were ever switched to local ones: until then they show venue
  // time as written, and there is nothing to do (a schedule holds thousands of times).
  var timesSwitched = false;
  function applyTimeZone() {
    doc.body.classList.toggle("local-times", localTime.checked);
    if (!localTime.checked && !timesSwitched) return;
    timesSwitched = true;
    var times = doc.querySelectorAll("#program time[datetime]");
    Array.prototype.forEach.call(times, function (t) {
      if (!t.hasAttribute("data-venue")) t.setAttribute("data-venue", t.textContent);
      t.textContent = localTime.checked ? formatTime(t.getAttribute("datetime")) : t.getAttribute("data-venue");
    });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
  more.addEventListener("click", showMore);
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

  function failed(error) {
    setStatus("Search is unavailable: " + (error && error.message || error));
    doc.documentElement.setAttribute("data-search", "failed");
  }

  readUrl();
  applyTimeZone();
  // This script runs before the schedule below it is parsed; its times follow once it is.
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", applyTimeZone);
  // The manifest script tag (before this one) left the term list and the filter table here.
  var parts = window.pipelineSearchParts || {};
  var tag = doc.querySelector('script[src*="search/manifest.js"]');
  try {
    if (!parts.manifest || !tag) throw new Error("the search manifest did not load");
    var base = tag.src.replace(/search\/manifest\.js.*$/, "");
    var version = (/[?&]v=([^&]*)/.exec(tag.src) || [])[1] || "";
    var here = function () {
      return window.PipelineSearch.site(parts.manifest, window.PipelineSearch.scriptLoader(doc, base, version));
    };
    engine = null;
    // A large site's manifest asks for a worker, where the page may start one (not on file://).
    if (parts.manifest.worker && location.protocol !== "file:" && window.Worker) {
      try {
        var assets = base + "assets/";
        // The scripts carry the assets' version (this script's own tag), not the search's.
        var own = doc.querySelector('script[src*="assets/app.js"]');
        var assetVersion = own && (/[?&]v=([^&]*)/.exec(own.src) || [])[1] || "";
        var tagged = assetVersion ? "?v=" + assetVersion : "";
        engine = window.PipelineSearch.remote(parts.manifest, new Worker(assets + "search-worker.js" + tagged),
          [assets + "lunr.js" + tagged, assets + "search.js" + tagged], base, version, here);
      } catch (e) {
        engine = null;
      }
    }
    engine = engine || here();
    doc.documentElement.setAttribute("data-search", "ready");
    update();
    // At once, not at the load event: a reader may start typing while the schedule is parsed;
    // but a query in the URL is answered first (show() starts it then).
    if (doc.documentElement.getAttribute("data-answered") === "true") prefetch();
  } catch (error) {
    failed(error);
  }
})();
