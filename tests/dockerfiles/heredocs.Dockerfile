# syntax=docker/dockerfile:1.7
FROM nginx:1.27-alpine

ARG SERVER_NAME=sandbox.local

RUN <<EOF
set -eux
apk add --no-cache curl
mkdir -p /srv/www
EOF

COPY <<EOF /etc/nginx/conf.d/default.conf
server {
    listen 8080;
    server_name ${SERVER_NAME};
    root /srv/www;
    index index.html;
}
EOF

COPY --chmod=644 <<'HTML' /srv/www/index.html
<h1>Served by $hostname</h1>
HTML

RUN <<-EOT sh
	echo "tab-indented script"
	nginx -t
	EOT

RUN python3 - <<'PY' || true
print("heredoc read by a command")
PY

EXPOSE 8080
CMD ["nginx", "-g", "daemon off;"]
