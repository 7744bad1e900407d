# shellcheck shell=bash
# Shared by deploy/install.sh, build.sh and deploy.sh (sourced, not executed).

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_ROOT="$(cd "$DEPLOY_DIR/.." && pwd)"
SCRIPT_NAME="$(basename "$0")"

# The six services, each built into its own image (<registry>/<service>:<tag>) from the one Dockerfile.
# shellcheck disable=SC2034 # used by the scripts that source this file
SERVICES=(vaccination-api certificate-signer certificate-processor certificate-api revocation-service notification-service)

die() {
  printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit 1
}

# A usage error: the message, then how to get help; exit code 2.
usage_error() {
  printf '%s: %s\nRun %s -h for help.\n' "$SCRIPT_NAME" "$*" "$SCRIPT_NAME" >&2
  exit 2
}

need_tool() { # <command> <how to install>
  command -v "$1" >/dev/null 2>&1 || die "$1 not found in PATH: $2"
}

require_flag() { # <value> <flag> <what>
  [[ -n $1 ]] || usage_error "missing $2 <$3>"
}

# Prints a command as a shell would read it back (each word quoted when needed).
show_command() {
  local word out=''
  for word in "$@"; do
    if [[ $word =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then
      out+=" $word"
    else
      out+=" '${word//\'/\'\\\'\'}'"
    fi
  done
  printf '%s\n' "${out# }"
}

# Runs a command, or in a dry run (DRY_RUN=1) prints it prefixed with "would run: ".
run() {
  if [[ ${DRY_RUN:-0} == 1 ]]; then
    printf 'would run: %s\n' "$(show_command "$@")"
  else
    printf '+ %s\n' "$(show_command "$@")" >&2
    "$@"
  fi
}

# The image tag of a checkout: its short commit hash, with -dirty when it has uncommitted changes.
default_tag() { # <checkout dir>
  local commit
  commit="$(git -C "$1" rev-parse --short=12 HEAD 2>/dev/null)" || die "$1 is not a git checkout: give the tag with -t"
  if [[ -n "$(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    commit+='-dirty'
  fi
  printf '%s' "$commit"
}

check_tag() { # <tag>
  [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || usage_error "invalid image tag \"$1\""
  [[ $1 != latest ]] || usage_error 'the tag "latest" is refused: deployments must name the exact image they run'
}

check_registry() { # <registry>
  [[ $1 =~ ^[a-z0-9]([a-z0-9.:-]*[a-z0-9])?(/[a-z0-9._-]+)*$ ]] ||
    usage_error "invalid registry \"$1\" (expected e.g. registry.example.org/divoc)"
}
