# redis.bash - a private redis-server for the online-store tests (load it
# after helpers). start_redis starts Debian's redis-server on 127.0.0.1 on a
# free port, with its own dir under $BATS_TEST_TMPDIR and no persistence
# (--save ''), in the foreground, and appends its pid to STUB_PIDS so that
# the default teardown (stop_stubs) kills it. It sets REDIS_PORT and
# REDIS_URL (database 0). skip_without_redis skips a test where Debian's
# redis-server is not installed (apt-get install redis-server).

skip_without_redis() {
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
		skip "redis-server is not installed (apt-get install redis-server)"
}

# start_redis: tries up to 5 random ports in 20000-59999 until one serves.
start_redis() {
	local dir="$BATS_TEST_TMPDIR/redis" try pid
	mkdir -p "$dir"
	for try in 1 2 3 4 5; do
		REDIS_PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
			--dir "$dir" --daemonize no >"$dir/log" 2>&1 3>&- &
		pid=$!
		if wait_until 5 redis_ready "$pid"; then
			STUB_PIDS+=("$pid")
			REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "redis-server did not start; its log:" >&2
	cat "$dir/log" >&2
	return 1
}

# redis_ready PID: the server PID still runs and answers PING.
redis_ready() {
	kill -0 "$1" 2>/dev/null && [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}
