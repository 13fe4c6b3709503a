"""Queries that the page and `pipeline search` must rank identically."""

# On the real workshop corpus: names, prefixes, typos, accents, punctuation, field prefixes.
CORPUS_QUERIES = [
    "pruning", "qian", "quant", "sparsty", "garcia", "10:30", "C++", '"', "a~b", "*", "-",
    "speaker:qian", "title:quantization", "affiliation:google", "author:han", "array", "delays",
    "berkeley", "try", "energy efficient", "energy efficient inference",
    "neural architecture search",
    "sze", "vivienne", "MIT", "stanford", "nvidia", "quantisation", "sparsity", "spars",
    "compresion", "transformer", "LLM", "tinyml", "edge devices", "in-memory computing", "FPGA",
    "keynote^", "a:b", "speaker:", "title:", "hardware-software co-design", "Müller", "josé",
    "o'brien", "node.js", "(accelerator)", "accelerat", "benchmark", "the", "the quant",
    "panel", "lunch", "break", "distillation", "low-rank", "8-bit", "int8", "bert", "gpu ",
    "speaker:song han", "Song Han", "han", "ai", "x",
]  # fmt: skip

# On the search fixture site (tests/fixtures/search_site): every lunr.py/lunr.js difference.
FIXTURE_QUERIES = [
    "garcia", "garcía", "GARCIA", "loffler", "löffler", "jose", "josé", "celik", "çelik",
    "王小明", "清华大学", "quant", "sparsty", "array", "arrays", "berkeley", "delays", "delay",
    "try", "o'brien", "o’brien", "obrien", "brien", "node.js", "C++", "🚀", "rocket", "rocket-fast",
    "bold", "𝐁𝐨𝐥𝐝", "fullwidth", "ｆｕｌｌｗｉｄｔｈ", "﨑山", "𠀋letters", "ideographic", "thin",
    "space", "speaker:qian", "author:qian", "title:pruning", "affiliation:berkeley", "the",
    "10:30", '"', "a~b", "*", "-", "~", "^", ":", "title:", "pruning sparsity", "pruning zebra",
]  # fmt: skip
