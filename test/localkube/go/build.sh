#!/usr/bin/env bash
# Builds the local Kubernetes binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kube-proxy, kubectl, etcd, coredns) from the pinned Go modules next
# to this script, into a cache outside the work tree keyed by version and by a hash of
# the module files, so a rebuild happens only when the pin (or this script) changes.
#
# Prints the bin directory as the last line of stdout. Build output goes to stderr.
# Env: LOCALKUBE_CACHE overrides the cache root (default ~/.cache/tusk-localkube).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(awk '$1 == "k8s.io/kubernetes" { print $2 } $1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/kube/go.mod" | head -n1)"
if [[ ! "$version" =~ ^v1\.([0-9]+)\.[0-9]+$ ]]; then
  echo "build.sh: cannot read the k8s.io/kubernetes version from kube/go.mod" >&2
  exit 1
fi
minor="${BASH_REMATCH[1]}"

hash="$(cd "$here" && cat build.sh kube/go.mod kube/go.sum kube/etcd/main.go coredns/go.mod coredns/go.sum coredns/main.go | sha256sum | cut -c1-16)"
cache_root="${LOCALKUBE_CACHE:-$HOME/.cache/tusk-localkube}"
out="$cache_root/$version-$hash"
bin="$out/bin"

if [[ -f "$out/complete" ]]; then
  echo "$bin"
  exit 0
fi

export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly"
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/bin"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
echo "build.sh: building Kubernetes $version into $bin (first build takes a long time)" >&2
(cd "$here/kube" && go build -o "$tmp/bin/" -ldflags "-s -w$stamp" tool ./etcd) >&2
(cd "$here/coredns" && go build -o "$tmp/bin/coredns" -ldflags "-s -w" .) >&2
touch "$tmp/complete"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "build.sh: built in $(($(date +%s) - start))s" >&2
echo "$bin"
