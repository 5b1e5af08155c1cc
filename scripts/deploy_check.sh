#!/usr/bin/env bash
# The offline deployment check: package serverless.yml exactly as a deploy
# would, with no AWS account, no New Relic account and no credentials, package
# it again (every artefact must come out byte-identical; that second package
# has reservedConcurrency off and another apiRateLimit, and its template is
# kept in .serverless/second-package/), then lint
# the CloudFormation template and test it (tests/deploy).
#
#   bash scripts/deploy_check.sh                 (make test / make deploy-check call it)
#   bash scripts/deploy_check.sh --package-only  (make bench: the artefacts, no checks)
#
# Needs Node 20.19+ with npm, a Python of the functions' runtime (3.13, with
# pip: it compiles their bytecode) and .venv from `make` (cfn-lint, pytest).
# Never reaches AWS: the AWS variables below are dummies, and `osls package`
# makes no AWS call. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_BIN=${VENV_BIN:-.venv/bin}
STAGE=ci
TEMPLATE=.serverless/cloudformation-template-update-stack.json
# The second package's changed stage throttling (tests/deploy/test_deploy_day.py reads it back).
SECOND_RATE=77
started=$SECONDS

step() { printf '\n== %s (%ss)\n' "$1" "$((SECONDS - started))"; }
fail() { printf 'deploy check: %s\n' "$1" >&2; exit 1; }

command -v node >/dev/null || fail "node is not installed (Node 20.19+ is needed)"
command -v npm >/dev/null || fail "npm is not installed"
[[ -x $VENV_BIN/python ]] || fail "$VENV_BIN/python is missing: run make first"
[[ -x $VENV_BIN/cfn-lint ]] || fail "$VENV_BIN/cfn-lint is missing: run make first (dev dependencies)"

# Dummy credentials and no config files: whatever a developer's shell holds,
# nothing here can reach a real account. New Relic stays off (no account id).
export AWS_ACCESS_KEY_ID=deploy-check-dummy AWS_SECRET_ACCESS_KEY=deploy-check-dummy
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL
unset NEW_RELIC_ACCOUNT_ID NEW_RELIC_API_KEY NEW_RELIC_LAYER_ARN
export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off

step "npm ci (osls and plugins, pinned by package-lock.json)"
# npm ci wipes node_modules; skip it when node_modules was installed from this
# very lock file (a stamp of its hash), which saves ~20 s on repeated runs.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.deploy-check-lock.sha256
if [[ -f $stamp && $(cat "$stamp") == "$lock_hash" && -x node_modules/.bin/osls ]]; then
    echo "node_modules already matches package-lock.json"
else
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_hash" >"$stamp"
fi

runtime=$(sed -n 's/^  runtime: python//p' serverless.yml)
step "Python $runtime for the artefacts' packages and bytecode (LAMBDA_PYTHON_BIN, PATH, pyenv, uv)"
node scripts/serverless-lambda-python.js "$runtime" || fail "no Python $runtime: see docs/deploy.md"

step "osls package --stage $STAGE (prints each function's artefact and its size)"
rm -rf .serverless
npx --no-install osls package --stage "$STAGE"
[[ -f $TEMPLATE ]] || fail "osls package wrote no $TEMPLATE"
[[ ${1:-} == --package-only ]] && exit 0

step "osls package again, with reservedConcurrency=off and apiRateLimit=$SECOND_RATE: the same artefacts, byte for byte"
# A redeploy of the same commit must upload nothing: osls skips a deploy only
# when every artefact's hash and the template are the ones it deployed last.
# osls empties .serverless/ before packaging, so the first package waits aside.
first=.serverless-first
rm -rf "$first"
mv .serverless "$first"
trap 'rm -rf .serverless && mv "$first" .serverless' EXIT
npx --no-install osls package --stage "$STAGE" --param reservedConcurrency=off --param "apiRateLimit=$SECOND_RATE" >/dev/null
mkdir "$first/second-package"
cp .serverless/lambda-python.json .serverless/cloudformation-template-update-stack.json "$first/second-package/"
(cd .serverless && sha256sum -- *.zip) | diff - <(cd "$first" && sha256sum -- *.zip) \
    || fail "two packages of the same commit differ (above): a redeploy would upload every function"
echo "every artefact is byte-identical: $(cd .serverless && ls -- *.zip | wc -l) zips"
rm -rf .serverless && mv "$first" .serverless
trap - EXIT

step "cfn-lint $TEMPLATE (.cfnlintrc)"
"$VENV_BIN/cfn-lint" "$TEMPLATE"
echo "cfn-lint: no errors, no warnings"

step "pytest tests/deploy"
DEPLOY_CHECK=1 "$VENV_BIN/python" -m pytest tests/deploy -q -p no:cacheprovider

step "deploy check passed"
