# Writes a .cc that holds the default notification templates (IN) as a string,
# so that the binary carries them.
include(${CMAKE_CURRENT_LIST_DIR}/generated.cmake)
read_for_raw_string(${IN} vigil_tmpl TEXT)
set(CONTENT "// Generated from templates/default.tmpl at build time; edit that file.
#include <string_view>

#include \"templates/alertmanager.h\"

namespace vigil::templates {

std::string_view default_notification_templates() {
  static constexpr std::string_view kText = R\"vigil_tmpl(${TEXT})vigil_tmpl\";
  return kText;
}

}  // namespace vigil::templates
")
write_if_changed(${OUT} "${CONTENT}")
