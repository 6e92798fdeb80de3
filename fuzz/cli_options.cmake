# fuzz/cli_options.cmake (included by fuzz/CMakeLists.txt; owned with tools/cli): fuzz_cli_options, the
# whole `slotdiff` option tree (every subcommand's options and checks) built with libFuzzer, ASan and
# UBSan from tools/cli's sources without their main().
find_package(CLI11 2.1 QUIET CONFIG)
if(CLI11_FOUND AND TARGET slotdiff::xtensor AND TARGET slotdiff::eigen)
  include(${PROJECT_SOURCE_DIR}/tools/cli/sources.cmake)
  slotdiff_add_fuzzer(fuzz_cli_options fuzz_cli_options.cpp ${SLOTDIFF_CLI_SOURCES})
  slotdiff_cli_settings(fuzz_cli_options)
  target_compile_definitions(fuzz_cli_options PRIVATE SLOTDIFF_CLI_NO_MAIN=1)
else()
  message(STATUS "slotdiff: fuzz_cli_options needs CLI11, xtensor and Eigen; not building it")
endif()
