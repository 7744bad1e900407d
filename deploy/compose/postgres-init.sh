#!/bin/bash
# docker-compose only: the postgres image runs this once, when it creates its data directory. It creates the
# databases and users of the stack (DIVOC's and Keycloak's), each user owning only its own database.
# Passwords come from the environment (deploy/compose.env.example, TEST-ONLY values).
set -euo pipefail
: "${DIVOC_DB_PASSWORD:?}" "${KEYCLOAK_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v divoc_password="$DIVOC_DB_PASSWORD" -v keycloak_password="$KEYCLOAK_DB_PASSWORD" <<'SQL'
CREATE ROLE divoc LOGIN PASSWORD :'divoc_password';
CREATE DATABASE divoc OWNER divoc;
REVOKE ALL ON DATABASE divoc FROM PUBLIC;
CREATE ROLE keycloak LOGIN PASSWORD :'keycloak_password';
CREATE DATABASE keycloak OWNER keycloak;
REVOKE ALL ON DATABASE keycloak FROM PUBLIC;
SQL
