#!/usr/bin/env bash
# Starts the local services the integration tests talk to (Redis, PostgreSQL, NATS with JetStream)
# when they do not answer on their usual ports, with the commands this machine kind's services use.
# Point REDIS/PG/NATS elsewhere? The tests read 127.0.0.1:6379, :5432 and :4222.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_redis() {
  command -v redis-server >/dev/null || return 1
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}
start_postgres() {
  command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] || return 1
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
}
start_nats() {
  [ -x /usr/sbin/nats-server ] || return 1
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

failed=0
for entry in "6379 Redis start_redis" "5432 PostgreSQL start_postgres" "4222 NATS start_nats"; do
  read -r port name start <<<"$entry"
  port_open "$port" && continue
  echo "==> $name does not answer on 127.0.0.1:$port: starting it (the integration tests need it)"
  if ! "$start"; then
    echo "cannot start $name here: start it on 127.0.0.1:$port yourself, then run the tests again" >&2
    failed=1
    continue
  fi
  for _ in $(seq 1 50); do port_open "$port" && break; sleep 0.2; done
  if ! port_open "$port"; then
    echo "$name was started but does not answer on 127.0.0.1:$port" >&2
    failed=1
  fi
done
exit "$failed"
