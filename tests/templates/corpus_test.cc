// The differential corpus: every case renders exactly as amtool 0.33 rendered
// it (tests/templates/corpus/expected/, recorded by scripts/template_corpus.py).
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "templates/alertmanager.h"
#include "templates/notification_data.h"

using namespace vigil::templates;

namespace {

const std::string kCorpus = std::string(VIGIL_SOURCE_DIR) + "/tests/templates/corpus";

struct Case {
  std::string name;
  bool html = false;
  std::string data;
  std::string text;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The same block format scripts/template_corpus.py reads.
std::vector<Case> read_cases() {
  std::vector<Case> cases;
  std::istringstream in(slurp(kCorpus + "/cases.txt"));
  std::string line;
  std::vector<std::string> lines;
  auto finish = [&] {
    if (cases.empty()) return;
    std::string text;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) text += '\n';
      text += lines[i];
    }
    if (!text.empty() && text.back() == '\n') text.pop_back();
    cases.back().text = text;
    lines.clear();
  };
  while (std::getline(in, line)) {
    if (line.starts_with("### ")) {
      finish();
      std::istringstream words(line.substr(4));
      Case c;
      words >> c.name;
      std::string w;
      while (words >> w) {
        if (w == "html") c.html = true;
        if (w.starts_with("data=")) c.data = w.substr(5);
      }
      cases.push_back(c);
    } else {
      lines.push_back(line);
    }
  }
  // getline drops the final newline; the script's split keeps an empty last line.
  finish();
  return cases;
}

GoTime now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return go_time_from_unix(ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000));
}

}  // namespace

TEST_CASE("corpus: every template renders as amtool renders it") {
  auto tmpl = NotificationTemplates::load({kCorpus + "/files/*.tmpl"});
  REQUIRE(tmpl);
  std::vector<Case> cases = read_cases();
  REQUIRE(cases.size() >= 200);
  int passed = 0;
  for (const Case& c : cases) {
    NotificationData data = example_notification_data(now());
    if (!c.data.empty()) {
      auto d = notification_data_from_json(slurp(kCorpus + "/data/" + c.data));
      REQUIRE_MESSAGE(d, c.name);
      data = *d;
    }
    auto got = c.html ? tmpl->execute_html(c.text, data) : tmpl->execute_text(c.text, data);
    std::string base = kCorpus + "/expected/" + c.name;
    if (std::filesystem::exists(base + ".out")) {
      std::string want = slurp(base + ".out");
      CHECK_MESSAGE(got.has_value(), c.name, ": ", got ? "" : got.error().message);
      if (got) {
        CHECK_MESSAGE(*got == want, c.name);
        passed += *got == want;
      }
    } else {
      std::string want = slurp(base + ".err");
      if (!want.empty() && want.back() == '\n') want.pop_back();
      CHECK_MESSAGE(!got.has_value(), c.name, " rendered ", got ? *got : "");
      if (!got) {
        CHECK_MESSAGE(got.error().message == want, c.name);
        passed += got.error().message == want;
      }
    }
  }
  CHECK(passed == static_cast<int>(cases.size()));
}
