#!/usr/bin/env bash
# The checks npm test runs before the suites: TypeScript lint and format (Biome), the
# layering of src/ (dependency-cruiser), and the format of the C in native/ (clang-format).
#   bash scripts/lint.sh          check
#   bash scripts/lint.sh --fix    rewrite what the formatters and safe lint fixes can
set -euo pipefail
cd "$(dirname "$0")/.."
c_files=$(find native -name '*.[ch]' ! -name plan-tags.h | sort)   # plan-tags.h is generated
if [ "${1:-}" = "--fix" ]; then
  npx biome check --write .
  clang-format -i $c_files
  exit 0
fi
npx biome ci .
npx depcruise src --config .dependency-cruiser.cjs
clang-format --dry-run --Werror $c_files
