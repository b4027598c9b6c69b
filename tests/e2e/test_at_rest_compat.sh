#!/usr/bin/env bash
# test_at_rest_compat.sh — a store whose values were all sealed by the
# XChaCha20-Poly1305-only writer (tests/fixtures/store_before_aes_gcm,
# made with the binary of commit cab6164) opens with this build and reads
# exactly as that binary read it: the same digest, incident, ticket, stock
# and log, byte for byte (apart from output fields added since, each named
# in ADDED below). New values written into it (AES-256-GCM where the
# CPU has AES-NI) and the old ones then read side by side, and a rebuild
# from every stored op gives the same digest.
set -u
. "$(dirname "$0")/cli_lib.sh"

FX="$FM_SRC/tests/fixtures/store_before_aes_gcm"
cp -r "$FX" "$T/old"
chmod 700 "$T/old/node1" "$T/old/node1/data" "$T/old/org" "$T/old/org/dispatch"
chmod 600 "$T/old/node1/passphrase" "$T/old/node1/data/"{data.key,node.key,operators} \
    "$T/old/org/root.key" "$T/old/org/dispatch/key.1"
C=(-c "$T/old/node1/node.yaml")

# Fields that later builds added to an output; each is named with the change
# that added it, and nothing else may differ from what the old binary printed.
# "LIST[].FIELD" names a field added to each object of a list.
# county: directory boundaries (issue 14); operator: the console operator
# in each op (op format 2, issue 11); alarm_level: linkage plans (issue 12);
# measure: a kind's unit of measure from the directory (issue 12, materials)
ADDED='{"incident": ["county", "alarm_level", "timeline[].operator", "calls", "merged_into", "merged"], "ticket": ["history[].operator"], "resources": ["[].measure"]}'
same() { # same NAME ARGS...: the command's stdout equals expect/NAME.json
    local name=$1
    shift
    expect 0 "$FIELDMESH" "${C[@]}" "$@"
    [ "$OUT" = "$(cat "$FX/expect/$name.json")" ] && return 0
    # not byte for byte: the same apart from a field added since?
    printf '%s' "$OUT" | python3 -c '
import json, sys
name, added, path = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
new = json.load(sys.stdin)
old = json.load(open(path))
if isinstance(new, list) and isinstance(old, list):
    # a list of objects: "[].FIELD" may have been added to each
    for spec in added.get(name, []):
        if spec.startswith("[]."):
            for i, item in enumerate(new):
                was = old[i] if i < len(old) else {}
                if isinstance(item, dict) and spec[3:] in item and spec[3:] not in was:
                    del item[spec[3:]]
    sys.exit(0 if new == old else 1)
if not (isinstance(new, dict) and isinstance(old, dict)):
    sys.exit(1)
for spec in added.get(name, []):
    if "[]." not in spec:
        continue
    lst, field = spec.split("[].")
    for i, item in enumerate(new.get(lst) or []):
        was = (old.get(lst) or [])[i] if i < len(old.get(lst) or []) else {}
        if isinstance(item, dict) and field in item and field not in was:
            del item[field]
extra = set(new) - set(old)
if extra - set(added.get(name, [])):
    sys.exit(1)
rest = {k: v for k, v in new.items() if k not in extra}
if list(rest.items()) != list(old.items()):
    sys.exit(1)
' "$name" "$ADDED" "$FX/expect/$name.json" ||
        fail "$name differs from what the old binary printed:"$'\n'"$OUT"
}
check_old() {
    same digest digest --json
    same incident incident show dx4dfw5f-3 --json
    same ticket ticket show dx4dfw5f-7 --json
    same resources resource list --json
}
check_old
same log log --json

# write into the old store: new values sit beside the old ones
expect 0 "$FIELDMESH" "${C[@]}" incident report --category flood --lat 3 --lon 4 \
    --caller 5550999 --caller-name "New Caller" --desc "after the upgrade"
ID=$OUT
expect 0 "$FIELDMESH" "${C[@]}" incident note "$ID" "sealed by the new writer"
expect 0 "$FIELDMESH" "${C[@]}" incident note dx4dfw5f-3 "old incident, new note"
expect 0 "$FIELDMESH" "${C[@]}" incident show "$ID" --json
pyjson 'd["caller"] == "5550999" and d["caller_name"] == "New Caller" and len(d["timeline"]) == 2'
expect 0 "$FIELDMESH" "${C[@]}" incident show dx4dfw5f-3 --json
pyjson 'd["caller"] == "5550123" and d["notes"] == 6'
expect 0 "$FIELDMESH" "${C[@]}" digest
DIGEST=$OUT
# every op, old and new, read again from the store and applied afresh
expect 0 "$FIELDMESH" "${C[@]}" rebuild
contains "$OUT" "$DIGEST"
# no caller number in clear anywhere in the file
if grep -aq 5550999 "$T/old/node1/data/data.mdb"; then
    fail "a caller number in clear in data.mdb"
fi
echo "PASS"
