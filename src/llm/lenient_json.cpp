// The forgiving JSON reader of the answer parser (lenient_json.h): a recursive descent that records
// what it forgave and stops cleanly where the text ends.
#include "lenient_json.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace rctune::llm::detail {
namespace {

struct SyntaxError {};

// A proposals block nests 4 deep; a deeper value is no block (and a failed read unwinds less).
constexpr int kMaxDepth = 16;

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '-';
}
bool starts_value(char c) { return c == '{' || c == '[' || c == '"' || c == '\''; }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Reader {
 public:
  Reader(std::string_view s, size_t pos) : s_(s), i_(pos) {}

  // One value. When the text ends inside it, sets cut_ and returns what was complete.
  nlohmann::json value(int depth = 0) {
    if (depth > kMaxDepth) throw SyntaxError{};
    blanks();
    if (at_end()) return cut();
    const char c = s_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"' || c == '\'') return string();
    if (c == '-' || c == '+' || std::isdigit(static_cast<unsigned char>(c))) return number();
    if (is_ident_start(c)) return literal();
    throw SyntaxError{};
  }

  bool was_cut() const { return cut_; }
  size_t position() const { return i_; }
  std::set<std::string>& tolerated() { return tolerated_; }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  // The text ended inside a value.
  nlohmann::json cut() {
    cut_ = true;
    i_ = s_.size();
    return nullptr;
  }
  template <typename T>
  T cut_with(T partial) {
    cut();
    return partial;
  }

  // Whitespace and comments.
  void blanks() {
    while (!at_end()) {
      const char c = s_[i_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i_;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
        tolerated_.insert("comments");
        while (!at_end() && s_[i_] != '\n') ++i_;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
        tolerated_.insert("comments");
        const size_t close = s_.find("*/", i_ + 2);
        i_ = close == std::string_view::npos ? s_.size() : close + 2;
      } else {
        break;
      }
    }
  }

  nlohmann::json object(int depth) {
    ++i_;  // '{'
    nlohmann::json obj = nlohmann::json::object();
    for (;;) {
      if (!before_entry('}')) return obj;
      std::string key;
      if (s_[i_] == '"' || s_[i_] == '\'') {
        nlohmann::json k = string();
        if (cut_) return obj;
        key = k.get<std::string>();
      } else if (is_ident_start(s_[i_])) {
        tolerated_.insert("unquoted keys");
        while (!at_end() && is_ident_char(s_[i_])) key += s_[i_++];
      } else {
        throw SyntaxError{};
      }
      blanks();
      if (at_end()) return cut_with(std::move(obj));
      if (s_[i_] != ':') throw SyntaxError{};
      ++i_;
      nlohmann::json v = value(depth + 1);
      if (cut_) {
        if (v.is_array() || v.is_object()) obj[key] = std::move(v);
        return obj;
      }
      obj[key] = std::move(v);
      if (!after_entry('}')) return obj;
    }
  }

  nlohmann::json array(int depth) {
    ++i_;  // '['
    nlohmann::json arr = nlohmann::json::array();
    for (;;) {
      if (!before_entry(']')) return arr;
      nlohmann::json v = value(depth + 1);
      if (cut_) return arr;  // only complete elements are kept
      arr.push_back(std::move(v));
      if (!after_entry(']')) return arr;
    }
  }

  // Before an entry of an object or array: blanks, and (forgiven) empty entries such as "{," or ",,".
  // False when the container is finished (the closing bracket) or cut.
  bool before_entry(char close) {
    for (;;) {
      blanks();
      if (at_end()) return cut_with(false);
      if (s_[i_] == close) {
        ++i_;
        return false;
      }
      if (s_[i_] != ',') return true;
      tolerated_.insert("empty entries");
      ++i_;
    }
  }

  // After an entry of an object or array: a comma (perhaps trailing), the closing bracket, or
  // (forgiven) the next entry without a comma. False when the container is finished or cut.
  bool after_entry(char close) {
    blanks();
    if (at_end()) return cut_with(false);
    if (s_[i_] == ',') {
      ++i_;
      blanks();
      if (!at_end() && s_[i_] == close) tolerated_.insert("trailing comma");
      return true;
    }
    if (s_[i_] == close) {
      ++i_;
      return false;
    }
    if (starts_value(s_[i_]) || (close == '}' && is_ident_start(s_[i_]))) {
      tolerated_.insert("missing comma");
      return true;
    }
    throw SyntaxError{};
  }

  nlohmann::json string() {
    const char quote = s_[i_++];
    if (quote == '\'') tolerated_.insert("single-quoted strings");
    std::string out;
    for (;;) {
      if (at_end()) return cut();
      const char c = s_[i_++];
      if (c == quote) return out;
      if (c == '\n') tolerated_.insert("raw newline in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) return cut();
      const char e = s_[i_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case '/':
          out += '/';
          break;
        case '\\':
          out += '\\';
          break;
        case '"':
          out += '"';
          break;
        case '\'':
          out += '\'';
          break;
        case 'u': {
          uint32_t cp = hex4();
          if (cut_) return nullptr;
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            const uint32_t low = hex4();
            if (cut_) return nullptr;
            if (low >= 0xDC00 && low < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:  // not an escape: kept as written
          out += '\\';
          out += e;
      }
    }
  }

  uint32_t hex4() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      if (at_end()) return cut_with(0u);
      const char c = s_[i_++];
      if (!std::isxdigit(static_cast<unsigned char>(c))) throw SyntaxError{};
      v = v * 16 + static_cast<uint32_t>(
                       std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
    }
    return v;
  }

  nlohmann::json number() {
    const size_t begin = i_;
    while (!at_end() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == 'e' ||
                         s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    if (at_end()) return cut();  // the number may go on
    const std::string token(s_.substr(begin, i_ - begin));
    char* end = nullptr;
    if (token.find_first_of(".eE") == std::string::npos) {
      const long long v = std::strtoll(token.c_str(), &end, 10);
      if (end != token.c_str() + token.size()) throw SyntaxError{};
      return static_cast<int64_t>(v);
    }
    const double v = std::strtod(token.c_str(), &end);
    if (end != token.c_str() + token.size()) throw SyntaxError{};
    return v;
  }

  nlohmann::json literal() {
    std::string word;
    while (!at_end() && is_ident_char(s_[i_])) word += s_[i_++];
    if (at_end()) return cut();
    if (word == "true") return true;
    if (word == "false") return false;
    if (word == "null") return nullptr;
    if (word == "True" || word == "False" || word == "None") {
      tolerated_.insert("Python literals");
      return word == "True"    ? nlohmann::json(true)
             : word == "False" ? nlohmann::json(false)
                               : nlohmann::json();
    }
    throw SyntaxError{};
  }

  std::string_view s_;
  size_t i_;
  bool cut_ = false;
  std::set<std::string> tolerated_;
};

}  // namespace

std::optional<LenientValue> read_lenient_json(std::string_view text, size_t pos, size_t* reached) {
  Reader r(text, pos);
  try {
    LenientValue v;
    v.value = r.value();
    v.complete = !r.was_cut();
    v.end = r.position();
    v.tolerated = std::move(r.tolerated());
    if (reached) *reached = v.end;
    return v;
  } catch (const SyntaxError&) {
    if (reached) *reached = std::min(r.position(), text.size());
    return std::nullopt;
  }
}

}  // namespace rctune::llm::detail
