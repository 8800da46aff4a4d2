FROM alpine:3.20
RUN apk add curl
HEALTHCHECK CMD curl -f localhost
