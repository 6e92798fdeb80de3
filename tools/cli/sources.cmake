# tools/cli/sources.cmake: the `slotdiff` program's sources and settings, shared by its executable
# (tools/cli/CMakeLists.txt) and the option fuzzer (fuzz/cli_options.cmake).
set(SLOTDIFF_CLI_DIR ${CMAKE_CURRENT_LIST_DIR})
# Every subcommand's file (main.cpp holds the table of subcommands).
set(SLOTDIFF_CLI_SOURCES main.cpp options.cpp noise.cpp vocab.cpp generate.cpp ngram.cpp eval.cpp embed.cpp)
if(EXISTS ${SLOTDIFF_CLI_DIR}/trace.cpp)
  list(APPEND SLOTDIFF_CLI_SOURCES trace.cpp)
endif()
list(TRANSFORM SLOTDIFF_CLI_SOURCES PREPEND ${SLOTDIFF_CLI_DIR}/)

# slotdiff_cli_settings(<target>): the include folders, libraries and definitions the sources need.
function(slotdiff_cli_settings target)
  find_package(Threads REQUIRED)
  target_link_libraries(${target} PRIVATE slotdiff::xtensor slotdiff::eigen slotdiff_project_options Threads::Threads CLI11::CLI11)
  target_include_directories(${target} PRIVATE ${SLOTDIFF_CLI_DIR})
  # The bundled files, relative to the data root that main.cpp finds (--data-dir, $SLOTDIFF_DATA_DIR,
  # ../share/slotdiff next to the binary, this source tree); the subcommands read them through
  # SLOTDIFF_DEFAULT_MODEL / _VOCAB / _EMBEDDER.
  target_compile_definitions(${target} PRIVATE
    SLOTDIFF_VERSION="${PROJECT_VERSION}" SLOTDIFF_SOURCE_ROOT="${PROJECT_SOURCE_DIR}"
    SLOTDIFF_VOCAB_FILE="data/corpus/vocab.txt" SLOTDIFF_CORPUS_FILE="data/corpus/train.txt"
    SLOTDIFF_MODEL_FILE="models/reference.safetensors" SLOTDIFF_MODEL_VOCAB_FILE="data/wordnet/vocab.txt"
    SLOTDIFF_EMBEDDER_FILE="data/corpus/embedder.sdsif"
    SLOTDIFF_DEFAULT_MODEL=slotdiff::cli::default_model_path\(\) SLOTDIFF_DEFAULT_VOCAB=slotdiff::cli::default_vocab_path\(\)
    SLOTDIFF_DEFAULT_EMBEDDER=slotdiff::cli::default_embedder_path\(\))
endfunction()
