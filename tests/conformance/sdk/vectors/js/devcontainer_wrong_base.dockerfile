ERROR: BuildError: Devcontainers can only used in the devcontainer template
