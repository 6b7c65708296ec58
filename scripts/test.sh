#!/usr/bin/env bash
# The one test command: type check, lint, the suite on PGlite, and the same suite on PostgreSQL
# when TEST_DATABASE_URL is set. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"
npx tsc --noEmit
echo "== lint"
npx eslint .
echo "== tests on PGlite"
env -u TEST_DATABASE_URL npx tap
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== tests on PostgreSQL (${TEST_DATABASE_URL%%\?*})"
  # Left out here: the process tests (they start real servers on the embedded database) and the
  # tests that never reach the database (pure units, the OpenAPI document and the docs page's
  # headers); the PGlite pass ran them.
  npx tap --exclude='test/process/**' --exclude='test/unit/**' --exclude='test/http/openapi.test.ts' \
    --exclude='test/http/docs-page.test.ts'
fi
