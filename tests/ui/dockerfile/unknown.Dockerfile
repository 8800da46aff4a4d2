FROM alpine:3.20
RUN apk add curl
FROBNICATE now
