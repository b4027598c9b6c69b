#!/usr/bin/env bash
# test_layers.sh — calls run one way (docs/architecture.md): no object file
# of a lower room names a function or variable that a higher room defines.
# Read from the built objects with nm, so it checks what the linker links,
# not what a header happens to declare:
#   crypto/ (and crypto/base/) -> nothing of ours above it
#   sync/                       -> not node/ or cli/
#   node/config/                -> not replica, model, workflow, gps, daemon, console
#   node/replica/               -> not model, workflow, gps, daemon, console
#   node/model/                 -> not workflow, gps, daemon, console
#   node/workflow/              -> not gps, daemon, console
# and, from the sources, that no file of a room includes a header of a
# room above it (a header can carry a type or an inline function up the
# wrong way without any symbol showing in nm).
set -u
: "${FIELDMESH:?set FIELDMESH to the fieldmesh binary}"
command -v nm >/dev/null 2>&1 || { echo "skip: nm is not installed"; exit 77; }
B=$(cd "$(dirname "$FIELDMESH")" && pwd)/CMakeFiles
[ -d "$B/fm_node.dir/node/replica" ] || { echo "skip: no object files under $B"; exit 77; }

objs() { # objs ROOM...: the object files of those rooms
    local r
    for r in "$@"; do
        case $r in
        crypto) ls "$B"/fm_crypto.dir/crypto/*.o "$B"/fm_base.dir/crypto/base/*.o ;;
        sync) ls "$B"/fm_sync.dir/sync/*.o ;;
        console) ls "$B"/fm_console.dir/node/console/*.o ;;
        formats) ls "$B"/fm_formats.dir/node/formats/*.o ;;
        cli) ls "$B"/fm_cli.dir/cli/*.o ;;
        *) ls "$B"/fm_node.dir/node/"$r"/*.o ;;
        esac
    done 2>/dev/null
}
defined() { for o in $(objs "$@"); do nm --defined-only "$o" | awk '$2 ~ /[TDBR]/ {print $3}'; done | sort -u; }

bad=0 checked=0
check() { # check ROOM ABOVE...: ROOM's objects name nothing ABOVE defines
    local room=$1 o hits
    shift
    defined "$@" >"$T_ABOVE"
    for o in $(objs "$room"); do
        checked=$((checked + 1))
        hits=$(nm -u "$o" | awk '{print $2}' | sort -u | comm -12 - "$T_ABOVE")
        if [ -n "$hits" ]; then
            echo "FAIL: $room/$(basename "$o" .c.o).c calls up into $*: $(echo $hits)"
            bad=$((bad + 1))
        fi
    done
}
T_ABOVE=$(mktemp)
trap 'rm -f "$T_ABOVE"' EXIT
check crypto sync config replica model workflow gps daemon console formats cli
check sync config replica model workflow gps daemon console formats cli
check config replica model workflow gps daemon console cli
check replica model workflow gps daemon console cli
check model workflow gps daemon console cli
check workflow gps daemon console cli

# ---- includes, from the sources next to this script ----
SRC=$(cd "$(dirname "$0")/../.." && pwd)
includes=0
check_includes() { # check_includes ROOM_DIR ABOVE_DIR...: no #include "..." into ABOVE
    local room=$1 f inc dir target a
    shift
    for f in "$SRC/$room"/*.c "$SRC/$room"/*.h; do
        [ -f "$f" ] || continue
        dir=$(dirname "$f")
        while IFS= read -r inc; do
            includes=$((includes + 1))
            target=$(realpath -m "$dir/$inc")
            for a in "$@"; do
                case $target in
                "$SRC/$a"/*)
                    echo "FAIL: $room/$(basename "$f") includes $inc (from $a/)"
                    bad=$((bad + 1)) ;;
                esac
            done
        done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    done
}
check_includes crypto sync node cli
check_includes crypto/base sync node cli
check_includes sync node cli
check_includes node/replica node/model node/workflow node/gps node/daemon node/console cli
check_includes node/model node/workflow node/gps node/daemon node/console cli
check_includes node/workflow node/gps node/daemon node/console cli
[ -d "$SRC/node/replica" ] && [ "$includes" -gt 50 ] ||
    { echo "FAIL: only $includes includes read under $SRC"; exit 1; }

[ "$checked" -gt 60 ] || { echo "FAIL: only $checked object files found under $B"; exit 1; }
[ "$bad" = 0 ] || exit 1
echo "PASS: $checked object files and $includes includes, no call or include runs up"
