#!/usr/bin/env bash
# Stand-in for the postgres image's ENTRYPOINT (docker-entrypoint.sh of docker-library/postgres,
# 17/alpine3.24), written for the harness: what that script does for a non-root container with the
# variables mlplatform's pod sets (POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD_FILE, PGDATA).
#   - `*_FILE` variables are read into their variable (file_env), exclusive with the variable itself;
#   - PGDATA is created with mode 0700, /var/run/postgresql with 3775 (failures ignored);
#   - on an empty PGDATA: initdb with the user and password, the image's `listen_addresses = '*'`,
#     `host all all all <password_encryption>` appended to pg_hba.conf, a socket-only server started
#     to create POSTGRES_DB when it does not exist, stopped again;
#   - then `exec "$@"`.
# Not covered: running as root (the image steps down with gosu), /docker-entrypoint-initdb.d
# scripts (the folder is listed, as the image does, but our pod puts nothing there),
# POSTGRES_HOST_AUTH_METHOD, POSTGRES_INITDB_WALDIR.
set -Eeo pipefail

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" != 'postgres' ]; then exec "$@"; fi

for var in POSTGRES_PASSWORD POSTGRES_USER POSTGRES_DB POSTGRES_INITDB_ARGS; do
  file_var="${var}_FILE"
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$file_var"
    exit 1
  fi
  if [ -n "${!file_var:-}" ]; then
    val="$(< "${!file_var}")"
    export "$var"="$val"
  fi
  unset "$file_var"
done
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

mkdir -p "$PGDATA"
chmod 00700 "$PGDATA" || :
mkdir -p /var/run/postgresql || :
chmod 03775 /var/run/postgresql || :
if [ "$(id -u)" = '0' ]; then
  echo >&2 'the harness stand-in does not step down from root (the image does, with gosu)'
  exit 1
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo >&2 'Error: Database is uninitialized and superuser password is not specified.'
    exit 1
  fi
  ls /docker-entrypoint-initdb.d/ > /dev/null
  # shellcheck disable=SC2086
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") ${POSTGRES_INITDB_ARGS:-}
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  shift
  auth="$(postgres -C password_encryption "$@")"
  set -- postgres "$@"
  printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"
  export PGPASSWORD="$POSTGRES_PASSWORD"
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
  psql_=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname postgres --set db="$POSTGRES_DB")
  exists="$("${psql_[@]}" --tuples-only <<< "SELECT 1 FROM pg_database WHERE datname = :'db' ;")"
  if [ -z "$exists" ]; then
    "${psql_[@]}" <<< 'CREATE DATABASE :"db" ;'
  fi
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop
  unset PGPASSWORD
  echo 'PostgreSQL init process complete; ready for start up.'
fi

exec "$@"
