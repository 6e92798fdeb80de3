# CTest "slotdiff_cli: installed, run from elsewhere": installs the build tree into a private prefix,
# then runs the installed `slotdiff` from another folder, where only <prefix>/share/slotdiff can
# supply its data: --version, generate (the bundled reference model), noise (the bundled vocabulary);
# then a copy of the binary with no share/ next to it, pointed at the data by SLOTDIFF_DATA_DIR and
# by --data-dir.
#   cmake -DBUILD_DIR=<build tree> -DWORK_DIR=<scratch folder> -DVERSION=<x.y.z> -P test_installed_cli.cmake
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/elsewhere ${WORK_DIR}/alone)
set(prefix ${WORK_DIR}/prefix)

function(run out)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${WORK_DIR}/elsewhere RESULT_VARIABLE rc OUTPUT_VARIABLE o
                  ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "`${ARGN}` failed (${rc}):\n${o}\n${e}")
  endif()
  set(${out} "${o}" PARENT_SCOPE)
endfunction()
function(expect text pattern what)
  if(NOT text MATCHES "${pattern}")
    message(FATAL_ERROR "${what}: expected /${pattern}/ in:\n${text}")
  endif()
endfunction()

run(ignored ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
set(exe ${prefix}/bin/slotdiff)
foreach(f data/wordnet/vocab.txt data/corpus/vocab.txt data/corpus/train.txt data/corpus/embedder.sdsif models/reference.safetensors)
  if(NOT EXISTS ${prefix}/share/slotdiff/${f})
    message(FATAL_ERROR "not installed: share/slotdiff/${f}")
  endif()
endforeach()

run(v ${CMAKE_COMMAND} -E env --unset=SLOTDIFF_DATA_DIR ${exe} --version)
expect("${v}" "^slotdiff ${VERSION}\n" "--version")
expect("${v}" "data: ${prefix}/share/slotdiff" "--version's data folder (the installed one)")

run(g ${CMAKE_COMMAND} -E env --unset=SLOTDIFF_DATA_DIR ${exe} generate --backend reference --keywords "river water" --max-steps 2 --seed 1)
expect("${g}" "river" "generate from the keywords \"river water\"")

file(WRITE ${WORK_DIR}/elsewhere/in.txt "the quick brown fox jumps over the lazy dog\na river of water runs to the sea\n")
run(n ${CMAKE_COMMAND} -E env --unset=SLOTDIFF_DATA_DIR ${exe} noise in.txt)
expect("${n}" "^{[^\n]*}\n{[^\n]*}\n$" "noise: one JSON line per input line")

# A binary with no share/ next to it: SLOTDIFF_DATA_DIR, then --data-dir (which wins).
file(COPY ${exe} DESTINATION ${WORK_DIR}/alone/bin)
run(v ${CMAKE_COMMAND} -E env SLOTDIFF_DATA_DIR=${prefix}/share/slotdiff ${WORK_DIR}/alone/bin/slotdiff --version)
expect("${v}" "data: ${prefix}/share/slotdiff" "SLOTDIFF_DATA_DIR")
run(v ${CMAKE_COMMAND} -E env SLOTDIFF_DATA_DIR=/nonexistent ${WORK_DIR}/alone/bin/slotdiff --data-dir ${prefix}/share/slotdiff --version)
expect("${v}" "data: ${prefix}/share/slotdiff" "--data-dir")
message(STATUS "installed slotdiff works from ${WORK_DIR}/elsewhere")
