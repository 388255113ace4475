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
        apt-get install -y -qq --no-install-recommends $(grep -v '^#' .ci/packages) >/dev/null
fi
autoreconf -fi
