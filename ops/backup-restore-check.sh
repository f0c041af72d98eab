#!/usr/bin/env bash
# Back up a console database with pg_dump, restore the dump into a scratch database with
# pg_restore, and check that every table holds the same rows (counts and a checksum of the
# orders) and that the schema is at the same migration. Exits non-zero on any difference.
#
#   ops/backup-restore-check.sh postgresql://user@host/console [dump-file]
#
# The scratch database is made next to the source (same server) and dropped afterwards.
set -euo pipefail

source_url="${1:?usage: $0 postgresql://user@host/database [dump-file]}"
source_url="${source_url/postgresql+psycopg:/postgresql:}"
dump="${2:-$(mktemp -d)/console.dump}"
scratch="console_restore_check_$$"
server_url="${source_url%/*}/postgres"
scratch_url="${source_url%/*}/${scratch}"

cleanup() { psql -q "$server_url" -c "DROP DATABASE IF EXISTS ${scratch}" >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "backup: pg_dump -Fc → ${dump}"
pg_dump --format=custom --no-owner --file="$dump" "$source_url"

echo "restore: into ${scratch}"
psql -q "$server_url" -c "CREATE DATABASE ${scratch}"
pg_restore --no-owner --exit-on-error --dbname="$scratch_url" "$dump"

fingerprint() {
  psql -qAt "$1" <<'SQL'
SELECT string_agg(format('%s=%s', table_name, (xpath('/row/c/text()',
       query_to_xml(format('SELECT count(*) AS c FROM %I', table_name), false, true, '')))[1]::text), ' '
       ORDER BY table_name)
  FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE';
SELECT 'alembic=' || string_agg(version_num, ',') FROM alembic_version;
SELECT 'orders=' || coalesce(md5(string_agg(order_no || ':' || state || ':' || version, ',' ORDER BY id)), '-')
  FROM orders;
SQL
}

before="$(fingerprint "$source_url")"
after="$(fingerprint "$scratch_url")"
if [ "$before" != "$after" ]; then
  echo "restore differs from the source:" >&2
  diff <(tr ' ' '\n' <<<"$before") <(tr ' ' '\n' <<<"$after") >&2 || true
  exit 1
fi
echo "restore matches the source: $(tr ' ' '\n' <<<"$before" | grep -c '=') figures compared"
echo "$before" | tr ' ' '\n' | grep -E '^(orders|alembic|order_events)=' || true
