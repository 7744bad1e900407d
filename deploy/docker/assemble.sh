#!/usr/bin/env bash
# Assembles the runtime tree of one service image:
#
#   deploy/docker/assemble.sh <service> <out-dir>
#
# The Dockerfile's build stage runs it after `pnpm build`, and deploy/test/image.test.ts runs the same script on
# this workspace and starts the result, so what the image holds is tested without a Docker engine. It writes:
#
#   <out>/services/<service>/          `pnpm deploy --prod`: the service's dist/, its production dependencies and
#                                      the files of its workspace packages (fonts, JSON-LD contexts, migrations)
#   <out>/services/<service>/tools/    migrate.mjs, load-config.mjs, dev-keys.mjs (resolve the service's packages)
#   <out>/etcd-config/                 the etcd defaults (DIVOC_CONFIG_DEFAULTS)
#   <out>/healthcheck.mjs              the HEALTHCHECK
#
# Sources, tests and TypeScript build info of the workspace packages are left out.
set -euo pipefail

die() {
  printf 'assemble.sh: %s\n' "$*" >&2
  exit 1
}

[[ $# -eq 2 ]] || die 'usage: deploy/docker/assemble.sh <service> <out-dir>'
service=$1
out=$2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if ! [[ $service =~ ^[a-z][a-z0-9-]*$ && -f $root/services/$service/package.json ]]; then
  known=''
  for dir in "$root"/services/*/; do
    [[ -f $dir/package.json ]] && known+=" $(basename "$dir")"
  done
  die "no service \"$service\" (one of:$known)"
fi
[[ -f $root/services/$service/dist/main.js ]] || die "services/$service is not built: run pnpm build first"
if [[ -e $out ]] && [[ -n "$(ls -A -- "$out")" ]]; then
  die "$out exists and is not empty"
fi
command -v pnpm >/dev/null 2>&1 || die 'pnpm not found (npm install --global pnpm@12.4.2)'

mkdir -p "$out/services"
out="$(cd "$out" && pwd)"
target="$out/services/$service"

# The store already holds every package and `pnpm install` has just checked the lockfile against the
# supply-chain policies: no network, no second check of the same (sub)lockfile.
(cd "$root" && pnpm --filter "@divoc/$service" deploy --prod --offline --trust-lockfile "$target" >/dev/null)

# pnpm deploy copies a workspace package whole when its package.json lists no "files": drop what only builds it.
prune() { # <package dir>
  rm -rf -- "$1/src" "$1/test" "$1/bench" "$1/tsconfig.json" "$1/tsconfig.tsbuildinfo" \
    "$1/pnpm-lock.yaml" "$1/pnpm-workspace.yaml"
}
prune "$target"
shopt -s nullglob
for package in "$target"/node_modules/.pnpm/@divoc+*/node_modules/@divoc/*; do
  [[ -L $package ]] || prune "$package"
done

mkdir -p "$target/tools"
cp -- "$root"/deploy/docker/tools/*.mjs "$target/tools/"
cp -R -- "$root/etcd-config" "$out/etcd-config"
cp -- "$root/deploy/docker/healthcheck.mjs" "$out/healthcheck.mjs"
printf 'assembled %s in %s\n' "$service" "$out"
