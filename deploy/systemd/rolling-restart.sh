#!/bin/sh
# Restart taskapi@8001 then taskapi@8002 without failing a request (tests/stack drives the same
# steps against a private nginx: tests/support/services.py, Stack.restart_app).
#
# For each instance: re-render nginx's config with that server marked `down` and reload (new
# nginx workers stop using it; old ones finish their requests and close their connections to it),
# then restart it (SIGTERM: Uvicorn finishes what is in flight), wait until it is ready, and put
# it back. Draining first matters: a POST that nginx writes to an idle keep-alive connection at
# the instant Uvicorn closes it would fail, and nginx must not resend a POST.
set -eu
render=${RENDER:-/opt/taskapi/deploy/nginx/render.sh}
site=${SITE:-/etc/nginx/conf.d/taskapi.conf}
ports=${PORTS:-"8001 8002"}

reload_nginx() {
    "$render" > "$site.new" && mv "$site.new" "$site"
    nginx -t -q
    nginx -s reload
    # Old workers are "nginx: worker process is shutting down" until their requests are done.
    while pgrep -f 'nginx: worker process is shutting down' > /dev/null; do sleep 0.2; done
}

n=0
for port in $ports; do
    n=$((n + 1))
    export "APP_$n=127.0.0.1:$port down"
    reload_nginx
    systemctl restart "taskapi@$port"
    until curl -fsS "http://127.0.0.1:$port/health/ready/" > /dev/null; do sleep 0.5; done
    export "APP_$n=127.0.0.1:$port"
    reload_nginx
done
