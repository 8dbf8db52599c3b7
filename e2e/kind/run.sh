#!/usr/bin/env bash
# Weft on a real Kubernetes cluster: creates a kind cluster, builds the Weft image and loads it
# into the cluster, installs Weft (`weft install`), deploys the samples (deploy/k8s/samples) and
# runs the scenarios (scenarios.sh). The cluster is deleted on exit unless WEFT_KIND_KEEP=1.
#
# Needs Docker (a running engine), kind and kubectl, and `npm ci` done at the repository root.
# It cannot run on the development machines (no Docker engine); see README.md.
#
# Environment:
#   WEFT_KIND_CLUSTER     cluster name (default weft-e2e; must not exist yet)
#   WEFT_KIND_NODE_IMAGE  node image, Kubernetes >= 1.29 (default kindest/node:v1.31.4)
#   WEFT_IMAGE            image to build and install (default ghcr.io/weft-mesh/weft:0.1.0,
#                         the image deploy/k8s names; another tag needs a matching install)
#   WEFT_KIND_KEEP=1      keep the cluster afterwards, for debugging
#
# Exit status: 0 when every scenario passed, 1 when a step or a scenario failed, 2 when a
# prerequisite is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

cluster=${WEFT_KIND_CLUSTER:-weft-e2e}
node_image=${WEFT_KIND_NODE_IMAGE:-kindest/node:v1.31.4}
image=${WEFT_IMAGE:-ghcr.io/weft-mesh/weft:0.1.0}
keep=${WEFT_KIND_KEEP:-0}
node="$root/node_modules/.bin/node"
context="kind-$cluster"

log() {
  printf 'e2e/kind: %s\n' "$*" >&2
}

prerequisite() {
  log "$1"
  exit 2
}

missing=()
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  prerequisite "missing ${missing[*]}: this suite needs Docker, kind (https://kind.sigs.k8s.io) and kubectl; it cannot run on the development machines (see e2e/kind/README.md)"
fi
docker info >/dev/null 2>&1 || prerequisite "docker is installed but no Docker engine answers (docker info failed)"
[ -x "$node" ] || prerequisite "$node not found: run npm ci at the repository root first"
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  prerequisite "a kind cluster named $cluster already exists; delete it (kind delete cluster --name $cluster) or set WEFT_KIND_CLUSTER"
fi

kctl() {
  kubectl --context "$context" "$@"
}

workdir=$(mktemp -d)

diagnostics() {
  log "diagnostics follow"
  kctl get nodes -o wide || true
  kctl get pods --all-namespaces -o wide || true
  kctl get trafficroutes,destinationpolicies,meshauthentications,accesspolicies --all-namespaces -o wide || true
  kctl -n weft-system describe deployment weft-controlplane || true
  kctl -n weft-system logs deployment/weft-controlplane --all-containers --prefix --tail=200 || true
  kctl get events --all-namespaces --sort-by=.lastTimestamp | tail -n 60 || true
}

cleanup() {
  local status=$?
  trap - EXIT
  if [ "$status" -ne 0 ]; then
    diagnostics
  fi
  if [ "$keep" = 1 ]; then
    log "keeping cluster $cluster (kubectl --context $context ...; kind delete cluster --name $cluster)"
  else
    log "deleting cluster $cluster"
    kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
  fi
  rm -rf "$workdir"
  exit "$status"
}
# Set before the cluster exists: a half-created cluster is ours to delete too.
trap cleanup EXIT
trap 'exit 130' INT TERM

log "creating cluster $cluster ($node_image)"
kind create cluster --name "$cluster" --image "$node_image" --config "$here/kind-config.yaml" --wait 180s

log "building $image"
DOCKER_BUILDKIT=1 docker build --file "$root/deploy/docker/Dockerfile" --tag "$image" "$root"
kind load docker-image "$image" --name "$cluster"

log "installing Weft (weft install)"
"$node" "$root/packages/cli/src/main.ts" install >"$workdir/install.yaml"
kctl apply -f "$workdir/install.yaml"
kctl wait --for=condition=Established --timeout=60s \
  crd/trafficroutes.mesh.weft.dev crd/destinationpolicies.mesh.weft.dev \
  crd/meshauthentications.mesh.weft.dev crd/accesspolicies.mesh.weft.dev
kctl -n weft-system rollout status deployment/weft-controlplane --timeout=240s

# The control plane patches its CA into the webhook at start; until then injection would fail.
log "waiting for the webhook's caBundle"
for _ in $(seq 1 60); do
  bundle=$(kctl get mutatingwebhookconfiguration weft-sidecar-injector -o jsonpath='{.webhooks[0].clientConfig.caBundle}')
  [ -n "$bundle" ] && break
  sleep 2
done
[ -n "$bundle" ] || { log "the control plane did not patch caBundle into weft-sidecar-injector within 120s"; exit 1; }

log "deploying the samples"
kctl apply -k "$root/deploy/k8s/samples"
for deployment in frontend orders-v1 orders-v2 inventory client; do
  kctl -n demo rollout status "deployment/$deployment" --timeout=240s
done
kctl -n legacy rollout status deployment/client --timeout=240s

log "running the scenarios"
WEFT_KUBE_CONTEXT="$context" "$here/scenarios.sh"
log "all scenarios passed"
