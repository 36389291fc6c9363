# Shared helpers of scripts/testenv/up and scripts/testenv/down (sourced, not executed).
# Every process and file the test environment owns lives under $STATE; processes are only
# ever signalled by the pids recorded there, after checking that their command line still
# mentions $STATE (so a recycled pid is never hit).

STATE=${SEAWALL_TESTENV:-/tmp/seawall-testenv}
MARKER=.seawall-testenv

die() {
    echo "testenv: $*" >&2
    exit 1
}

require_root() {
    [ "$(id -u)" -eq 0 ] || die "dockerd needs root; run as root (or in CI as root)"
}

# Refuse state paths that could make `down` remove something that is not ours.
check_state_path() {
    case "$STATE" in
        /?*/?*) ;;
        *) die "SEAWALL_TESTENV must be an absolute path below a directory (got '$STATE')" ;;
    esac
    case "$STATE" in
        */|*/.|*/..|*/./*|*/../*) die "SEAWALL_TESTENV must be a normalised path (got '$STATE')" ;;
    esac
    # The docker socket path must fit in sockaddr_un (108 bytes) with room for containerd's.
    [ "${#STATE}" -le 60 ] || die "SEAWALL_TESTENV is too long for unix socket paths: $STATE"
}

# Create $STATE and mark it as ours; refuse to adopt a non-empty directory without the marker.
# Call with the lock held (lock_state), so a concurrent `up` never sees a half-made dir.
adopt_state_dir() {
    mkdir -p "$STATE"
    if [ ! -e "$STATE/$MARKER" ] && [ -n "$(ls -A "$STATE")" ]; then
        die "$STATE exists, is not empty and is not a seawall test environment; refusing"
    fi
    chmod 700 "$STATE"
    : >"$STATE/$MARKER"
}

# Serialise concurrent up/down runs on the same state dir (lock held until the script exits).
lock_state() {
    [ -z "${SEAWALL_TESTENV_LOCKED:-}" ] || return 0
    mkdir -p "$STATE"
    exec 9<"$STATE"
    flock -w 300 9 || die "timed out waiting for the lock on $STATE"
    export SEAWALL_TESTENV_LOCKED=1
}

# pid_alive PIDFILE: the recorded process runs and still belongs to this environment.
pid_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$STATE/"
}

# stop_pid PID TIMEOUT: SIGTERM, wait up to TIMEOUT seconds, then SIGKILL.
stop_pid() {
    local pid=$1 deadline=$((SECONDS + $2))
    kill -TERM "$pid" 2>/dev/null || return 0
    # A process that exited has an empty cmdline (zombie) or no /proc entry at all.
    while [ -n "$(tr -d '\0' 2>/dev/null <"/proc/$pid/cmdline")" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "testenv: pid $pid ignored SIGTERM for $2 s, killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
            return 0
        fi
        sleep 0.1
    done
}

# stop_pidfile PIDFILE TIMEOUT: stop the recorded process if it is still ours.
stop_pidfile() {
    if pid_alive "$1"; then
        stop_pid "$(cat "$1")" "$2"
    fi
}
