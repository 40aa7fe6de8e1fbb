#include "templates/go_fmt.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "model/go_format.h"
#include "model/names.h"

namespace vigil::templates {

namespace {

constexpr int kTooLarge = 1000000;

struct Flags {
  bool plus = false, minus = false, sharp = false, space = false, zero = false;
  bool plus_v = false, sharp_v = false;
  bool wid_present = false, prec_present = false;
  int wid = 0, prec = 0;
};

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    int len = utf8_decode(s, i, &cp);
    i += len > 0 ? len : 1;
    ++n;
  }
  return n;
}

bool is_printable_rune(uint32_t cp) {
  // Go's unicode.IsPrint approximated: controls, surrogates and the
  // separators Go escapes are not printable.
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0xAD) return false;
  if (cp >= 0xD800 && cp <= 0xDFFF) return false;
  if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp > 0x10FFFF) return false;
  return true;
}

// strconv.FormatFloat(v, 'x' or 'X', prec, 64): -0x1.8p+00.
std::string format_hex_float(double v, bool upper, int prec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bool neg = bits >> 63;
  int exp = static_cast<int>((bits >> 52) & 0x7FF);
  uint64_t mant = bits & ((uint64_t{1} << 52) - 1);
  if (exp == 0) {
    ++exp;
  } else {
    mant |= uint64_t{1} << 52;
  }
  exp -= 1023;
  if (mant == 0) exp = 0;
  mant <<= 60 - 52;
  while (mant != 0 && (mant & (uint64_t{1} << 60)) == 0) {
    mant <<= 1;
    --exp;
  }
  if (prec >= 0 && prec < 15) {
    unsigned shift = static_cast<unsigned>(prec * 4);
    uint64_t extra = (mant << shift) & ((uint64_t{1} << 60) - 1);
    mant >>= 60 - shift;
    if ((extra | (mant & 1)) > (uint64_t{1} << 59)) ++mant;
    mant <<= 60 - shift;
    if (mant & (uint64_t{1} << 61)) {
      mant >>= 1;
      ++exp;
    }
  }
  const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  if (neg) out += '-';
  out += '0';
  out += upper ? 'X' : 'x';
  out += static_cast<char>('0' + ((mant >> 60) & 1));
  mant <<= 4;
  if (prec < 0 && mant != 0) {
    out += '.';
    while (mant != 0) {
      out += hex[(mant >> 60) & 15];
      mant <<= 4;
    }
  } else if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      out += hex[(mant >> 60) & 15];
      mant <<= 4;
    }
  }
  out += upper ? 'P' : 'p';
  out += exp < 0 ? '-' : '+';
  exp = std::abs(exp);
  std::string digits = std::to_string(exp);
  if (digits.size() < 2) digits.insert(digits.begin(), '0');
  out += digits;
  return out;
}

// strconv.QuoteToASCII: non-ASCII runes as \u or \U escapes.
std::string quote_ascii(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    int n = utf8_decode(s, i, &cp);
    if (n > 1) {
      out += cp < 0x10000 ? fmt::format("\\u{:04x}", cp) : fmt::format("\\U{:08x}", cp);
      i += n;
      continue;
    }
    n = n == 0 ? 1 : n;
    std::string q = go_quote(s.substr(i, n));
    out += q.substr(1, q.size() - 2);
    i += n;
  }
  return out + "\"";
}

class Printer {
 public:
  std::string buf;

  void do_printf(std::string_view format, std::span<const Value> a);
  void do_print(std::span<const Value> a);
  void do_println(std::span<const Value> a);
  void print_arg(const Value& arg, uint32_t verb);

 private:
  Flags f_;
  bool erroring_ = false;
  bool reordered_ = false;
  bool good_arg_num_ = true;

  void write_padding(int n) {
    if (n <= 0) return;
    buf.append(static_cast<size_t>(n), f_.zero ? '0' : ' ');
  }
  void pad(std::string_view s) {
    if (!f_.wid_present || f_.wid == 0) {
      buf += s;
      return;
    }
    int width = f_.wid - static_cast<int>(rune_count(s));
    if (!f_.minus) {
      write_padding(width);
      buf += s;
    } else {
      buf += s;
      bool z = f_.zero;
      f_.zero = false;
      write_padding(width);
      f_.zero = z;
    }
  }

  void fmt_bool(bool v, uint32_t verb, const Value& arg);
  void fmt_integer(uint64_t u, bool is_signed, uint32_t verb, const Value& arg);
  void fmt_integer_base(uint64_t u, int base, bool is_signed, uint32_t verb, bool upper);
  void fmt_float(double v, uint32_t verb, const Value& arg);
  void fmt_float_verb(double v, char verb, int prec);
  void fmt_string(const std::string& s, uint32_t verb, const Value& arg);
  void fmt_s(std::string_view s);
  void fmt_sx(std::string_view s, bool upper);
  void fmt_q(std::string_view s);
  void fmt_c(uint64_t c);
  void fmt_qc(uint64_t c);
  void fmt_unicode(uint64_t u);
  void bad_verb(uint32_t verb, const Value& arg);
  bool handle_methods(const Value& v, uint32_t verb);
  void print_value(const Value& v, uint32_t verb, int depth);
  void write_rune(uint32_t r) { append_utf8(buf, r); }
  int arg_number(int arg_num, std::string_view format, size_t* i, size_t num_args, bool* ok);
};

void Printer::fmt_bool(bool v, uint32_t verb, const Value& arg) {
  if (verb == 't' || verb == 'v') {
    pad(v ? "true" : "false");
  } else {
    bad_verb(verb, arg);
  }
}

void Printer::fmt_integer_base(uint64_t u, int base, bool is_signed, uint32_t verb, bool upper) {
  bool negative = is_signed && static_cast<int64_t>(u) < 0;
  if (negative) u = -u;
  int prec = 0;
  if (f_.prec_present) {
    prec = f_.prec;
    if (prec == 0 && u == 0) {
      bool z = f_.zero;
      f_.zero = false;
      write_padding(f_.wid);
      f_.zero = z;
      return;
    }
  } else if (f_.zero && f_.wid_present) {
    prec = f_.wid;
    if (negative || f_.plus || f_.space) --prec;
  }
  const char* digits = upper ? "0123456789ABCDEFX" : "0123456789abcdefx";
  std::string num;
  if (u == 0) num = "0";
  while (u > 0) {
    num.insert(num.begin(), digits[u % base]);
    u /= base;
  }
  while (static_cast<int>(num.size()) < prec) num.insert(num.begin(), '0');
  if (f_.sharp) {
    if (base == 2) num.insert(0, "0b");
    if (base == 8 && num[0] != '0') num.insert(0, "0");
    if (base == 16) num.insert(0, upper ? "0X" : "0x");
  }
  if (verb == 'O') num.insert(0, "0o");
  if (negative) {
    num.insert(num.begin(), '-');
  } else if (f_.plus) {
    num.insert(num.begin(), '+');
  } else if (f_.space) {
    num.insert(num.begin(), ' ');
  }
  bool z = f_.zero;
  f_.zero = false;
  pad(num);
  f_.zero = z;
}

void Printer::fmt_integer(uint64_t u, bool is_signed, uint32_t verb, const Value& arg) {
  switch (verb) {
    case 'v':
      if (f_.sharp_v && !is_signed) {
        bool s = f_.sharp;
        f_.sharp = true;
        fmt_integer_base(u, 16, false, verb, false);
        f_.sharp = s;
      } else {
        fmt_integer_base(u, 10, is_signed, verb, false);
      }
      break;
    case 'd': fmt_integer_base(u, 10, is_signed, verb, false); break;
    case 'b': fmt_integer_base(u, 2, is_signed, verb, false); break;
    case 'o':
    case 'O': fmt_integer_base(u, 8, is_signed, verb, false); break;
    case 'x': fmt_integer_base(u, 16, is_signed, verb, false); break;
    case 'X': fmt_integer_base(u, 16, is_signed, verb, true); break;
    case 'c': fmt_c(u); break;
    case 'q': fmt_qc(u); break;
    case 'U': fmt_unicode(u); break;
    default: bad_verb(verb, arg);
  }
}

void Printer::fmt_float_verb(double v, char verb, int prec) {
  if (f_.prec_present) prec = f_.prec;
  std::string num = verb == 'x' || verb == 'X' ? format_hex_float(v, verb == 'X', prec)
                                               : go_format_float(v, verb == 'F' ? 'f' : verb, prec);
  if (num[0] != '-' && num[0] != '+') num.insert(num.begin(), '+');
  if (f_.space && num[0] == '+' && !f_.plus) num[0] = ' ';
  if (num[1] == 'I' || num[1] == 'N') {
    bool z = f_.zero;
    f_.zero = false;
    if (num[1] == 'N' && !f_.space && !f_.plus) num.erase(0, 1);
    pad(num);
    f_.zero = z;
    return;
  }
  if (f_.plus || num[0] != '+') {
    if (f_.zero && f_.wid_present && f_.wid > static_cast<int>(num.size())) {
      buf += num[0];
      write_padding(f_.wid - static_cast<int>(num.size()));
      buf.append(num, 1);
      return;
    }
    pad(num);
    return;
  }
  pad(std::string_view(num).substr(1));
}

void Printer::fmt_float(double v, uint32_t verb, const Value& arg) {
  switch (verb) {
    case 'v': fmt_float_verb(v, 'g', -1); break;
    case 'g':
    case 'G':
    case 'x':
    case 'X': fmt_float_verb(v, static_cast<char>(verb), -1); break;
    case 'e':
    case 'E':
    case 'f':
    case 'F': fmt_float_verb(v, static_cast<char>(verb), 6); break;
    default: bad_verb(verb, arg);
  }
}

void Printer::fmt_s(std::string_view s) {
  if (f_.prec_present) {
    size_t i = 0;
    for (int n = 0; i < s.size() && n < f_.prec; ++n) {
      uint32_t cp;
      int len = utf8_decode(s, i, &cp);
      i += len > 0 ? len : 1;
    }
    s = s.substr(0, i);
  }
  pad(s);
}

void Printer::fmt_sx(std::string_view s, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  size_t length = s.size();
  if (f_.prec_present && static_cast<size_t>(f_.prec) < length) length = f_.prec;
  std::string out;
  for (size_t i = 0; i < length; ++i) {
    if (f_.space && i > 0) out += ' ';
    if (f_.sharp && (f_.space || i == 0)) out += upper ? "0X" : "0x";
    auto c = static_cast<unsigned char>(s[i]);
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  if (length == 0 && f_.wid_present) {
    write_padding(f_.wid);
    return;
  }
  pad(out);
}

void Printer::fmt_q(std::string_view s) {
  if (f_.prec_present) {
    size_t i = 0;
    for (int n = 0; i < s.size() && n < f_.prec; ++n) {
      uint32_t cp;
      int len = utf8_decode(s, i, &cp);
      i += len > 0 ? len : 1;
    }
    s = s.substr(0, i);
  }
  if (f_.sharp && s.find('`') == std::string_view::npos && is_valid_utf8(s)) {
    bool can_backquote = true;
    for (char c : s) {
      auto uc = static_cast<unsigned char>(c);
      if ((uc < ' ' && c != '\t') || uc == 0x7F) can_backquote = false;
    }
    if (can_backquote) {
      pad("`" + std::string(s) + "`");
      return;
    }
  }
  pad(f_.plus ? quote_ascii(s) : go_quote(s));
}

void Printer::fmt_c(uint64_t c) {
  uint32_t r = c > 0x10FFFF ? 0xFFFD : static_cast<uint32_t>(c);
  if (r >= 0xD800 && r <= 0xDFFF) r = 0xFFFD;
  std::string s;
  append_utf8(s, r);
  bool z = f_.zero;
  f_.zero = false;
  pad(s);
  f_.zero = z;
}

void Printer::fmt_qc(uint64_t c) {
  bool z = f_.zero;
  f_.zero = false;
  std::string q = go_quote_rune(static_cast<int64_t>(c));
  if (f_.plus && c >= 0x80 && c <= 0x10FFFF) {
    // strconv.QuoteRuneToASCII
    q = "'" + quote_ascii(q.substr(1, q.size() - 2)).substr(1);
    q.back() = '\'';
  }
  pad(q);
  f_.zero = z;
}

void Printer::fmt_unicode(uint64_t u) {
  std::string hex;
  const char* digits = "0123456789ABCDEF";
  uint64_t x = u;
  if (x == 0) hex = "0";
  while (x > 0) {
    hex.insert(hex.begin(), digits[x % 16]);
    x /= 16;
  }
  int prec = 4;
  if (f_.prec_present && f_.prec > 4) prec = f_.prec;
  while (static_cast<int>(hex.size()) < prec) hex.insert(hex.begin(), '0');
  std::string out = "U+" + hex;
  if (f_.sharp && u <= 0x10FFFF && is_printable_rune(static_cast<uint32_t>(u))) {
    out += " '";
    append_utf8(out, static_cast<uint32_t>(u));
    out += '\'';
  }
  bool z = f_.zero;
  f_.zero = false;
  pad(out);
  f_.zero = z;
}

void Printer::fmt_string(const std::string& s, uint32_t verb, const Value& arg) {
  switch (verb) {
    case 'v':
      if (f_.sharp_v) {
        fmt_q(s);
      } else {
        fmt_s(s);
      }
      break;
    case 's': fmt_s(s); break;
    case 'x': fmt_sx(s, false); break;
    case 'X': fmt_sx(s, true); break;
    case 'q': fmt_q(s); break;
    default: bad_verb(verb, arg);
  }
}

void Printer::bad_verb(uint32_t verb, const Value& arg) {
  erroring_ = true;
  buf += "%!";
  write_rune(verb);
  buf += '(';
  if (arg.valid()) {
    buf += arg.type()->name;
    buf += '=';
    Flags saved = f_;
    f_ = Flags{};
    print_arg(arg, 'v');
    f_ = saved;
  } else {
    buf += "<nil>";
  }
  buf += ')';
  erroring_ = false;
}

bool Printer::handle_methods(const Value& v, uint32_t verb) {
  if (erroring_ || f_.sharp_v) return false;
  if (verb != 'v' && verb != 's' && verb != 'x' && verb != 'X' && verb != 'q') return false;
  const Method* m = v.type() ? v.type()->find_method("String") : nullptr;
  if (!m || !m->sig.params.empty()) return false;
  if (v.kind() == Kind::kPointer && v.is_nil()) {
    pad("<nil>");  // fmt recovers the nil dereference and says so
    return true;
  }
  Value recv = v.kind() == Kind::kPointer ? v.pointee() : v;
  Result<Value> r = m->fn(CallArgs{std::span<const Value>(&recv, 1)});
  if (!r) {
    buf += "%!";
    write_rune(verb);
    buf += "(PANIC=String method: " + r.error().message + ")";
    return true;
  }
  fmt_string(r->as_string(), verb, *r);
  return true;
}

void Printer::print_value(const Value& v, uint32_t verb, int depth) {
  if (depth > 0 && v.valid() && handle_methods(v, verb)) return;
  switch (v.kind()) {
    case Kind::kInvalid:
      if (depth == 0) {
        buf += "<invalid reflect.Value>";
      } else if (verb == 'v') {
        buf += "<nil>";
      } else {
        bad_verb(verb, v);
      }
      return;
    case Kind::kBool: fmt_bool(v.as_bool(), verb, v); return;
    case Kind::kInt: fmt_integer(static_cast<uint64_t>(v.as_int()), true, verb, v); return;
    case Kind::kUint: fmt_integer(v.as_uint(), false, verb, v); return;
    case Kind::kFloat: fmt_float(v.as_float(), verb, v); return;
    case Kind::kString: fmt_string(v.as_string(), verb, v); return;
    case Kind::kMap: {
      if (f_.sharp_v) {
        buf += v.type()->name;
        if (v.is_nil()) {
          buf += "(nil)";
          return;
        }
        buf += '{';
      } else {
        buf += "map[";
      }
      bool first = true;
      for (const auto& [key, val] : v.entries()) {
        if (!first) buf += f_.sharp_v ? ", " : " ";
        first = false;
        print_value(Value::string(key), verb, depth + 1);
        buf += ':';
        print_value(val, verb, depth + 1);
      }
      buf += f_.sharp_v ? '}' : ']';
      return;
    }
    case Kind::kStruct: {
      if (f_.sharp_v) buf += v.type()->name;
      buf += '{';
      const auto& names = v.type()->fields;
      const auto& fields = v.items();
      for (size_t i = 0; i < fields.size() && i < names.size(); ++i) {
        if (i > 0) buf += f_.sharp_v ? ", " : " ";
        if (f_.plus_v || f_.sharp_v) buf += names[i] + ":";
        print_value(fields[i], verb, depth + 1);
      }
      buf += '}';
      return;
    }
    case Kind::kSlice: {
      if (f_.sharp_v) {
        buf += v.type()->name;
        if (v.is_nil()) {
          buf += "(nil)";
          return;
        }
        buf += '{';
        for (size_t i = 0; i < v.items().size(); ++i) {
          if (i > 0) buf += ", ";
          print_value(v.items()[i], verb, depth + 1);
        }
        buf += '}';
        return;
      }
      buf += '[';
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i > 0) buf += ' ';
        print_value(v.items()[i], verb, depth + 1);
      }
      buf += ']';
      return;
    }
    case Kind::kPointer: {
      if (!v.is_nil()) {
        Kind k = v.pointee().kind();
        if (k == Kind::kStruct || k == Kind::kSlice || k == Kind::kMap) {
          buf += '&';
          print_value(v.pointee(), verb, depth + 1);
          return;
        }
      }
      [[fallthrough]];
    }
    case Kind::kFunc:
      if (v.is_nil() && (verb == 'v' || verb == 's')) {
        if (f_.sharp_v) {
          buf += "(" + v.type()->name + ")(nil)";
        } else {
          pad("<nil>");
        }
      } else if (verb == 'v' || verb == 'p' || verb == 'x' || verb == 'X') {
        // Go prints an address; ours has no meaning outside the process.
        pad("0xc000000000");
      } else {
        bad_verb(verb, v);
      }
      return;
    case Kind::kInterface: buf += "<nil>"; return;
  }
}

void Printer::print_arg(const Value& arg, uint32_t verb) {
  if (!arg.valid()) {
    if (verb == 'T' || verb == 'v') {
      pad("<nil>");
    } else {
      bad_verb(verb, arg);
    }
    return;
  }
  if (verb == 'T') {
    fmt_s(arg.type()->name);
    return;
  }
  if (verb == 'p') {
    if (arg.kind() == Kind::kPointer || arg.kind() == Kind::kMap || arg.kind() == Kind::kSlice ||
        arg.kind() == Kind::kFunc) {
      pad("0xc000000000");
    } else {
      bad_verb(verb, arg);
    }
    return;
  }
  if (handle_methods(arg, verb)) return;
  print_value(arg, verb, 0);
}

int parse_num(std::string_view s, size_t* i, bool* ok) {
  *ok = false;
  int num = 0;
  while (*i < s.size() && s[*i] >= '0' && s[*i] <= '9') {
    if (num > kTooLarge) {
      *ok = false;
      *i = s.size();
      return 0;
    }
    num = num * 10 + (s[*i] - '0');
    *ok = true;
    ++*i;
  }
  return num;
}

// Go's intFromArg: the argument for a '*' width or precision.
int int_from_arg(std::span<const Value> a, int* arg_num, bool* ok) {
  *ok = false;
  int num = 0;
  if (*arg_num < static_cast<int>(a.size())) {
    const Value& v = a[*arg_num];
    if (v.kind() == Kind::kInt) {
      num = static_cast<int>(v.as_int());
      *ok = num == v.as_int();
    } else if (v.kind() == Kind::kUint) {
      if (v.as_uint() <= INT32_MAX) {
        num = static_cast<int>(v.as_uint());
        *ok = true;
      }
    }
    ++*arg_num;
    if (num > kTooLarge || num < -kTooLarge) {
      num = 0;
      *ok = false;
    }
  }
  return num;
}

int Printer::arg_number(int arg_num, std::string_view format, size_t* i, size_t num_args,
                        bool* found) {
  *found = false;
  if (*i >= format.size() || format[*i] != '[') return arg_num;
  reordered_ = true;
  // Parse "[n]".
  for (size_t j = *i + 1; j < format.size(); ++j) {
    if (format[j] == ']') {
      size_t k = *i + 1;
      bool ok;
      int index = parse_num(format.substr(0, j), &k, &ok);
      if (!ok || k != j) {
        *i = j + 1;
        good_arg_num_ = false;
        return arg_num;
      }
      *i = j + 1;
      index -= 1;
      if (index >= 0 && static_cast<size_t>(index) < num_args) {
        *found = true;
        return index;
      }
      good_arg_num_ = false;
      return arg_num;
    }
  }
  // No closing bracket.
  good_arg_num_ = false;
  *i += 1;
  return arg_num;
}

void Printer::do_printf(std::string_view format, std::span<const Value> a) {
  size_t end = format.size();
  int arg_num = 0;
  bool after_index = false;
  reordered_ = false;
  for (size_t i = 0; i < end;) {
    good_arg_num_ = true;
    size_t lasti = i;
    while (i < end && format[i] != '%') ++i;
    if (i > lasti) buf.append(format.substr(lasti, i - lasti));
    if (i >= end) break;
    ++i;  // the '%'
    f_ = Flags{};
    bool simple_done = false;
    for (; i < end; ++i) {
      char c = format[i];
      if (c == '#') {
        f_.sharp = true;
      } else if (c == '0') {
        f_.zero = !f_.minus;
      } else if (c == '+') {
        f_.plus = true;
      } else if (c == '-') {
        f_.minus = true;
        f_.zero = false;
      } else if (c == ' ') {
        f_.space = true;
      } else {
        if (c >= 'a' && c <= 'z' && arg_num < static_cast<int>(a.size())) {
          if (c == 'v') {
            f_.sharp_v = f_.sharp;
            f_.sharp = false;
            f_.plus_v = f_.plus;
            f_.plus = false;
          }
          print_arg(a[arg_num], static_cast<uint32_t>(c));
          ++arg_num;
          ++i;
          simple_done = true;
        }
        break;
      }
    }
    if (simple_done) continue;

    bool found;
    arg_num = arg_number(arg_num, format, &i, a.size(), &found);
    after_index = found;
    if (i < end && format[i] == '*') {
      ++i;
      f_.wid = int_from_arg(a, &arg_num, &f_.wid_present);
      if (!f_.wid_present) buf += "%!(BADWIDTH)";
      if (f_.wid < 0) {
        f_.wid = -f_.wid;
        f_.minus = true;
        f_.zero = false;
      }
      after_index = false;
    } else {
      f_.wid = parse_num(format, &i, &f_.wid_present);
      if (after_index && f_.wid_present) good_arg_num_ = false;
    }
    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index) good_arg_num_ = false;
      arg_num = arg_number(arg_num, format, &i, a.size(), &found);
      after_index = found;
      if (i < end && format[i] == '*') {
        ++i;
        f_.prec = int_from_arg(a, &arg_num, &f_.prec_present);
        if (f_.prec < 0) {
          f_.prec = 0;
          f_.prec_present = false;
        }
        if (!f_.prec_present) buf += "%!(BADPREC)";
        after_index = false;
      } else {
        f_.prec = parse_num(format, &i, &f_.prec_present);
        if (!f_.prec_present) {
          f_.prec = 0;
          f_.prec_present = true;
        }
      }
    }
    if (!after_index) {
      arg_num = arg_number(arg_num, format, &i, a.size(), &found);
      after_index = found;
    }
    if (i >= end) {
      buf += "%!(NOVERB)";
      break;
    }
    uint32_t verb = static_cast<unsigned char>(format[i]);
    int size = 1;
    if (verb >= 0x80) {
      size = utf8_decode(format, i, &verb);
      if (size == 0) {
        verb = 0xFFFD;
        size = 1;
      }
    }
    i += size;
    if (verb == '%') {
      buf += '%';
    } else if (!good_arg_num_) {
      buf += "%!";
      write_rune(verb);
      buf += "(BADINDEX)";
    } else if (arg_num >= static_cast<int>(a.size())) {
      buf += "%!";
      write_rune(verb);
      buf += "(MISSING)";
    } else {
      if (verb == 'v') {
        f_.sharp_v = f_.sharp;
        f_.sharp = false;
        f_.plus_v = f_.plus;
        f_.plus = false;
      }
      print_arg(a[arg_num], verb);
      ++arg_num;
    }
  }
  if (!reordered_ && arg_num < static_cast<int>(a.size())) {
    f_ = Flags{};
    buf += "%!(EXTRA ";
    for (size_t k = arg_num; k < a.size(); ++k) {
      if (k > static_cast<size_t>(arg_num)) buf += ", ";
      if (!a[k].valid()) {
        buf += "<nil>";
      } else {
        buf += a[k].type()->name;
        buf += '=';
        print_arg(a[k], 'v');
      }
    }
    buf += ')';
  }
}

void Printer::do_print(std::span<const Value> a) {
  bool prev_string = false;
  for (size_t i = 0; i < a.size(); ++i) {
    bool is_string = a[i].valid() && a[i].kind() == Kind::kString;
    if (i > 0 && !is_string && !prev_string) buf += ' ';
    f_ = Flags{};
    print_arg(a[i], 'v');
    prev_string = is_string;
  }
}

void Printer::do_println(std::span<const Value> a) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (i > 0) buf += ' ';
    f_ = Flags{};
    print_arg(a[i], 'v');
  }
  buf += '\n';
}

}  // namespace

std::string go_quote_rune(int64_t r) {
  uint32_t cp = (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) ? 0xFFFD
                                                                          : static_cast<uint32_t>(r);
  if (cp == '\'') return "'\\''";
  if (cp == '"') return "'\"'";
  std::string s;
  append_utf8(s, cp);
  std::string q = go_quote(s);  // "..." with Go's escapes
  return "'" + q.substr(1, q.size() - 2) + "'";
}

std::string go_sprintf(std::string_view format, std::span<const Value> args) {
  Printer p;
  p.do_printf(format, args);
  return std::move(p.buf);
}

std::string go_sprint(std::span<const Value> args) {
  Printer p;
  p.do_print(args);
  return std::move(p.buf);
}

std::string go_sprintln(std::span<const Value> args) {
  Printer p;
  p.do_println(args);
  return std::move(p.buf);
}

std::string go_sprint_value(const Value& v) {
  Printer p;
  p.print_arg(v, 'v');
  return std::move(p.buf);
}

}  // namespace vigil::templates
