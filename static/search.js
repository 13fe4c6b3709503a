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

  function Engine(data) {
    this.index = root.lunr.Index.load(data.index);
    this.docs = data.docs;
    this.fieldAliases = data.fieldAliases || {};
    this.fields = new Set(data.index.fields);
    this.termCache = new Map();
  }

  Engine.prototype.run = function (queryWords) {
    return this.index.query(function (q) {
      queryWords.forEach(function (w) { addClauses(q, w); });
    });
  };

  /* Ranked hits for typed text: [{id, score, card, terms}]; never throws on any input. */
  Engine.prototype.search = function (text) {
    var self = this;
    // The quick index has titles and names only: a word limited to another field waits for the
    // full index (lunr.js would throw on a field it does not hold).
    var queryWords = parseQuery(text, this.fieldAliases).filter(function (w) {
      return !w.field || self.fields.has(w.field);
    });
    if (!queryWords.length) return [];
    var results = this.run(queryWords);
    if (queryWords.length > 1) {
      queryWords.forEach(function (w) {
        var allowed = new Set(self.run([w]).map(function (r) { return r.ref; }));
        results = results.filter(function (r) { return allowed.has(r.ref); });
      });
    }
    results.sort(function (a, b) {
      return rounded(b.score) - rounded(a.score) || parseInt(a.ref, 36) - parseInt(b.ref, 36);
    });
    return results.map(function (r) {
      return {
        id: self.docs[parseInt(r.ref, 36)].id,
        score: rounded(r.score),
        card: self.docs[parseInt(r.ref, 36)],
        terms: Object.keys(r.matchData.metadata)
      };
    });
  };

  /* The index terms a displayed word stands for, to decide what to highlight. */
  Engine.prototype.termsOf = function (word) {
    var key = word.toLowerCase();
    var terms = this.termCache.get(key);
    if (!terms) {
      terms = this.index.pipeline.runString(key);
      this.termCache.set(key, terms);
    }
    return terms;
  };

  function matchesFilters(card, filters) {
    if (filters.edition && card.edition !== filters.edition) return false;
    if (filters.type && card.type !== filters.type) return false;
    if (filters.day && card.start.slice(0, 10) !== filters.day) return false;
    return true;
  }

  /* What the page shows: {total, hits} with at most `limit` hits, after the filters
     ({edition, type, day}); with no words, every item the filters allow, in schedule order.
     Runs wherever the index lives (the page or a worker), so both show the same. */
  Engine.prototype.find = function (text, filters, limit) {
    var hits;
    if (String(text).trim()) {
      hits = this.search(text);
    } else {
      hits = this.docs.filter(function (c) { return c.kind === "item"; })
        .map(function (c) { return { id: c.id, card: c, terms: null }; });
    }
    hits = hits.filter(function (h) { return matchesFilters(h.card, filters); });
    return { total: hits.length, hits: hits.slice(0, limit) };
  };

  root.PipelineSearch = {
    create: function (data) { return new Engine(data); },
    words: words,
    fold: fold,
    parseQuery: parseQuery,
    WORD: WORD
  };
})(typeof self !== "undefined" ? self : globalThis);
