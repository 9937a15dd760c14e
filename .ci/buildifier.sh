#!/usr/bin/env bash
# Checks (or with --fix, rewrites) the formatting and lint of every BUILD,
# .bzl and WORKSPACE file with buildifier from npm (.ci/package.json).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x .ci/node_modules/.bin/buildifier ]]; then
  (cd .ci && npm install --no-audit --no-fund --no-package-lock --silent)
fi
# Warnings left out, with the reason:
#   native-*       Bazel 7+ moved these rules out of the core; Bazel 4.2.3 (our
#                  only Bazel) has them built in and lacks the new homes.
#   unnamed-macro  WORKSPACE setup macros (hv_dependencies) declare
#                  repositories, not targets, so they take no `name`.
warnings="-native-cc-common,-native-cc-toolchain,-native-sh-binary,-native-sh-test,-native-cc-binary,-native-cc-library,-native-cc-test,-native-cc-toolchain-config-info,-unnamed-macro"
mapfile -t files < <(git ls-files 'WORKSPACE' 'BUILD' '*/BUILD' '*.bzl' '*.BUILD')
if [[ "${1:-}" == "--fix" ]]; then
  .ci/node_modules/.bin/buildifier -lint=fix -warnings="$warnings" "${files[@]}"
else
  .ci/node_modules/.bin/buildifier -mode=check -lint=warn -warnings="$warnings" "${files[@]}"
fi
