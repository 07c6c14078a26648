#!/usr/bin/env bash
# `npm run consumers`: the construct as Python, Java and Go teams install it. Builds every language's package
# (`npm run package`, into dist/packages/), runs the consumer app of each language in consumers/ against the built
# package and the public registries only, and lints the three synthesized templates with cfn-lint.
#   Python: a fresh venv with exactly the oldest aws-cdk-lib the construct supports (CognitoLockout.MIN_AWS_CDK_LIB_VERSION)
#   Java:   Maven, the artifacts from dist/packages/java (a file repository), aws-cdk-lib from Maven Central
#   Go:     `go run`, the module from dist/packages/go (a replace directive), aws-cdk-go from the Go module proxy
# Downloads are cached where each tool keeps them (~/.cache/pip, ~/.m2/repository, Go's module and build caches),
# so a second run on a machine downloads nothing. `node` must be on PATH: the jsii kernel the packages call runs on it.
set -euo pipefail
cd "$(dirname "$0")/.."
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
step() { echo "=== $1 ==="; SECONDS=0; }
took() { echo "--- $1 took ${SECONDS} s"; }

step "packages for Python, Java and Go (npm run package)"
npm run --silent package
took "packaging"

step "Python consumer app"
min=$(node -p "require('./dist/lib/index.js').CognitoLockout.MIN_AWS_CDK_LIB_VERSION")
python3 -m venv "$out/venv"
"$out/venv/bin/pip" install --quiet --disable-pip-version-check "aws-cdk-lib==$min" "constructs>=10,<11" dist/packages/python/*.whl
(cd consumers/python && "$out/venv/bin/python" check_app.py "$out/python")
took "Python (aws-cdk-lib $min)"

step "Java consumer app"
# Maven would otherwise reuse the copy of this version it cached from an earlier build.
rm -rf "$HOME/.m2/repository/io/github/cognito-lockout"
(cd consumers/java && mvn --quiet --batch-mode compile exec:java -Dexec.args="$out/java")
took "Java"

step "Go consumer app"
(cd consumers/go && go run . "$out/go")
took "Go"

step "cfn-lint over the consumers' templates"
node scripts/cfn-lint.mjs "$out/python" "$out/java" "$out/go"
took "cfn-lint"
