/* The site's search (search.js) off the page's main thread, for a large site: a broad word
   matches thousands of documents, and lunr.js scores them in one go. Messages:
   {type: "init", scripts, manifest, base, version} once, then {type: "find", id, text, filters, limit,
   offset} -> {type: "found", id, found} or {type: "failed", id, message}. */
/* global importScripts, PipelineSearch */
(function () {
  "use strict";
  var site = null;
  var queue = [];

  /* search/<key>.js's data, fetched (several at once) and read without running it. */
  function fetcher(base, version) {
    return function (key) {
      var url = base + "search/" + key + ".js" + (version ? "?v=" + version : "");
      return fetch(url).then(function (response) {
        if (!response.ok) throw new Error(url + " did not load (" + response.status + ")");
        return response.text();
      }).then(function (text) {
        var start = text.indexOf("]=");
        var end = text.lastIndexOf(";");
        if (start < 0 || end < start) throw new Error(url + " held no search data");
        return JSON.parse(text.slice(start + 2, end));
      });
    };
  }

  function find(message) {
    site.find(message.text, message.filters, message.limit, message.offset).then(function (found) {
      self.postMessage({ type: "found", id: message.id, found: found });
    }, function (error) {
      self.postMessage({ type: "failed", id: message.id, message: String(error && error.message || error) });
    });
  }

  self.onmessage = function (event) {
    var message = event.data;
    if (message.type === "init") {
      try {
        importScripts.apply(self, message.scripts);
        site = PipelineSearch.site(message.manifest, fetcher(message.base, message.version));
        queue.splice(0).forEach(find);
      } catch (error) {
        self.postMessage({ type: "broken", message: String(error && error.message || error) });
      }
    } else if (message.type === "find") {
      if (site) find(message); else queue.push(message);
    }
  };
})();
