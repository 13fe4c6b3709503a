/* Loads the full index and answers searches off the page's main thread, so parsing tens of
   megabytes and running a query never freeze typing. Messages: {type: "init", scripts},
   then {type: "find", id, text, filters, limit} -> {type: "result", id, result}. */
/* global importScripts, PipelineSearch */
(function () {
  "use strict";
  var engine = null;

  self.onmessage = function (event) {
    var message = event.data;
    try {
      if (message.type === "init") {
        importScripts.apply(self, message.scripts);
        engine = PipelineSearch.create(self.pipelineSearchData);
        self.pipelineSearchData = null; // the engine keeps what it needs; let the rest go
        self.postMessage({ type: "ready" });
      } else if (message.type === "find" && engine) {
        var result = engine.find(message.text, message.filters, message.limit);
        self.postMessage({ type: "result", id: message.id, result: result });
      }
    } catch (error) {
      self.postMessage({ type: "error", message: String(error && error.message || error) });
    }
  };
})();
