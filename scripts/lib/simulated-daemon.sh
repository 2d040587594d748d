# Sourced by scripts/bench-rss: the real steady state of one device, set up
# the way scripts/demo does it. A mosquitto on a free loopback port with the
# project's broker config (config/mosquitto/fieldproof.conf: passwords, ACL,
# persistence); `fieldproof-aggregator serve` on it (SQLite in the temporary
# directory); one device (serial bench-1) enrolled with
# `fieldproof-aggregator enroll` and paired with `fieldproof pair`; then
# `fieldproof run` on the simulated station (BME280, SHT4x, BH1750), whose
# messages the aggregator verifies, stores and acknowledges, so the daemon's
# spool drains. Sets $work, $port, $passwords (user -> broker password),
# $broker, $aggregator and $daemon (PIDs); simulated_stop ends them.

simulated_serial=bench-1

# simulated_broker_start [USER...]: mosquitto in a new temporary directory,
# with a broker user (and password) for the aggregator and for the device,
# as in scripts/demo, and for each USER given (e.g. collectd), which may
# publish under USER/#.
simulated_broker_start() {
    work=$(mktemp -d /tmp/fieldproof-daemon.XXXXXX)
    port=$(simulated_free_port)
    declare -gA passwords=()
    touch "$work/passwd"; chmod 600 "$work/passwd"
    local user
    for user in fieldproof-aggregator "$simulated_serial" "$@"; do
        passwords[$user]=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
        mosquitto_passwd -b "$work/passwd" "$user" "${passwords[$user]}"
    done
    cp config/mosquitto/fieldproof.acl "$work/acl"
    for user in "$@"; do printf '\nuser %s\ntopic write %s/#\n' "$user" "$user" >> "$work/acl"; done
    mkdir -p "$work/mosquitto"
    sed -e "s|^listener .*|listener $port 127.0.0.1|" -e "s|^password_file .*|password_file $work/passwd|" \
        -e "s|^acl_file .*|acl_file $work/acl|" -e "s|^persistence_location .*|persistence_location $work/mosquitto/|" \
        -e '/^log_dest/d' -e '/^user /d' -e '/^pid_file/d' config/mosquitto/fieldproof.conf > "$work/mosquitto.conf"
    [ "$(id -u)" -eq 0 ] && echo "user root" >> "$work/mosquitto.conf"
    /usr/sbin/mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
    broker=$!
    simulated_wait_for_port "$port"
}

# simulated_aggregator_start AGGREGATOR: `AGGREGATOR serve` on the broker,
# SQLite in $work/aggregator, its HTTP API on another free port (waited for:
# then it has published its keys for `fieldproof pair`).
simulated_aggregator_start() {
    local binary=$1 http_port
    http_port=$(simulated_free_port)
    cat > "$work/aggregator.yaml" <<YAML
state_directory: $work/aggregator
log_level: warning
broker:
  port: $port
  username: fieldproof-aggregator
  password: ${passwords[fieldproof-aggregator]}
http:
  port: $http_port
YAML
    "$binary" serve --config "$work/aggregator.yaml" > "$work/aggregator.log" 2>&1 &
    aggregator=$!
    simulated_wait_for_port "$http_port"
}

# simulated_daemon_start BINARY AGGREGATOR INTERVAL: enrolls the device with
# `AGGREGATOR enroll`, pairs it with `BINARY pair` (the one-time PIN on
# standard input, the aggregator's fingerprint from enroll), then starts
# `BINARY run` sampling its three sensors every INTERVAL (e.g. 1s, 20ms).
simulated_daemon_start() {
    local binary=$1 aggregator_binary=$2 interval=$3 ticket pin fingerprint
    # clock: trusted as in scripts/demo: a container's kernel often says
    # unsynchronised although the host keeps time, and a board in the field
    # runs synchronised.
    cat > "$work/agent.yaml" <<YAML
serial: $simulated_serial
state_directory: $work/state
runtime_directory: $work/run
simulate: true
board: raspberry-pi-4b
log_level: warning
clock: trusted
broker:
  port: $port
  username: $simulated_serial
  password: ${passwords[$simulated_serial]}
sensors:
  - {name: air, driver: bme280, interval: $interval}
  - {name: humidity, driver: sht4x, interval: $interval}
  - {name: light, driver: bh1750, interval: $interval}
YAML
    ticket=$("$aggregator_binary" enroll --config "$work/aggregator.yaml" --serial "$simulated_serial" --expires 10m --json)
    pin=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["pin"])' <<< "$ticket")
    fingerprint=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["aggregatorFingerprint"])' <<< "$ticket")
    if ! echo "$pin" | "$binary" pair --config "$work/agent.yaml" --aggregator-fingerprint "$fingerprint" > "$work/pair.log" 2>&1; then
        echo "simulated-daemon: fieldproof pair failed:" >&2
        cat "$work/pair.log" >&2
        return 1
    fi
    "$binary" run --config "$work/agent.yaml" > "$work/daemon.log" 2>&1 &
    daemon=$!
}

# simulated_status FIELD...: the daemon's status.json (rewritten every
# second in its runtime directory), the value at each path of keys
# (dot-separated, e.g. spool.records), one per line; 0 when unreadable.
simulated_status() {
    python3 - "$work/run/status.json" "$@" <<'PY' 2>/dev/null || for _ in "$@"; do echo 0; done
import functools, json, sys
status = json.load(open(sys.argv[1]))
print("\n".join(str(functools.reduce(lambda value, key: value[key], path.split("."), status)) for path in sys.argv[2:]))
PY
}

# simulated_stop [PID...]: stops the daemon first (SIGTERM drains its spool
# while the broker and the aggregator still run), then the aggregator, the
# broker and the other PIDs given, and removes the temporary directory (kept,
# with its logs, when simulated_keep=1); safe to call twice.
simulated_stop() {
    if [ -n "${daemon:-}" ]; then kill -TERM "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
    for pid in ${aggregator:-} ${broker:-} "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${simulated_keep:-0}" = 1 ] && [ -n "${work:-}" ]; then
        echo "logs kept in $work" >&2
    else
        rm -rf "${work:-}"
    fi
    daemon='' aggregator='' broker='' work=''
}

simulated_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

simulated_wait_for_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    echo "simulated-daemon: nothing listens on port $1; logs in $work" >&2
    return 1
}
