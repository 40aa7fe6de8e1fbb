# Helpers shared by the scripts that generate sources at build time
# (build_info, embed_templates, embed_ui), each run with `cmake -P`.

# Writes CONTENT to OUT only when it differs from what OUT holds, so an
# unchanged generated file keeps its timestamp and nothing recompiles.
function(write_if_changed OUT CONTENT)
  set(OLD "")
  if(EXISTS ${OUT})
    file(READ ${OUT} OLD)
  endif()
  if(NOT "${OLD}" STREQUAL "${CONTENT}")
    file(WRITE ${OUT} "${CONTENT}")
  endif()
endfunction()

# Reads PATH into VAR for embedding in a C++ raw string delimited by
# DELIM; stops the build if the file contains the closing sequence.
function(read_for_raw_string PATH DELIM VAR)
  file(READ ${PATH} TEXT)
  string(FIND "${TEXT}" ")${DELIM}\"" CLASH)
  if(NOT CLASH EQUAL -1)
    message(FATAL_ERROR "${PATH} contains the raw string delimiter ${DELIM}")
  endif()
  set(${VAR} "${TEXT}" PARENT_SCOPE)
endfunction()
