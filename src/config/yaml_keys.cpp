#include "rctune/config/yaml_keys.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <sstream>
#include <vector>

#include "rctune/config/error.h"

namespace rctune::config {

namespace {

class KeyChecker : public YAML::EventHandler {
 public:
  KeyChecker(const std::string& file, const std::string& prefix) : file_(file), prefix_(prefix) {}

  void OnDocumentStart(const YAML::Mark&) override { stack_.clear(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { leaf(mark, nullptr); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { leaf(mark, nullptr); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    leaf(mark, &value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open(mark, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open(mark, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Level {
    bool map = false;
    bool at_key = true;                // a mapping: the next node is a key
    std::string path;                  // this container's key path
    std::string key;                   // a mapping: the current key ("?" for a non-scalar key)
    size_t index = 0;                  // a sequence: the current item
    std::map<std::string, int> lines;  // a mapping: each key and the line it is on (1-based)
  };

  // The key path of the node that starts now in the innermost container.
  std::string child_path() const {
    if (stack_.empty()) return prefix_;
    const Level& l = stack_.back();
    if (l.map && l.at_key) return l.path;  // a key's own children (a complex key): its mapping's path
    if (l.map) return l.path.empty() ? l.key : l.path + "." + l.key;
    return l.path + "[" + std::to_string(l.index) + "]";
  }

  void leaf(const YAML::Mark& mark, const std::string* scalar) {
    if (!stack_.empty() && stack_.back().map && stack_.back().at_key) {
      Level& l = stack_.back();
      l.key = scalar ? *scalar : "?";
      if (scalar && *scalar != "<<") {
        auto [it, inserted] = l.lines.emplace(*scalar, mark.line + 1);
        if (!inserted) {
          std::string key = l.path.empty() ? *scalar : l.path + "." + *scalar;
          throw ConfigError(file_, mark.line + 1, mark.column + 1, key,
                            "duplicate key: it is already set on line " + std::to_string(it->second) +
                                " of this mapping; YAML would silently keep one of the two");
        }
      }
    }
    done();
  }

  void open(const YAML::Mark&, bool map) {
    Level l;
    l.map = map;
    l.path = child_path();
    if (!stack_.empty() && stack_.back().map && stack_.back().at_key) stack_.back().key = "?";
    stack_.push_back(std::move(l));
  }

  void close() {
    if (!stack_.empty()) stack_.pop_back();
    done();
  }

  // A node of the innermost container is complete.
  void done() {
    if (stack_.empty()) return;
    Level& l = stack_.back();
    if (l.map)
      l.at_key = !l.at_key;
    else
      ++l.index;
  }

  const std::string& file_;
  const std::string& prefix_;
  std::vector<Level> stack_;
};

}  // namespace

void check_unique_keys(const std::string& yaml_text, const std::string& file, const std::string& key_prefix) {
  std::istringstream in(yaml_text);
  KeyChecker checker(file, key_prefix);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(checker)) {
    }
  } catch (const YAML::Exception&) {
    // Not valid YAML: the caller's YAML::Load reports it with its position.
  }
}

}  // namespace rctune::config
