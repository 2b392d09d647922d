# shellcheck shell=bash disable=SC2034 # the variables are read by the scripts that source this file
# Sourced by infra/start and infra/stop: settings and readiness checks for the
# local PostgreSQL, Redis and Kafka on 127.0.0.1.
# shellcheck source=infra/kafka/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/kafka/env.sh"

HMS_PG_PORT="${HMS_PG_PORT:-5432}"
HMS_REDIS_PORT="${HMS_REDIS_PORT:-6379}"
HMS_INFRA_WAIT_SECONDS="${HMS_INFRA_WAIT_SECONDS:-30}"

# Contains started-postgresql ("<version> <cluster>") and started-redis when
# infra/start started those servers, so infra/stop leaves alone the ones that
# were already running.
INFRA_STATE_DIR="$HMS_ROOT/.local/infra"
INFRA_REDIS_PID_FILE="$INFRA_STATE_DIR/redis/redis.pid"

postgres_ready() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p "$HMS_PG_PORT" -t 5
  else
    port_open "$HMS_PG_PORT"
  fi
}

redis_ready() {
  if command -v redis-cli >/dev/null; then
    # A Redis that is still loading its dump replies LOADING instead of PONG.
    [ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$HMS_REDIS_PORT" ping 2>/dev/null)" = PONG ]
  else
    port_open "$HMS_REDIS_PORT"
  fi
}
