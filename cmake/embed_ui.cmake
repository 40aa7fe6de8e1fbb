# Writes a .cc that holds the web UI's files (FILES, relative to DIR) as
# strings, so that the binary carries them (server/ui.h).
# FILES is comma-separated ("index.html,app.js").
include(${CMAKE_CURRENT_LIST_DIR}/generated.cmake)
string(REPLACE "," ";" FILES "${FILES}")
set(DECLS "")
set(TABLE "")
set(I 0)
foreach(F ${FILES})
  read_for_raw_string(${DIR}/${F} vigil_ui TEXT)
  string(APPEND DECLS "constexpr std::string_view kFile${I} = R\"vigil_ui(${TEXT})vigil_ui\";\n")
  string(APPEND TABLE "    {\"${F}\", kFile${I}},\n")
  math(EXPR I "${I} + 1")
endforeach()
set(CONTENT "// Generated from server/ui/ at build time; edit those files.
#include <string_view>

#include \"server/ui.h\"

namespace vigil::server {

namespace {
${DECLS}}  // namespace

std::span<const UiAsset> ui_assets() {
  static constexpr UiAsset kAssets[] = {
${TABLE}  };
  return kAssets;
}

}  // namespace vigil::server
")
write_if_changed(${OUT} "${CONTENT}")
