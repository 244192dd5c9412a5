#!/bin/sh
# Render taskapi.conf.template to stdout. Every value has its production default; tests override
# them with private ports and paths. Usage: deploy/nginx/render.sh > deploy/nginx/taskapi.conf
set -eu
here=$(dirname "$0")
: "${PUBLIC_LISTEN:=443 ssl http2}"
: "${HTTP_LISTEN:=80}"
: "${APP_1:=127.0.0.1:8001}"
: "${APP_2:=127.0.0.1:8002}"
: "${TLS_CERT:=/etc/ssl/taskapi/fullchain.pem}"
: "${TLS_KEY:=/etc/ssl/taskapi/privkey.pem}"
: "${LOG_DIR:=/var/log/nginx}"
sed -e "s#@@PUBLIC_LISTEN@@#${PUBLIC_LISTEN}#g" \
    -e "s#@@HTTP_LISTEN@@#${HTTP_LISTEN}#g" \
    -e "s#@@APP_1@@#${APP_1}#g" \
    -e "s#@@APP_2@@#${APP_2}#g" \
    -e "s#@@TLS_CERT@@#${TLS_CERT}#g" \
    -e "s#@@TLS_KEY@@#${TLS_KEY}#g" \
    -e "s#@@LOG_DIR@@#${LOG_DIR}#g" \
    "$here/taskapi.conf.template"
