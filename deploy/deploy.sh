#!/usr/bin/env bash
# Deploys the DIVOC-TS services to Kubernetes: renders a kustomize directory (an overlay of deploy/k8s) with the
# images <registry>/<service>:<tag> and the Kafka, etcd and infrastructure addresses of the Ansible inventory,
# then applies it with the kubeconfig of a control-plane node (fetched over SSH), runs the setup Jobs
# (migrations, Kafka topics, etcd defaults) and waits for every rollout.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAMESPACE=divoc

indent() {
  local line
  while IFS= read -r line; do
    printf '  %s\n' "$line"
  done
}
REQUIRED_SECRETS=(divoc-secrets divoc-signing-key divoc-notification-secrets)

usage() {
  cat <<USAGE
Usage: $SCRIPT_NAME -i <inventory> -p <k8s dir> -d <registry> -k <master ip> -s <ssh key>
                 [-t <tag>] [-e <secrets file>] [-u <ssh user>] [-o <file>] [-n] [-h]

Deploys the services of a kustomize directory to the cluster whose control plane is <master ip>.

  -i <inventory>    Ansible inventory of deploy/install.sh: the addresses of the groups kafka, etcd, postgres, redis
                    and keycloak go into divoc-config and the egress NetworkPolicy — required
  -p <k8s dir>      kustomize directory, e.g. deploy/k8s/overlays/prod — required
  -d <registry>     registry of the images, as given to build.sh -d — required
  -k <master ip>    address of a Kubernetes control-plane node — required
  -s <ssh key>      SSH private key for <master ip>; the kubeconfig is read from /etc/kubernetes/admin.conf — required
  -t <tag>          image tag (default: this checkout's short commit hash, as build.sh); never "latest"
  -e <secrets file> apply these Secrets first (a filled-in copy of deploy/k8s/secrets/divoc-secrets.template.yaml)
  -u <ssh user>     SSH user on <master ip> (default: root; another user needs passwordless sudo)
  -o <file>         also write the rendered manifests to <file> (to review or archive what was applied)
  -n                dry run: render and print what would be applied and run; contacts nothing
  -h                print this help
USAGE
}

inventory=''
k8s_dir=''
registry=''
master=''
ssh_key=''
tag=''
secrets_file=''
ssh_user=root
output=''
DRY_RUN=0
while getopts ':i:p:d:k:s:t:e:u:o:nh' option; do
  case $option in
    i) inventory=$OPTARG ;;
    p) k8s_dir=$OPTARG ;;
    d) registry=$OPTARG ;;
    k) master=$OPTARG ;;
    s) ssh_key=$OPTARG ;;
    t) tag=$OPTARG ;;
    e) secrets_file=$OPTARG ;;
    u) ssh_user=$OPTARG ;;
    o) output=$OPTARG ;;
    n) DRY_RUN=1 ;;
    h) usage; exit 0 ;;
    :) usage_error "-$OPTARG needs a value" ;;
    *) usage_error "unknown option -$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || usage_error "unexpected argument \"$1\""

require_flag "$inventory" -i inventory
require_flag "$k8s_dir" -p 'k8s dir'
require_flag "$registry" -d registry
require_flag "$master" -k 'master ip'
require_flag "$ssh_key" -s 'ssh key'
check_registry "$registry"
[[ -e $inventory ]] || usage_error "inventory $inventory not found"
[[ -f $k8s_dir/kustomization.yaml ]] || usage_error "$k8s_dir has no kustomization.yaml (e.g. deploy/k8s/overlays/prod)"
[[ -r $ssh_key ]] || usage_error "cannot read the SSH key $ssh_key"
[[ $master =~ ^[A-Za-z0-9.:-]+$ ]] || usage_error "invalid master address \"$master\""
if [[ -n $secrets_file ]]; then
  [[ -r $secrets_file ]] || usage_error "cannot read the secrets file $secrets_file"
  if grep -q REPLACE_ME "$secrets_file"; then
    die "$secrets_file still contains REPLACE_ME placeholders: fill in every value first"
  fi
fi

need_tool kubectl 'install kubectl 1.27 or newer (https://kubernetes.io/docs/tasks/tools/), it renders kustomize too'
need_tool ansible-inventory 'install Ansible (apt-get install -y ansible): the infrastructure addresses come from the inventory'
need_tool python3 'install Python 3 (apt-get install -y python3)'
if [[ $DRY_RUN == 0 ]]; then
  need_tool ssh 'install an OpenSSH client (apt-get install -y openssh-client)'
fi
if [[ -z $tag ]]; then
  need_tool git 'install git, or give the image tag with -t'
  tag="$(default_tag "$REPO_ROOT")"
fi
check_tag "$tag"

work="$(mktemp -d "${TMPDIR:-/tmp}/divoc-deploy.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
chmod 700 "$work"

# --- the kustomization that is applied: the chosen directory + images, addresses, egress rules --------------
# The image names the chosen directory uses (an overlay may already have renamed divoc/<service>).
kubectl kustomize "$k8s_dir" >"$work/source.yaml" 2>"$work/kustomize.log" ||
  die "kubectl kustomize $k8s_dir failed: $(cat "$work/kustomize.log")"
ansible-inventory -i "$inventory" --list >"$work/inventory.json" 2>"$work/inventory.log" ||
  die "ansible-inventory could not read $inventory: $(tail -n 3 "$work/inventory.log")"
python3 - "$work/inventory.json" "$work" "$(cd "$k8s_dir" && pwd)" "$registry" "$tag" "${SERVICES[@]}" <<'PYTHON' ||
import ipaddress, json, os, re, socket, sys

inventory_file, work, k8s_dir, registry, tag, *services = sys.argv[1:]
source = open(os.path.join(work, 'source.yaml')).read()

def image_name(service):
    names = set(re.findall(r'^\s+image: ([^\s:@]*?/' + re.escape(service) + r')(?:[:@]\S+)?\s*$', source, re.M))
    if len(names) != 1:
        sys.exit(f'deploy.sh: expected one image name for {service} in {k8s_dir}, found {sorted(names) or "none"}')
    return names.pop()

inventory = json.load(open(inventory_file))
hostvars = inventory.get('_meta', {}).get('hostvars', {})

def hosts(group):
    seen, pending, result = set(), [group], []
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        entry = inventory.get(name, {})
        result += [h for h in entry.get('hosts', []) if h not in result]
        pending += entry.get('children', [])
    if not result:
        sys.exit(f'deploy.sh: the inventory has no hosts in the group "{group}"')
    return result

def address(host):
    value = hostvars.get(host, {}).get('ansible_host', host)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        try:
            return socket.gethostbyname(value)
        except OSError:
            sys.exit(f'deploy.sh: cannot resolve the address of {host} ({value}): set ansible_host to its IP')

def port(host, name, default):
    return int(hostvars.get(host, {}).get(name, default))

kafka = [f'{address(h)}:{port(h, "kafka_port", 9092)}' for h in hosts('kafka')]
etcd = [f'http://{address(h)}:{port(h, "etcd_client_port", 2379)}' for h in hosts('etcd')]
# The Ingress reaches Keycloak through an ExternalName Service, which needs a DNS name (not an IP): the host's
# keycloak_dns_name, or its ansible_host when that is a name; otherwise the directory's value is kept.
keycloak_vars = hostvars.get(hosts('keycloak')[0], {})
keycloak_name = keycloak_vars.get('keycloak_dns_name') or keycloak_vars.get('ansible_host', '')
try:
    ipaddress.ip_address(keycloak_name)
    keycloak_name = ''
except ValueError:
    pass

# One /32 per host, in the order of base/network-policies.yaml: kafka, postgres, redis, etcd, keycloak.
egress_patch = []
for index, group in enumerate(['kafka', 'postgres', 'redis', 'etcd', 'keycloak']):
    egress_patch.append({'op': 'replace', 'path': f'/spec/egress/{index}/to',
                         'value': [{'ipBlock': {'cidr': f'{address(h)}/32'}} for h in hosts(group)]})

kustomization = {
    'apiVersion': 'kustomize.config.k8s.io/v1beta1',
    'kind': 'Kustomization',
    'resources': [os.path.relpath(k8s_dir, work)],
    'images': [{'name': image_name(s), 'newName': f'{registry}/{s}', 'newTag': tag} for s in services],
    'configMapGenerator': [{'name': 'divoc-config', 'behavior': 'merge',
                            'literals': [f'KAFKA_BROKERS={",".join(kafka)}', f'ETCD_HOSTS={",".join(etcd)}']}],
    'patches': [
        {'target': {'kind': 'NetworkPolicy', 'name': 'allow-egress-infrastructure'}, 'patch': json.dumps(egress_patch)},
    ],
}
if keycloak_name:
    kustomization['patches'].append({'target': {'kind': 'Service', 'name': 'keycloak'},
                                     'patch': json.dumps([{'op': 'replace', 'path': '/spec/externalName',
                                                           'value': keycloak_name}])})
# JSON is YAML: kustomize reads it as it is.
with open(os.path.join(work, 'kustomization.yaml'), 'w') as out:
    json.dump(kustomization, out, indent=2)
print(f'KAFKA_BROKERS={",".join(kafka)}')
print(f'ETCD_HOSTS={",".join(etcd)}')
PYTHON
  die 'could not read the infrastructure addresses from the inventory'

kubectl kustomize "$work" >"$work/rendered.yaml" 2>"$work/kustomize.log" ||
  die "kubectl kustomize failed: $(cat "$work/kustomize.log")"
objects="$(python3 - "$work/rendered.yaml" <<'PYTHON'
import re, sys
text = open(sys.argv[1]).read()
for document in re.split(r'^---\s*$', text, flags=re.M):
    kind = re.search(r'^kind: (\S+)', document, re.M)
    name = re.search(r'^metadata:\n(?:  .*\n)*?  name: (\S+)', document, re.M)
    if kind and name:
        print(f'{kind.group(1)}/{name.group(1)}')
PYTHON
)"
[[ -z $output ]] || cp -- "$work/rendered.yaml" "$output" || die "cannot write $output"
images="$(grep -E '^\s+image: ' "$work/rendered.yaml" | sed -E 's/^\s+image: //' | sort -u)"
printf 'rendered %s with images tagged %s: %d objects\n' "$k8s_dir" "$tag" "$(wc -l <<<"$objects")"

# --- the cluster ---------------------------------------------------------------------------------------------
kubeconfig="$work/kubeconfig"
ssh_command=(ssh -i "$ssh_key" -o BatchMode=yes -o StrictHostKeyChecking=accept-new "$ssh_user@$master"
  'sudo cat /etc/kubernetes/admin.conf')
kubectl_command=(kubectl --kubeconfig "$kubeconfig")

if [[ $DRY_RUN == 1 ]]; then
  printf 'dry run: nothing is contacted or changed\n'
  printf 'would run: %s > %s\n' "$(show_command "${ssh_command[@]}")" "$kubeconfig"
  printf '           (with its API server address replaced by %s)\n' "$master"
  [[ -z $secrets_file ]] || run "${kubectl_command[@]}" apply -f "$secrets_file"
  run "${kubectl_command[@]}" delete job --namespace "$NAMESPACE" --selector app.kubernetes.io/component=setup --ignore-not-found
  printf 'would run: %s\n' "$(show_command "${kubectl_command[@]}" apply -f "${output:-$work/rendered.yaml}")"
  printf 'would apply:\n'
  indent <<<"$objects"
  printf 'images:\n'
  indent <<<"$images"
  run "${kubectl_command[@]}" wait --namespace "$NAMESPACE" --for=condition=complete --timeout=900s job \
    --selector app.kubernetes.io/component=setup
  printf 'would wait for: kubectl rollout status deployment/<each of %s>\n' "${SERVICES[*]}"
  exit 0
fi

(umask 077 && "${ssh_command[@]}" >"$kubeconfig") || die "could not read the kubeconfig from $ssh_user@$master"
sed -i -E "s#(server: https://)[^:/]+#\1$master#" "$kubeconfig"
"${kubectl_command[@]}" version >/dev/null 2>&1 || die "the Kubernetes API of $master does not answer"

run "${kubectl_command[@]}" create namespace "$NAMESPACE" --dry-run=client -o yaml >"$work/namespace.yaml"
run "${kubectl_command[@]}" apply -f "$work/namespace.yaml"
[[ -z $secrets_file ]] || run "${kubectl_command[@]}" apply -f "$secrets_file"
for secret in "${REQUIRED_SECRETS[@]}"; do
  "${kubectl_command[@]}" get secret --namespace "$NAMESPACE" "$secret" >/dev/null 2>&1 ||
    die "the Secret $secret does not exist: pass -e <secrets file> (see deploy/k8s/secrets/divoc-secrets.template.yaml)"
done
# A Job's pod template is immutable and a new image must run the setup again: remove the previous runs.
run "${kubectl_command[@]}" delete job --namespace "$NAMESPACE" --selector app.kubernetes.io/component=setup --ignore-not-found
run "${kubectl_command[@]}" apply -f "$work/rendered.yaml"
run "${kubectl_command[@]}" wait --namespace "$NAMESPACE" --for=condition=complete --timeout=900s job \
  --selector app.kubernetes.io/component=setup ||
  die "a setup Job did not complete: kubectl -n $NAMESPACE logs job/<divoc-migrate|divoc-kafka-topics|divoc-etcd-config>"
for service in "${SERVICES[@]}"; do
  run "${kubectl_command[@]}" rollout status --namespace "$NAMESPACE" "deployment/$service" --timeout=600s
done
printf 'deployed %s: %s/<service>:%s\n' "$k8s_dir" "$registry" "$tag"
