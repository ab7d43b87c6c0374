#!/usr/bin/env bash
# Builds (or installs) the engines of the cluster test tier from their own published packages and
# caches them by version: `test/cluster/build-engines.sh [engine ...]` (default: all).
#
#   kubernetes  kube-apiserver, kube-controller-manager, kube-scheduler  (Go module k8s.io/kubernetes)
#   etcd        etcd                                                  (Go module go.etcd.io/etcd/server/v3)
#   kwok        kwok                                                  (Go module sigs.k8s.io/kwok)
#   kueue       the Kueue manager                                      (Go module sigs.k8s.io/kueue)
#   argo        the Argo Workflows controller and executor (argoexec)  (Go module github.com/argoproj/argo-workflows/v4)
#   seaweedfs   weed                                                   (Go module github.com/seaweedfs/seaweedfs)
#   python      a virtualenv with MLflow and Optuna                    (PyPI; versions in python-requirements.txt)
#
# Each Go engine is a small module under engines/<name>/ whose go.mod pins the upstream module (and
# go.sum its hashes); the cache key is the engine name, its pinned version and a hash of go.mod +
# go.sum, so a changed pin rebuilds and an unchanged one is reused. Binaries go to
# $MLPLATFORM_ENGINES_CACHE (default ~/.cache/mlplatform-engines)/<key>/bin and are never committed.
# Prints one line per engine: `<name> <version> <bin dir> (cached|built in N s)`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${MLPLATFORM_ENGINES_CACHE:-$HOME/.cache/mlplatform-engines}"
mkdir -p "$cache"
export GOFLAGS="${GOFLAGS:--buildvcs=false} -mod=mod"

declare -A PKGS=(
  [kubernetes]="k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler"
  [etcd]="go.etcd.io/etcd/server/v3"
  [kwok]="sigs.k8s.io/kwok/cmd/kwok"
  [kueue]="sigs.k8s.io/kueue/cmd/kueue"
  [argo]="github.com/argoproj/argo-workflows/v4/cmd/workflow-controller github.com/argoproj/argo-workflows/v4/cmd/argoexec"
  [seaweedfs]="github.com/seaweedfs/seaweedfs/weed"
)
# Version stamps the upstream release builds set (kubernetes: hack/lib/version.sh); Kueue, for one, parses
# the API server's /version and stops on the unstamped "v0.0.0-master+$Format:%H$".
ldflags_of() {
  case "$1" in
    kubernetes)
      local v="$2" minor
      minor="$(echo "$v" | cut -d. -f2)"
      local x
      for x in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        printf ' -X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean' "$x" "$v" "$x" "$x" "$minor" "$x"
      done ;;
  esac
}
# Symlinks of upstream repositories that their published module zips leave out (Go module zips drop
# symlinks): "<module> <link>=<target> …", paths inside the module. argo: upstream's
# workflow/executor/osspecific/signal_linux.go is a symlink to signal_darwin.go, so argoexec does not build
# on Linux from the module as published ("undefined: Setpgid"). Such an engine is built from a copy of the
# module with the symlinks put back (a `replace` in a copy of engines/<name>), nothing else changed.
declare -A SYMLINKS=(
  [argo]="github.com/argoproj/argo-workflows/v4 workflow/executor/osspecific/signal_linux.go=signal_darwin.go"
)
# The folder to build engine $1 in: engines/<name>, or (with SYMLINKS) a copy under $2 using a restored module copy.
build_dir_of() {
  local spec="${SYMLINKS[$1]:-}" mod src pair
  if [ -z "$spec" ]; then echo "$here/engines/$1"; return; fi
  mod="${spec%% *}"
  src="$(cd "$here/engines/$1" && go list -m -f '{{.Dir}}' "$mod")"
  mkdir -p "$2"
  cp "$here/engines/$1"/go.mod "$here/engines/$1"/go.sum "$2"/
  cp -r "$src" "$2/upstream"; chmod -R u+w "$2/upstream"
  for pair in ${spec#* }; do ln -sfn "${pair#*=}" "$2/upstream/${pair%%=*}"; done
  (cd "$2" && go mod edit -replace="$mod=./upstream")
  echo "$2"
}
# The binary each package builds, where it is not the package's last path element.
declare -A RENAME=([go.etcd.io/etcd/server/v3]=etcd)

# The upstream module's pinned version: the one `require` line of engines/<name>/go.mod.
go_version() { awk '/^require /{print $3; exit}' "$here/engines/$1/go.mod"; }
key_of() {
  local name=$1 version=$2; shift 2
  printf '%s-%s-%s' "$name" "$version" "$(cat "$@" | sha256sum | cut -c1-12)"
}

# Whether every binary of an engine's PKGS is in `bin` (a package added to PKGS rebuilds the engine).
has_binaries() {
  local pkg
  for pkg in ${PKGS[$1]}; do [ -x "$2/${RENAME[$pkg]:-$(basename "$pkg")}" ] || return 1; done
}

build_go() {
  local name=$1 version key dir start
  version="$(go_version "$name")"
  key="$(key_of "$name" "$version" "$here/engines/$name/go.mod" "$here/engines/$name/go.sum" <(ldflags_of "$name" "$version"))"
  dir="$cache/$key"
  if [ -f "$dir/.complete" ] && has_binaries "$name" "$dir/bin"; then echo "$name $version $dir/bin (cached)"; return; fi
  start=$(date +%s)
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp/bin"
  local src
  src="$(build_dir_of "$name" "$dir.tmp/src")"
  for pkg in ${PKGS[$name]}; do
    local out="${RENAME[$pkg]:-$(basename "$pkg")}"
    (cd "$src" && go build -trimpath -ldflags="-s -w$(ldflags_of "$name" "$version")" -o "$dir.tmp/bin/$out" "$pkg")
  done
  rm -rf "$dir.tmp/src"
  echo "$version" > "$dir.tmp/.complete"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  echo "$name $version $dir/bin (built in $(( $(date +%s) - start )) s)"
}

build_python() {
  local req="$here/python-requirements.txt" key dir start
  key="$(key_of python "$(grep -oE "^mlflow[^=]*==[^ ]+" "$req" | sed "s/.*==//")" "$req")"
  dir="$cache/$key"
  if [ -f "$dir/.complete" ]; then echo "python $(cat "$dir/.complete") $dir/bin (cached)"; return; fi
  start=$(date +%s)
  rm -rf "$dir"
  # Debian's python3 (3.11) with its site packages visible: psycopg2 and boto3 come from Debian.
  /usr/bin/python3 -m venv --system-site-packages "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req"
  "$dir/bin/python" -c 'import mlflow, optuna; print(f"mlflow {mlflow.__version__} optuna {optuna.__version__}")' > "$dir/.complete"
  echo "python $(cat "$dir/.complete") $dir/bin (built in $(( $(date +%s) - start )) s)"
}

engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(etcd kubernetes kwok kueue argo seaweedfs python)
for e in "${engines[@]}"; do
  case "$e" in
    python) build_python ;;
    *) [ -n "${PKGS[$e]:-}" ] || { echo "unknown engine: $e" >&2; exit 2; }; build_go "$e" ;;
  esac
done
