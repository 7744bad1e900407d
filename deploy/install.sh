#!/usr/bin/env bash
# Installs the infrastructure of DIVOC-TS on Debian/Ubuntu hosts with Ansible (deploy/ansible/site.yml):
# SSH and firewall hardening on every host, Kafka (KRaft), Postgres, Redis, a 3-node etcd cluster, Keycloak with
# the realm `divoc`, and daily backups. Kubernetes itself is installed with your cluster tool of choice
# (kubeadm, kubespray); deploy.sh then deploys the services. See docs/operations.md.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: $SCRIPT_NAME -i <inventory> [-n] [-l <hosts>] [-h] [-- <ansible-playbook options>]

Installs and configures the infrastructure hosts of the inventory with deploy/ansible/site.yml.

  -i <inventory>  Ansible inventory (start from deploy/ansible/inventory/sample/hosts.yml) — required
  -l <hosts>      only these hosts or groups (ansible-playbook --limit)
  -n              dry run: ansible-playbook --check --diff, changes nothing
  -h              print this help

Options after -- go to ansible-playbook unchanged, e.g. -- --ask-vault-pass --tags backup
USAGE
}

inventory=''
limit=''
DRY_RUN=0
while getopts ':i:l:nh' option; do
  case $option in
    i) inventory=$OPTARG ;;
    l) limit=$OPTARG ;;
    n) DRY_RUN=1 ;;
    h) usage; exit 0 ;;
    :) usage_error "-$OPTARG needs a value" ;;
    *) usage_error "unknown option -$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))

require_flag "$inventory" -i inventory
[[ -e $inventory ]] || usage_error "inventory $inventory not found"
need_tool ansible-playbook 'install Ansible 2.14 or newer (apt-get install -y ansible, or pip install ansible-core)'

command=(ansible-playbook -i "$inventory" "$DEPLOY_DIR/ansible/site.yml")
[[ -z $limit ]] || command+=(--limit "$limit")
if [[ $DRY_RUN == 1 ]]; then
  command+=(--check --diff)
  printf 'dry run: ansible-playbook in check mode, nothing is changed\n'
fi
command+=("$@")

printf '+ %s\n' "$(show_command "${command[@]}")"
ANSIBLE_CONFIG="$DEPLOY_DIR/ansible/ansible.cfg" exec "${command[@]}"
