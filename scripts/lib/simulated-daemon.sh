# Sourced by scripts/bench-rss: a mosquitto on a
# free loopback port and `fieldproof run` on the simulated station (BME280,
# SHT4x, BH1750), paired with a made-up identity. Sets $work, $port,
# $broker and $daemon; simulated_stop ends them.

# simulated_broker_start: mosquitto in a new temporary directory.
simulated_broker_start() {
    work=$(mktemp -d /tmp/fieldproof-daemon.XXXXXX)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$work/mosquitto.conf"
    [ "$(id -u)" -eq 0 ] && echo "user root" >> "$work/mosquitto.conf"
    /usr/sbin/mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
    broker=$!
    sleep 0.5
}

# simulated_daemon_start BINARY BENCH INTERVAL: the daemon sampling its three
# sensors every INTERVAL (e.g. 1s, 20ms).
simulated_daemon_start() {
    local binary=$1 bench=$2 interval=$3
    mkdir -p "$work/state"
    "$bench" make-identity --state-directory "$work/state" --serial bench-1 > /dev/null
    cat > "$work/agent.yaml" <<YAML
serial: bench-1
state_directory: $work/state
runtime_directory: $work/run
simulate: true
board: raspberry-pi-4b
log_level: warning
broker:
  port: $port
sensors:
  - {name: air, driver: bme280, interval: $interval}
  - {name: humidity, driver: sht4x, interval: $interval}
  - {name: light, driver: bh1750, interval: $interval}
YAML
    "$binary" run --config "$work/agent.yaml" > "$work/daemon.log" 2>&1 &
    daemon=$!
}

# simulated_stop [PID...]: stops the daemon, the broker and the other PIDs
# given, removes the temporary directory; safe to call twice.
simulated_stop() {
    for pid in ${daemon:-} ${broker:-} "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "${work:-}"
    daemon='' broker='' work=''
}
