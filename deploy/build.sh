#!/usr/bin/env bash
# Builds the six service images from the one Dockerfile and pushes them to a registry:
# <registry>/<service>:<tag>. deploy.sh deploys the same tag.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: $SCRIPT_NAME -d <registry> [-r <git repo>] [-b <ref>] [-t <tag>] [-s <service>]... [-n] [-h]

Builds ${#SERVICES[@]} images (${SERVICES[*]}) with the Dockerfile and pushes them as <registry>/<service>:<tag>.

  -d <registry>  registry and path, e.g. registry.example.org/divoc — required
  -r <git repo>  build this repository (URL or path; cloned into a temporary directory) instead of this checkout
  -b <ref>       with -r: the branch, tag or commit to build (default: the repository's default branch)
  -t <tag>       image tag (default: the commit's short hash, with -dirty for uncommitted changes); never "latest"
  -s <service>   build only this service (repeatable)
  -n             dry run: print the git and docker commands, run nothing
  -h             print this help
USAGE
}

registry=''
repo=''
ref=''
tag=''
selected=()
DRY_RUN=0
while getopts ':d:r:b:t:s:nh' option; do
  case $option in
    d) registry=$OPTARG ;;
    r) repo=$OPTARG ;;
    b) ref=$OPTARG ;;
    t) tag=$OPTARG ;;
    s) selected+=("$OPTARG") ;;
    n) DRY_RUN=1 ;;
    h) usage; exit 0 ;;
    :) usage_error "-$OPTARG needs a value" ;;
    *) usage_error "unknown option -$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || usage_error "unexpected argument \"$1\""

require_flag "$registry" -d registry
check_registry "$registry"
[[ -z $ref || -n $repo ]] || usage_error '-b needs -r (this checkout is built as it is)'
[[ -z $tag ]] || check_tag "$tag"
for service in "${selected[@]}"; do
  [[ " ${SERVICES[*]} " == *" $service "* ]] || usage_error "unknown service \"$service\" (one of: ${SERVICES[*]})"
done
[[ ${#selected[@]} -gt 0 ]] || selected=("${SERVICES[@]}")

if [[ -n $repo || -z $tag ]]; then
  need_tool git 'install git (apt-get install -y git)'
fi
if [[ $DRY_RUN == 0 ]]; then
  need_tool docker 'install Docker (https://docs.docker.com/engine/install/) and log in to the registry (docker login)'
fi

context=$REPO_ROOT
if [[ -n $repo ]]; then
  context="$(mktemp -d "${TMPDIR:-/tmp}/divoc-build.XXXXXX")"
  trap 'rm -rf -- "$context"' EXIT
  clone=(git clone --quiet)
  [[ -z $ref ]] || clone+=(--branch "$ref")
  run "${clone[@]}" -- "$repo" "$context"
fi
if [[ -z $tag ]]; then
  if [[ $DRY_RUN == 1 && -n $repo ]]; then
    tag='<commit of the clone>'
  else
    tag="$(default_tag "$context")"
  fi
fi
revision="$(git -C "$context" rev-parse HEAD 2>/dev/null || printf unknown)"

if [[ $DRY_RUN == 1 ]]; then
  printf 'dry run: building %d image(s) tagged %s for %s; nothing is run\n' "${#selected[@]}" "$tag" "$registry"
fi
for service in "${selected[@]}"; do
  image="$registry/$service:$tag"
  run docker build --pull --file "$context/Dockerfile" --build-arg "SERVICE=$service" \
    --label "org.opencontainers.image.revision=$revision" --tag "$image" "$context"
  run docker push "$image"
done
printf '%s %d image(s): %s/<service>:%s\n' "$([[ $DRY_RUN == 1 ]] && echo 'would push' || echo pushed)" \
  "${#selected[@]}" "$registry" "$tag"
