// Go's fmt over template values; expected strings are Go's.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "templates/go_fmt.h"
#include "templates/go_time.h"

using namespace vigil::templates;

namespace {

std::string f(std::string_view format, std::vector<Value> args) { return go_sprintf(format, args); }

}  // namespace

TEST_CASE("integers") {
  CHECK(f("%d|%5d|%-5d|%05d|%+d|% d", {Value::integer(42), Value::integer(42), Value::integer(42),
                                       Value::integer(-42), Value::integer(42), Value::integer(42)}) ==
        "42|   42|42   |-0042|+42| 42");
  CHECK(f("%x|%X|%#x|%o|%#o|%O|%b", {Value::integer(-255), Value::integer(255), Value::integer(255),
                                     Value::integer(8), Value::integer(8), Value::integer(8), Value::integer(5)}) ==
        "-ff|FF|0xff|10|010|0o10|101");
  CHECK(f("%.3d|%.0d|%8.3d", {Value::integer(7), Value::integer(0), Value::integer(-7)}) == "007||    -007");
  CHECK(f("%d %v", {Value::uinteger(std::numeric_limits<uint64_t>::max()), Value::uinteger(3)}) ==
        "18446744073709551615 3");
  CHECK(f("%c|%q|%+q|%U|%#U", {Value::integer(0x263A), Value::integer('\n'), Value::integer(0xE9),
                               Value::integer(0x1F600), Value::integer('x')}) ==
        "☺|'\\n'|'\\u00e9'|U+1F600|U+0078 'x'");
}

TEST_CASE("floats") {
  CHECK(f("%v %v %v %v", {Value::floating(1e6), Value::floating(123456), Value::floating(1e-5),
                         Value::floating(0.1 + 0.2)}) == "1e+06 123456 1e-05 0.30000000000000004");
  CHECK(f("%f|%.1f|%e|%.2E|%g|%.3g", {Value::floating(1.5), Value::floating(0.05), Value::floating(123456.789),
                                      Value::floating(0.000123), Value::floating(1e21), Value::floating(2.0 / 3)}) ==
        "1.500000|0.1|1.234568e+05|1.23E-04|1e+21|0.667");
  double inf = std::numeric_limits<double>::infinity();
  CHECK(f("%v|%f|%5.1f|%-6v|%+v|%05v", {Value::floating(inf), Value::floating(-inf), Value::floating(std::nan("")),
                                        Value::floating(inf), Value::floating(std::nan("")),
                                        Value::floating(-inf)}) ==
        "+Inf|-Inf|  NaN|+Inf  |NaN| -Inf");  // %+v is not %+ for numbers
  CHECK(f("%x|%.1X", {Value::floating(1.0), Value::floating(-3.75)}) == "0x1p+00|-0X1.EP+01");
  CHECK(f("%08.3f|%+.2e|% g", {Value::floating(-3.14159), Value::floating(12345.678), Value::floating(2)}) ==
        "-003.142|+1.23e+04| 2");
}

TEST_CASE("strings") {
  CHECK(f("%s|%q|%x|% X|%#x|%.2s|%5.1s|%-4s|", {Value::string("hé"), Value::string("a\"b"), Value::string("hi"),
                                               Value::string("hi"), Value::string("hi"), Value::string("héllo"),
                                               Value::string("xyz"), Value::string("ab")}) ==
        "hé|\"a\\\"b\"|6869|68 69|0x6869|hé|    x|ab  |");
  CHECK(f("%#q|%#q|%+q", {Value::string("a`b"), Value::string("ab"), Value::string("日本")}) ==
        "\"a`b\"|`ab`|\"\\u65e5\\u672c\"");
}

TEST_CASE("composites and types") {
  Value list = Value::strings({"a", "b"});
  Value m = Value::strmap({{"z", Value::string("1")}, {"a", Value::string("2")}});
  const Type* pt = make_mutable_type(Kind::kStruct, "main.P", "struct { X int; Y string }");
  const_cast<Type*>(pt)->fields = {"X", "Y"};
  Value st = Value::structure({Value::integer(1), Value::string("y")}, pt);
  CHECK(f("%v|%q|%v|%d", {list, list, m, Value::slice({Value::integer(1), Value::integer(2)}, slice_of(int_type()))}) ==
        "[a b]|[\"a\" \"b\"]|map[a:2 z:1]|[1 2]");
  CHECK(f("%v|%+v|%#v", {st, st, st}) == "{1 y}|{X:1 Y:y}|main.P{X:1, Y:\"y\"}");
  CHECK(f("%v|%v", {Value::pointer(st, pointer_to(pt)), Value::nil_of(pointer_to(pt))}) == "&{1 y}|<nil>");
  CHECK(f("%T|%T|%T|%T", {Value(), list, m, Value::floating(1)}) == "<nil>|[]string|map[string]string|float64");
  CHECK(f("%#v|%#v", {Value::nil_of(string_slice_type()), Value::integer(5)}) == "[]string(nil)|5");
}

TEST_CASE("Stringers print through String for v, s, q, x") {
  Value d = duration_value(90'000'000'000);
  CHECK(f("%v|%s|%q|%d", {d, d, d, d}) == "1m30s|1m30s|\"1m30s\"|90000000000");
  Value t = time_value(go_time_from_unix(0, 5));
  CHECK(go_sprint_value(Value::slice({t}, slice_of(time_type()))) == "[1970-01-01 00:00:00.000000005 +0000 UTC]");
}

TEST_CASE("Go's error notations") {
  CHECK(f("%d", {Value::string("x")}) == "%!d(string=x)");
  CHECK(f("%s %s", {Value::string("x")}) == "x %!s(MISSING)");
  CHECK(f("%s", {Value::string("x"), Value::integer(1), Value()}) == "x%!(EXTRA int=1, <nil>)");
  CHECK(f("%", {}) == "%!(NOVERB)");
  CHECK(f("%z", {Value::integer(1)}) == "%!z(int=1)");
  CHECK(f("%[3]d %[1]d", {Value::integer(1), Value::integer(2)}) == "%!d(BADINDEX) 1");
  CHECK(f("%[2]d %[1]d %d", {Value::integer(1), Value::integer(2)}) == "2 1 2");
  CHECK(f("%-*d|%*d", {Value::integer(4), Value::integer(1), Value::integer(-3), Value::integer(2)}) == "1   |2  ");
  CHECK(f("%*d", {Value::string("x"), Value::integer(1)}) == "%!(BADWIDTH)1");
  CHECK(f("%s", {Value()}) == "%!s(<nil>)");
}

TEST_CASE("Sprint and Sprintln spacing") {
  CHECK(go_sprint(std::vector<Value>{Value::integer(1), Value::integer(2), Value::string("a"), Value::string("b"),
                                     Value::floating(3)}) == "1 2ab3");
  CHECK(go_sprintln(std::vector<Value>{Value::string("a"), Value::integer(1)}) == "a 1\n");
}
