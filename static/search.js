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
      return { ref: refNumber(r.ref), score: rounded(r.score), exact: r.score, terms: Object.keys(r.matchData.metadata) };
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
      return { id: docs[h.ref].id, score: h.score, exact: h.exact, card: docs[h.ref], terms: h.terms };
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
    // The loaded ranges' postings, term -> {index, fields: [{docs, weights}]}.
    this.postings = new Map();
    this.loaded = new Map();
    this.cards = new Map();
    this.tokenSets = new Map();
    this.candidateCache = new Map();
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
    queryWords.forEach(function (w) {
      self.candidates(w).forEach(function (term) { terms.add(term); });
    });
    var sorted = Array.from(terms).sort();
    var ranges = new Set(sorted.map(function (t) { return self.rangeOf.get(t); }));
    return { terms: sorted, ranges: Array.from(ranges).sort(function (a, b) { return a - b; }) };
  };

  /* One word's candidate terms, kept: typing changes only the last word of a query. */
  Site.prototype.candidates = function (w) {
    var key = (w.prefix ? "*" : "=") + w.word;
    var known = this.candidateCache.get(key);
    if (known) return known;
    var self = this, terms = new Set();
    function add(term) {
      if (self.rangeOf.has(term)) terms.add(term);
    }
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
    var found = Array.from(terms);
    if (this.candidateCache.size >= 64) this.candidateCache.delete(this.candidateCache.keys().next().value);
    this.candidateCache.set(key, found);
    return found;
  };

  /* One term range's rows ([term, index, deltas, weights] per field, pipeline/search_shards.py)
     kept as postings: each field's document positions and weights. lunr.Index.load would turn
     them into a field vector per document, of which a query reads only its own terms' entries;
     rank() reads those entries here directly. */
  Site.prototype.addRange = function (number, rows) {
    var postings = this.postings, fieldCount = this.manifest.lunr.fields.length;
    rows.forEach(function (row) {
      var byField = [];
      for (var f = 0; f < fieldCount; f++) {
        var deltas = row[2 + 2 * f], docs = new Array(deltas.length), position = 0;
        for (var k = 0; k < deltas.length; k++) docs[k] = position += deltas[k];
        byField.push({ docs: docs, weights: row[3 + 2 * f] });
      }
      postings.set(row[0], { index: row[1], fields: byField });
    });
    this.loaded.set(number, true);
  };

  /* The token set of just these terms: lunr.js expands each clause against it exactly as against
     the whole index's, since no other term can match. */
  Site.prototype.tokenSetFor = function (terms) {
    var key = terms.join("\u0000");
    var set = this.tokenSets.get(key);
    if (!set) {
      set = root.lunr.TokenSet.fromArray(terms);
      if (this.tokenSets.size >= 16) this.tokenSets.delete(this.tokenSets.keys().next().value);
      this.tokenSets.set(key, set);
    }
    return set;
  };

  /* lunr.Index.query for the clauses addClauses makes (all optional), on the loaded postings:
     the same clause expansion (lunr's Query, pipeline and TokenSet), the same query vectors
     (lunr.Vector), and each document's score summed from the same products in the same order,
     so every score is lunr.js's bit for bit (tests/test_search_js.py): a field's score is the
     dot product of the query vector with the document's field vector, summed over ascending term
     indices, divided by the query vector's magnitude; a document's score adds its fields' scores
     in the order lunr.js first meets each. lunr.js also builds match metadata and reads a vector
     per document field, most of its time; here only the weights of the query's own terms are
     read, into flat arrays. Returns [{ref, score, terms}], ranked, of the documents every word
     matched (terms: the index terms each matched, for highlighting). */
  Site.prototype.rank = function (queryWords, tokenSet) {
    var lunr = root.lunr, fields = this.manifest.lunr.fields, postings = this.postings;
    var F = fields.length, N = this.manifest.documents, W = queryWords.length;
    var query = new lunr.Query(fields), wordOf = [];
    queryWords.forEach(function (w, i) {
      addClauses(query, w);
      while (wordOf.length < query.clauses.length) wordOf.push(i);
    });
    var fieldIndex = new Map(fields.map(function (f, i) { return [f, i]; }));
    var vectors = fields.map(function () { return new lunr.Vector(); });
    var sum = function (a, b) { return a + b; };
    // One entry per (term, field) lunr.js reads, with the words whose clauses reached it.
    var entries = [], entryOf = new Map();
    for (var c = 0; c < query.clauses.length; c++) {
      var clause = query.clauses[c];
      var terms = clause.usePipeline ? this.pipeline.runString(clause.term, { fields: clause.fields }) : [clause.term];
      for (var m = 0; m < terms.length; m++) {
        clause.term = terms[m];
        var expanded = tokenSet.intersect(lunr.TokenSet.fromClause(clause)).toArray();
        for (var j = 0; j < expanded.length; j++) {
          var posting = postings.get(expanded[j]);
          for (var k = 0; k < clause.fields.length; k++) {
            var f = fieldIndex.get(clause.fields[k]);
            vectors[f].upsert(posting.index, clause.boost, sum);
            var key = expanded[j] + "/" + f, entry = entryOf.get(key);
            if (entry === undefined) {
              entryOf.set(key, entry = { term: expanded[j], index: posting.index, field: f, posting: posting.fields[f], words: [] });
              entries.push(entry);
            }
            if (entry.words.indexOf(wordOf[c]) < 0) entry.words.push(wordOf[c]);
          }
        }
      }
    }
    // The order in which lunr.js first meets each document field, and every word's matches.
    var fieldCount = new Uint8Array(N), fieldOrder = new Uint8Array(N * F), met = new Uint8Array(N * F);
    var marks = W > 1 ? new Uint8Array(N * W) : null, found = [];
    entries.forEach(function (e) {
      var docs = e.posting.docs;
      for (var p = 0; p < docs.length; p++) {
        var doc = docs[p], at = doc * F + e.field;
        if (!met[at]) {
          met[at] = 1;
          if (!fieldCount[doc]) found.push(doc);
          fieldOrder[doc * F + fieldCount[doc]++] = e.field;
        }
        if (marks) for (var w = 0; w < e.words.length; w++) marks[doc * W + e.words[w]] = 1;
      }
    });
    // Dot products: each (document, field)'s products added in ascending term index order.
    var dots = new Float64Array(N * F);
    var queryValue = vectors.map(function (v) {
      var values = new Map();
      for (var i = 0; i < v.elements.length; i += 2) values.set(v.elements[i], v.elements[i + 1]);
      return values;
    });
    entries.slice().sort(function (a, b) { return a.index - b.index; }).forEach(function (e) {
      var docs = e.posting.docs, weights = e.posting.weights, q = queryValue[e.field].get(e.index);
      for (var p = 0; p < docs.length; p++) dots[docs[p] * F + e.field] += q * (weights[p] / 1000);
    });
    var magnitudes = vectors.map(function (v) { return v.magnitude(); });
    var results = [];
    found.forEach(function (doc) {
      if (marks) for (var w = 0; w < W; w++) if (!marks[doc * W + w]) return;
      var score = 0;
      for (var n = 0; n < fieldCount[doc]; n++) {
        var f = fieldOrder[doc * F + n];
        var fieldScore = dots[doc * F + f] / magnitudes[f] || 0;
        score = n === 0 ? fieldScore : score + fieldScore;
      }
      results.push({ ref: doc, score: rounded(score), exact: score });
    });
    results.sort(function (a, b) { return b.score - a.score || a.ref - b.ref; });
    // What a result matched is found only for the results shown (withTerms): a page shows
    // ten of thousands.
    results.matched = entries;
    return results;
  };

  /* The hits given, each with `terms`: the index terms it matched, to highlight. */
  Site.prototype.withTerms = function (hits, entries) {
    var self = this;
    return hits.map(function (h) {
      return { ref: h.ref, score: h.score, exact: h.exact, terms: entries ? self.matchedTerms(entries, h.ref) : h.terms };
    });
  };

  /* The index terms of these entries whose postings hold the document. */
  Site.prototype.matchedTerms = function (entries, ref) {
    var terms = [];
    entries.forEach(function (e) {
      if (terms.indexOf(e.term) < 0 && sortedIncludes(e.posting.docs, ref)) terms.push(e.term);
    });
    return terms;
  };

  function sortedIncludes(sorted, value) {
    var low = 0, high = sorted.length;
    while (low < high) {
      var mid = (low + high) >> 1;
      if (sorted[mid] < value) low = mid + 1; else high = mid;
    }
    return sorted[low] === value;
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
    return this.ranked(text).then(function (hits) { return self.withTerms(hits, hits.matched); });
  };

  /* Ranked hits without their matched terms (rank). */
  Site.prototype.ranked = function (text) {
    var self = this;
    var queryWords = parseQuery(text, this.manifest.fieldAliases);
    if (!queryWords.length) return Promise.resolve([]);
    var plan = this.plan(queryWords);
    return this.loadRanges(plan.ranges).then(function () {
      return self.rank(queryWords, self.tokenSetFor(plan.terms));
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
      ranked = this.ranked(text);
    } else {
      var all = [];
      for (var ref = 0; ref < m.documents; ref++) if (m.table[4 * ref] === 1) all.push({ ref: ref, terms: null });
      ranked = Promise.resolve(all);
    }
    return ranked.then(function (hits) {
      var entries = hits.matched;
      hits = hits.filter(function (h) { return self.allows(h.ref, filters); });
      var shown = self.withTerms(hits.slice(offset, offset + limit), entries);
      return self.loadCards(shown.map(function (h) { return h.ref; })).then(function () {
        return {
          total: hits.length,
          hits: shown.map(function (h) {
            var card = self.card(h.ref);
            return { id: card.id, score: h.score, exact: h.exact, card: card, terms: h.terms };
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

  /* Whether a displayed word stands for one of a result's matched index terms, to highlight it.
     An index term is a folded word, stemmed, and lunr's stemmer keeps a word's first letter
     (tests/test_search_js.py checks it): a word whose first letter is ASCII, which folds to
     itself lower-cased, and starts no matched term cannot match, so most words of a card skip
     the stemmer. `engine` gives termsOf(word). */
  function highlighter(engine, terms) {
    var matched = new Set(terms), starts = new Set();
    terms.forEach(function (t) { starts.add(t.charAt(0)); });
    return function (word) {
      var first = word.charAt(0).toLowerCase();
      if (first < "\u0080" && !starts.has(first)) return false;
      return engine.termsOf(word).some(function (t) { return matched.has(t); });
    };
  }

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
    highlighter: highlighter,
    withinOneEdit: withinOneEdit,
    frontDecoded: frontDecoded,
    words: words,
    fold: fold,
    parseQuery: parseQuery,
    WORD: WORD
  };
})(typeof self !== "undefined" ? self : globalThis);
