# Known false-positive warnings of the compilers we build with, silenced for the whole kind on the
# compiler versions that have them (never by line). Our own code stays warning-free under the rest
# of -Wall -Wextra -Wpedantic, and CI builds with warnings as errors.
include(CheckCXXSourceCompiles)

# slotdiff_silence_compiler_bugs(<interface target>): adds the options to <target>'s usage
# requirements (slotdiff_project_options: our own targets only, not the exported ones).
function(slotdiff_silence_compiler_bugs target)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    return()
  endif()
  set(version ${CMAKE_CXX_COMPILER_VERSION})

  # GCC 12, -Wrestrict: at -O2 and above, inlining libstdc++'s std::string operator+ and insert
  # (e.g. `"literal" + std::string`) makes the middle end see a memcpy whose bounds it cannot
  # prove apart and report an overlap that cannot happen (GCC bug 105329, fixed in GCC 13).
  if(version VERSION_GREATER_EQUAL 12 AND version VERSION_LESS 13)
    target_compile_options(${target} INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
  endif()

  # GCC before 12.3, -Wmaybe-uninitialized and -Wuninitialized: the AVX-512 intrinsics built on
  # _mm512_undefined_*() (a self-initialised variable, `__m512 __Y = __Y;`) are reported as reading
  # an uninitialised value once inlined, e.g. in Eigen's AVX-512 packet transposes, reductions and
  # pexp (GCC bug 105593); which of the two GCC reports depends on how much it inlines.
  # Only builds whose flags enable AVX-512 (-march=native on an AVX-512 CPU, -march=x86-64-v4)
  # inline them, so only those lose the warning.
  if(version VERSION_LESS 12.3)
    set(CMAKE_REQUIRED_QUIET ON)
    set(CMAKE_TRY_COMPILE_CONFIGURATION ${CMAKE_BUILD_TYPE})
    if(SLOTDIFF_NATIVE)
      set(CMAKE_REQUIRED_FLAGS -march=native)
    endif()
    check_cxx_source_compiles("
#ifndef __AVX512F__
#error no AVX-512
#endif
int main() { return 0; }" SLOTDIFF_FLAGS_ENABLE_AVX512)
    if(SLOTDIFF_FLAGS_ENABLE_AVX512)
      target_compile_options(${target} INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized -Wno-uninitialized>)
    endif()
  endif()
endfunction()
