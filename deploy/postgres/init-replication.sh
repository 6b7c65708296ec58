#!/bin/sh
# The primary's first start only (docker-compose.yml mounts this into /docker-entrypoint-initdb.d,
# which runs once, on an empty data directory): a role for the replica's base backup and WAL
# stream, and a pg_hba.conf line admitting it. The image's own line (host all all all
# scram-sha-256) does not cover replication connections.
set -eu

psql -v ON_ERROR_STOP=1 -v password="$REPLICATION_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
create role replicator with replication login password :'password';
SQL

echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
