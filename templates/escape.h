#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "model/error.h"
#include "templates/value.h"

namespace vigil::templates {

// text/template's escapers, as the html, js and urlquery built-ins apply them.
std::string html_escape(std::string_view s);     // " ' & < > and NUL
// encoding/xml's EscapeText: " ' & < >, and tab, newline, return as &#x9; &#xA; &#xD;.
std::string xml_escape(std::string_view s);
std::string js_escape(std::string_view s);       // quotes, \, < > & =, controls

// encoding/json's Marshal of a template value: maps with sorted keys, struct
// fields by their JSON names, times as RFC 3339, <, > and & escaped; NaN and
// infinities are errors, as in Go.
Result<std::string> go_json_marshal(const Value& v);
// One string as encoding/json writes it (quoted; <, > and & escaped as
// \u003c..., U+2028/2029 escaped, invalid UTF-8 as \ufffd).
std::string go_json_string(std::string_view s);

// The types html/template trusts: values of these types are written
// unescaped where their kind of content belongs.
const Type* safe_html_type();  // html/template.HTML, from safeHtml
const Type* safe_url_type();   // html/template.URL, from safeUrl

// Contextual escaping for HTML output (email bodies), a subset of Go's
// html/template: the writer follows the template text through HTML text,
// tags, attribute names and quoted or unquoted attribute values, URL
// attributes (href, src, ...), <script>, <style>, and comments, and escapes
// each interpolated value for the place it lands:
// - HTML text and attribute values: & < > " ' + and NUL are escaped, unless
//   the value is safeHtml (in text it is written as is; in an attribute its
//   tags are stripped and the rest escaped);
// - URL attributes: a value starting the URL must have a safe scheme (http,
//   https, mailto) or none, else it becomes "#ZgotmplZ"; the value is
//   normalized (percent-encoding what URLs cannot hold) before the query and
//   query-escaped inside it; safeUrl values pass the scheme check;
// - <script> and on* attributes: values as JavaScript values (strings quoted,
//   numbers and booleans bare); <style> and style attributes: "ZgotmplZ" for
//   anything but simple CSS words; url(...) in CSS is a URL.
// HTML comments in the template text are dropped, as html/template drops
// them. Missing values print as nothing.
class HtmlWriter {
 public:
  HtmlWriter();
  ~HtmlWriter();
  HtmlWriter(const HtmlWriter&) = delete;
  HtmlWriter& operator=(const HtmlWriter&) = delete;

  // Appends template text to out, tracking the context it leaves.
  void text(std::string_view t, std::string& out);
  // Appends one interpolated value, escaped for the current context.
  // `escaper` names the built-in the value's pipeline ended with ("html" or
  // "urlquery"): as in html/template, escaping it already did is not
  // repeated.
  Result<void> value(const Value& v, std::string& out, std::string_view escaper = {});

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace vigil::templates
