/* <talk-search>: the schedule's search, embeddable on any page with one <script> tag.

     <script src="https://example.org/schedule/assets/widget.js" defer></script>
     <talk-search src="https://example.org/schedule/"></talk-search>

   It renders in a Shadow DOM (the host's CSS cannot reach in, ours cannot leak out), takes the
   host's font and colours through inheritance and --talk-search-* custom properties, and loads
   the search files only when its box is first focused. The files are loaded as <script>
   elements, which work across origins without CORS (fetch would need it); the host page's CSP
   must allow scripts from the schedule's origin. See docs/embedding.md. */
(function () {
  "use strict";

  if (!window.customElements || window.customElements.get("talk-search")) return;

  // Where this file was loaded from: its site is the default `src` (dist/assets/widget.js -> dist/).
  var OWN_BASE = document.currentScript && document.currentScript.src
    ? new URL("../", document.currentScript.src).href
    : "";
  var DEFAULT_LIMIT = 8;
  var counter = 0;

  var CSS = [
    ":host { display: block; }",
    ":host([hidden]) { display: none; }",
    // Inherited text properties from the host would distort the widget; font and colour stay.
    ".root { font: var(--talk-search-font, inherit); color: var(--talk-search-color, inherit);",
    "  line-height: 1.4; text-align: start; text-transform: none; text-indent: 0;",
    "  letter-spacing: normal; word-spacing: normal; white-space: normal; visibility: visible; }",
    ".root *, .root *::before, .root *::after { box-sizing: border-box; }",
    "form { display: flex; margin: 0; }",
    "input { flex: 1 1 auto; min-width: 0; width: 100%; margin: 0; font: inherit; color: inherit;",
    "  padding: 0.45em 0.7em; background: var(--talk-search-background, transparent);",
    "  border: 1px solid var(--talk-search-border, color-mix(in srgb, currentColor 45%, transparent));",
    "  border-radius: var(--talk-search-radius, 0.4em); appearance: none; }",
    "input:focus-visible { outline: 2px solid var(--talk-search-accent, Highlight); outline-offset: 1px; }",
    ".status { margin: 0.4em 0 0; font-size: 0.85em; color: var(--talk-search-muted, inherit); opacity: 0.8; }",
    ".status:empty { display: none; }",
    "ul { list-style: none; margin: 0.3em 0 0; padding: 0; }",
    "ul:empty { display: none; }",
    "li { display: block; margin: 0; padding: 0.4em 0.5em; border-radius: var(--talk-search-radius, 0.4em); cursor: pointer; }",
    "li[aria-selected='true'] { background: color-mix(in srgb, var(--talk-search-accent, Highlight) 14%, transparent); }",
    "a { display: inline; color: var(--talk-search-accent, LinkText); font-weight: 600; text-decoration: underline;",
    "  text-decoration-thickness: 1px; text-underline-offset: 0.15em; }",
    "a:focus-visible { outline: 2px solid var(--talk-search-accent, Highlight); outline-offset: 2px; }",
    ".meta, .people { display: block; margin: 0.1em 0 0; font-size: 0.85em; }",
    ".meta { color: var(--talk-search-muted, inherit); opacity: 0.8; }",
    "mark { background: var(--talk-search-mark, color-mix(in srgb, var(--talk-search-accent, Highlight) 25%, transparent));",
    "  color: inherit; padding: 0; }",
    ".label { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }"
  ].join("\n");

  /* ---- Loading: once per site; lunr.js and search.js once per page ---- */

  var loads = {};
  var shared = null;

  function injectScript(url) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = url;
      // The files are UTF-8; without this, a host page in another encoding garbles names.
      script.charset = "utf-8";
      script.async = false;
      script.onload = function () { script.remove(); resolve(); };
      script.onerror = function () { script.remove(); reject(new Error("could not load " + url)); };
      (document.head || document.documentElement).appendChild(script);
    });
  }

  function needEngine() {
    if (!window.PipelineSearch) throw new Error("search engine did not load (is AMD define() on this page?)");
  }

  /* A promise of the site's search (static/search.js): it loads the term ranges and cards each
     query needs from the site, as the schedule page does. */
  function loadEngine(base) {
    if (loads[base]) return loads[base];
    // lunr.js and search.js define globals; a page that already has them (or a second
    // widget) reuses them.
    if (!shared) {
      shared = Promise.resolve().then(function () {
        if (!window.lunr) return injectScript(base + "assets/lunr.js");
      }).then(function () {
        if (!window.PipelineSearch) return injectScript(base + "assets/search.js");
      });
    }
    loads[base] = shared.then(function () {
      needEngine();
      var load = window.PipelineSearch.scriptLoader(document, base, "");
      return load("manifest").then(function (manifest) {
        return window.PipelineSearch.site(manifest, load);
      });
    });
    return loads[base];
  }

  /* ---- The element ---- */

  var sheet = null;
  function adoptStyles(shadow) {
    // A constructed stylesheet is not an inline <style>, so a host CSP with a strict style-src
    // does not block it; one sheet is shared by every widget on the page.
    try {
      if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) {
      var style = document.createElement("style");
      style.textContent = CSS;
      shadow.appendChild(style);
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function appendHighlighted(node, text, matched) {
    if (!matched || !window.PipelineSearch.WORD) { node.textContent = text; return; }
    var last = 0;
    String(text).replace(window.PipelineSearch.WORD, function (word, offset) {
      if (matched(word)) {
        node.appendChild(document.createTextNode(text.slice(last, offset)));
        node.appendChild(el("mark", "", word));
        last = offset + word.length;
      }
      return word;
    });
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function when(card) {
    if (!card.start) return "Not scheduled";
    // Venue time, as the schedule page shows it by default: the ISO text is wall-clock time.
    return card.start.slice(0, 10) + " " + card.start.slice(11, 16) + (card.end ? "\u2013" + card.end.slice(11, 16) : "");
  }

  class TalkSearch extends HTMLElement {
    constructor() {
      super();
      var uid = "ts" + (++counter);
      this._engine = null;
      this._asked = 0;
      this._hits = [];
      this._active = -1;
      var shadow = this.attachShadow({ mode: "open" });
      var root = el("div", "root");
      var form = el("form");
      form.setAttribute("role", "search");
      var label = el("label", "label");
      label.htmlFor = uid + "-q";
      var input = el("input");
      input.id = uid + "-q";
      input.type = "search";
      input.autocomplete = "off";
      input.spellcheck = false;
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("aria-controls", uid + "-list");
      var status = el("p", "status");
      status.id = uid + "-status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      input.setAttribute("aria-describedby", status.id);
      var list = el("ul");
      list.id = uid + "-list";
      list.setAttribute("role", "listbox");
      form.append(label, input);
      root.append(form, status, list);
      adoptStyles(shadow);
      shadow.append(root);
      this._uid = uid;
      this._label = label;
      this._input = input;
      this._status = status;
      this._list = list;

      var self = this;
      input.addEventListener("focus", function () { self._load(); });
      input.addEventListener("input", function () { self._update(); });
      input.addEventListener("keydown", function (event) { self._key(event); });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        self._open(self._active >= 0 ? self._active : 0);
      });
      list.addEventListener("mousemove", function (event) {
        var option = event.target.closest && event.target.closest("li[role=option]");
        if (option) self._select(Number(option.getAttribute("data-index")));
      });
      list.addEventListener("click", function (event) {
        var option = event.target.closest && event.target.closest("li[role=option]");
        if (option && !(event.target.closest && event.target.closest("a"))) {
          self._open(Number(option.getAttribute("data-index")));
        }
      });
    }

    static get observedAttributes() { return ["label", "placeholder"]; }

    connectedCallback() { this._texts(); }

    attributeChangedCallback() { this._texts(); }

    _texts() {
      var label = this.getAttribute("label") || "Search the schedule";
      this._label.textContent = label;
      this._input.placeholder = this.getAttribute("placeholder") || label + "\u2026";
    }

    /* The site's base URL, always ending in "/". */
    get base() {
      var src = this.getAttribute("src") || OWN_BASE;
      var url = new URL(src, document.baseURI);
      url.hash = "";
      url.search = "";
      if (/\/index\.html$/.test(url.pathname)) url.pathname = url.pathname.slice(0, -10);
      if (!/\/$/.test(url.pathname)) url.pathname += "/";
      return url.href;
    }

    get limit() {
      var n = parseInt(this.getAttribute("limit") || "", 10);
      return n > 0 ? n : DEFAULT_LIMIT;
    }

    _load() {
      if (this._loading) return this._loading;
      var self = this;
      this.setAttribute("data-state", "loading");
      this._loading = loadEngine(this.base).then(function (engine) {
        self._engine = engine;
        self.setAttribute("data-state", "ready");
        self._update();
      }, function (error) {
        self.setAttribute("data-state", "failed");
        self._status.textContent = "Search is unavailable: " + error.message;
      });
      return this._loading;
    }

    _update() {
      var text = this._input.value;
      if (!text.trim()) { ++this._asked; this._show([]); this._status.textContent = ""; return; }
      if (!this._engine) { this._status.textContent = "Loading search\u2026"; return; }
      var self = this, asked = ++this._asked;
      this._engine.find(text, {}, this.limit, 0).then(function (found) {
        if (asked !== self._asked) return;
        self._show(found.hits);
        var n = found.total;
        self._status.textContent = n === 0
          ? "No results for \u2018" + text.trim() + "\u2019"
          : n + (n === 1 ? " result" : " results") + (n > self.limit ? ", showing the first " + self.limit : "");
      }, function (error) {
        if (asked === self._asked) self._status.textContent = "Search is unavailable: " + error.message;
      });
    }

    _show(hits) {
      var self = this;
      var base = this.base;
      var target = this.getAttribute("target");
      this._hits = hits;
      this._active = -1;
      this._input.removeAttribute("aria-activedescendant");
      var fragment = document.createDocumentFragment();
      hits.forEach(function (hit, index) {
        var card = hit.card;
        var terms = hit.terms || [];
        var matched = terms.length ? window.PipelineSearch.highlighter(self._engine, terms) : null;
        var li = el("li");
        li.id = self._uid + "-o" + index;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-index", String(index));
        li.setAttribute("data-id", hit.id);
        var link = el("a");
        var where = self._engine.href(card);
        link.href = base + (where.charAt(0) === "#" ? "index.html" + where : where);
        // Options are chosen with the arrow keys; tabbing through every link would be noise.
        link.tabIndex = -1;
        if (target) link.target = target;
        if (target === "_blank") link.rel = "noopener";
        appendHighlighted(link, card.title, matched);
        li.appendChild(link);
        var names = (self._engine && self._engine.manifest && self._engine.manifest.editionNames) || {};
        li.appendChild(el("span", "meta", [card.label, names[card.edition] || card.edition, when(card)].filter(Boolean).join(" \u00b7 ")));
        if (card.people) {
          var people = el("span", "people");
          appendHighlighted(people, card.people, matched);
          li.appendChild(people);
        }
        fragment.appendChild(li);
      });
      this._list.replaceChildren(fragment);
      this._input.setAttribute("aria-expanded", hits.length ? "true" : "false");
    }

    _select(index) {
      var options = this._list.children;
      if (!options.length) return;
      index = (index + options.length) % options.length;
      if (this._active >= 0 && options[this._active]) options[this._active].setAttribute("aria-selected", "false");
      this._active = index;
      options[index].setAttribute("aria-selected", "true");
      this._input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }

    _open(index) {
      var option = this._list.children[index];
      if (option) option.querySelector("a").click();
    }

    _key(event) {
      if (event.key === "ArrowDown") { event.preventDefault(); this._select(this._active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); this._select(this._active - 1); }
      else if (event.key === "Escape" && this._input.value) {
        event.preventDefault();
        this._input.value = "";
        this._update();
      }
    }

    /* For hosts that script it: the engine, once loaded. */
    ready() {
      var self = this;
      return this._load().then(function () { return self._engine; });
    }
  }

  window.customElements.define("talk-search", TalkSearch);
})();
