#!/usr/bin/env bash
# Makes sure the three brokers the relay proof publishes to answer on their
# default local ports, starting any that is down (and installing its Debian
# package if it is missing): NATS with JetStream on 4222, RabbitMQ on 5672
# (guest/guest), Redis on 6379. Idempotent.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # port name seconds
  for _ in $(seq 1 "$3"); do up "$1" && return 0; sleep 1; done
  echo "== $2 did not come up on port $1" >&2
  return 1
}
need() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "== installing $2 from Debian packages"
  [ -n "${apt_updated:-}" ] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

if ! up 4222; then
  need nats-server nats-server
  echo "== starting NATS (JetStream) on 4222"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_for 4222 NATS 30
fi

if ! up 6379; then
  need redis-server redis-server
  echo "== starting Redis on 6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_for 6379 Redis 30
fi

if ! up 5672; then
  need rabbitmq-server rabbitmq-server
  echo "== starting RabbitMQ on 5672"
  rabbitmq-server -detached
  wait_for 5672 RabbitMQ 90
fi
echo "== brokers up: NATS 4222, RabbitMQ 5672, Redis 6379"
