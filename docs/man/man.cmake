# Man pages: docs/man/*.scd are written in scdoc and built into
# <build>/man/NAME.SECTION (for `man -l` and the tests) and NAME.SECTION.gz
# (what the package installs, as Debian policy wants). Without scdoc the
# pages are skipped and the man test reports itself skipped.
find_program(SCDOC_EXE scdoc)
find_program(GZIP_EXE gzip)
file(GLOB FM_MAN_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.scd)
set(FM_MAN_PAGES "")
if(SCDOC_EXE AND GZIP_EXE)
  foreach(src ${FM_MAN_SRC})
    get_filename_component(page ${src} NAME)
    string(REGEX REPLACE "\\.scd$" "" page "${page}")         # fieldmesh.1
    string(REGEX MATCH "[0-9]$" section "${page}")
    set(out ${CMAKE_BINARY_DIR}/man/${page})
    add_custom_command(OUTPUT ${out} ${out}.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${SCDOC_EXE} < ${src} > ${out}
      COMMAND ${GZIP_EXE} -9nc ${out} > ${out}.gz
      DEPENDS ${src} VERBATIM)
    list(APPEND FM_MAN_PAGES ${out})
    install(FILES ${out}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${FM_MAN_PAGES})
else()
  message(STATUS "scdoc not found: man pages will not be built")
endif()
