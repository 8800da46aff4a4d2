FROM --platform=$BUILDPLATFORM golang:1.23-bookworm

ARG TARGETOS
ARG TARGETARCH
ENV CGO_ENABLED=0 \
    GOFLAGS=-trimpath

WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -ldflags="-s -w" -o /usr/local/bin/service ./cmd/service

EXPOSE 8080
USER nobody
ENTRYPOINT ["/usr/local/bin/service", "--listen", ":8080"]
