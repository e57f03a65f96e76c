# Shared helpers for Gordon's scripts: throwaway PostgreSQL and nats-server on loopback.
# Sourced, not run. Everything a fresh Debian machine lacks is installed with apt-get.

set -euo pipefail

gordon_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs Debian packages that are missing; apt-get update runs at most once per call.
ensure_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
    echo "$dir"
}

# A TCP port nobody listens on right now (the kernel picks it).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A password for a keyfile: about 30 characters of [A-Za-z0-9], safe in every config syntax.
random_secret() {
    head -c 24 /dev/urandom | base64 | tr -d '/+=\n'
}

# Postgres refuses to run as root; when we are root, the server runs as the postgres user
# that the Debian package creates.
as_pg_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# wait_for_port PORT SECONDS: true once something accepts TCP connections on loopback.
wait_for_port() {
    local port=$1 deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# start_postgres DIR PORT: a new cluster in DIR on 127.0.0.1:PORT.
# The superuser "postgres" logs in over loopback without a password (trust); every other
# role must present its password (scram-sha-256), as on the device. fsync is off only
# when GORDON_PG_FAST=1 (tests): the data is thrown away anyway. GORDON_PG_OPTIONS: more
# server options (-c name=value …).
start_postgres() {
    local dir=$1 port=$2 bindir
    bindir=$(pg_bindir)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_pg_user "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
        {
            echo "local all all trust"
            echo "host all postgres 127.0.0.1/32 trust"
            echo "host all all 127.0.0.1/32 scram-sha-256"
        } >"$dir/data/pg_hba.conf"
    fi
    local fast=()
    [ "${GORDON_PG_FAST:-0}" = 1 ] && fast=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
    as_pg_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300 ${fast[*]:-} ${GORDON_PG_OPTIONS:-}" \
        >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
}

stop_postgres() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] && as_pg_user "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# start_nats DIR PORT: nats-server with JetStream storing into DIR/jetstream.
start_nats() {
    local dir=$1 port=$2
    mkdir -p "$dir/jetstream"
    # The file store limit is stated: nats-server's default is three quarters of the free
    # disk, and the GORDON stream asks for 8 GiB, which a fuller disk would refuse.
    printf 'listen: 127.0.0.1:%s\njetstream {\n  store_dir: "%s"\n  max_file_store: 16GB\n}\n' \
        "$port" "$dir/jetstream" > "$dir/nats-server.conf"
    nats-server -c "$dir/nats-server.conf" -l "$dir/nats.log" -P "$dir/nats.pid" &
    wait_for_port "$port" 30 || { tail -n 20 "$dir/nats.log" >&2; die "nats-server did not start"; }
}

# start_nats_config DIR CONF PORT: nats-server with a generated configuration (users,
# permissions, JetStream store), as on the device.
start_nats_config() {
    local dir=$1 conf=$2 port=$3
    nats-server -c "$conf" -l "$dir/nats.log" -P "$dir/nats.pid" &
    wait_for_port "$port" 30 || { tail -n 20 "$dir/nats.log" >&2; die "nats-server did not start"; }
}

stop_nats() {
    local dir=$1
    if [ -f "$dir/nats.pid" ]; then
        local pid
        pid=$(cat "$dir/nats.pid")
        kill "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + 10))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
        rm -f "$dir/nats.pid"
    fi
}

ensure_runtime_packages() {
    ensure_packages postgresql nats-server python3 python3-venv openssl restic prometheus openssh-client
    ensure_sshd_program
}

# sshd for the tests' backup host, started by the tests on loopback only. Installed here for
# its program: the machine's own SSH service it brings is switched off again, so running the
# tests never opens port 22.
ensure_sshd_program() {
    dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q "install ok installed" && return 0
    ensure_packages openssh-server
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        local sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
        log "openssh-server installed for the tests; its ssh service is disabled"
    fi
}

# ensure_venv DIRECTORY REQUIREMENTS WHAT: a venv with REQUIREMENTS (PyPI, pinned) installed,
# rebuilt when they change; prints nothing but its log line.
ensure_venv() {
    local venv=$1 requirements=$2 what=$3 stamp
    stamp=$(sha256sum "$requirements" | cut -c1-16)
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$stamp" ]; then
        log "installing $what into $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
        echo "$stamp" >"$venv/.requirements"
    fi
}

# Binance's Python SDK and ccxt (scripts/python-clients/requirements.txt) in a venv under
# .build; the tests that run them against BinanceSim find its python in GORDON_PYTHON_CLIENTS.
ensure_python_clients() {
    local root=$1
    ensure_venv "$root/.build/python-clients" "$root/scripts/python-clients/requirements.txt" "the Python clients (binance-connector, ccxt)"
    export GORDON_PYTHON_CLIENTS="$root/.build/python-clients/bin/python"
}

# The console's OpenID Connect test provider and selenium (scripts/console/requirements.txt)
# in a venv under .build: its python in GORDON_CONSOLE_PYTHON.
ensure_console_python() {
    local root=$1
    ensure_venv "$root/.build/console-python" "$root/scripts/console/requirements.txt" "the console's test provider and selenium"
    export GORDON_CONSOLE_PYTHON="$root/.build/console-python/bin/python"
}
