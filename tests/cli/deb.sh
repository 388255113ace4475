#!/bin/bash
# The Debian package (issue 19). From a copy of the source tree (git's files, or the
# unpacked tarball under distcheck: the tree under test is never written to):
# `dpkg-buildpackage -us -uc` builds the source and binary packages, lintian reports no
# error or warning beyond debian/'s overrides, and the .deb holds the binary,
# the man pages, the completions, the templates, the example config and whatever
# contrib/ units and rules the Makefile installs; libcurl (dlopen()ed) is a Recommends.
# Then, with mmdebstrap and Debian's archive reachable, the README's
# `apt install ./evodiag_*.deb` runs in a fresh minimal chroot of the host's release
# (built with mmdebstrap in a private mount namespace: nothing is mounted on the host,
# nothing is cached outside the test's temp dir), where `evodiag version` and
# `evodiag check` run with their own /proc, and `apt purge` removes every file.
# Runs as root only (as CI does); without root, the tools or the archive, each assertion
# that cannot run is one skip.
# Slow by nature (a release build, lintian, a chroot from the network): the timings are
# printed as TAP comments.
. "$TOP_SRCDIR/tests/lib/tap.sh"
# make check's MAKEFLAGS carry its jobserver and its TESTS=... into every make below.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
secs() { echo $(($(date +%s) - $1)); }

if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
        t_skip_rest "dpkg-buildpackage and debhelper are needed (Debian packages dpkg-dev, debhelper)"
        t_done; exit
fi
# As root, as CI runs: the package build's unit tests need it (debian/rules skips them
# otherwise), and so do the chroot and apt.
if [ "$(id -u)" != 0 ]; then
        t_skip_rest "needs root (the package build's unit tests, a chroot and apt)"
        t_done; exit
fi

# ---- a copy of the tree -------------------------------------------------------------
SRC="$T_TMP/pkg/evodiag"
# What a build in the tree would change: debian/'s files and the tracked ones (other tests
# running meanwhile may add untracked files; this test must not be flaky because of them).
tree_state() {
        ls -A "$TOP_SRCDIR/debian"
        [ "$copied" != git ] || git -C "$top" status --porcelain --untracked-files=no
}
mkdir -p "$SRC"
top=$(git -C "$TOP_SRCDIR" rev-parse --show-toplevel 2>/dev/null || true)
here=$(cd "$TOP_SRCDIR" && pwd -P)
if [ -n "$top" ] && { [ "$here" = "$(cd "$top" && pwd -P)" ] || [ "$here" = "$(cd "$top" && pwd -P)/_build/src" ]; }; then
        # A git work tree, or tests/run-all's copy of one in _build/src (configured and
        # built in place): git's tracked and new unignored files, as run-all copies them.
        copied=git
        files=$(cd "$top" && git ls-files --cached --others --exclude-standard)
        (cd "$TOP_SRCDIR" && printf '%s\n' "$files" | while IFS= read -r f; do
                [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done | xargs -0 -r cp --parents -d -t "$SRC")
else
        # The unpacked tarball (make distcheck: read-only, pristine, maybe inside a clone's
        # _build), or one configured in place.
        copied=tar
        tar -C "$TOP_SRCDIR" --exclude=./_build -cf - . | tar -C "$SRC" -xf -
        chmod -R u+w "$SRC"
        [ ! -f "$SRC/Makefile" ] || make -s -C "$SRC" distclean >/dev/null 2>&1
fi
before=$(tree_state)

# ---- debian/ is distributed (make dist) and consistent with configure.ac ----------------
missing=""
for f in $(cd "$SRC" && find debian -type f | sort); do
        grep -qE "(^|[[:space:]])$f([[:space:]\\]|$)" "$SRC/Makefile.am" || missing="$missing $f"
done
t_is "$missing" "" "every file of debian/ is in Makefile.am's EXTRA_DIST (make dist ships it)"
ac_version=$(sed -n 's/^AC_INIT(\[evodiag\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
deb_version=$(cd "$SRC" && dpkg-parsechangelog -S Version)
t_is "$deb_version" "$ac_version" "debian/changelog's version is configure.ac's ($ac_version)"

# ---- build ------------------------------------------------------------------------------
deps=$(cd "$SRC" && dpkg-checkbuilddeps 2>&1)
t_is "$deps" "" "debian/control's Build-Depends are installed (.ci/packages has them)"
t0=$(date +%s)
(cd "$SRC" && DEB_BUILD_OPTIONS="parallel=$(nproc)" timeout -k 10 3600 \
        dpkg-buildpackage -us -uc >"$T_TMP/build.log" 2>&1)
rc=$?
echo "# dpkg-buildpackage -us -uc: $(secs "$t0") s"
t_is "$rc" 0 "dpkg-buildpackage -us -uc builds the source and binary packages"
[ "$rc" = 0 ] || tail -40 "$T_TMP/build.log" | sed 's/^/#   /'
DEB=$(ls "$T_TMP"/pkg/evodiag_*.deb 2>/dev/null | head -n 1)
CHANGES=$(ls "$T_TMP"/pkg/evodiag_*.changes 2>/dev/null | head -n 1)
t_like "$(grep -E '^# (PASS|FAIL): ' "$T_TMP/build.log" | tr -s ' ' | paste -sd ' ')" '^# PASS: [1-9][0-9]* # FAIL: 0$' \
        "the package build ran the unit tests (dh_auto_test), and they passed"
t_is "$(tree_state)" "$before" "the source tree under test is left as it was (debian/, tracked files)"

if [ -z "$DEB" ]; then
        t_skip_rest "no .deb was built"
        t_done; exit
fi
echo "# $(basename "$DEB"): $(stat -c %s "$DEB") bytes"

# ---- lintian ----------------------------------------------------------------------------
if command -v lintian >/dev/null; then
        t0=$(date +%s)
        lint=$(timeout -k 10 900 lintian --no-cfg --fail-on error,warning "$CHANGES" 2>&1)
        rc=$?
        echo "# lintian: $(secs "$t0") s"
        t_is "$rc $(printf '%s\n' "$lint" | grep -E '^[EW]: ')" "0 " \
                "lintian on the .changes (source, .deb): no error or warning beyond the overrides"
else
        t_skip "lintian is needed (Debian package lintian)"
fi

# ---- contents and fields ----------------------------------------------------------------
contents=$(dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's,^\.,,')
echo "$contents" >"$T_TMP/contents"
has() { grep -qxE "$1" "$T_TMP/contents" && echo yes || echo "no: $1"; }
t_is "$(has /usr/bin/evodiag)" yes "the .deb has /usr/bin/evodiag"
t_is "$(has '/usr/share/man/man1/evodiag\.1\.gz')" yes "the .deb has the man page evodiag(1)"
missing=""
for m in $(cd "$SRC" && find man -maxdepth 1 -type f -name '*.[1-8]' -printf '%f\n' | sort); do
        grep -qxE "/usr/share/man/man${m##*.}/${m//./\\.}\.gz" "$T_TMP/contents" || missing="$missing $m"
done
t_is "$missing" "" "the .deb has every man page the build made"
t_is "$(has /usr/share/bash-completion/completions/evodiag)" yes "the .deb has the bash completion"
t_is "$(has /usr/share/zsh/vendor-completions/_evodiag)" yes "the .deb has the zsh completion"
t_is "$(has /usr/share/fish/vendor_completions\.d/evodiag\.fish)" yes "the .deb has the fish completion"
missing=""
for f in $(cd "$SRC" && ls templates); do
        grep -qx "/usr/share/evodiag/templates/$f" "$T_TMP/contents" || missing="$missing $f"
done
t_is "$missing" "" "the .deb has every issue template in /usr/share/evodiag/templates"
t_is "$(has '/usr/share/doc/evodiag/examples/evodiag\.conf\.example')" yes \
        "the example config is in /usr/share/doc/evodiag/examples"
t_unlike "$contents" '^/etc/' "no conffile in /etc: evodiag runs on built-in defaults"
# Whatever make install installs (units, rules, playbooks as they come) is in the package:
# the same build tree, installed again by hand, file by file (dh_compress adds .gz to the
# man pages; debian/rules moves the example config).
(cd "$SRC" && make -s install DESTDIR="$T_TMP/inst" >"$T_TMP/install.log" 2>&1)
t_is "$(find "$T_TMP/inst" ! -type d | wc -l | awk '$1 > 10 {print "many"}')" many "make install DESTDIR= of the build tree installs files"
missing=""
for f in $(cd "$T_TMP/inst" && find . ! -type d | sed 's,^\.,,' | sort); do
        case $f in /etc/evodiag/evodiag.conf.example) f=/usr/share/doc/evodiag/examples/evodiag.conf.example ;; esac
        grep -qxF -e "$f" -e "$f.gz" "$T_TMP/contents" || missing="$missing $f"
done
t_is "$missing" "" "the .deb has every file make install installs"
# hardening=+all: PIE, full RELRO (GNU_RELRO + BIND_NOW), stack protector, fortified calls.
dpkg-deb -x "$DEB" "$T_TMP/x"
elf=$(readelf -h -l -d --dyn-syms -W "$T_TMP/x/usr/bin/evodiag" 2>&1)
t_is "$(for w in 'Type: +DYN' GNU_RELRO 'FLAGS.*BIND_NOW' __stack_chk_fail '__[a-z]+printf_chk'; do
        printf '%s' "$elf" | grep -Eq -- "$w" || printf '%s ' "$w"; done)" "" \
        "the packaged binary is hardened (PIE, RELRO, BIND_NOW, stack protector, fortify)"
t_like "$(dpkg-deb -f "$DEB" Recommends)" '(^|, )libcurl4($|[ ,])' \
        "Recommends: libcurl4 (dlopen()ed for HTTP APIs and uploads, so shlibs cannot see it)"
t_unlike "$(dpkg-deb -f "$DEB" Depends)" 'curl|nvidia' "Depends has neither libcurl nor NVML (both optional)"
t_like "$(dpkg-deb -f "$DEB" Depends)" 'libc6 .*libproc2-0' "Depends comes from shlibs (libc6, libproc2-0, ...)"

# ---- apt install ./evodiag_*.deb in a fresh chroot -------------------------------------
if ! command -v mmdebstrap >/dev/null || ! command -v unshare >/dev/null; then
        t_skip_rest "mmdebstrap and unshare are needed (Debian packages mmdebstrap, util-linux)"; t_done; exit
fi
mkdir -p "$T_TMP/ns-proc"
if ! timeout 30 unshare --mount --pid --fork --mount-proc="$T_TMP/ns-proc" true 2>/dev/null; then
        t_skip_rest "no mount and pid namespaces here (a container without CAP_SYS_ADMIN?)"; t_done; exit
fi
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
MIRROR=${EVODIAG_DEB_MIRROR:-http://deb.debian.org/debian}
if [ -z "$suite" ] || ! timeout 30 curl -sfI -o /dev/null "$MIRROR/dists/$suite/InRelease"; then
        t_skip_rest "Debian's archive ($MIRROR, ${suite:-no release codename}) is not reachable"; t_done; exit
fi
ROOT="$T_TMP/root"
# mmdebstrap without a mirror argument adds -updates and -security for a stable suite.
t0=$(date +%s)
marg=()
[ -n "${EVODIAG_DEB_MIRROR:-}" ] && marg=("$MIRROR")
timeout -k 10 1800 unshare --mount --fork mmdebstrap --quiet --mode=root --variant=apt \
        "$suite" "$ROOT" "${marg[@]}" >"$T_TMP/mmdebstrap.log" 2>&1
rc=$?
echo "# mmdebstrap --variant=apt $suite: $(secs "$t0") s"
t_is "$rc" 0 "mmdebstrap makes a minimal $suite chroot"
[ "$rc" = 0 ] || tail -20 "$T_TMP/mmdebstrap.log" | sed 's/^/#   /'
# A command in the chroot, in its own mount and pid namespaces with its own /proc.
in_root() {
        timeout -k 10 "$1" unshare --mount --pid --fork --mount-proc="$ROOT/proc" \
                chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root \
                ${http_proxy:+http_proxy="$http_proxy"} "${@:2}"
}
cp "$DEB" "$ROOT/tmp/" 2>/dev/null
t0=$(date +%s)
in_root 900 sh -c "cd /tmp && apt-get update -qq && apt install -y -q ./$(basename "$DEB")" >"$T_TMP/apt.log" 2>&1
rc=$?
echo "# apt install ./$(basename "$DEB") in the chroot: $(secs "$t0") s"
t_is "$rc" 0 "apt install ./$(basename "$DEB") in a fresh $suite chroot"
[ "$rc" = 0 ] || tail -20 "$T_TMP/apt.log" | sed 's/^/#   /'
t_like "$(in_root 60 dpkg-query -W -f='${Status}' libcurl4 2>&1)" 'install ok installed' \
        "apt installed the recommended libcurl4"
t_like "$(in_root 60 evodiag version 2>&1)" "$ac_version" "evodiag version runs in the chroot"
out=$(in_root 300 evodiag check 2>&1)
rc=$?
t_like "$rc" '^[0-3]$' "evodiag check in the chroot exits with a verdict (0-3), not a crash"
t_like "$out" '(ok|warn|crit|unknown).* in [0-9.]+ m?s — exit [0-3]' "evodiag check in the chroot prints its summary line"
t_is "$(printf '%s\n' "$out" | sed -n 's/.* — exit \([0-9]\)$/\1/p' | tail -n 1)" "$rc" "... and exits with the code it names"
json=$(in_root 120 evodiag check --json --only shm,fds 2>/dev/null)
t_is "$(printf '%s' "$json" | jq -r '[.collectors[] | select(.status != "not_selected" and (.findings | length) > 0) | .name] | sort | join(",")' 2>&1)" "fds,shm" \
        "evodiag check --json --only shm,fds in the chroot: both collectors ran and found something"
t_like "$(in_root 60 ls /usr/share/evodiag/templates 2>&1)" 'general\.md' "the templates are installed in the chroot"
# What the units would have written (StateDirectory=evodiag) goes with a purge too.
mkdir -p "$ROOT/var/lib/evodiag/watch" && : >"$ROOT/var/lib/evodiag/watch/rec"
in_root 300 apt-get purge -y -q evodiag >"$T_TMP/purge.log" 2>&1
t_is "$(ls -d "$ROOT/usr/bin/evodiag" "$ROOT/usr/share/evodiag" "$ROOT/usr/share/doc/evodiag" "$ROOT/var/lib/evodiag" 2>/dev/null)" "" \
        "apt purge evodiag removes its files and /var/lib/evodiag"
t_done
