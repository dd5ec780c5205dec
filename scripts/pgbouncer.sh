#!/usr/bin/env bash
# Starts a PgBouncer in transaction pooling mode on 127.0.0.1:6432 in front of
# the local PostgreSQL on 5432 (trust auth), for the live suites; installs
# Debian's pgbouncer first if it is missing. Idempotent: does nothing if one
# already answers on 6432. Usage: scripts/pgbouncer.sh [start|stop]
set -euo pipefail
dir=/tmp/user-engine-pgbouncer
port=6432
case "${1:-start}" in
  stop)
    [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    exit 0
    ;;
esac
if psql -h 127.0.0.1 -p "$port" -U postgres -d test -tAc 'select 1' >/dev/null 2>&1; then
  exit 0
fi
if ! command -v pgbouncer >/dev/null 2>&1; then
  echo "== installing pgbouncer from Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi
mkdir -p "$dir"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options,application_name
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = postgres
INI
echo '"postgres" ""' > "$dir/userlist.txt"
# PgBouncer refuses to run as root.
if [ "$(id -u)" = 0 ]; then
  chown -R postgres "$dir"
  runuser -u postgres -- pgbouncer -d "$dir/pgbouncer.ini"
else
  pgbouncer -d "$dir/pgbouncer.ini"
fi
for _ in $(seq 1 30); do
  psql -h 127.0.0.1 -p "$port" -U postgres -d test -tAc 'select 1' >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "pgbouncer did not start; see $dir/pgbouncer.log" >&2
exit 1
