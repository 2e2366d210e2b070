# aiospec_add_conformance(): the conformance suite in a loop author's own build.
#
#   find_package(aiospec 0.1 REQUIRED)
#   aiospec_add_conformance(
#     TARGET myloop_conformance            # the test runner: your adapter + aiospec::runner's main
#     ADAPTER_SOURCES adapter.cpp ...      # an Adapter (adapter.hpp) and describe_loop() (loop_description.hpp)
#     [BACKENDS default]                   # which of describe_loop().backends to judge (default: all)
#     [CPYTHON 3.12 ...]                   # CPython versions whose traces judge (default: all installed)
#     [EXPECTATIONS known-failures.yaml]   # what the loop is known to get wrong (conformance/expectations/README.md)
#     [TIME virtual|interposed])           # interposed: the tests run with libaiospec_interpose.so preloaded
#
# Registers one CTest test per scenario x backend x CPython version, named
# TARGET/<area>/<id>/<backend>/cpython-X.Y and labelled conformance, the area, the backend,
# cpython-X.Y and TARGET, as aiospec's own suite is: `ctest -L conformance` runs it all. The
# registrations are written by the runner once it is built (the scenarios are the installed
# bundle's). Also adds the target TARGET_report: the whole suite as one table and
# TARGET-report.json (the format of `aiospec report --json`).

# The readiness mechanisms a backend may be named after (selectors' names, io_uring, IOCP), and
# "default" for a loop that picks its own.
set(AIOSPEC_KNOWN_BACKENDS default select poll epoll kqueue devpoll io_uring iocp)

# Every item of `values` (argument `name`) must be one of `allowed`: else one line naming the
# argument, `why` with @ for the item, and the allowed list as "(`label`: ...)".
function(_aiospec_each_in name values allowed why label)
  foreach(item IN LISTS values)
    if(NOT item IN_LIST allowed)
      string(REPLACE "@" "${item}" text "${why}")
      string(REPLACE ";" " " list "${allowed}")
      message(FATAL_ERROR "aiospec_add_conformance: ${name}: ${text} (${label}: ${list})")
    endif()
  endforeach()
endfunction()

function(aiospec_add_conformance)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "TARGET;EXPECTATIONS;TIME" "ADAPTER_SOURCES;BACKENDS;CPYTHON")
  set(fn aiospec_add_conformance)
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${fn}: unknown argument(s) ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_TARGET)
    message(FATAL_ERROR "${fn}: TARGET is required")
  endif()
  if(NOT ARG_ADAPTER_SOURCES)
    message(FATAL_ERROR "${fn}: ADAPTER_SOURCES is required (your Adapter and describe_loop())")
  endif()
  _aiospec_each_in(BACKENDS "${ARG_BACKENDS}" "${AIOSPEC_KNOWN_BACKENDS}" "unknown backend '@'" known)
  _aiospec_each_in(CPYTHON "${ARG_CPYTHON}" "${AIOSPEC_CPYTHON_VERSIONS}"
                   "no traces for CPython @ in ${AIOSPEC_EXPECTED_DIR}" have)
  set(expectations "")
  if(ARG_EXPECTATIONS)
    get_filename_component(expectations "${ARG_EXPECTATIONS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${expectations}")
      message(FATAL_ERROR "${fn}: EXPECTATIONS: no such file ${expectations}")
    endif()
  endif()
  if(NOT ARG_TIME)
    set(ARG_TIME virtual)
  endif()
  if(NOT ARG_TIME STREQUAL "virtual" AND NOT ARG_TIME STREQUAL "interposed")
    message(FATAL_ERROR "${fn}: TIME: '${ARG_TIME}' is not virtual or interposed")
  endif()
  if(ARG_TIME STREQUAL "interposed" AND NOT EXISTS "${AIOSPEC_INTERPOSE_LIBRARY}")
    message(FATAL_ERROR "${fn}: TIME interposed: ${AIOSPEC_INTERPOSE_LIBRARY} is not installed")
  endif()

  add_executable(${ARG_TARGET} ${ARG_ADAPTER_SOURCES})
  target_link_libraries(${ARG_TARGET} PRIVATE aiospec::runner)

  set(common --bundle "${AIOSPEC_BUNDLE_FILE}" --expected "${AIOSPEC_EXPECTED_DIR}" --time ${ARG_TIME})
  if(expectations)
    list(APPEND common --expectations "${expectations}")
  endif()
  set(select "")
  foreach(backend IN LISTS ARG_BACKENDS)
    list(APPEND select --backend ${backend})
  endforeach()
  foreach(version IN LISTS ARG_CPYTHON)
    list(APPEND select --python ${version})
  endforeach()
  set(preload "")
  if(ARG_TIME STREQUAL "interposed")
    set(preload --preload "${AIOSPEC_INTERPOSE_LIBRARY}")
  endif()

  # The registrations are written by the runner, after it is built and whenever the installed
  # bundle changes: it checks the bundle against the traces (a partial install fails the build
  # with one line) and knows the loop's backends.
  set(ctest_file "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}_tests.cmake")
  add_custom_command(OUTPUT "${ctest_file}"
    COMMAND $<TARGET_FILE:${ARG_TARGET}> ${common} ${select} ${preload}
            --write-ctest "${ctest_file}" --target ${ARG_TARGET}
    DEPENDS ${ARG_TARGET} "${AIOSPEC_BUNDLE_FILE}"
    COMMENT "Registering the conformance tests of ${ARG_TARGET}"
    VERBATIM)
  add_custom_target(${ARG_TARGET}_ctest ALL DEPENDS "${ctest_file}")
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}_include.cmake"
    "if(EXISTS \"${ctest_file}\")\n"
    "  include(\"${ctest_file}\")\n"
    "else()\n"
    "  add_test(${ARG_TARGET}/NOT_BUILT \"${CMAKE_COMMAND}\" -E echo \"${ARG_TARGET} is not built: build first\")\n"
    "  set_tests_properties(${ARG_TARGET}/NOT_BUILT PROPERTIES LABELS conformance WILL_FAIL TRUE)\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}_include.cmake")

  set(env "")
  if(ARG_TIME STREQUAL "interposed")
    set(env "${CMAKE_COMMAND}" -E env "LD_PRELOAD=${AIOSPEC_INTERPOSE_LIBRARY}")
  endif()
  add_custom_target(${ARG_TARGET}_report
    COMMAND ${env} $<TARGET_FILE:${ARG_TARGET}> ${common} ${select} --report
            --json "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}-report.json"
    DEPENDS ${ARG_TARGET}
    USES_TERMINAL VERBATIM)
endfunction()
