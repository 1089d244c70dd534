#!/usr/bin/env bash
# Three `mcp-http serve --redis` instances behind nginx round-robin (no stickiness), with a
# redis-server of their own: the deployment of docs/deploying.md on loopback, for tests and to
# try by hand. Everything runs under DIR (configs, logs, pid files); nothing system-wide.
#
#   scripts/nginx-cluster.sh start DIR [SERVE FLAGS...]   prints the endpoint URL (through nginx)
#   scripts/nginx-cluster.sh stop DIR
#
# Needs redis-server and nginx on PATH (Debian: redis-server, nginx-light) and the mcp-http
# binary ($MCP_HTTP_BIN, default target/debug/mcp-http).
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
shift 2
bin=${MCP_HTTP_BIN:-$(pwd)/target/debug/mcp-http}
PATH=$PATH:/usr/sbin:/sbin

stop() {
  for pidfile in "$dir"/*.pid; do
    [[ -f $pidfile ]] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:PORT accepts connections.
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nginx-cluster: nothing listens on port $1 (logs in $dir)" >&2
  return 1
}

case $cmd in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "nginx-cluster: start or stop" >&2; exit 2 ;;
esac

stop
mkdir -p "$dir/redis" "$dir/nginx/logs" "$dir/nginx/tmp"
dir=$(cd "$dir" && pwd)

redis_port=$(free_port)
cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port $redis_port
protected-mode yes
daemonize no
save ""
appendonly no
dir $dir/redis
EOF
redis-server "$dir/redis.conf" >"$dir/redis.log" 2>&1 &
echo $! >"$dir/redis.pid"
wait_port "$redis_port"

upstreams=""
# One secret for the three, so a 2026-07-28 requestState sealed by one is opened by another.
state_key=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
for id in a b c; do
  port=$(free_port)
  "$bin" serve --port "$port" --redis "redis://127.0.0.1:$redis_port" --instance-id "$id" \
    --redis-prefix "cluster:" --state-key "$state_key" "$@" >"$dir/$id.log" 2>&1 &
  echo $! >"$dir/$id.pid"
  wait_port "$port"
  upstreams+="    server 127.0.0.1:$port max_fails=1 fail_timeout=10s;"$'\n'
done

nginx_port=$(free_port)
# The config is scripts/nginx-cluster.conf.in, which the Rust tests through nginx use too.
conf=$(<scripts/nginx-cluster.conf.in)
conf=${conf//@DIR@/$dir/nginx}
conf=${conf//@UPSTREAMS@/${upstreams%$'\n'}}
conf=${conf//@LISTEN@/127.0.0.1:$nginx_port}
printf '%s\n' "$conf" >"$dir/nginx/nginx.conf"
nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" >"$dir/nginx/stdout.log" 2>&1 &
echo $! >"$dir/nginx.pid.keep"
mv "$dir/nginx.pid.keep" "$dir/nginx-master.pid"
wait_port "$nginx_port"
echo "http://127.0.0.1:$nginx_port/mcp"
