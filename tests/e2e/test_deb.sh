#!/usr/bin/env bash
# test_deb.sh — the Debian package (packaging/packaging.cmake): `cpack -G DEB`
# in the build directory makes a .deb whose contents and control fields are
# what an admin needs (dpkg-deb -c / -I), whose runtime library
# dependencies come from the binaries (shlibdeps), whose config is a
# conffile and whose maintainer scripts never delete the node's data; the
# unpacked binaries run, the packaged configs load, and the shipped bash
# completion completes commands, subcommands and options.
set -u
. "$(dirname "$0")/cli_lib.sh"
BUILD=$(cd "$(dirname "$FIELDMESH")" && pwd)
for tool in cpack dpkg-deb dpkg-shlibdeps; do
    command -v $tool >/dev/null 2>&1 || { echo "skip: $tool is not installed" >&2; exit 77; }
done
[ -f "$BUILD/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $BUILD"

# ---- build the package ----
run cpack -G DEB -B "$T/pkg" --config "$BUILD/CPackConfig.cmake"
[ "$RC" = 0 ] || fail "cpack failed: $OUT $ERR"
deb=$(ls "$T"/pkg/fieldmesh_*_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || fail "cpack made no fieldmesh_*.deb: $OUT"
version=$("$FIELDMESH" --version | awk '{print $2}')
case "$(basename "$deb")" in fieldmesh_"$version"_*.deb) ;; *) fail "package $deb is not version $version" ;; esac

# ---- contents ----
contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for f in ./usr/bin/fieldmesh ./usr/bin/fieldmeshd \
         ./usr/lib/systemd/system/fieldmeshd.service \
         ./etc/fieldmesh/node.yaml \
         ./usr/share/man/man1/fieldmesh.1.gz ./usr/share/man/man8/fieldmeshd.8.gz \
         ./usr/share/man/man5/fieldmesh.yaml.5.gz ./usr/share/man/man5/fieldmesh-directory.5.gz \
         ./usr/share/bash-completion/completions/fieldmesh \
         ./usr/share/doc/fieldmesh/examples/county.yaml ./usr/share/doc/fieldmesh/examples/station.yaml \
         ./usr/share/doc/fieldmesh/examples/vehicle.yaml ./usr/share/doc/fieldmesh/examples/directory.yaml \
         ./usr/share/doc/fieldmesh/examples/roster.csv \
         ./usr/share/doc/fieldmesh/service.md; do
    printf '%s\n' "$contents" | grep -qx -- "$f" || fail "the package lacks $f (man pages need scdoc at configure time)"
done
if printf '%s\n' "$contents" | grep -q '^\./var/'; then fail "the package ships files under /var (data must never be a package file)"; fi
if printf '%s\n' "$contents" | grep -q '^\./usr/local/'; then fail "the package installs under /usr/local"; fi
perms=$(dpkg-deb -c "$deb" | awk '$NF == "./usr/bin/fieldmeshd" {print $1}')
[ "$perms" = "-rwxr-xr-x" ] || fail "fieldmeshd has mode $perms"

# ---- control fields ----
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = fieldmesh ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
for lib in libc6 liblmdb0 libsodium23 libyaml-0-2 libzmq5 libxml2 adduser; do
    printf '%s\n' "$depends" | tr ',' '\n' | grep -Eq "^ ?$lib( |\$)" || fail "Depends lacks $lib: $depends"
done
[ -n "$(field Description)" ] || fail "no Description"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
mkdir -p "$T/control"
dpkg-deb -e "$deb" "$T/control"
grep -qx /etc/fieldmesh/node.yaml "$T/control/conffiles" || fail "node.yaml is not a conffile"
for s in postinst prerm postrm; do
    [ -x "$T/control/$s" ] || fail "no executable $s"
    sh -n "$T/control/$s" || fail "$s is not valid sh"
    if grep -Eq '(^|[;&| ])(rm|deluser|userdel)( |$)' "$T/control/$s"; then
        fail "$s deletes something: $(grep -E '(rm|deluser|userdel) ' "$T/control/$s")"
    fi
done
grep -q 'adduser --system' "$T/control/postinst" || fail "postinst does not create the service user"
grep -q 'install -d -o fieldmesh -g fieldmesh -m 0700 /var/lib/fieldmesh' "$T/control/postinst" ||
    fail "postinst does not create the state directory"

# ---- the unpacked files work ----
R="$T/root"
dpkg-deb -x "$deb" "$R"
expect 0 "$R/usr/bin/fieldmesh" --version
[ "$OUT" = "fieldmesh $version" ] || fail "unpacked fieldmesh --version: $OUT"
expect 0 "$R/usr/bin/fieldmeshd" --help
# the packaged node.yaml loads (its data_dir moved into the test's dir)
sed "s#/var/lib/fieldmesh#$T/data#" "$R/etc/fieldmesh/node.yaml" >"$T/node.yaml"
# before keygen the CLI says what to do (exit 78: configuration)
expect 78 "$R/usr/bin/fieldmesh" -c "$T/node.yaml" status --json
contains "$ERR" "has no keys yet"
contains "$ERR" "keygen"
printf 'a long test passphrase\n' >"$T/pass"
chmod 600 "$T/pass"
FIELDMESH_PASSPHRASE_FILE="$T/pass" expect 0 "$R/usr/bin/fieldmesh" -c "$T/node.yaml" keygen
FIELDMESH_PASSPHRASE_FILE="$T/pass" expect 0 "$R/usr/bin/fieldmesh" -c "$T/node.yaml" status --json
pyjson 'd["name"] == "change-me" and d["role"] == "station" and d["ops"] == 0'
grep -q 'ExecStart=/usr/bin/fieldmeshd -c /etc/fieldmesh/node.yaml' "$R/usr/lib/systemd/system/fieldmeshd.service" ||
    fail "the unit does not run the packaged binary with the packaged config"
expect 0 "$R/usr/bin/fieldmesh" directory check "$R/usr/share/doc/fieldmesh/examples/directory.yaml"
expect 0 "$R/usr/bin/fieldmesh" directory import-csv "$R/usr/share/doc/fieldmesh/examples/roster.csv" \
    --base "$R/usr/share/doc/fieldmesh/examples/directory.yaml"

# ---- bash completion ----
complete_line() { # complete_line WORD... : prints the candidates for the last word
    PATH="$R/usr/bin:$PATH" bash -c '
        . "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _fieldmesh; printf "%s\n" "${COMPREPLY[@]}"' _ "$R/usr/share/bash-completion/completions/fieldmesh" "$@"
}
c=$(complete_line fieldmesh inc); [ "$c" = incident ] || fail "completion of 'inc': $c"
c=$(complete_line fieldmesh incident re); [ "$c" = report ] || fail "completion of 'incident re': $c"
c=$(complete_line fieldmesh incident report --cat); [ "$c" = --category ] || fail "completion of '--cat': $c"
c=$(complete_line fieldmesh -c x.yaml tick); [ "$c" = ticket ] || fail "completion after -c: $c"
c=$(complete_line fieldmesh --log-level d); [ "$c" = debug ] || fail "completion of a log level: $c"
echo "ok: $(basename "$deb"), $(printf '%s\n' "$contents" | grep -vc '/$') files, Depends: $depends"
