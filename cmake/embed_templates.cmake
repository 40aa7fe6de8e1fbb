# Writes a .cc that holds the default notification templates (IN) as a string,
# so that the binary carries them.
file(READ ${IN} TEXT)
string(FIND "${TEXT}" ")vigil_tmpl\"" CLASH)
if(NOT CLASH EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw string delimiter")
endif()
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
if(EXISTS ${OUT})
  file(READ ${OUT} OLD)
endif()
if(NOT "${OLD}" STREQUAL "${CONTENT}")
  file(WRITE ${OUT} "${CONTENT}")
endif()
