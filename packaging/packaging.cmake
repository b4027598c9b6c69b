# Installing and packaging: `cmake --install build` puts fieldmesh in place,
# `cpack -G DEB` (in the build directory) makes a Debian package of the same
# files (docs/service.md §4). Paths follow the FHS through GNUInstallDirs;
# the package installs under /usr, its config under /etc/fieldmesh, and its
# data lives in /var/lib/fieldmesh, which it never ships or deletes.
install(TARGETS fieldmesh fieldmeshd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/packaging/fieldmeshd.service
        DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/fieldmesh.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME fieldmesh)
file(GLOB FM_EXAMPLE_CONFIGS ${CMAKE_SOURCE_DIR}/configs/*.yaml)
install(FILES ${FM_EXAMPLE_CONFIGS} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${CMAKE_SOURCE_DIR}/configs/roster.csv DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${CMAKE_SOURCE_DIR}/docs/service.md ${CMAKE_SOURCE_DIR}/docs/config.md
        ${CMAKE_SOURCE_DIR}/docs/cli.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The service's config: a conffile, so dpkg keeps the admin's edits.
# /etc whatever the prefix: fieldmeshd.service names /etc/fieldmesh/node.yaml.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/node.yaml DESTINATION /etc/fieldmesh)

# One version, the one `fieldmesh --version` prints.
file(STRINGS ${CMAKE_SOURCE_DIR}/cli/cli_int.h FM_VERSION_LINE REGEX "^#define CLI_VERSION ")
string(REGEX REPLACE ".*\"([0-9.]+)\".*" "\\1" FM_VERSION "${FM_VERSION_LINE}")

set(CPACK_PACKAGE_NAME fieldmesh)
set(CPACK_PACKAGE_VERSION ${FM_VERSION})
set(CPACK_PACKAGE_VENDOR "fieldmesh")
set(CPACK_PACKAGE_CONTACT "fieldmesh maintainers <fieldmesh@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "peer-to-peer emergency-dispatch node")
set(CPACK_PACKAGE_DESCRIPTION
    "fieldmesh keeps a city's emergency-linkage data (incidents, field units,\npooled materials) on every county centre, unit station and vehicle at once,\nas signed hash-chained op logs in LMDB gossiped over CurveZMQ.\nThis package has the fieldmesh command, the fieldmeshd daemon and its\nsystemd unit, man pages and example configurations.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime libraries (libzmq5, liblmdb0, libsodium23, libyaml-0-2, libxml2 for the CLI, libc6)
# from the binaries themselves; adduser for the service user.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
