# cmake -P expect_failure.cmake: passes when a command FAILS with a given message.
#   MODE=run      PROGRAM=<executable>            runs it
#   MODE=compile  COMPILER=<c++> SOURCE=<file>    compiles it (-std=c++20 -fsyntax-only) with INCLUDES
#                 (a ;-list of directories); then compiles it again with -DSLOTDIFF_CONTROL, which
#                 must succeed, so that the failure comes from what the test is about and not from
#                 a typo.
#   EXPECT=<regex> that the failing command's output must match.
if(MODE STREQUAL "run")
  set(cmd ${PROGRAM})
elseif(MODE STREQUAL "compile")
  set(cmd ${COMPILER} -std=c++20 -fsyntax-only)
  foreach(dir IN LISTS INCLUDES)
    list(APPEND cmd -I${dir})
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

if(MODE STREQUAL "compile")
  execute_process(COMMAND ${cmd} -DSLOTDIFF_CONTROL RESULT_VARIABLE rc2 OUTPUT_VARIABLE out2 ERROR_VARIABLE err2)
  if(NOT rc2 STREQUAL "0")
    message(FATAL_ERROR "expect_failure: the control build (-DSLOTDIFF_CONTROL) must compile and did not:\n${out2}${err2}")
  endif()
  message(STATUS "expect_failure: the control build compiles")
endif()
