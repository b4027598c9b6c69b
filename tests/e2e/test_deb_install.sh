#!/usr/bin/env bash
# test_deb_install.sh — the .deb on a clean Debian 12: installs into a
# copy of a debootstrapped root with apt (which must pull the runtime
# libraries by dependency), creates the service user and state directory;
# the packaged fieldmeshd, run as that user with the packaged (edited)
# config, syncs with a node on the host; removing and purging the package
# leave the node's data.
#
# Opt-in (it needs root, a Debian 12 root and the Debian archive):
#   sudo debootstrap --variant=minbase bookworm /srv/bookworm http://deb.debian.org/debian
#   FM_DEB_ROOT=/srv/bookworm ctest --test-dir build -R test_deb_install
# Without FM_DEB_ROOT it reports itself skipped.
. "$(dirname "$0")/lib_gossip.sh"
if [ -z "${FM_DEB_ROOT:-}" ] || [ ! -x "${FM_DEB_ROOT}/usr/bin/apt-get" ]; then
    echo "SKIP: set FM_DEB_ROOT to a debootstrapped Debian 12 root (see the header)"
    exit 77
fi
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chroot)"; exit 77; }
grep -q '^VERSION_ID="12"' "$FM_DEB_ROOT/etc/os-release" || fail "$FM_DEB_ROOT is not Debian 12"
BUILD=$(cd "$(dirname "$FIELDMESH")" && pwd)
R="$T/root"
in_root() { chroot "$R" "$@"; }
# The keys are sealed (docs/security.md): the admin's commands as the
# service user read the passphrase from a file of that user's, and the
# daemon from $CREDENTIALS_DIRECTORY as systemd's LoadCredential= hands it
# over (docs/service.md, "The passphrase under systemd").
as_fm() {
    chroot --userspec=fieldmesh:fieldmesh "$R" env HOME=/var/lib/fieldmesh \
        FIELDMESH_PASSPHRASE_FILE=/run/fieldmesh-cred/fieldmesh-passphrase "$@"
}
cleanup_root() {
    umount "$R/proc" 2>/dev/null
    cleanup
}
trap cleanup_root EXIT

log "copying the clean root"
cp -a "$FM_DEB_ROOT" "$R" || fail "cannot copy $FM_DEB_ROOT"
mount -t proc proc "$R/proc" || fail "cannot mount /proc in the root"
cp /etc/resolv.conf "$R/etc/resolv.conf"
cpack -G DEB -B "$T/pkg" --config "$BUILD/CPackConfig.cmake" >"$T/cpack.log" 2>&1 || fail "cpack: $(tail "$T/cpack.log")"
deb=$(ls "$T"/pkg/fieldmesh_*.deb | head -n1)
cp "$deb" "$R/tmp/fieldmesh.deb"
in_root dpkg -s libzmq5 >/dev/null 2>&1 && fail "the clean root already has libzmq5"

# ---- install: apt must pull the runtime libraries ----
log "apt install ./fieldmesh.deb in the clean root"
in_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$T/apt.log" 2>&1 || fail "apt-get update: $(tail "$T/apt.log")"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/fieldmesh.deb \
    >>"$T/apt.log" 2>&1 || fail "apt install: $(tail -20 "$T/apt.log")"
for p in fieldmesh libzmq5 liblmdb0 libsodium23 libyaml-0-2 libxml2; do
    in_root dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || fail "$p is not installed"
done
in_root id fieldmesh >/dev/null || fail "no fieldmesh user"
st=$(in_root stat -c '%U:%G %a' /var/lib/fieldmesh)  # names from the root's passwd
[ "$st" = "fieldmesh:fieldmesh 700" ] || fail "/var/lib/fieldmesh is $st"
in_root man -w fieldmeshd >/dev/null 2>&1 || in_root test -f /usr/share/man/man8/fieldmeshd.8.gz || fail "no man page"
log "installed: $(in_root dpkg-query -W -f='${Package} ${Version}' fieldmesh)"

# ---- configure as the admin would, against a host node's organisation ----
# the credential, as root would create /etc/credstore/fieldmesh-passphrase
# and systemd would copy it for the service alone
install -d -m 0700 "$R/etc/credstore"
printf 'deb test passphrase %s\n' "$$" >"$R/etc/credstore/fieldmesh-passphrase"
chmod 0600 "$R/etc/credstore/fieldmesh-passphrase"
fmuid=$(stat -c %u "$R/var/lib/fieldmesh") fmgid=$(stat -c %g "$R/var/lib/fieldmesh")
install -d -m 0700 -o "$fmuid" -g "$fmgid" "$R/run/fieldmesh-cred"
install -m 0600 -o "$fmuid" -g "$fmgid" "$R/etc/credstore/fieldmesh-passphrase" \
    "$R/run/fieldmesh-cred/fieldmesh-passphrase"
testbed 1 line          # node1 on the host; the next port is the packaged node's
port_pkg=$((BASE + 1))
port_free "$port_pkg" || fail "port $port_pkg is taken"
as_fm fieldmesh -c /etc/fieldmesh/node.yaml keygen >"$T/pkg.pub" 2>"$T/keygen.err" || fail "keygen as fieldmesh: $(cat "$T/keygen.err")"
pkpub=$(tr -d '[:space:]' <"$T/pkg.pub")
[ "$(in_root stat -c '%U %a' /var/lib/fieldmesh/node.key)" = "fieldmesh 600" ] || fail "node.key not fieldmesh 0600"
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$pkpub" --name pkgnode --role station \
    --out "$T/pkg.cert" >/dev/null 2>&1 || fail "enroll"
install -o "$(stat -c %u "$R/var/lib/fieldmesh")" -g "$(stat -c %g "$R/var/lib/fieldmesh")" -m 0644 \
    "$T/pkg.cert" "$R/var/lib/fieldmesh/node.cert"
orgkey=$(tr -d '[:space:]' <"$T/tb/org/root.key.pub")
host_key=$(node_key 1)
python3 - "$R/etc/fieldmesh/node.yaml" "$orgkey" "$port_pkg" "$BASE" "$host_key" <<'PY'
import sys
p, org, port, hport, hkey = sys.argv[1:]
s = open(p).read()
assert "peers: []" in s and "change-me" in s
s = s.replace('name: "change-me"', 'name: "pkgnode"')
s = s.replace("orgrootkeyplaceholderreplacewithoutputoforginitaaaaa", org)
s = s.replace('listen: "tcp://0.0.0.0:7400"', 'listen: "tcp://127.0.0.1:%s"' % port)
s = s.replace("peers: []", 'peers:\n    - {endpoint: "tcp://127.0.0.1:%s", key: %s, name: host}' % (hport, hkey))
open(p, "w").write(s)
PY
[ $? = 0 ] || fail "cannot edit the packaged config"
# the host node lists the packaged node as its peer
python3 - "$(conf 1)" "$port_pkg" "$pkpub" <<'PY'
import sys
p, port, key = sys.argv[1:]
s = open(p).read()
assert "peers: []" in s
s = s.replace("peers: []", 'peers:\n    - {endpoint: "tcp://127.0.0.1:%s", key: %s, name: pkgnode}' % (port, key))
open(p, "w").write(s)
PY
[ $? = 0 ] || fail "cannot edit the host config"
as_fm fieldmesh -c /etc/fieldmesh/node.yaml status >/dev/null 2>"$T/st.err" || fail "packaged config: $(cat "$T/st.err")"

# ---- run the unit's command line as the service user; sync with the host ----
exec_start=$(sed -n 's/^ExecStart=//p' "$R/usr/lib/systemd/system/fieldmeshd.service")
[ "$exec_start" = "/usr/bin/fieldmeshd -c /etc/fieldmesh/node.yaml" ] || fail "ExecStart=$exec_start"
start_node 1
chroot --userspec=fieldmesh:fieldmesh "$R" env CREDENTIALS_DIRECTORY=/run/fieldmesh-cred \
    $exec_start 2>>"$T/daemon_pkg.log" &
PIDS[pkg]=$!
id=$(as_fm fieldmesh -c /etc/fieldmesh/node.yaml incident report --category building_fire \
       --lat 31.2302 --lon 121.4751 --priority 1 2>"$T/report.err") || fail "report on the packaged node: $(cat "$T/report.err")"
pkg_digest() { as_fm fieldmesh -c /etc/fieldmesh/node.yaml digest; }
same_digest() { [ "$(pkg_digest)" = "$(digest 1)" ]; }
host_has() { fm 1 incident show "$id" >/dev/null 2>&1; }
wait_for 60 "the host node to receive $id from the packaged node" host_has
wait_for 60 "equal digests" same_digest
log "synced: incident $id on both, digest $(digest 1 | cut -c1-16)"
kill -TERM "${PIDS[pkg]}"; wait "${PIDS[pkg]}"; rc=$?; unset "PIDS[pkg]"
[ "$rc" = 0 ] || fail "packaged fieldmeshd exited $rc"

# ---- removing, then purging, leaves the data ----
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q fieldmesh >>"$T/apt.log" 2>&1 || fail "apt remove"
[ -f "$R/var/lib/fieldmesh/node.key" ] && [ -f "$R/var/lib/fieldmesh/data.mdb" ] || fail "remove deleted the data"
[ ! -e "$R/usr/bin/fieldmeshd" ] || fail "remove left the binary"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q fieldmesh >>"$T/apt.log" 2>&1 || fail "apt purge"
[ -f "$R/var/lib/fieldmesh/node.key" ] && [ -f "$R/var/lib/fieldmesh/data.mdb" ] || fail "purge deleted the data"
log "remove and purge kept /var/lib/fieldmesh"
FAILED=0
echo ok
