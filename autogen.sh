#!/bin/sh
# Prepares a fresh checkout for ./configure. With --deps, first installs the Debian
# packages evodiag needs to build and test (the list is .ci/packages; needs root).
set -eu
cd "$(dirname "$0")"
if [ "${1:-}" = "--deps" ]; then
        if [ "$(id -u)" != 0 ]; then
                echo "autogen.sh: --deps installs packages with apt-get: run it as root (sudo)" >&2
                exit 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2046
        # rabbitmq-server is there for a test, which starts its own broker: one the package
        # install starts and enables (on a systemd host) is stopped, unless it was there before.
        had_rabbit=$(dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -c 'install ok installed' || true)
        apt-get install -y -qq --no-install-recommends $(grep -v '^#' .ci/packages) >/dev/null
        if [ "$had_rabbit" = 0 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
                systemctl disable --now rabbitmq-server.service epmd.socket epmd.service >/dev/null 2>&1 || true
        fi
        # prometheus is there for promtool (the tests); its server, which the package
        # starts and enables, has no business running on a build host.
        if [ -e /lib/systemd/system/prometheus.service ] || [ -e /etc/init.d/prometheus ]; then
                systemctl disable --now prometheus >/dev/null 2>&1 || true
                service prometheus stop >/dev/null 2>&1 || true
                update-rc.d prometheus disable >/dev/null 2>&1 || true
        fi
fi
autoreconf -fi
