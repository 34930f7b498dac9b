// The layering of lib/ that docs/architecture.md promises, checked on the sources: each folder's
// files include only the folders its "knows about" column lists, so the table cannot drift from
// the code (and a new dependency between layers is a decision, written down).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace perceiver;

TEST_CASE("architecture: each lib folder includes only the folders docs/architecture.md lists") {
  const fs::path root = fs::path(test::data_dir()).parent_path().parent_path();  // tests/data -> repository
  // The table: | `lib/<folder>/` | holds | knows about |
  std::map<std::string, std::set<std::string>> allowed;
  std::istringstream doc(test::read_text((root / "docs/architecture.md").string()));
  const std::regex row(R"(^\| `lib/([a-z_]+)/` \|.*\| ([^|]*) \|$)");
  for (std::string line; std::getline(doc, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, row)) continue;
    std::set<std::string>& known = allowed[m[1]];
    std::istringstream names(m[2].str());
    for (std::string name; std::getline(names, name, ',');) {
      name = std::regex_replace(name, std::regex(R"(^\s+|\s*\(.*\)\s*$|\s+$)"), "");
      if (name != "nothing") known.insert(name);
    }
  }
  REQUIRE(allowed.size() >= 10);
  const std::regex include(R"(^#include "([a-z_]+)/)");
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(root / "lib")) {
    if (!entry.is_directory()) continue;
    const std::string folder = entry.path().filename().string();
    CAPTURE(folder);
    REQUIRE_MESSAGE(allowed.count(folder), "lib/" << folder << "/ has no row in docs/architecture.md");
    for (const auto& file : fs::recursive_directory_iterator(entry.path())) {
      if (!file.is_regular_file()) continue;
      std::ifstream in(file.path());
      for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        const std::string used = m[1];
        if (used == folder) continue;
        CAPTURE(file.path().string());
        CHECK_MESSAGE(allowed[folder].count(used), "lib/" << folder << " includes " << used << "/ (" << line << ")");
        ++checked;
      }
    }
  }
  CHECK(checked > 100);
}

TEST_CASE("architecture: the inference tools do not link the training library, perceiver-train does") {
  const auto needed = [](const std::string& tool) {
    const test::CommandResult r = test::run_command("readelf -d " + test::bin_dir() + "/" + tool);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("libperceiver.so") != std::string::npos);
    return r.out.find("libperceiver-training.so") != std::string::npos;
  };
  for (const char* tool : {"perceiver-run", "perceiver-mlm", "perceiver-classify", "perceiver-flow", "perceiver-autoencode",
                           "perceiver-convert"}) {
    CAPTURE(tool);
    CHECK_FALSE(needed(tool));
  }
  CHECK(needed("perceiver-train"));
}
