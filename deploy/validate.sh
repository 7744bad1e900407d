#!/usr/bin/env bash
# Static validation of everything under deploy/ plus the Dockerfile's compose file — no Docker engine, no
# cluster, no remote host needed (CI runs it from .ci/run):
#
#   docker-compose config -q        docker-compose.yml with deploy/compose.env.example
#   kubectl kustomize               deploy/k8s/base and every overlay
#   ansible-playbook --syntax-check every playbook; ansible-lint (production profile) on deploy/ansible
#   ansible-playbook --check        every role against this machine (deploy/ansible/check.yml, check mode only)
#   ShellCheck (-x)                 deploy/**/*.sh, the Ansible backup script, scripts/infra/*, scripts/ensure-tools, .ci/run
#   yamllint                        docker-compose.yml and deploy/ (deploy/.yamllint)
#
# Missing Debian tools are installed by scripts/ensure-tools (apt-get when running as root, CI), otherwise named. The schema-level
# checks (every Kubernetes object against the Kubernetes schemas, env vars vs. the services' zod schemas, the
# topic list, the scripts' dry runs) are the vitest suites in deploy/test/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quiet() { "$@" >/dev/null; }
step() { printf '\n== %s\n' "$*"; }
failures=()
check() { # <label> <command...>
  if "${@:2}"; then
    printf 'ok    %s\n' "$1"
  else
    printf 'FAIL  %s\n' "$1" >&2
    failures+=("$1")
  fi
}

# --- tools ------------------------------------------------------------------------------------------------
scripts/ensure-tools deploy

# --- docker-compose ---------------------------------------------------------------------------------------------
step 'docker-compose'
check 'docker-compose config (deploy/compose.env.example)' \
  docker-compose --project-directory . --env-file deploy/compose.env.example -f docker-compose.yml config -q

# --- kustomize ----------------------------------------------------------------------------------------------------
step 'kustomize'
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir=${dir%/}
  check "kubectl kustomize $dir" quiet kubectl kustomize "$dir"
done

# --- Ansible ------------------------------------------------------------------------------------------------------
step 'ansible'
export ANSIBLE_CONFIG="$PWD/deploy/ansible/ansible.cfg"
export ANSIBLE_NOCOLOR=1
inventory=deploy/ansible/inventory/sample/hosts.yml
for playbook in deploy/ansible/site.yml deploy/ansible/playbooks/*.yml; do
  check "syntax $playbook" quiet ansible-playbook --syntax-check -i "$inventory" "$playbook"
done
check 'syntax deploy/ansible/check.yml' quiet ansible-playbook --syntax-check -i localhost, deploy/ansible/check.yml
lint_ansible() { (cd deploy/ansible && ansible-lint --nocolor -q site.yml check.yml playbooks roles inventory); }
check 'ansible-lint deploy/ansible (production profile)' lint_ansible
# Check mode against this machine: every role, nothing changed (check.yml refuses to run without --check).
log="$(mktemp)"
if ansible-playbook -i localhost, -c local --check deploy/ansible/check.yml >"$log" 2>&1; then
  printf 'ok    ansible-playbook --check deploy/ansible/check.yml (%s)\n' "$(grep -E '^localhost' "$log" | tr -s ' ')"
else
  tail -n 40 "$log" >&2
  printf 'FAIL  ansible-playbook --check deploy/ansible/check.yml\n' >&2
  failures+=('ansible check mode')
fi
rm -f "$log"

# --- shell scripts --------------------------------------------------------------------------------------------------
step 'shellcheck'
scripts=()
while IFS= read -r -d '' file; do scripts+=("$file"); done < <(
  find deploy -name node_modules -prune -o -type f -name '*.sh' -print0
  find scripts/infra -maxdepth 1 -type f -print0
  printf '%s\0' scripts/ensure-tools .ci/run
)
check "shellcheck (${#scripts[@]} scripts)" shellcheck -x "${scripts[@]}"

# --- YAML -----------------------------------------------------------------------------------------------------------
step 'yamllint'
check 'yamllint docker-compose.yml deploy/' yamllint -s -c deploy/.yamllint docker-compose.yml deploy/

if [[ ${#failures[@]} -gt 0 ]]; then
  printf '\nvalidate.sh: %d check(s) failed: %s\n' "${#failures[@]}" "${failures[*]}" >&2
  exit 1
fi
printf '\nvalidate.sh: all checks passed\n'
