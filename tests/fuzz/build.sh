#!/bin/bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang from the same
# sources as libevodiag.a, into OUTDIR/bin/fuzz_<target>, and their seed corpora
# into OUTDIR/seeds/<target>/. The gcc build is not touched: clang objects go to
# OUTDIR/obj. Called by `make fuzz` with the flags configure found.
# Usage: build.sh SRCDIR OUTDIR CLANG --cflags FLAG... --libs LIB... --sources SOURCE...
#   (SOURCE: the library's .c/.h files, relative to SRCDIR; .h ones are ignored)
# Env: FUZZ_JOBS (parallel compiles, default 2)
set -eu
src=$1 out=$2 cc=$3
shift 3
cflags=() libs=() sources=() dst=none
for a in "$@"; do
        case $a in
        --cflags) dst=cflags ;;
        --libs) dst=libs ;;
        --sources) dst=sources ;;
        *) case $dst in cflags) cflags+=("$a") ;; libs) libs+=("$a") ;; sources) sources+=("$a") ;; *) exit 2 ;; esac ;;
        esac
done
cflags+=(-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined)
mkdir -p "$out/obj" "$out/bin"

# An object is rebuilt when its source or any header is newer.
newest_h=$(ls -t "$src"/lib/*.h "$src"/collectors/*.h "$src"/report/*.h "$src"/cmd/*.h "$src"/tests/fuzz/*.h config.h 2>/dev/null | head -1)
stale() { [ ! -f "$2" ] || [ "$1" -nt "$2" ] || [ "$newest_h" -nt "$2" ]; }

objs=()
rm -f "$out/obj/FAILED"
n=0
# The C++ sources (lib/toml.cc: toml++ behind a C interface) with clang++, C++17, the
# same defines and include paths, none of the C-only flags.
cxx=$(printf '%s' "$cc" | sed 's/clang/clang++/')
cxxflags=()
for f in "${cflags[@]}"; do
        case $f in -std=*|-W*) ;; *) cxxflags+=("$f") ;; esac
done
# (the C link of the harnesses has no C++ UBSan runtime: no vptr checks)
cxxflags+=(-std=c++17 -fno-sanitize=vptr)
for s in "${sources[@]}"; do
        case $s in *.c) comp=("$cc" "${cflags[@]}") ;; *.cc) comp=("$cxx" "${cxxflags[@]}") ;; *) continue ;; esac
        o="$out/obj/$(printf '%s' "${s%.*}" | tr / _).o"
        objs+=("$o")
        stale "$src/$s" "$o" || continue
        [ $n -eq 0 ] && echo "  CLANG    library objects (-fsanitize=fuzzer-no-link,address,undefined)"
        n=$((n + 1))
        while [ "$(jobs -rp | wc -l)" -ge "${FUZZ_JOBS:-2}" ]; do wait -n || true; done
        { "${comp[@]}" -fsanitize=fuzzer-no-link -c "$src/$s" -o "$o" || { rm -f "$o"; touch "$out/obj/FAILED"; }; } &
done
wait
[ ! -f "$out/obj/FAILED" ] || { echo "build.sh: compiling the library with $cc failed" >&2; exit 1; }
if [ $n -gt 0 ] || [ ! -f "$out/libevodiag-fuzz.a" ]; then
        rm -f "$out/libevodiag-fuzz.a"
        ar rcs "$out/libevodiag-fuzz.a" "${objs[@]}"
fi

for h in "$src"/tests/fuzz/fuzz_*.c; do
        t=$(basename "$h" .c)
        b="$out/bin/$t"
        if stale "$h" "$b" || [ "$out/libevodiag-fuzz.a" -nt "$b" ]; then
                echo "  FUZZ     $t"
                "$cc" "${cflags[@]}" -fsanitize=fuzzer "$h" "$out/libevodiag-fuzz.a" "${libs[@]}" -o "$b"
        fi
done
sh "$src/tests/fuzz/seeds.sh" "$src" "$out/seeds"
