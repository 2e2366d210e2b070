# cmake -DCOMMAND=<;-list> -DEXPECT=<regex> [-DREJECT=<regex>] -P expect_output.cmake
# Runs COMMAND and passes when it exits 0 and its stdout+stderr match EXPECT (and not REJECT):
# a CTest check of both the status and the words, which PASS_REGULAR_EXPRESSION alone cannot do.
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "exit status ${status}, expected 0:\n${all}")
endif()
if(NOT all MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not match '${EXPECT}':\n${all}")
endif()
if(DEFINED REJECT AND all MATCHES "${REJECT}")
  message(FATAL_ERROR "the output matches '${REJECT}':\n${all}")
endif()
message("${all}")
