#pragma once

// URL escaping as Go's net/url does it, for every place vigil builds or
// reads a URL: scrape parameters, remote queries, generator URLs, and the
// templates' urlquery functions.

#include <string>
#include <string_view>

#include "model/error.h"

namespace vigil::net {

// Go's url.QueryEscape: unreserved bytes kept, space as '+', the rest %XX.
std::string url_query_escape(std::string_view s);
// Go's url.QueryUnescape; errors as Go words them.
Result<std::string> url_query_unescape(std::string_view s);

}  // namespace vigil::net
