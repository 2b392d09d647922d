# Sourced by scripts/start and scripts/stop: background processes with pid files and logs under
# .local/run and .local/logs.

HMS_RUN_DIR="$HMS_ROOT/.local/run"
HMS_LOG_DIR="$HMS_ROOT/.local/logs"
mkdir -p "$HMS_RUN_DIR" "$HMS_LOG_DIR"

hms_is_running() {
  local pid_file="$HMS_RUN_DIR/$1.pid"
  [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

# Starts a command in the background under a name, unless a process of that name still runs.
# Usage: hms_start_process NAME COMMAND... (environment variables are inherited)
hms_start_process() {
  local name="$1"
  shift
  if hms_is_running "$name"; then
    echo "$name is already running (pid $(cat "$HMS_RUN_DIR/$name.pid"))."
    return 0
  fi
  # exec makes the background subshell become setsid and then the program itself, so $! is the pid of
  # the program and of its own process group, which hms_stop_process signals as a whole.
  (
    cd "$HMS_ROOT" || exit 1
    exec setsid "$@" >>"$HMS_LOG_DIR/$name.log" 2>&1
  ) &
  echo $! >"$HMS_RUN_DIR/$name.pid"
  echo "Started $name (pid $(cat "$HMS_RUN_DIR/$name.pid")); log: .local/logs/$name.log"
}

# Waits until URL responds with HTTP 200, for at most SECONDS; prints the log tail of NAME on failure.
hms_wait_http() {
  local name="$1" url="$2" seconds="${3:-60}"
  local deadline=$((SECONDS + seconds))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    if ! hms_is_running "$name"; then
      echo "$name exited before it became ready. Last lines of .local/logs/$name.log:" >&2
      tail -n 30 "$HMS_LOG_DIR/$name.log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$name did not become ready at $url within ${seconds}s. Last lines of .local/logs/$name.log:" >&2
      tail -n 30 "$HMS_LOG_DIR/$name.log" >&2
      return 1
    fi
    sleep 0.5
  done
}

# Stops a named process group: SIGTERM, then SIGKILL after 15 seconds.
hms_stop_process() {
  local name="$1" pid_file="$HMS_RUN_DIR/$1.pid"
  [ -f "$pid_file" ] || return 0
  local pid
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    echo "Stopped $name."
  fi
  rm -f "$pid_file"
}

# Fails with a clear message when PORT on 127.0.0.1 is taken by something other than NAME, which
# would otherwise respond to the readiness checks in place of the service being started.
hms_require_free_port() {
  local name="$1" port="$2" variable="$3"
  hms_is_running "$name" && return 0
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "Port $port is already in use, so $name cannot start. Stop the process listening there" >&2
    echo "(scripts/stop stops one started from this checkout) or set $variable to a free port." >&2
    return 1
  fi
}
