# cmake -P expect_failure.cmake: passes when a command FAILS with a given message.
#   MODE=run      PROGRAM=<executable>            runs it
#   MODE=compile  COMPILER=<c++> SOURCE=<file>    compiles it (-std=c++20 -fsyntax-only) with INCLUDES
#                 (a ;-list of directories); with CONTROL=<file>, also compiles that file the same
#                 way, which must succeed (the headers and flags are fine; the failure is the test's).
#   EXPECT=<regex> that the failing command's output must match (a static_assert's own message, so a
#                 typo or a missing header cannot pass for the expected failure).
if(MODE STREQUAL "run")
  set(cmd ${PROGRAM})
elseif(MODE STREQUAL "compile")
  set(cmd ${COMPILER} -std=c++20 -fsyntax-only)
  foreach(dir IN LISTS INCLUDES)
    if(NOT dir STREQUAL "")
      list(APPEND cmd -I${dir})
    endif()
  endforeach()
  list(APPEND cmd ${SOURCE})
else()
  message(FATAL_ERROR "expect_failure: MODE must be run or compile")
endif()

message(STATUS "expect_failure: ${cmd}")
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc STREQUAL "0")
  message(FATAL_ERROR "expect_failure: the command succeeded; it must fail with '${EXPECT}'\n${out}${err}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "expect_failure: the command failed (${rc}) but without '${EXPECT}':\n${out}${err}")
endif()
message(STATUS "expect_failure: failed as expected (${rc}) with '${EXPECT}'")

if(MODE STREQUAL "compile" AND DEFINED CONTROL)
  list(REMOVE_AT cmd -1)
  execute_process(COMMAND ${cmd} ${CONTROL} RESULT_VARIABLE rc2 OUTPUT_VARIABLE out2 ERROR_VARIABLE err2)
  if(NOT rc2 STREQUAL "0")
    message(FATAL_ERROR "expect_failure: the control ${CONTROL} must compile and did not:\n${out2}${err2}")
  endif()
  message(STATUS "expect_failure: the control ${CONTROL} compiles")
endif()
