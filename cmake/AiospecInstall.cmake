# `cmake --install`: the package a C or C++ loop author builds against (README.md, "Your own C++
# loop"). Needs neither Python nor pybind11 nor GoogleTest: those stay with aiospec's own tests
# and tools.
#
#   include/aiospec/{conformance,ref}/, include/aiospec/interpose.h
#   lib/libaiospec_{conformance,runner_main,host_main,reference}.a, lib/aiospec/libaiospec_interpose.so
#   lib/cmake/aiospec/ (aiospecConfig.cmake, version, targets, aiospec_add_conformance())
#   lib/pkgconfig/aiospec.pc
#   share/aiospec/bundle.json, share/aiospec/expected/cpython-X.Y/<id>.json
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(AIOSPEC_SHARE_DIR "${CMAKE_INSTALL_DATADIR}/aiospec")
set(AIOSPEC_INTERPOSE_DIR "${CMAKE_INSTALL_LIBDIR}/aiospec")
set(AIOSPEC_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/aiospec")

set_target_properties(aiospec_conformance PROPERTIES EXPORT_NAME conformance)
set_target_properties(aiospec_runner_main PROPERTIES EXPORT_NAME runner)
set_target_properties(aiospec_host_main PROPERTIES EXPORT_NAME host)
set_target_properties(aiospec_reference PROPERTIES EXPORT_NAME reference)
install(TARGETS aiospec_conformance aiospec_runner_main aiospec_host_main aiospec_reference
        EXPORT aiospecTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS aiospec_interpose LIBRARY DESTINATION ${AIOSPEC_INTERPOSE_DIR})
install(EXPORT aiospecTargets NAMESPACE aiospec:: DESTINATION ${AIOSPEC_CMAKE_DIR})

# The headers of the package: the reference adapter's and the C++ host's are aiospec's own.
install(DIRECTORY conformance/include/aiospec/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/aiospec
        PATTERN "reference_adapter.hpp" EXCLUDE PATTERN "reference_host.hpp" EXCLUDE)
install(FILES conformance/interpose/include/aiospec/interpose.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/aiospec)
install(DIRECTORY reference/include/aiospec/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/aiospec)

install(FILES "${AIOSPEC_BUNDLE}" DESTINATION ${AIOSPEC_SHARE_DIR} RENAME bundle.json)
install(DIRECTORY conformance/expected/ DESTINATION ${AIOSPEC_SHARE_DIR}/expected)

configure_package_config_file(cmake/aiospecConfig.cmake.in "${CMAKE_BINARY_DIR}/package/aiospecConfig.cmake"
  INSTALL_DESTINATION ${AIOSPEC_CMAKE_DIR} PATH_VARS AIOSPEC_SHARE_DIR AIOSPEC_INTERPOSE_DIR)
write_basic_package_version_file("${CMAKE_BINARY_DIR}/package/aiospecConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/package/aiospecConfig.cmake" "${CMAKE_BINARY_DIR}/package/aiospecConfigVersion.cmake"
        cmake/aiospecConformance.cmake DESTINATION ${AIOSPEC_CMAKE_DIR})
configure_file(cmake/aiospec.pc.in "${CMAKE_BINARY_DIR}/package/aiospec.pc" @ONLY)
install(FILES "${CMAKE_BINARY_DIR}/package/aiospec.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
