#!/usr/bin/env bash
# Set up, then build the bundled sample site (content/ + pipeline.toml) into dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/pipeline build --content content --out dist "$@"
echo "Open dist/index.html in a browser."
