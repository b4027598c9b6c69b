#!/usr/bin/env bash
# test_cli_basics.sh — the command line's contract, independent of any
# store contents: --help on every command (exit 0, usage on stdout), exit 2
# with a usage line for bad arguments, exit 78 with file:line:column for a
# bad config, and the message that says how to create a missing config.
set -u
. "$(dirname "$0")/cli_lib.sh"

# ---- help and version ----
expect 0 "$FIELDMESH" --help
contains "$OUT" "usage: fieldmesh"
contains "$OUT" "incident report"
expect 0 "$FIELDMESH" -h
expect 0 "$FIELDMESH" help
expect 0 "$FIELDMESH" --version
contains "$OUT" "fieldmesh "

commands=(
    "init" "keygen" "org init" "org enroll" "org revoke" "trust publish"
    "incident report" "incident list" "incident show" "incident note" "incident status"
    "unit register" "unit list" "unit show" "unit status" "unit position"
    "resource add" "resource consume" "resource restock" "resource list"
    "log" "digest" "rebuild" "testbed"
)
for c in "${commands[@]}"; do
    # shellcheck disable=SC2086
    expect 0 "$FIELDMESH" $c --help
    contains "$OUT" "usage: fieldmesh [-c CONF] $c" "help of '$c'"
    [ -z "$ERR" ] || fail "help of '$c' wrote to stderr: $ERR"
    # shellcheck disable=SC2086
    expect 0 "$FIELDMESH" help $c
    contains "$OUT" "usage: fieldmesh [-c CONF] $c" "'help $c'"
done
# every command the global help lists has a working --help (commands added
# later, e.g. by the gossip work, are covered too), and every command above
# is listed
expect 0 "$FIELDMESH" --help
listed=$(printf '%s\n' "$OUT" | sed -n '/^commands:/,/^$/p' | grep '^  [a-z]' |
    sed 's/^  \([a-z-]*\( [a-z-]*\)\?\)  .*/\1/; s/ *$//')
[ -n "$listed" ] || fail "global help lists no commands"
while IFS= read -r c; do
    # shellcheck disable=SC2086
    expect 0 "$FIELDMESH" $c --help
    contains "$OUT" "usage: fieldmesh [-c CONF] $c" "help of listed command '$c'"
done <<<"$listed"
for c in "${commands[@]}"; do
    printf '%s\n' "$listed" | grep -qx "$c" || fail "global help does not list '$c'"
done
for g in org trust incident unit resource; do
    expect 0 "$FIELDMESH" "$g" --help
    contains "$OUT" "usage: fieldmesh [-c CONF] $g SUBCOMMAND"
done

# ---- usage errors: exit 2, a usage line on stderr, nothing on stdout ----
usage_error() {
    expect 2 "$FIELDMESH" "$@"
    contains "$ERR" "usage: fieldmesh" "stderr of: $*"
    [ -z "$OUT" ] || fail "usage error printed to stdout: $OUT ($*)"
}
usage_error
usage_error --bogus
usage_error -c
usage_error --log-level loud incident list
usage_error frobnicate
usage_error incident
usage_error incident frobnicate
usage_error incident report --category fire --lat 1 --lon 2 --bogus
usage_error incident report --category fire --lat 1 --lon
usage_error incident report --category fire --lat 1 --lon 2 --lat 3
usage_error incident report --lat 1 --lon 2
usage_error incident report --category fire --lon 2
usage_error incident report --category "$(printf 'x%.0s' $(seq 1 70))" --lat 1 --lon 2
usage_error incident report --category "$(printf 'fire\001')" --lat 1 --lon 2
usage_error incident report --category fire --lat 90.5 --lon 2
usage_error incident report --category fire --lat -91 --lon 2
usage_error incident report --category fire --lat 1 --lon 180.01
usage_error incident report --category fire --lat 1 --lon abc
usage_error incident report --category fire --lat 1e999 --lon 2
usage_error incident report --category fire --lat 1 --lon 2 --priority 0
usage_error incident report --category fire --lat 1 --lon 2 --priority 6
usage_error incident report --category fire --lat 1 --lon 2 --priority two
usage_error incident report --category fire --lat 1 --lon 2 --desc "$(printf 'a\tb')"
usage_error incident report --category fire --lat 1 --lon 2 --caller 0123456789012345678901234567890123
usage_error incident report --category fire --lat 1 --lon 2 extra
usage_error incident list --status bogus
usage_error incident list --json=yes
usage_error incident show
usage_error incident show a b
usage_error incident note abc
usage_error incident status abc
usage_error incident status abc burning
usage_error unit register --name a --department b --tier 4 --kind patrol
usage_error unit register --name a --department b --tier 1
usage_error unit register --name a --department b --tier 1 --kind patrol --capabilities a,,b
usage_error unit status abc busy
usage_error unit position abc 91 0
usage_error unit position abc 0
usage_error resource add pump --depot d
usage_error resource add pump --depot d --qty -1
usage_error resource add pump --depot d --qty 1000000000001
usage_error resource consume abc 0
usage_error resource consume abc x
usage_error log --author notakey
usage_error digest --verbose
usage_error org enroll --org d --key k --name n --role r --out f
usage_error org enroll --org d --name n --role county --out f
usage_error org revoke --org d --key aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa --last-seq x --out f
# a revocation must name the head it keeps: --head, or -c to read it
usage_error org revoke --org d --key aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa --last-seq 3 --out f
contains "$ERR" "--head HASH is required"
usage_error org revoke --org d --key aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa --last-seq 3 --head zz --out f
usage_error testbed "$T/tb" --nodes 0
usage_error testbed "$T/tb" --nodes 2 --topology star
usage_error testbed "$T/tb" --nodes 2 --roles centre
usage_error testbed "$T/tb" --nodes 2 --base-port 65535
usage_error init --role chief --org-key aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
usage_error init --org-key nope
[ ! -e "$T/tb" ] || fail "a refused testbed created its directory"

# ---- a missing config says how to create one (exit 78) ----
expect 78 "$FIELDMESH" incident list
contains "$ERR" "no configuration found"
contains "$ERR" "fieldmesh init"
contains "$ERR" "$HOME/.config/fieldmesh/node.yaml"
export XDG_CONFIG_HOME="$T/xdg"
expect 78 "$FIELDMESH" digest
contains "$ERR" "$T/xdg/fieldmesh/node.yaml"
unset XDG_CONFIG_HOME
FIELDMESH_CONFIG="$T/env.yaml" expect 78 "$FIELDMESH" unit list
contains "$ERR" "$T/env.yaml"
contains "$ERR" "fieldmesh init"
expect 78 "$FIELDMESH" -c "$T/none.yaml" resource list
contains "$ERR" "fieldmesh -c $T/none.yaml init"

# ---- a bad config: exit 78 with file:line:column ----
orgkey=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
bad_config() { # where message content
    printf '%s' "$3" >"$T/bad.yaml"
    expect 78 "$FIELDMESH" -c "$T/bad.yaml" incident list
    contains "$ERR" "$T/bad.yaml:$1: $2" "stderr for a bad config"
}
bad_config 3:3 "unknown key 'rolle' in section 'node'" \
    $'node:\n  name: x\n  rolle: county\n'
bad_config 3:8 "mapping values are not allowed" \
    $'node:\n  name: n1\n   role: county\n'
bad_config 6:16 "expected an integer for 'map_size_mb'" \
    $'node:\n  name: x\n  role: county\nstorage:\n  data_dir: d\n  map_size_mb: big\n'
bad_config 2:3 "missing required key 'role' in section 'node'" \
    $'node:\n  name: x\nstorage: {data_dir: d}\ntrust: {org_key: '$orgkey$'}\n'
bad_config 1:1 "missing required section 'trust'" \
    $'node: {name: x, role: county}\nstorage: {data_dir: d}\n'
bad_config 3:12 "bad key text for 'org_key'" \
    $'node: {name: x, role: county}\ntrust:\n  org_key: abc\n'
bad_config 4:19 "'batch_ops' must be between 1 and 65536" \
    $'node: {name: x, role: county}\nstorage: {data_dir: d}\ngossip:\n  batch_ops:      0\n'
# the same for commands that only need the config, and with $FIELDMESH_CONFIG
FIELDMESH_CONFIG="$T/bad.yaml" expect 78 "$FIELDMESH" keygen
contains "$ERR" "$T/bad.yaml:4:19:"

# ---- init writes a working config at $FIELDMESH_CONFIG and never overwrites ----
export FIELDMESH_CONFIG="$T/cfg/node.yaml"
expect 0 "$FIELDMESH" init --org-key "$orgkey" --name basics --role vehicle
[ "$OUT" = "$T/cfg/node.yaml" ] || fail "init should print the path it wrote, got: $OUT"
[ -f "$T/cfg/node.yaml" ] || fail "init did not write \$FIELDMESH_CONFIG"
# the store is sealed (docs/security.md): no daemon, no passphrase -> locked
expect 78 "$FIELDMESH" incident list
contains "$ERR" "locked"
contains "$ERR" "has no keys yet"
[ ! -e "$T/cfg/data/data.mdb" ] || fail "a locked read created a store"
printf 'basics passphrase\n' >"$T/pass" && chmod 600 "$T/pass"
export FIELDMESH_PASSPHRASE_FILE="$T/pass"
expect 0 "$FIELDMESH" incident list
expect 0 "$FIELDMESH" incident list --json
pyjson 'd == []'
expect 1 "$FIELDMESH" init --org-key "$orgkey"
contains "$ERR" "already exists"
unset FIELDMESH_CONFIG
# default location: ~/.config/fieldmesh/node.yaml, data under ~/.local/share
expect 0 "$FIELDMESH" init --org-key "$orgkey"
[ -f "$HOME/.config/fieldmesh/node.yaml" ] || fail "init did not use ~/.config/fieldmesh"
expect 0 "$FIELDMESH" digest
[ -d "$HOME/.local/share/fieldmesh" ] || fail "default data dir not under ~/.local/share"
# explicit path and -c agree
expect 0 "$FIELDMESH" init --org-key "$orgkey" --data-dir "$T/elsewhere" "$T/p.yaml"
expect 0 "$FIELDMESH" -c "$T/p.yaml" digest
[ -d "$T/elsewhere" ] || fail "--data-dir not used"
expect 2 "$FIELDMESH" -c "$T/q.yaml" init --org-key "$orgkey" "$T/other.yaml"

echo "ok: cli basics"
