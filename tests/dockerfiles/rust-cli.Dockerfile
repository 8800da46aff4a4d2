FROM rust:1.83-slim-bookworm

ARG CRATE=ripgrep
ARG CRATE_VERSION=14.1.1

RUN apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*

ENV CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:$PATH

RUN cargo install --locked "${CRATE}@${CRATE_VERSION}"

WORKDIR /work
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release && cp target/release/app /usr/local/bin/app

ENTRYPOINT ["/usr/local/bin/app"]
CMD ["--help"]
