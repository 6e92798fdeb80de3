# Tests that run a Python script. The `python3` first on PATH is often a pyenv, conda or venv one
# without the modules a test needs, so each test gets, at configure time, the first interpreter that
# imports every module it names: Debian's /usr/bin/python3 (what scripts/setup-deps installs the
# modules into: python3-numpy, python3-nltk), then the one CMake's FindPython3 finds. A test whose
# modules no interpreter has is still added, and reports SKIPPED with the reason (exit code 77,
# SKIP_RETURN_CODE), never passed.
#
# slotdiff_add_python_test(NAME <name> MODULES <module>... COMMAND <script> [<arg>...])
#   runs `<interpreter> <script> <arg>...` (generator expressions allowed in the arguments).
if(NOT DEFINED SLOTDIFF_PYTHON_CANDIDATES)
  set(slotdiff_python_candidates "")
  if(EXISTS /usr/bin/python3)
    list(APPEND slotdiff_python_candidates /usr/bin/python3)
  endif()
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_Interpreter_FOUND)
    list(APPEND slotdiff_python_candidates ${Python3_EXECUTABLE})
  endif()
  list(REMOVE_DUPLICATES slotdiff_python_candidates)
  set(SLOTDIFF_PYTHON_CANDIDATES "${slotdiff_python_candidates}" CACHE STRING
      "Python interpreters the Python tests may use, in order of preference")
endif()

# slotdiff_python_with(<out-var> <module>...): the first candidate that imports all the modules, or "".
function(slotdiff_python_with out)
  string(REPLACE ";" "_" key "SLOTDIFF_PYTHON_WITH_${ARGN}")
  if(NOT ${key})  # only a found interpreter is cached: a missing module is looked for again next time
    set(found "")
    list(JOIN ARGN ", " imports)
    foreach(py IN LISTS SLOTDIFF_PYTHON_CANDIDATES)
      execute_process(COMMAND ${py} -c "import ${imports}" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
      if(rc EQUAL 0)
        set(found ${py})
        break()
      endif()
    endforeach()
    if(found)
      message(STATUS "slotdiff: Python with ${imports}: ${found}")
    else()
      message(STATUS "slotdiff: no Python with ${imports} (tried: ${SLOTDIFF_PYTHON_CANDIDATES}); "
                     "the tests that need it will report SKIPPED (scripts/setup-deps installs them)")
    endif()
    if(found)
      set(${key} "${found}" CACHE INTERNAL "")
    endif()
    set(${out} "${found}" PARENT_SCOPE)
  else()
    set(${out} "${${key}}" PARENT_SCOPE)
  endif()
endfunction()

function(slotdiff_add_python_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME" "MODULES;COMMAND")
  slotdiff_python_with(py ${arg_MODULES})
  if(py)
    add_test(NAME ${arg_NAME} COMMAND ${py} ${arg_COMMAND})
  else()
    list(JOIN arg_MODULES ", " mods)
    add_test(NAME ${arg_NAME} COMMAND /bin/sh -c "echo \"SKIPPED: no Python interpreter with ${mods} (tried: ${SLOTDIFF_PYTHON_CANDIDATES}); install them with scripts/setup-deps, then re-run cmake\"; exit 77")
    set_tests_properties(${arg_NAME} PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endfunction()
