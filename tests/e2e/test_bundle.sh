#!/usr/bin/env bash
# test_bundle.sh — sneakernet. Ops exported from one node and imported at a
# node that was never connected to it give equal digests, both ways a
# bundle can be sealed: to the reader's own key (export --for its vector
# file) and to the organisation bundle key (export [--since DATE]). A
# tampered or truncated bundle is refused whole (exit 3, nothing stored),
# a bundle sealed to another node or made with a key we lack is refused,
# and importing a bundle twice stores nothing new. No daemon runs.
. "$(dirname "$0")/lib_gossip.sh"

testbed 4 line
# node1 works alone: incidents, notes, a unit, stock
for k in 1 2 3 4 5; do
    id=$(fm 1 incident report --category fire --lat 52.$k --lon 4.$k --desc "fire $k") || fail "report"
    fm 1 incident note "$id" "note on $k" >/dev/null || fail "note"
done
fm 1 unit register --name "Engine 7" --department fire --tier 1 --kind engine >/dev/null || fail "unit"
fm 1 resource add foam --depot east --qty 40 >/dev/null || fail "resource"
digests_equal 1 3 && fail "node3 already equals node1"

# 1. sealed to the reader: node3 writes its vector, node1 exports what it lacks
fm 3 bundle vector "$T/v3" 2>/dev/null || fail "bundle vector"
head -1 "$T/v3" | grep -qx "fieldmesh-vector 1" || fail "vector file header"
n=$(fm 1 bundle export "$T/b13" --for "$T/v3" 2>"$T/err") || fail "export --for: $(cat "$T/err")"
[ "$n" -ge 13 ] || fail "export --for wrote $n ops, expected >= 13"
# node2 cannot open a bundle sealed to node3
fm 2 bundle import "$T/b13" >/dev/null 2>"$T/err" && fail "node2 opened a bundle sealed to node3"
grep -q "sealed to another node" "$T/err" || fail "no clear error for a foreign bundle: $(cat "$T/err")"
# a tampered copy (one byte flipped in the ciphertext) is refused whole
cp "$T/b13" "$T/bad"
size=$(stat -c %s "$T/bad")
printf '\x5a' | dd of="$T/bad" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cmp -s "$T/b13" "$T/bad" && fail "tampering did not change the file"
before=$(digest 3)
fm 3 bundle import "$T/bad" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "tampered bundle: exit $rc, expected 3"
grep -q "tampered" "$T/err" || fail "no clear error for a tampered bundle: $(cat "$T/err")"
[ "$(digest 3)" = "$before" ] || fail "a tampered bundle changed node3"
# a truncated copy too
head -c $((size - 100)) "$T/b13" >"$T/short"
fm 3 bundle import "$T/short" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "truncated bundle: exit $rc, expected 3"
[ "$(digest 3)" = "$before" ] || fail "a truncated bundle changed node3"
# the real one
got=$(fm 3 bundle import "$T/b13" 2>"$T/err") || fail "import: $(cat "$T/err")"
[ "$got" = "$n" ] || fail "import stored $got of $n ops"
digests_equal 1 3 || fail "digests differ after the round trip"
[ "$(op_ids 1)" = "$(op_ids 3 | grep -v "^$(node_key 3) ")" ] || fail "node3 lacks ops of node1"
again=$(fm 3 bundle import "$T/b13" 2>/dev/null) || fail "second import"
[ "$again" = "0" ] || fail "a second import stored $again ops"
log "sealed-to-node bundle: $n ops, digests equal, tampered and truncated copies refused"

# 2. sealed to the organisation: any enrolled node with the bundle key opens it
fm 1 bundle export "$T/borg" >/dev/null 2>"$T/err" && fail "export without a bundle key worked"
grep -q "bundle key" "$T/err" || fail "no clear error without a bundle key: $(cat "$T/err")"
"$FIELDMESH" bundle keygen --org "$T/tb/org" >/dev/null 2>&1 || fail "bundle keygen"
[ "$(stat -c %a "$T/tb/org/bundle.key")" = "600" ] || fail "bundle key is not mode 600"
for i in 1 2; do
    install -m 600 "$T/tb/org/bundle.key" "$T/tb/node$i/data/bundle.key" || fail "install key"
done
m=$(fm 1 bundle export "$T/borg" 2>/dev/null) || fail "export to the org"
[ "$m" -ge "$n" ] || fail "org export wrote $m ops"
fm 4 bundle import "$T/borg" >/dev/null 2>"$T/err" && fail "node4 opened it without the key"
grep -q "lacks the organisation bundle key" "$T/err" || fail "no clear error: $(cat "$T/err")"
fm 2 bundle import "$T/borg" >/dev/null 2>"$T/err" || fail "org import: $(cat "$T/err")"
digests_equal 1 2 || fail "digests differ after the org bundle"
# --since: nothing is stamped tomorrow; everything since 2000
tomorrow=$(date -u -d tomorrow +%Y-%m-%d)
z=$(fm 1 bundle export "$T/bnone" --since "$tomorrow" 2>/dev/null) || fail "export --since"
[ "$z" = "0" ] || fail "export --since tomorrow wrote $z ops"
a=$(fm 1 bundle export "$T/ball" --since 2000-01-01 2>/dev/null) || fail "export --since 2000"
[ "$a" = "$m" ] || fail "export --since 2000 wrote $a ops, not $m"
fm 1 bundle export "$T/x" --since yesterday >/dev/null 2>&1 && fail "a bad date was accepted"
log "org bundle: $m ops, node without the key refused, --since works"

# 3. a bundle made by a node outside the organisation is refused
"$FIELDMESH" testbed "$T/other" --nodes 1 --base-port $((BASE + 10)) >/dev/null 2>&1 || fail "other org"
"$FIELDMESH" -c "$T/other/node1/node.yaml" incident report --category x --lat 1 --lon 1 >/dev/null ||
    fail "other org write"
# (it cannot seal to node3 with --for: node3's vector carries a certificate
# of our organisation, which the other one refuses; so its org bundle key)
"$FIELDMESH" -c "$T/other/node1/node.yaml" bundle export "$T/bforeign" --for "$T/v3" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "foreign node exported for our vector: exit $rc"
"$FIELDMESH" bundle keygen --org "$T/other/org" >/dev/null 2>&1 || fail "other keygen"
"$FIELDMESH" -c "$T/other/node1/node.yaml" bundle export "$T/bforeign" --key "$T/other/org/bundle.key" \
    >/dev/null 2>"$T/err" || fail "foreign export: $(cat "$T/err")"
before=$(digest 3)
fm 3 bundle import "$T/bforeign" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "foreign bundle: exit $rc, expected 3"
grep -q "not a node of this organisation" "$T/err" || fail "no clear error: $(cat "$T/err")"
[ "$(digest 3)" = "$before" ] || fail "a foreign bundle changed node3"
log "foreign bundle refused"

# 4. export --for only to a node of our organisation in good standing: the
# vector file is signed and carries its node's certificate
"$FIELDMESH" -c "$T/other/node1/node.yaml" bundle vector "$T/vevil" 2>/dev/null || fail "evil vector"
fm 1 bundle export "$T/x" --for "$T/vevil" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "export --for a foreign node's vector: exit $rc, expected 3"
grep -q "not a node of this organisation" "$T/err" || fail "no clear error: $(cat "$T/err")"
[ -e "$T/x" ] && fail "a bundle was written for a foreign node"
# an altered vector (the key line swapped for another node's) fails its signature
fm 4 bundle vector "$T/v4" 2>/dev/null || fail "vector 4"
sed "2s/.*/node $(node_key 2)/" "$T/v4" >"$T/v4bad"
fm 1 bundle export "$T/x" --for "$T/v4bad" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "export --for an altered vector: exit $rc, expected 3"
# refused ops are summarised per reason, and a bundle of which nothing
# could be stored exits 3: node4 revokes node1, then imports node1's ops
"$FIELDMESH" org revoke --org "$T/tb/org" --key "$(node_key 1)" --last-seq 0 --out "$T/rev1" \
    >/dev/null 2>&1 || fail "org revoke"
fm 2 bundle export "$T/b24" --for "$T/v4" >/dev/null 2>"$T/err" || fail "export for 4: $(cat "$T/err")"
fm 4 trust publish "$T/rev1" >/dev/null 2>&1 || fail "publish at node4"
rejected_ops() { fm 4 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rejected_ops"])'; }
before=$(rejected_ops) || fail "status --json at node4"
fm 4 bundle import "$T/b24" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "import of only refused ops: exit $rc, expected 3 ($(cat "$T/err"))"
# each refused op counts once in the store's total (status rejected_ops)
refused=$(sed -n 's/.*: \([0-9]*\) op(s) refused, none stored.*/\1/p' "$T/err")
[ -n "$refused" ] && [ "$refused" -ge 1 ] || fail "no refused count: $(cat "$T/err")"
after=$(rejected_ops) || fail "status --json at node4"
[ "$((after - before))" -eq "$refused" ] ||
    fail "status rejected_ops went $before -> $after for $refused refused op(s)"
grep -q "refused [0-9]* op(s): .*revoked" "$T/err" || fail "no per-reason summary: $(cat "$T/err")"
[ "$(grep -c "refused op" "$T/err")" = 0 ] || fail "refusals logged one per op: $(cat "$T/err")"
# a revoked reader is refused: node2 learns of the revocation of node4
"$FIELDMESH" org revoke --org "$T/tb/org" --key "$(node_key 4)" --last-seq 0 --out "$T/rev4" \
    >/dev/null 2>&1 || fail "org revoke 4"
fm 2 trust publish "$T/rev4" >/dev/null 2>&1 || fail "publish at node2"
fm 2 bundle export "$T/x" --for "$T/v4" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "export --for a revoked node: exit $rc, expected 3"
grep -q "is revoked" "$T/err" || fail "no clear error: $(cat "$T/err")"
# a missing file is a missing file
fm 4 bundle import "$T/nonexistent" >/dev/null 2>"$T/err" && fail "imported a missing file"
grep -q "cannot read" "$T/err" || fail "no clear error for a missing file: $(cat "$T/err")"
log "export --for refuses foreign, altered and revoked vectors; refusals summarised"

FAILED=0
echo "PASS: test_bundle"
