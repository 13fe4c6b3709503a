/* Search over the prebuilt index, rule for rule the same as pipeline/search.py and
   pipeline/tokens.py, so the page and `pipeline search` rank the same items. */
(function (root) {
  "use strict";

  var WORD = /[\p{L}\p{N}\p{M}]+/gu;
  var MARKS = /\p{M}/gu;
  // The same explicit white-space set in Python: the engines' own \s classes differ.
  var SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff\\x1c-\\x1f";
  var CHUNKS = new RegExp("[^" + SPACE + "]+", "g");
  var ENDS_IN_SPACE = new RegExp("[" + SPACE + "]$");
  var FIELD_PREFIX = /^([A-Za-z]+):([\s\S]*)$/;
  var SPECIAL_FOLDS = {
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l",
    "ı": "i", "ħ": "h", "ŧ": "t", "ŀ": "l", "ĸ": "k", "ŋ": "n", "ς": "σ"
  };
  var EXACT_BOOST = 10, PREFIX_BOOST = 1, FUZZY_BOOST = 1;
  var FUZZY_MIN_LENGTH = 5, PREFIX_MIN_LENGTH = 2;

  function words(text) {
    return (String(text).match(WORD) || []).map(function (w) { return w.toLowerCase(); });
  }

  function fold(word) {
    var stripped = word.normalize("NFKD").replace(MARKS, "");
    var out = "";
    for (var c of stripped) out += Object.prototype.hasOwnProperty.call(SPECIAL_FOLDS, c) ? SPECIAL_FOLDS[c] : c;
    // Lower-case again: decomposition turns compatibility forms such as 𝐁 or Ｆ into capitals.
    return out.toLowerCase();
  }

  function foldAccents(token) {
    return token.update(function (s) { return fold(s); });
  }
  // Registered before Index.load, under the name the saved pipeline uses.
  root.lunr.Pipeline.registerFunction(foldAccents, "foldAccents");

  var STOP_WORDS = {};
  // lunr.js keeps its stop-word list inside a closure; this probe reads it back word by word.
  function isStopWord(word) {
    if (!(word in STOP_WORDS)) {
      STOP_WORDS[word] = root.lunr.stopWordFilter(new root.lunr.Token(word)) === undefined;
    }
    return STOP_WORDS[word];
  }

  function parseQuery(text, fieldAliases) {
    text = String(text);
    var parsed = [];
    var typing = text.length > 0 && !ENDS_IN_SPACE.test(text);
    (text.match(CHUNKS) || []).forEach(function (chunk) {
      var field = null;
      var m = FIELD_PREFIX.exec(chunk);
      if (m && Object.prototype.hasOwnProperty.call(fieldAliases, m[1].toLowerCase())) {
        field = fieldAliases[m[1].toLowerCase()];
        chunk = m[2];
      }
      (chunk.match(WORD) || []).forEach(function (w) {
        parsed.push({ word: w.toLowerCase(), field: field, prefix: false });
      });
    });
    if (parsed.length && typing) {
      var last = parsed[parsed.length - 1];
      last.prefix = Array.from(fold(last.word)).length >= PREFIX_MIN_LENGTH;
    }
    return parsed.filter(function (w) {
      var f = fold(w.word);
      return f.length > 0 && (w.prefix || !isStopWord(f));
    });
  }

  function addClauses(query, w) {
    var folded = fold(w.word);
    function opts(extra) {
      var o = Object.assign({}, extra);
      if (w.field) o.fields = [w.field];
      return o;
    }
    query.term(w.word, opts({ boost: EXACT_BOOST, usePipeline: true }));
    if (w.prefix) {
      query.term(folded, opts({ boost: PREFIX_BOOST, usePipeline: false, wildcard: root.lunr.Query.wildcard.TRAILING }));
    }
    if (Array.from(folded).length >= FUZZY_MIN_LENGTH) {
      query.term(w.word, opts({ boost: FUZZY_BOOST, usePipeline: true, editDistance: 1 }));
    }
  }

  function rounded(score) {
    return Math.floor(score * 1e6 + 0.5) / 1e6;
  }

  /* One lunr index and the rules above: ranked [{ref, score, terms}] for typed text. */
  function Engine(index, fieldAliases) {
    this.index = index;
    this.fieldAliases = fieldAliases || {};
    this.fields = new Set(index.fields);
  }

  Engine.prototype.run = function (queryWords) {
    return this.index.query(function (q) {
      queryWords.forEach(function (w) { addClauses(q, w); });
    });
  };

  /* Every word must match; never throws on any input. Refs are document positions.
     One lunr query ranks the documents; a document is kept when, for every word, one of the
     terms that word's clauses expand to matched it in a field the word may search (the same
     test as running each word's clauses on their own, which pipeline/search.py does). */
  Engine.prototype.search = function (text) {
    var self = this;
    var queryWords = parseQuery(text, this.fieldAliases).filter(function (w) {
      return !w.field || self.fields.has(w.field);
    });
    if (!queryWords.length) return [];
    var results = this.run(queryWords);
    if (queryWords.length > 1) {
      queryWords.forEach(function (w) {
        var terms = self.expansions(w);
        var fields = w.field ? [w.field] : self.index.fields;
        results = results.filter(function (r) {
          var metadata = r.matchData.metadata;
          return terms.some(function (t) {
            var found = metadata[t];
            return found !== undefined && fields.some(function (f) { return f in found; });
          });
        });
      });
    }
    results = results.map(function (r) {
      return { ref: refNumber(r.ref), score: rounded(r.score), terms: Object.keys(r.matchData.metadata) };
    });
    results.sort(function (a, b) { return b.score - a.score || a.ref - b.ref; });
    return results;
  };

  /* The index terms one word's clauses expand to, found as lunr.Index.query finds them. */
  Engine.prototype.expansions = function (w) {
    var lunr = root.lunr, tokenSet = this.index.tokenSet, out = [];
    function expand(set) { out.push.apply(out, tokenSet.intersect(set).toArray()); }
    var folded = fold(w.word);
    var stemmed = this.index.pipeline.runString(w.word);
    stemmed.forEach(function (t) { expand(lunr.TokenSet.fromString(t)); });
    if (w.prefix) expand(lunr.TokenSet.fromString(folded + lunr.Query.wildcard));
    if (Array.from(folded).length >= FUZZY_MIN_LENGTH) {
      stemmed.forEach(function (t) { expand(lunr.TokenSet.fromFuzzyString(t, 1)); });
    }
    return out;
  };

  function refNumber(ref) {
    return /^[0-9]+$/.test(ref) ? parseInt(ref, 10) : parseInt(ref, 36);
  }

  /* A whole serialized index in memory ({index, docs, fieldAliases}; refs in base 36). */
  function Complete(data) {
    this.engine = new Engine(root.lunr.Index.load(data.index), data.fieldAliases);
    this.docs = data.docs;
    this.termCache = new Map();
  }

  Complete.prototype.search = function (text) {
    var docs = this.docs;
    return this.engine.search(text).map(function (h) {
      return { id: docs[h.ref].id, score: h.score, card: docs[h.ref], terms: h.terms };
    });
  };

  /* ---- A built site's search, loading only the term ranges and cards a query needs ----
     (pipeline/search_shards.py writes them; a lunr score only involves the query's own terms,
     so an index of the ranges holding every term the query expands to ranks exactly like the
     whole index.) `load(key)` returns a promise of the data in search/<key>.js. */
  function Site(manifest, load) {
    this.manifest = manifest;
    this.load = load;
    this.pipeline = root.lunr.Pipeline.load(manifest.lunr.pipeline);
    this.terms = [];
    this.rangeOf = new Map();
    this.byLength = new Map();
    var self = this;
    manifest.ranges.forEach(function (range, number) {
      frontDecoded(range).forEach(function (term) {
        self.terms.push(term);
        self.rangeOf.set(term, number);
        var bucket = self.byLength.get(term.length);
        if (!bucket) self.byLength.set(term.length, bucket = []);
        bucket.push(term);
      });
    });
    // The loaded ranges, merged: lunr's invertedIndex and fieldVectors, grown range by range.
    this.invertedIndex = Object.create(null);
    this.fieldVectors = Object.create(null);
    this.loaded = new Map();
    this.cards = new Map();
    this.engines = new Map();
    this.termCache = new Map();
  }

  /* A range's terms from their front-coded lines (pipeline/search_shards.py front_coded). */
  function frontDecoded(text) {
    var terms = [], previous = "";
    text.split("\n").forEach(function (line) {
      previous = previous.slice(0, parseInt(line.charAt(0), 36)) + line.slice(1);
      terms.push(previous);
    });
    return terms;
  }

  /* One edit (insert, delete, substitute, swap two neighbours) apart, in UTF-16 units: every
     term an editDistance 1 clause can expand to passes (lunr.js matches a few less), so the
     ranges it picks hold all of them and lunr.js itself makes the final choice. */
  function withinOneEdit(a, b) {
    var la = a.length, lb = b.length;
    if (Math.abs(la - lb) > 1) return false;
    var i = 0;
    while (i < la && i < lb && a[i] === b[i]) i++;
    if (i === la && i === lb) return true;
    if (la === lb) {
      if (a.slice(i + 1) === b.slice(i + 1)) return true;
      return i + 1 < la && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
    }
    return la < lb ? a.slice(i) === b.slice(i + 1) : a.slice(i + 1) === b.slice(i);
  }

  /* Every index term a query's clauses can expand to (its words, their prefix completions,
     their one-typo neighbours), in lunr.js order, and the term ranges that hold them. */
  Site.prototype.plan = function (queryWords) {
    var self = this, terms = new Set();
    function add(term) {
      if (self.rangeOf.has(term)) terms.add(term);
    }
    queryWords.forEach(function (w) {
      var folded = fold(w.word);
      var stemmed = self.pipeline.runString(w.word);
      stemmed.forEach(add);
      if (Array.from(folded).length >= FUZZY_MIN_LENGTH) {
        stemmed.forEach(function (term) {
          for (var length = term.length - 1; length <= term.length + 1; length++) {
            (self.byLength.get(length) || []).forEach(function (other) {
              if (withinOneEdit(term, other)) terms.add(other);
            });
          }
        });
      }
      if (w.prefix) {
        // Terms are in JavaScript string order: those starting with the prefix are adjacent.
        var low = 0, high = self.terms.length;
        while (low < high) {
          var mid = (low + high) >> 1;
          if (self.terms[mid] < folded) low = mid + 1; else high = mid;
        }
        for (var i = low; i < self.terms.length && self.terms[i].startsWith(folded); i++) terms.add(self.terms[i]);
      }
    });
    var sorted = Array.from(terms).sort();
    var ranges = new Set(sorted.map(function (t) { return self.rangeOf.get(t); }));
    return { terms: sorted, ranges: Array.from(ranges).sort(function (a, b) { return a - b; }) };
  };

  /* Loads one term range with lunr.Index.load and merges it into the site's index. */
  Site.prototype.addRange = function (number, rows) {
    var fields = this.manifest.lunr.fields;
    var inverted = [], empty = {};
    // vectors[f][position]: that document field's [term index, weight, ...] pairs.
    var vectors = fields.map(function () { return []; });
    rows.forEach(function (row) {
      var entry = { _index: row[1] };
      for (var f = 0; f < fields.length; f++) {
        var deltas = row[2 + 2 * f], weights = row[3 + 2 * f], postings = {}, position = 0;
        var byPosition = vectors[f];
        for (var k = 0; k < deltas.length; k++) {
          position += deltas[k];
          postings[position] = empty;
          var pairs = byPosition[position];
          if (pairs === undefined) byPosition[position] = pairs = [];
          // Weights come in thousandths: lunr.py rounds them to three decimals.
          pairs.push(row[1], weights[k] / 1000);
        }
        entry[fields[f]] = postings;
      }
      inverted.push([row[0], entry]);
    });
    var fieldVectors = [];
    vectors.forEach(function (byPosition, f) {
      byPosition.forEach(function (pairs, position) {
        fieldVectors.push([fields[f] + "/" + position, sortedPairs(pairs)]);
      });
    });
    var part = root.lunr.Index.load({
      version: this.manifest.lunr.version,
      fields: fields,
      fieldVectors: fieldVectors,
      invertedIndex: inverted,
      pipeline: this.manifest.lunr.pipeline
    });
    var terms = this.invertedIndex, vectorsByRef = this.fieldVectors;
    Object.keys(part.invertedIndex).forEach(function (term) { terms[term] = part.invertedIndex[term]; });
    Object.keys(part.fieldVectors).forEach(function (fieldRef) {
      var mine = vectorsByRef[fieldRef], theirs = part.fieldVectors[fieldRef];
      if (!mine) { vectorsByRef[fieldRef] = theirs; return; }
      for (var i = 0; i < theirs.elements.length; i += 2) mine.insert(theirs.elements[i], theirs.elements[i + 1]);
    });
    this.loaded.set(number, true);
  };

  /* A lunr index over the loaded ranges whose token set holds just these terms: lunr.js expands
     each clause against it exactly as against the whole index, since no other term can match. */
  Site.prototype.engineFor = function (terms) {
    var key = terms.join("\u0000");
    var engine = this.engines.get(key);
    if (engine) return engine;
    var index = new root.lunr.Index({
      invertedIndex: this.invertedIndex,
      fieldVectors: this.fieldVectors,
      tokenSet: root.lunr.TokenSet.fromArray(terms),
      fields: this.manifest.lunr.fields,
      pipeline: this.pipeline
    });
    engine = new Engine(index, this.manifest.fieldAliases);
    if (this.engines.size >= 16) this.engines.delete(this.engines.keys().next().value);
    this.engines.set(key, engine);
    return engine;
  };

  /* [index, weight, index, weight, ...] in ascending index order, as lunr.Vector expects. */
  function sortedPairs(flat) {
    var n = flat.length / 2, sorted = true;
    for (var i = 1; i < n; i++) if (flat[2 * i] < flat[2 * i - 2]) { sorted = false; break; }
    if (sorted) return flat;
    var order = [];
    for (var j = 0; j < n; j++) order.push(j);
    order.sort(function (a, b) { return flat[2 * a] - flat[2 * b]; });
    var out = [];
    order.forEach(function (j) { out.push(flat[2 * j], flat[2 * j + 1]); });
    return out;
  }

  Site.prototype.loadRanges = function (numbers) {
    var self = this;
    return Promise.all(numbers.map(function (number) {
      if (self.loaded.has(number)) return null;
      return self.load("terms/" + number).then(function (rows) {
        if (!self.loaded.has(number)) self.addRange(number, rows);
      });
    }));
  };

  Site.prototype.loadCards = function (refs) {
    var self = this, per = this.manifest.cardsPerFile, files = new Set();
    refs.forEach(function (ref) {
      var number = Math.floor(ref / per);
      if (!self.cards.has(number)) files.add(number);
    });
    return Promise.all(Array.from(files).map(function (number) {
      return self.load("cards/" + number).then(function (cards) { self.cards.set(number, cards); });
    }));
  };

  /* Where a result leads, relative to the site: the item in the schedule, or on its day's page
     when the site has day pages (pipeline/layout.py names them the same way). */
  Site.prototype.href = function (card) {
    if (!this.manifest.dayPages) return "#" + card.id;
    return card.edition + "-" + (card.start.slice(0, 10) || "unscheduled") + ".html#" + card.id;
  };

  Site.prototype.card = function (ref) {
    var per = this.manifest.cardsPerFile;
    return this.cards.get(Math.floor(ref / per))[ref % per];
  };

  /* Ranked hits for typed text, cards not included: a promise of [{ref, score, terms}]. */
  Site.prototype.search = function (text) {
    var self = this;
    var queryWords = parseQuery(text, this.manifest.fieldAliases);
    if (!queryWords.length) return Promise.resolve([]);
    var plan = this.plan(queryWords);
    return this.loadRanges(plan.ranges).then(function () {
      return self.engineFor(plan.terms).search(text);
    });
  };

  Site.prototype.allows = function (ref, filters) {
    var m = this.manifest, row = 4 * ref;
    if (filters.edition && m.editions[m.table[row + 1]] !== filters.edition) return false;
    if (filters.type && m.types[m.table[row + 2]] !== filters.type) return false;
    if (filters.day && m.days[m.table[row + 3]] !== filters.day) return false;
    return true;
  };

  /* What the page shows: a promise of {total, hits} with at most `limit` hits from `offset`,
     after the filters ({edition, type, day}); with no words, every item the filters allow, in
     schedule order. */
  Site.prototype.find = function (text, filters, limit, offset) {
    var self = this, m = this.manifest;
    offset = offset || 0;
    var ranked;
    if (String(text).trim()) {
      ranked = this.search(text);
    } else {
      var all = [];
      for (var ref = 0; ref < m.documents; ref++) if (m.table[4 * ref] === 1) all.push({ ref: ref, terms: null });
      ranked = Promise.resolve(all);
    }
    return ranked.then(function (hits) {
      hits = hits.filter(function (h) { return self.allows(h.ref, filters); });
      var shown = hits.slice(offset, offset + limit);
      return self.loadCards(shown.map(function (h) { return h.ref; })).then(function () {
        return {
          total: hits.length,
          hits: shown.map(function (h) {
            var card = self.card(h.ref);
            return { id: card.id, score: h.score, card: card, terms: h.terms };
          })
        };
      });
    });
  };

  /* The index terms a displayed word stands for, to decide what to highlight. */
  Site.prototype.termsOf = Complete.prototype.termsOf = function (word) {
    var key = word.toLowerCase();
    var terms = this.termCache.get(key);
    if (!terms) {
      terms = (this.pipeline || this.engine.index.pipeline).runString(key);
      this.termCache.set(key, terms);
    }
    return terms;
  };

  /* The same answers from a Site in a worker (assets/search-worker.js). Until the worker says
     it works, questions wait; if it cannot start, `fallback()` gives a Site on this thread. */
  function Remote(manifest, worker, scripts, base, version, fallback) {
    var self = this;
    this.manifest = manifest;
    this.pipeline = root.lunr.Pipeline.load(manifest.lunr.pipeline);
    this.termCache = new Map();
    this.pending = new Map();
    this.asked = 0;
    this.local = null;
    this.worker = worker;
    function giveUp() {
      worker.terminate();
      self.local = fallback();
      self.pending.forEach(function (waiting) {
        self.local.find.apply(self.local, waiting.question).then(waiting.resolve, waiting.reject);
      });
      self.pending.clear();
    }
    worker.onerror = function (event) { event.preventDefault(); giveUp(); };
    worker.onmessage = function (event) {
      var message = event.data, waiting = self.pending.get(message.id);
      if (message.type === "broken") { giveUp(); return; }
      if (!waiting) return;
      self.pending.delete(message.id);
      if (message.type === "found") waiting.resolve(message.found);
      else waiting.reject(new Error(message.message));
    };
    // The page has parsed the manifest already: the worker gets a copy rather than a download.
    worker.postMessage({ type: "init", scripts: scripts, manifest: manifest, base: base, version: version });
  }

  Remote.prototype.find = function (text, filters, limit, offset) {
    if (this.local) return this.local.find(text, filters, limit, offset);
    var self = this, id = ++this.asked;
    return new Promise(function (resolve, reject) {
      self.pending.set(id, { resolve: resolve, reject: reject, question: [text, filters, limit, offset] });
      self.worker.postMessage({ type: "find", id: id, text: text, filters: filters, limit: limit, offset: offset });
    });
  };

  Remote.prototype.href = function (card) { return Site.prototype.href.call(this, card); };
  Remote.prototype.termsOf = function (word) { return Site.prototype.termsOf.call(this, word); };

  /* Loads search/<key>.js files as scripts (they also load from file://), each keyed by its
     own path in a shared global; `base` is the site's folder URL, `version` its ?v= tag. */
  function scriptLoader(doc, base, version) {
    var pending = new Map();
    return function (key) {
      if (pending.has(key)) return pending.get(key);
      var promise = new Promise(function (resolve, reject) {
        var script = doc.createElement("script");
        script.src = base + "search/" + key + ".js" + (version ? "?v=" + version : "");
        // The files are UTF-8; a host page in another encoding would garble names without this.
        script.charset = "utf-8";
        script.onload = function () {
          var parts = root.pipelineSearchParts || {};
          var data = parts[key];
          delete parts[key];
          script.remove();
          if (data === undefined) reject(new Error(script.src + " held no search data"));
          else resolve(data);
        };
        script.onerror = function () {
          pending.delete(key);
          script.remove();
          reject(new Error(script.src + " did not load"));
        };
        doc.head.appendChild(script);
      });
      pending.set(key, promise);
      return promise;
    };
  }

  root.PipelineSearch = {
    create: function (data) { return new Complete(data); },
    site: function (manifest, load) { return new Site(manifest, load); },
    remote: function (manifest, worker, scripts, base, version, fallback) {
      return new Remote(manifest, worker, scripts, base, version, fallback);
    },
    scriptLoader: scriptLoader,
    withinOneEdit: withinOneEdit,
    frontDecoded: frontDecoded,
    words: words,
    fold: fold,
    parseQuery: parseQuery,
    WORD: WORD
  };
})(typeof self !== "undefined" ? self : globalThis);
