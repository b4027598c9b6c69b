#!/usr/bin/env bash
# test_man.sh — the man pages (docs/man/*.scd, built by scdoc into
# <build>/man/) are complete and render: every command `fieldmesh --help`
# lists has an entry in fieldmesh(1), every config key docs/config.md
# lists is in fieldmesh.yaml(5), every daemon option is in fieldmeshd(8),
# and `man -l` formats each page without a warning.
set -u
. "$(dirname "$0")/cli_lib.sh"

MAN_DIR="$(dirname "$FIELDMESH")/man"
if [ ! -f "$MAN_DIR/fieldmesh.1" ]; then
    echo "skip: no man pages in $MAN_DIR (scdoc was not found at configure time)" >&2
    exit 77
fi
command -v man >/dev/null 2>&1 || { echo "skip: man (man-db) is not installed" >&2; exit 77; }
export MANWIDTH=200 LC_ALL=C.UTF-8

# render PAGE: the formatted text (no bold/underline) in $PAGE_TEXT.
render() {
    local warn
    warn=$(man --warnings -l "$MAN_DIR/$1" 2>&1 >/dev/null)
    [ -z "$warn" ] || fail "man -l $1 warns: $warn"
    PAGE_TEXT=$(man -l "$MAN_DIR/$1" 2>/dev/null | col -b)
    [ -n "$PAGE_TEXT" ] || fail "man -l $1 printed nothing"
    contains "$PAGE_TEXT" "NAME" "$1"
    contains "$PAGE_TEXT" "SEE ALSO" "$1"
}

for page in fieldmesh.1 fieldmeshd.8 fieldmesh.yaml.5 fieldmesh-directory.5; do
    [ -f "$MAN_DIR/$page" ] || fail "man page $page was not built"
    [ -f "$MAN_DIR/$page.gz" ] || fail "compressed man page $page.gz was not built"
    render "$page"
done

# Every command of `fieldmesh --help` starts an entry in fieldmesh(1).
render fieldmesh.1
expect 0 "$FIELDMESH" --help
# `fieldmesh --help` prints each command as "  %-21s summary", a longer
# name followed by two spaces: the words end at the first double space.
cmds=$(printf '%s\n' "$OUT" | sed -n '/^commands:/,/^$/p' | sed '1d;/^$/d' |
       sed -E 's/^  ([a-z-]+( [a-z-]+)?)  .*/\1/')
n=0
while IFS= read -r words; do
    [ -n "$words" ] || continue
    printf '%s\n' "$PAGE_TEXT" | grep -Eq "^ {7}$words( |\$)" ||
        fail "fieldmesh(1) has no entry for the command '$words'"
    n=$((n + 1))
done <<<"$cmds"
[ "$n" -ge 50 ] || fail "found only $n commands in fieldmesh --help"

# Every key of docs/config.md's table is explained in fieldmesh.yaml(5).
render fieldmesh.yaml.5
keys=$(grep -oE '^\| `[a-z_]+\.[a-z_]+(\[\]\.[a-z_]+)?`' "$FM_SRC/docs/config.md" |
       sed -E 's/.*[.`]([a-z_]+)`$/\1/' | sort -u)
[ "$(printf '%s\n' "$keys" | wc -l)" -ge 15 ] || fail "could not read the keys of docs/config.md"
for k in $keys; do
    printf '%s\n' "$PAGE_TEXT" | grep -Eq "(^|[^a-z_])$k([^a-z_]|\$)" ||
        fail "fieldmesh.yaml(5) does not explain the key '$k'"
done

# The daemon's options are in fieldmeshd(8).
render fieldmeshd.8
expect 0 "$FIELDMESHD" --help
for opt in $(printf '%s\n' "$OUT" | grep -oE -- '--?[a-z][a-z-]*' | sort -u); do
    contains "$PAGE_TEXT" "$opt" "fieldmeshd(8)"
done
echo "ok: 4 man pages render; $n commands and $(printf '%s\n' "$keys" | wc -l) config keys documented"
