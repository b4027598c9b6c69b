#!/usr/bin/env bash
# test_trust.sh — the organisation's keys through the real binary: org
# init, enroll (with the 8-character tag rule), a node refusing a
# group-readable secret key, revocation published into the log, and a
# certificate from another organisation refused (exit 3).
set -u
. "$(dirname "$0")/cli_lib.sh"

# ---- org init ----
expect 0 "$FIELDMESH" org init "$T/org"
ORG=$OUT
[[ "$ORG" =~ ^[a-z2-7]{52}$ ]] || fail "org init printed '$ORG'"
[ "$(stat -c %a "$T/org/root.key")" = 600 ] || fail "root.key is not mode 0600"
[ "$(cat "$T/org/root.key.pub")" = "$ORG" ] || fail "root.key.pub differs"
[ -f "$T/org/enrolled.txt" ] || fail "org init did not create enrolled.txt"
expect 1 "$FIELDMESH" org init "$T/org"
contains "$ERR" "already holds a root key"
[ "$(cat "$T/org/root.key.pub")" = "$ORG" ] || fail "a second org init replaced the key"

# ---- two nodes, set up by hand ----
setup_node() { # name role
    printf '%s passphrase\n' "$1" >"$T/$1.pass" && chmod 600 "$T/$1.pass"
    expect 0 "$FIELDMESH" -c "$T/$1/node.yaml" init --org-key "$ORG" --name "$1" --role "$2" \
        --passphrase-file "$T/$1.pass" --kdf minimal
    expect 0 "$FIELDMESH" -c "$T/$1/node.yaml" keygen
    [ "$(stat -c %a "$T/$1/data/node.key")" = 600 ] || fail "$1's key is not mode 0600"
    expect 0 "$FIELDMESH" org enroll --org "$T/org" --key "$(cat "$T/$1/data/node.key.pub")" \
        --name "$1" --role "$2" --tier 1 --unit "Station 7" --days 30 --out "$T/$1/data/node.cert"
}
setup_node alpha county
setup_node bravo station
A=(-c "$T/alpha/node.yaml")
B=(-c "$T/bravo/node.yaml")
KA=$(cat "$T/alpha/data/node.key.pub")
KB=$(cat "$T/bravo/data/node.key.pub")
grep -q "^$KA county alpha$" "$T/org/enrolled.txt" || fail "alpha not recorded in enrolled.txt"
grep -q "^$KB station bravo$" "$T/org/enrolled.txt" || fail "bravo not recorded in enrolled.txt"
expect 0 "$FIELDMESH" "${A[@]}" incident report --category fire --lat 1 --lon 2
expect 0 "$FIELDMESH" "${B[@]}" incident report --category fire --lat 1 --lon 2
# the certificate is the first op of the author's log
expect 0 "$FIELDMESH" "${A[@]}" log --json
pyjson 'd[0]["kind"] == "cert" and d[0]["seq"] == 1 and d[0]["author"] == "'"$KA"'"'
contains "$(pyget 'd[0]["summary"]')" "alpha"

# keygen never replaces a key
expect 1 "$FIELDMESH" "${A[@]}" keygen
contains "$ERR" "already exists"
[ "$(cat "$T/alpha/data/node.key.pub")" = "$KA" ] || fail "keygen replaced the key"

# ---- the 8-character tag rule ----
# a different key sharing alpha's first 8 characters is refused
CLASH="${KA:0:8}$(printf 'a%.0s' $(seq 44))"
[ "$CLASH" != "$KA" ] || fail "test bug: clash key equals alpha's"
expect 1 "$FIELDMESH" org enroll --org "$T/org" --key "$CLASH" --name clash --role vehicle \
    --out "$T/clash.cert"
contains "$ERR" "${KA:0:8}"
[ ! -e "$T/clash.cert" ] || fail "a refused enrollment wrote a certificate"
! grep -q "^$CLASH" "$T/org/enrolled.txt" || fail "a refused key was recorded"
# the same key again (a renewal) is fine and not listed twice
expect 0 "$FIELDMESH" org enroll --org "$T/org" --key "$KA" --name alpha --role county \
    --out "$T/alpha-renewed.cert"
[ "$(grep -c "^$KA" "$T/org/enrolled.txt")" = 1 ] || fail "renewal listed the key twice"
# a root key readable by others is refused
chmod 644 "$T/org/root.key"
expect 3 "$FIELDMESH" org enroll --org "$T/org" --key "$KB" --name b --role station --out "$T/x.cert"
contains "$ERR" "chmod 600"
chmod 600 "$T/org/root.key"
expect 1 "$FIELDMESH" org enroll --org "$T/nowhere" --key "$KB" --name b --role station \
    --out "$T/x.cert"
contains "$ERR" "org init"

# ---- a node refuses a group/world-readable secret key ----
chmod 644 "$T/alpha/data/node.key"
expect 3 "$FIELDMESH" "${A[@]}" incident report --category fire --lat 1 --lon 2
contains "$ERR" "readable by group or others"
contains "$ERR" "chmod 600 $T/alpha/data/node.key"
chmod 640 "$T/alpha/data/node.key"
expect 3 "$FIELDMESH" "${A[@]}" unit register --name x --department y --tier 1 --kind patrol
chmod 600 "$T/alpha/data/node.key"
expect 0 "$FIELDMESH" "${A[@]}" incident report --category fire --lat 1 --lon 2
# reads need no secret key at all
chmod 644 "$T/alpha/data/node.key"
expect 0 "$FIELDMESH" "${A[@]}" incident list --json
pyjson 'len(d) == 2'
chmod 600 "$T/alpha/data/node.key"

# ---- a certificate from another organisation is refused ----
expect 0 "$FIELDMESH" org init "$T/org2"
expect 0 "$FIELDMESH" org enroll --org "$T/org2" --key "$KB" --name bravo --role station \
    --out "$T/bravo-foreign.cert"
cp "$T/bravo/data/node.cert" "$T/bravo-good.cert"
cp "$T/bravo-foreign.cert" "$T/bravo/data/node.cert"
expect 3 "$FIELDMESH" "${B[@]}" incident report --category fire --lat 1 --lon 2
contains "$ERR" "certificate"
# a certificate for another key is refused too
cp "$T/alpha/data/node.cert" "$T/bravo/data/node.cert"
expect 3 "$FIELDMESH" "${B[@]}" incident report --category fire --lat 1 --lon 2
# and so is a damaged one
echo "fieldmesh-cert 1" >"$T/bravo/data/node.cert"
echo "bm90IGEgY2VydGlmaWNhdGU=" >>"$T/bravo/data/node.cert"
expect 3 "$FIELDMESH" "${B[@]}" incident report --category fire --lat 1 --lon 2
contains "$ERR" "malformed"
cp "$T/bravo-good.cert" "$T/bravo/data/node.cert"
expect 0 "$FIELDMESH" "${B[@]}" incident report --category fire --lat 1 --lon 2

# ---- revocation: signed by the root, published into a log ----
expect 0 "$FIELDMESH" "${B[@]}" log --json
BSEQ=$(pyget 'd[-1]["seq"]')
BHEAD=$(pyget 'd[-1]["hash"]')
expect 0 "$FIELDMESH" "${B[@]}" org revoke --org "$T/org" --key "$KB" --last-seq "$BSEQ" --out "$T/bravo.rev"
# the head it keeps is read from bravo's own store: the hash of its op at BSEQ
contains "$ERR" "(head ${BHEAD:0:16})"
grep -q "^fieldmesh-revocation 1$" "$T/bravo.rev" || fail "revocation file format"
# published on alpha: an op in alpha's log naming bravo
expect 0 "$FIELDMESH" "${A[@]}" trust publish "$T/bravo.rev"
contains "$OUT" "$KB"
expect 0 "$FIELDMESH" "${A[@]}" log --json
pyjson 'd[-1]["kind"] == "revoke" and "'"$KB"'" in d[-1]["summary"] and d[-1]["author"] == "'"$KA"'"'
# the same revocation again adds nothing: refused, no second op
ALEN=$(pyget 'len(d)')
expect 1 "$FIELDMESH" "${A[@]}" trust publish "$T/bravo.rev"
contains "$ERR" "already published"
expect 0 "$FIELDMESH" "${A[@]}" log --json
pyjson 'len(d) == '"$ALEN"
# published on bravo itself: bravo may not write after seq BSEQ
expect 0 "$FIELDMESH" "${B[@]}" trust publish "$T/bravo.rev"
expect 3 "$FIELDMESH" "${B[@]}" incident report --category fire --lat 1 --lon 2
contains "$ERR" "revoked"
# alpha is unaffected
expect 0 "$FIELDMESH" "${A[@]}" incident report --category fire --lat 1 --lon 2
# a revocation signed by another organisation is refused before anything is stored
expect 0 "$FIELDMESH" org revoke --org "$T/org2" --key "$KA" --last-seq 0 --out "$T/foreign.rev"
expect 0 "$FIELDMESH" "${A[@]}" log --json
before=$(pyget 'len(d)')
expect 3 "$FIELDMESH" "${A[@]}" trust publish "$T/foreign.rev"
contains "$ERR" "another organisation"
expect 0 "$FIELDMESH" "${A[@]}" log --json
[ "$(pyget 'len(d)')" = "$before" ] || fail "a refused revocation changed the log"
# a damaged revocation file is refused
# (one base64 character of the signature changed)
python3 - "$T/bravo.rev" "$T/bad.rev" <<'PY'
import sys
head, body = open(sys.argv[1]).read().split("\n")[:2]
i = len(body.rstrip("=")) - 5
body = body[:i] + ("B" if body[i] != "B" else "C") + body[i + 1:]
open(sys.argv[2], "w").write(head + "\n" + body + "\n")
PY
expect 3 "$FIELDMESH" "${A[@]}" trust publish "$T/bad.rev"
contains "$ERR" "signature"
expect 1 "$FIELDMESH" "${A[@]}" trust publish "$T/missing.rev"

# ---- certificate renewal: 40 days on, alpha's 30-day certificate ran out ----
export FM_TEST_CLOCK_OFFSET_MS=$((40 * 86400 * 1000))
expect 3 "$FIELDMESH" "${A[@]}" incident report --category fire --lat 1 --lon 2
contains "$ERR" "fieldmesh trust renew"
# a certificate for another key, or from another organisation, is refused
expect 3 "$FIELDMESH" "${A[@]}" trust renew "$T/bravo/data/node.cert"
expect 0 "$FIELDMESH" org enroll --org "$T/org2" --key "$KA" --name alpha --role county \
    --days 90 --out "$T/alpha-org2.cert"
expect 3 "$FIELDMESH" "${A[@]}" trust renew "$T/alpha-org2.cert"
# the same key enrolled again (issued now, valid 90 days): renewed
expect 0 "$FIELDMESH" org enroll --org "$T/org" --key "$KA" --name alpha --role county \
    --tier 1 --days 90 --out "$T/alpha-new.cert"
expect 0 "$FIELDMESH" "${A[@]}" trust renew "$T/alpha-new.cert"
contains "$OUT" "renewed until"
cmp -s "$T/alpha-new.cert" "$T/alpha/data/node.cert" || fail "renewed certificate not installed"
expect 1 "$FIELDMESH" "${A[@]}" trust renew "$T/alpha-new.cert"
contains "$ERR" "already in force"
expect 0 "$FIELDMESH" "${A[@]}" incident report --category fire --lat 1 --lon 2
expect 0 "$FIELDMESH" "${A[@]}" log --json
pyjson 'd[-2]["kind"] == "cert.renew" and d[-2]["author"] == "'"$KA"'"'
unset FM_TEST_CLOCK_OFFSET_MS

echo "ok: trust"
