// The lunr.js reference: build the same index in Node from the same fields, time only the build.
// Usage: node reference_index_build.js docs.json  ->  JSON timings on stdout.
"use strict";
const fs = require("fs");
const path = require("path");
const lunr = require(path.join(__dirname, "node_modules", "lunr"));

const docs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const boosts = { title: 10, names: 5, affiliation: 3, text: 1 };

let began = process.hrtime.bigint();
const index = lunr(function () {
  this.ref("ref");
  for (const [name, boost] of Object.entries(boosts)) this.field(name, { boost });
  for (const doc of docs) this.add(doc);
});
const buildSeconds = Number(process.hrtime.bigint() - began) / 1e9;
began = process.hrtime.bigint();
const serialized = JSON.stringify(index);
const serializeSeconds = Number(process.hrtime.bigint() - began) / 1e9;

console.log(JSON.stringify({
  build: buildSeconds, serialize: serializeSeconds, bytes: Buffer.byteLength(serialized),
}));
