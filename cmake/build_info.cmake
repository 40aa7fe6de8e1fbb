# Writes build_info.cc with the version, the git commit and the build date.
include(${CMAKE_CURRENT_LIST_DIR}/generated.cmake)
execute_process(COMMAND git -C ${SRC} rev-parse --short=12 HEAD
  OUTPUT_VARIABLE COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR COMMIT STREQUAL "")
  # Built outside a clone (the container image): the commit given by the builder.
  if(DEFINED ENV{VIGIL_COMMIT} AND NOT "$ENV{VIGIL_COMMIT}" STREQUAL "")
    set(COMMIT "$ENV{VIGIL_COMMIT}")
  else()
    set(COMMIT "unknown")
  endif()
endif()
execute_process(COMMAND git -C ${SRC} status --porcelain --untracked-files=no
  OUTPUT_VARIABLE DIRTY OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT DIRTY STREQUAL "")
  set(COMMIT "${COMMIT}-dirty")
endif()
string(TIMESTAMP DATE "%Y-%m-%d" UTC)
set(CONTENT "#include \"model/build_info.h\"
namespace vigil::build {
const char* const kVersion = \"${VERSION}\";
const char* const kCommit = \"${COMMIT}\";
const char* const kDate = \"${DATE}\";
}  // namespace vigil::build
")
write_if_changed(${OUT} "${CONTENT}")
