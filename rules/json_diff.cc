#include "rules/json_diff.h"

#include "model/names.h"

namespace vigil::rules {
namespace {

struct Tag {
  const char* begin;
  const char* end;
};
constexpr Tag kNormal{"", ""};
constexpr Tag kAdded{"\033[0;32m", "\033[0m"};
constexpr Tag kRemoved{"\033[0;31m", "\033[0m"};
constexpr Tag kChanged{"\033[0;33m", "\033[0m"};
constexpr const char* kIndent = "    ";

// The printer's state: nesting depth and the colour currently open, which
// every line break closes and reopens so each line stands alone.
class Printer {
 public:
  bool equal = true;

  std::string diff(const DiffValue& a, const DiffValue& b) {
    std::string out;
    if (a.v.index() != b.v.index()) {
      mismatch(out, a, b);
      return finish(out);
    }
    if (const auto* sa = std::get_if<std::string>(&a.v)) {
      if (*sa != std::get<std::string>(b.v)) {
        mismatch(out, a, b);
      } else {
        tag(out, &kNormal);
        write(out, a, true);
      }
      return finish(out);
    }
    if (const auto* oa = std::get_if<DiffValue::Object>(&a.v)) return object_diff(*oa, std::get<DiffValue::Object>(b.v));
    return array_diff(std::get<DiffValue::Array>(a.v), std::get<DiffValue::Array>(b.v));
  }

 private:
  void newline(std::string& out, std::string_view s) {
    out += s;
    if (open_) out += open_->end;
    out += '\n';
    for (int i = 0; i < level_; ++i) out += kIndent;
    if (open_) out += open_->begin;
  }
  void tag(std::string& out, const Tag* t) {
    if (open_ == t) return;
    if (open_) out += open_->end;
    out += t->begin;
    open_ = t;
  }
  std::string finish(std::string& out) {
    if (open_) out += open_->end;
    open_ = nullptr;
    return std::move(out);
  }
  static void key(std::string& out, const std::string& k) { out += go_quote(k) + ": "; }

  void write(std::string& out, const DiffValue& v, bool full) {
    if (const auto* s = std::get_if<std::string>(&v.v)) {
      out += go_quote(*s);
    } else if (const auto* o = std::get_if<DiffValue::Object>(&v.v)) {
      if (!full) {
        out += "{}";
        return;
      }
      if (o->empty()) {
        out += "{}";
        return;
      }
      ++level_;
      newline(out, "{");
      size_t i = 0;
      for (const auto& [k, x] : *o) {
        key(out, k);
        write(out, x, true);
        if (++i != o->size()) {
          newline(out, ",");
        } else {
          --level_;
          newline(out, "");
        }
      }
      out += "}";
    } else {
      const auto& arr = std::get<DiffValue::Array>(v.v);
      if (!full || arr.empty()) {
        out += "[]";
        return;
      }
      ++level_;
      newline(out, "[");
      for (size_t i = 0; i < arr.size(); ++i) {
        write(out, arr[i], true);
        if (i + 1 != arr.size()) {
          newline(out, ",");
        } else {
          --level_;
          newline(out, "");
        }
      }
      out += "]";
    }
  }

  void mismatch(std::string& out, const DiffValue& a, const DiffValue& b) {
    tag(out, &kChanged);
    write(out, a, false);
    out += " => ";
    write(out, b, false);
    equal = false;
  }

  // One entry of a collection: present on either side or both.
  struct Entry {
    const std::string* key = nullptr;  // objects only
    const DiffValue* a = nullptr;
    const DiffValue* b = nullptr;
  };

  std::string collection_diff(const std::vector<Entry>& entries, const char* open, const char* close) {
    // The differences of entries on both sides first, one level deeper.
    std::vector<std::string> inner(entries.size());
    ++level_;
    for (size_t i = 0; i < entries.size(); ++i)
      if (entries[i].a && entries[i].b) inner[i] = diff(*entries[i].a, *entries[i].b);
    --level_;

    std::string out;
    tag(out, &kNormal);
    if (entries.empty()) {
      out += open;
      out += close;
      return finish(out);
    }
    ++level_;
    newline(out, open);
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      if (e.a && e.b) {
        if (e.key) key(out, *e.key);
        out += inner[i];
      } else {
        tag(out, e.a ? &kRemoved : &kAdded);
        if (e.key) key(out, *e.key);
        write(out, e.a ? *e.a : *e.b, true);
        equal = false;
      }
      if (i + 1 < entries.size()) {
        tag(out, &kNormal);
        newline(out, ",");
      } else {
        --level_;
        tag(out, &kNormal);
        newline(out, "");
      }
    }
    out += close;
    return finish(out);
  }

  std::string object_diff(const DiffValue::Object& a, const DiffValue::Object& b) {
    std::vector<Entry> entries;
    auto ia = a.begin();
    auto ib = b.begin();
    while (ia != a.end() || ib != b.end()) {
      if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
        entries.push_back({&ia->first, &ia->second, nullptr});
        ++ia;
      } else if (ia == a.end() || ib->first < ia->first) {
        entries.push_back({&ib->first, nullptr, &ib->second});
        ++ib;
      } else {
        entries.push_back({&ia->first, &ia->second, &ib->second});
        ++ia;
        ++ib;
      }
    }
    return collection_diff(entries, "{", "}");
  }

  std::string array_diff(const DiffValue::Array& a, const DiffValue::Array& b) {
    std::vector<Entry> entries(std::max(a.size(), b.size()));
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i < a.size()) entries[i].a = &a[i];
      if (i < b.size()) entries[i].b = &b[i];
    }
    return collection_diff(entries, "[", "]");
  }

  int level_ = 0;
  const Tag* open_ = nullptr;
};

}  // namespace

DiffResult json_diff(const DiffValue& expected, const DiffValue& got) {
  Printer p;
  DiffResult r;
  r.text = p.diff(expected, got);
  r.equal = p.equal;
  return r;
}

}  // namespace vigil::rules
