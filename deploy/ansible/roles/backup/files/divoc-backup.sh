#!/usr/bin/env bash
# Daily backup of one DIVOC data store, run by the systemd timers divoc-backup-<kind>.timer (roles/backup):
#
#   divoc-backup postgres   pg_dump -Fc of each database in POSTGRES_DATABASES, plus the roles (pg_dumpall -g)
#   divoc-backup redis      BGSAVE, wait for it, copy the RDB snapshot
#   divoc-backup etcd       etcdctl snapshot save (the whole key space: templates, mappings)
#
# Files go to $BACKUP_DIR/<kind>/ with a UTC timestamp and a .sha256 next to each; files older than
# BACKUP_RETENTION_DAYS days are deleted (two weeks by default). Settings: /etc/divoc-backup.env.
# Restore: docs/operations.md.
set -euo pipefail

SETTINGS=${DIVOC_BACKUP_SETTINGS:-/etc/divoc-backup.env}
# shellcheck source=/dev/null
[[ -r $SETTINGS ]] && source "$SETTINGS"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/divoc}
BACKUP_RETENTION_DAYS=${BACKUP_RETENTION_DAYS:-14}

die() {
  echo "divoc-backup: $*" >&2
  exit 1
}

[[ $# -eq 1 ]] || die 'usage: divoc-backup postgres|redis|etcd'
kind=$1
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$BACKUP_DIR/$kind"
umask 077
mkdir -p "$target"

# Writes stdin to <file> through a temporary name, so a failed backup never looks like a complete one.
store() { # <file>
  local partial="$1.partial"
  cat >"$partial"
  [[ -s $partial ]] || die "$1: empty backup"
  mv -- "$partial" "$1"
  (cd "$(dirname "$1")" && sha256sum -- "$(basename "$1")" >"$(basename "$1").sha256")
  echo "divoc-backup: wrote $1 ($(stat -c %s "$1") bytes)"
}

case $kind in
  postgres)
    for database in ${POSTGRES_DATABASES:-divoc keycloak}; do
      runuser -u postgres -- pg_dump --format=custom --compress=6 "$database" | store "$target/$database-$stamp.dump"
    done
    runuser -u postgres -- pg_dumpall --globals-only | gzip -9 | store "$target/roles-$stamp.sql.gz"
    ;;
  redis)
    command -v redis-cli >/dev/null || die 'redis-cli not found'
    before="$(redis-cli LASTSAVE)"
    redis-cli BGSAVE >/dev/null
    for _ in $(seq 1 600); do
      [[ "$(redis-cli LASTSAVE)" != "$before" ]] && break
      sleep 1
    done
    [[ "$(redis-cli LASTSAVE)" != "$before" ]] || die 'BGSAVE did not finish within 10 minutes'
    store "$target/redis-$stamp.rdb" <"${REDIS_DATA_DIR:-/var/lib/redis}/dump.rdb"
    ;;
  etcd)
    command -v etcdctl >/dev/null || die 'etcdctl not found'
    snapshot="$target/etcd-$stamp.db.partial-snapshot"
    ETCDCTL_API=3 etcdctl --endpoints="${ETCD_ENDPOINT:-http://127.0.0.1:2379}" snapshot save "$snapshot" >/dev/null
    gzip -9 <"$snapshot" | store "$target/etcd-$stamp.db.gz"
    rm -f -- "$snapshot"
    ;;
  *)
    die "unknown kind \"$kind\" (postgres, redis or etcd)"
    ;;
esac

# Two weeks of daily files (and their checksums); leftovers of failed runs go too.
find "$target" -type f -mtime +"$((BACKUP_RETENTION_DAYS - 1))" -delete
find "$target" -type f -name '*.partial*' -mmin +1440 -delete
