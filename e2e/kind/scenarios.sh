#!/usr/bin/env bash
# The Weft scenarios on a cluster where run.sh installed Weft and the samples (deploy/k8s/samples).
# Each scenario runs with errexit in a subshell; all run, failures are counted, and the exit
# status is 1 when any failed. Every wait is bounded.
#
# Environment: WEFT_KUBE_CONTEXT, the kubectl context of the cluster (run.sh sets it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
context=${WEFT_KUBE_CONTEXT:?WEFT_KUBE_CONTEXT must name the cluster context (run.sh sets it)}
client_image=curlimages/curl:8.11.1

kctl() {
  kubectl --context "$context" "$@"
}

say() {
  printf '  %s\n' "$*" >&2
}

# retry ATTEMPTS DELAY_SECONDS COMMAND...: runs COMMAND until it succeeds, at most ATTEMPTS times.
retry() {
  local attempts=$1 delay=$2 i
  shift 2
  for ((i = 1; i <= attempts; i++)); do
    if "$@"; then
      return 0
    fi
    sleep "$delay"
  done
  say "gave up after $attempts attempts: $*"
  return 1
}

# curl_from NAMESPACE ARGS...: curl in that namespace's client pod; prints the HTTP status (000
# when the connection failed) and exits 0 either way.
curl_from() {
  local namespace=$1
  shift
  kctl -n "$namespace" exec deploy/client -c client -- \
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" 2>/dev/null || true
}

expect_status() { # NAMESPACE WANT ARGS...
  local namespace=$1 want=$2 got
  shift 2
  got=$(curl_from "$namespace" "$@")
  [ "$got" = "$want" ] || { say "curl $* from $namespace: HTTP $got, want $want"; return 1; }
}

# pod_shape NAMESPACE POD: prints "READY/TOTAL NATIVE_SIDECARS" as kubectl counts them
# (restartable init containers count as containers since Kubernetes 1.28).
pod_shape() {
  local namespace=$1 pod=$2 ready sidecars
  ready=$(kctl -n "$namespace" get pod "$pod" --no-headers | awk '{print $2}')
  sidecars=$(kctl -n "$namespace" get pod "$pod" -o jsonpath='{range .spec.initContainers[?(@.restartPolicy=="Always")]}{.name}{"\n"}{end}' | grep -c . || true)
  printf '%s %s\n' "$ready" "$sidecars"
}

scenario_sidecars_injected() {
  local pod shape pods
  pods=$(kctl -n demo get pods -l 'app in (frontend,orders,inventory,client)' -o jsonpath='{.items[*].metadata.name}')
  [ -n "$pods" ]
  for pod in $pods; do
    shape=$(pod_shape demo "$pod")
    say "demo/$pod: $shape"
    [ "$shape" = "2/2 1" ]
  done
  pod=$(kctl -n legacy get pods -l app=client -o jsonpath='{.items[0].metadata.name}')
  shape=$(pod_shape legacy "$pod")
  say "legacy/$pod (outside the mesh): $shape"
  [ "$shape" = "1/1 0" ]
}

scenario_requests_succeed() {
  # The first requests may race the sidecars' first configuration: retry for up to a minute.
  retry 30 2 expect_status demo 200 http://frontend:8080/
  retry 30 2 expect_status demo 200 http://orders:8080/
  retry 30 2 expect_status demo 200 http://inventory.demo.svc.cluster.local:8080/
}

scenario_canary_split() {
  local replies v1 v2 total=200
  replies=$(kctl -n demo exec deploy/client -c client -- sh -c \
    "for i in \$(seq $total); do curl -s --max-time 5 http://orders:8080/; echo; done")
  v1=$(grep -c '^orders v1$' <<<"$replies" || true)
  v2=$(grep -c '^orders v2$' <<<"$replies" || true)
  say "orders: v1 $v1, v2 $v2 of $total (route: 90/10)"
  [ $((v1 + v2)) -eq "$total" ]
  # 10% of 200 is 20, with a standard deviation of about 4.2: outside 5..40 is not chance.
  [ "$v2" -ge 5 ]
  [ "$v2" -le 40 ]
}

scenario_access_policy() {
  expect_status demo 200 http://inventory:8080/
  expect_status demo 403 -X POST http://inventory:8080/
}

scenario_strict_refuses_plaintext() {
  local got
  # The legacy client's network works (the control plane is outside the mesh)...
  retry 10 2 expect_status legacy 200 http://weft-controlplane.weft-system:15014/ready
  # ...but a meshed workload refuses its plaintext.
  got=$(curl_from legacy http://orders.demo:8080/)
  say "plaintext from legacy to orders.demo: HTTP $got (want a refusal)"
  [ "$got" != 200 ]
}

scenario_status_accepted() {
  local resource generation observed
  for resource in trafficroute/orders destinationpolicy/orders accesspolicy/inventory-readers; do
    kctl -n demo wait --for=condition=Accepted=True --timeout=60s "$resource"
    generation=$(kctl -n demo get "$resource" -o jsonpath='{.metadata.generation}')
    observed=$(kctl -n demo get "$resource" -o jsonpath='{.status.observedGeneration}')
    say "$resource: Accepted=True, generation $generation, observedGeneration $observed"
    [ "$generation" = "$observed" ]
  done
  kctl -n weft-system wait --for=condition=Accepted=True --timeout=60s meshauthentication/default
  # The printer columns.
  kctl -n demo get trafficroutes | grep -q 'ACCEPTED'
  kctl -n demo get trafficroute orders --no-headers | grep -q 'True'
}

scenario_invalid_rejected() {
  local message
  kctl apply -f "$here/manifests/invalid-trafficroute.yaml"
  kctl -n demo wait --for=condition=Accepted=False --timeout=60s trafficroute/inventory-broken
  message=$(kctl -n demo get trafficroute inventory-broken -o jsonpath='{.status.conditions[?(@.type=="Accepted")].message}')
  say "inventory-broken: $message"
  grep -q 'v9' <<<"$message"
  # Not applied, and the rest of the mesh is unaffected.
  expect_status demo 200 http://inventory:8080/
  expect_status demo 200 http://orders:8080/
  kctl -n demo wait --for=condition=Accepted=True --timeout=10s trafficroute/orders
  kctl delete -f "$here/manifests/invalid-trafficroute.yaml" --wait=true
}

label_and_opt_out() { # NAMESPACE
  local namespace=$1
  kctl -n "$namespace" run before --image="$client_image" --restart=Never --command -- sleep 3600
  kctl -n "$namespace" wait --for=condition=Ready --timeout=120s pod/before
  [ "$(pod_shape "$namespace" before)" = "1/1 0" ]
  kctl label namespace "$namespace" weft-injection=enabled
  kctl -n "$namespace" run after --image="$client_image" --restart=Never --command -- sleep 3600
  kctl -n "$namespace" wait --for=condition=Ready --timeout=120s pod/after
  [ "$(pod_shape "$namespace" after)" = "2/2 1" ]
  # The annotation opt-out, which only the webhook can see.
  kctl -n "$namespace" run opted-out --image="$client_image" --restart=Never \
    --annotations=weft.dev/inject=false --command -- sleep 3600
  kctl -n "$namespace" wait --for=condition=Ready --timeout=120s pod/opted-out
  [ "$(pod_shape "$namespace" opted-out)" = "1/1 0" ]
}

scenario_injection_follows_label() {
  local namespace=weft-e2e-label status
  kctl create namespace "$namespace"
  # Not in an `if` or `||`, where errexit would be ignored inside the subshell.
  set +e
  (
    set -e
    label_and_opt_out "$namespace"
  )
  status=$?
  set -e
  kctl delete namespace "$namespace" --wait=false >/dev/null
  return "$status"
}

scenario_job_completes() {
  # A native sidecar does not keep a Job's pod alive once its container exits.
  kctl -n demo create job weft-e2e-once --image="$client_image" -- \
    curl -sS --max-time 10 --retry 5 --retry-all-errors http://orders:8080/
  kctl -n demo wait --for=condition=Complete --timeout=120s job/weft-e2e-once
  kctl -n demo delete job weft-e2e-once --wait=false >/dev/null
}

scenarios=(
  sidecars_injected
  requests_succeed
  canary_split
  access_policy
  strict_refuses_plaintext
  status_accepted
  invalid_rejected
  injection_follows_label
  job_completes
)

failed=()
for name in "${scenarios[@]}"; do
  printf 'scenario %s\n' "$name" >&2
  set +e
  (
    set -e
    "scenario_$name"
  )
  status=$?
  set -e
  if [ "$status" -eq 0 ]; then
    printf 'PASS %s\n' "$name"
  else
    printf 'FAIL %s\n' "$name"
    failed+=("$name")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  printf '%d of %d scenarios failed: %s\n' "${#failed[@]}" "${#scenarios[@]}" "${failed[*]}" >&2
  exit 1
fi
printf 'all %d scenarios passed\n' "${#scenarios[@]}" >&2
