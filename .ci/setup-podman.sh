#!/usr/bin/env bash
# Installs and configures Podman for local template builds, and makes the base image the local
# engine tests build on. Idempotent: run it again at any time.
#
#   bash .ci/setup-podman.sh            # as root (CI, or a developer's Debian/Ubuntu machine)
#
# Why each part exists:
# - no image can be pulled on these machines, so the base image is made from the Debian package
#   busybox-static (a static shell + coreutils, no network needed);
# - crun fails on cgroup v1 hybrid hosts and rlimits cannot be raised: .ci/containers.conf selects
#   runc and lowers the default ulimits. It is installed as /etc/containers/containers.conf when
#   that file does not exist yet, so every later `podman` (the tests, `serve`) uses it; where the
#   file exists already, the script checks that containers start and otherwise says to set
#   CONTAINERS_CONF=.ci/containers.conf.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
base_image="${SANDBOX_TEMPLATE_BASE_IMAGE:-localhost/sandbox-base:latest}"
conf_src="$here/containers.conf"
conf_dst=/etc/containers/containers.conf

log() { printf '[setup-podman] %s\n' "$*" >&2; }

need_install=()
for bin in podman runc busybox; do
    command -v "$bin" >/dev/null 2>&1 || need_install+=("$bin")
done
[ -x /bin/busybox ] || need_install+=(busybox-static)
if [ "${#need_install[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        log "missing: ${need_install[*]}; run this script as root (it uses apt-get)"
        exit 1
    fi
    log "installing podman, runc and busybox-static (missing: ${need_install[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # uidmap/slirp4netns: rootless use; containernetworking-plugins come with podman.
    apt-get install -y -qq podman runc uidmap slirp4netns busybox-static >/dev/null
fi

if [ -w /etc/containers ] && [ ! -e "$conf_dst" ]; then
    install -m 0644 "$conf_src" "$conf_dst"
    log "installed $conf_dst"
fi
podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null

# The base image: busybox with its applets linked into /bin, a root and a `user` account (uid 1000,
# like the E2B base image), /tmp. Rebuilt only when missing.
if podman image exists "$base_image"; then
    log "base image $base_image already present"
else
    log "creating base image $base_image from busybox-static"
    rootfs="$(mktemp -d)"
    trap 'rm -rf "$rootfs"' EXIT
    mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/user,var/tmp,proc,sys,dev,run}
    chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
    chmod 0700 "$rootfs/root"
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $("$rootfs/bin/busybox" --list); do
        [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
    done
    cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
    cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
user:x:1000:
nogroup:x:65534:
GROUP
    chown 1000:1000 "$rootfs/home/user"
    tar -C "$rootfs" --numeric-owner -cf - . |
        podman import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["/bin/sh"]' \
            --quiet - "$base_image" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
fi

# Check that a container really starts with the settings later commands get (catches runtime and
# rlimit problems here, not in the tests).
if ! out="$(podman run --rm --network none "$base_image" sh -c 'echo ok' 2>&1)" || [ "$out" != ok ]; then
    log "podman cannot run a container from $base_image:"
    printf '%s\n' "$out" >&2
    if [ -z "${CONTAINERS_CONF:-}" ]; then
        log "fix: export CONTAINERS_CONF=$conf_src (runc, lower ulimits) and run this script again"
    fi
    exit 1
fi

log "ready: podman $(podman --version | awk '{print $3}'), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}'), base image $base_image"
log "build on it with Template::new().from_image(\"$base_image\"), or set SANDBOX_TEMPLATE_DEFAULT_BASE=$base_image for from_base_image()"
