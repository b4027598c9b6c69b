# Tests: every tests/unit/test_*.c is a cmocka program; every
# tests/e2e/*.sh runs the real binaries; every tests/fuzz/fuzz_*.c gets a
# corpus replay test (and a libFuzzer build with -DFM_FUZZ=ON);
# tests/bench/bench_*.c are benchmarks (built, not run by ctest).
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

set(FM_TEST_LIBS fm_cli fm_node fm_sync fm_crypto PkgConfig::CMOCKA)

# Fault injection (docs/architecture.md): a second build of the node
# library with the store's fault points compiled in (FM_FAULT_SIM), linked
# only by test_faults. The binaries we ship never carry them.
add_library(fm_node_faultsim STATIC EXCLUDE_FROM_ALL ${FM_NODE_SRC})
target_compile_definitions(fm_node_faultsim PRIVATE FM_FAULT_SIM)
target_include_directories(fm_node_faultsim PRIVATE ${LMDB_INCLUDE})
target_link_libraries(fm_node_faultsim PUBLIC fm_sync fm_crypto ${LMDB_LIB} PkgConfig::YAML m)

file(GLOB FM_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${FM_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${LMDB_INCLUDE} ${CMAKE_SOURCE_DIR})
  if(name STREQUAL "test_faults")
    target_compile_definitions(${name} PRIVATE FM_FAULT_SIM)
    target_link_libraries(${name} PRIVATE fm_node_faultsim fm_sync fm_crypto PkgConfig::CMOCKA)
  else()
    target_link_libraries(${name} PRIVATE ${FM_TEST_LIBS})
  endif()
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES TIMEOUT 600
    ENVIRONMENT "FM_SRC=${CMAKE_SOURCE_DIR}")
endforeach()

# Each e2e test gets its own block of 100 loopback ports (FM_PORT_BASE),
# below Linux's ephemeral range, so tests running in parallel never race
# for the same port; the scripts still check that their ports are free.
file(GLOB FM_E2E_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/e2e/test_*.sh)
# FM_PORT_BASE_START moves the whole range, so two checkouts can run their
# suites on one machine at the same time (-DFM_PORT_BASE_START=10000). The
# range must stay below the ephemeral range: a port in it can be taken at
# any moment as the local end of an outgoing connection (a flood test makes
# tens of thousands), and a daemon or proxy then fails to listen. Checked
# at the end of this file.
set(FM_PORT_BASE_START 20000 CACHE STRING "first loopback port of the e2e tests' port blocks")
set(FM_PORT_BASE ${FM_PORT_BASE_START})
foreach(src ${FM_E2E_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME e2e.${name} COMMAND bash ${src})
  set_tests_properties(e2e.${name} PROPERTIES TIMEOUT 900
    SKIP_RETURN_CODE 77
    ENVIRONMENT "FIELDMESH=$<TARGET_FILE:fieldmesh>;FIELDMESHD=$<TARGET_FILE:fieldmeshd>;FM_SRC=${CMAKE_SOURCE_DIR};FM_PORT_BASE=${FM_PORT_BASE}")
  math(EXPR FM_PORT_BASE "${FM_PORT_BASE} + 100")
endforeach()
# 2,000 partitioned writes, one CLI process each: under ASan on a loaded
# 2-core machine the writes alone outlast 900 s (docs/testing.md).
set_tests_properties(e2e.test_gossip_partition PROPERTIES TIMEOUT 1800)

file(GLOB FM_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(src ${FM_FUZZ_TARGETS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name}_replay ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
  target_include_directories(${name}_replay PRIVATE ${LMDB_INCLUDE} ${CMAKE_SOURCE_DIR})
  target_link_libraries(${name}_replay PRIVATE fm_formats fm_console fm_node fm_sync fm_crypto)
  add_test(NAME fuzz.${name} COMMAND ${name}_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
  set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT 300)
  if(FM_FUZZ)
    add_executable(${name} ${src})
    target_include_directories(${name} PRIVATE ${LMDB_INCLUDE} ${CMAKE_SOURCE_DIR})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE fm_formats fm_console fm_node fm_sync fm_crypto)
  endif()
endforeach()

file(GLOB FM_BENCH CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/bench/bench_*.c)
foreach(src ${FM_BENCH})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${LMDB_INCLUDE} ${CMAKE_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE fm_cli fm_node fm_sync fm_crypto ${LMDB_LIB})
endforeach()

# The daemon with a plain store (values in clear), built for bench_sync's
# encryption-cost comparison only: never installed or packaged.
add_executable(fieldmeshd_plain ${CMAKE_SOURCE_DIR}/node/daemon/fieldmeshd.c)
target_compile_definitions(fieldmeshd_plain PRIVATE FM_BENCH_PLAIN_STORE)
target_include_directories(fieldmeshd_plain PRIVATE ${LMDB_INCLUDE})
target_link_libraries(fieldmeshd_plain PRIVATE fm_console fm_node)
add_dependencies(bench_sync fieldmeshd_plain)

# A smoke run of the sync benchmark (--quick: ~10 s; real daemons, small
# stores). The full run and its figures: docs/performance.md.
add_test(NAME bench.bench_sync_quick COMMAND bench_sync --quick)
set_tests_properties(bench.bench_sync_quick PROPERTIES TIMEOUT 180
  ENVIRONMENT "FIELDMESH=$<TARGET_FILE:fieldmesh>;FIELDMESHD=$<TARGET_FILE:fieldmeshd>;FM_PORT_BASE=${FM_PORT_BASE}")

# Field sync: the fault-injecting TCP proxy used by tests/e2e/test_faults.sh
# (built next to the fieldmesh binary; the test finds it there).
add_executable(faultproxy ${CMAKE_SOURCE_DIR}/tests/e2e/faultproxy.c)
set_target_properties(faultproxy PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
include(${CMAKE_SOURCE_DIR}/tests/sim/sim.cmake)

# Browser tests (tests/browser/test_*.py): real daemons with their consoles,
# driven through Debian's headless chromium + chromium-driver by
# python3-selenium. They skip (77) only when those are not installed.
# Screenshots of every page land in <build>/browser-shots.
math(EXPR FM_PORT_BASE "${FM_PORT_BASE} + 100") # past bench_sync_quick's block
file(GLOB FM_BROWSER_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/browser/test_*.py)
foreach(src ${FM_BROWSER_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME browser.${name} COMMAND python3 ${src})
  set_tests_properties(browser.${name} PROPERTIES TIMEOUT 900
    SKIP_RETURN_CODE 77
    ENVIRONMENT "FIELDMESH=$<TARGET_FILE:fieldmesh>;FIELDMESHD=$<TARGET_FILE:fieldmeshd>;FM_SRC=${CMAKE_SOURCE_DIR};FM_PORT_BASE=${FM_PORT_BASE};FM_SHOTS=${CMAKE_BINARY_DIR}/browser-shots")
  math(EXPR FM_PORT_BASE "${FM_PORT_BASE} + 100")
endforeach()
# Per-key limits: an enrolled key opening many connections at once, used by
# tests/e2e/test_key_limits.sh (built next to the fieldmesh binary).
add_executable(connflood ${CMAKE_SOURCE_DIR}/tests/e2e/connflood.c)
target_include_directories(connflood PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(connflood PRIVATE fm_node)
set_target_properties(connflood PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})

# The port blocks handed out above end at FM_PORT_BASE: refuse a range
# that reaches into this machine's ephemeral ports (see FM_PORT_BASE_START).
if(EXISTS /proc/sys/net/ipv4/ip_local_port_range)
  file(READ /proc/sys/net/ipv4/ip_local_port_range FM_EPHEMERAL)
  string(REGEX MATCH "^[0-9]+" FM_EPHEMERAL_LO "${FM_EPHEMERAL}")
  string(REGEX MATCH "[0-9]+[ \t\n]*$" FM_EPHEMERAL_HI "${FM_EPHEMERAL}")
  string(STRIP "${FM_EPHEMERAL_HI}" FM_EPHEMERAL_HI)
  # A range the builder chose is refused; the default one only warned
  # about (a machine with an unusual ephemeral range still builds)
  set(FM_PORT_VERDICT FATAL_ERROR)
  if(FM_PORT_BASE_START EQUAL 20000)
    set(FM_PORT_VERDICT WARNING)
  endif()
  if(FM_PORT_BASE GREATER FM_EPHEMERAL_LO AND FM_PORT_BASE_START LESS_EQUAL FM_EPHEMERAL_HI)
    message(${FM_PORT_VERDICT} "the e2e tests' ports ${FM_PORT_BASE_START}..${FM_PORT_BASE} overlap this "
      "machine's ephemeral ports ${FM_EPHEMERAL_LO}..${FM_EPHEMERAL_HI} "
      "(/proc/sys/net/ipv4/ip_local_port_range), where any outgoing connection may take one: "
      "choose -DFM_PORT_BASE_START so the range ends below ${FM_EPHEMERAL_LO} (e.g. 10000 or 20000)")
  endif()
endif()
