#include "tokenizer/chat/lexer.h"

#include <cstdlib>

#include "base/strings.h"

namespace hearth::chat {

std::string Where(int line, int column, std::string_view what) {
  return StrFormat("template line %d, column %d: %.*s", line, column, static_cast<int>(what.size()),
                   what.data());
}

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xc0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xe0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {}

  Result<std::vector<Token>> Run() {
    size_t text_start = 0;
    bool prev_strip = false;  // previous tag ended with '-'
    bool prev_trim = false;   // previous tag was a block/comment without '+' (trim_blocks)
    size_t pos = 0;
    while (true) {
      size_t tag = src_.find('{', pos);
      while (tag != std::string::npos && tag + 1 < src_.size() && src_[tag + 1] != '{' &&
             src_[tag + 1] != '%' && src_[tag + 1] != '#') {
        tag = src_.find('{', tag + 1);
      }
      if (tag + 1 >= src_.size()) tag = std::string::npos;
      const size_t text_end = tag == std::string::npos ? src_.size() : tag;
      const char type = tag == std::string::npos ? 0 : src_[tag + 1];
      const char mod = tag != std::string::npos && tag + 2 < src_.size() ? src_[tag + 2] : 0;
      // Left side of the text: what the previous tag asked for.
      size_t a = text_start, b = text_end;
      if (prev_strip) {
        while (a < b && IsSpace(src_[a])) ++a;
      } else if (prev_trim && a < b && src_[a] == '\n') {
        ++a;
      }
      // Right side: what this tag asks for.
      if (type != 0 && mod == '-') {
        while (b > a && IsSpace(src_[b - 1])) --b;
      } else if ((type == '%' || type == '#') && mod != '+') {
        size_t l = b;
        while (l > a && (src_[l - 1] == ' ' || src_[l - 1] == '\t')) --l;
        if ((l > a && src_[l - 1] == '\n') || (l == a && (l == 0 || src_[l - 1] == '\n'))) b = l;
      }
      if (b > a) Push(Token::Kind::kText, src_.substr(a, b - a), a);
      if (type == 0) break;
      pos = tag + 2 + ((mod == '-' || mod == '+') ? 1 : 0);
      if (type == '#') {
        const size_t end = src_.find("#}", pos);
        if (end == std::string::npos) return Error(tag, "unterminated comment");
        prev_strip = end > pos && src_[end - 1] == '-';
        prev_trim = !(end > pos && src_[end - 1] == '+');
        pos = end + 2;
      } else {
        const bool is_var = type == '{';
        Push(is_var ? Token::Kind::kVarBegin : Token::Kind::kBlockBegin, "", tag);
        HEARTH_RETURN_IF_ERROR(LexTag(is_var, tag, &pos, &prev_strip, &prev_trim));
      }
      text_start = pos;
    }
    Push(Token::Kind::kEof, "", src_.size());
    return std::move(tokens_);
  }

 private:
  Status Error(size_t offset, std::string_view what) {
    int line = 1, col = 1;
    Position(offset, &line, &col);
    return InvalidArgumentError(Where(line, col, what), "template.syntax");
  }

  void Position(size_t offset, int* line, int* col) {
    // Tokens come in source order: advance a cursor instead of rescanning.
    if (offset < cursor_) {
      cursor_ = 0;
      line_ = 1;
      col_ = 1;
    }
    for (; cursor_ < offset && cursor_ < src_.size(); ++cursor_) {
      if (src_[cursor_] == '\n') {
        ++line_;
        col_ = 1;
      } else {
        ++col_;
      }
    }
    *line = line_;
    *col = col_;
  }

  void Push(Token::Kind kind, std::string text, size_t offset) {
    Token t{kind, std::move(text)};
    Position(offset, &t.line, &t.column);
    tokens_.push_back(std::move(t));
  }

  Status LexTag(bool is_var, size_t tag, size_t* pos_io, bool* strip, bool* trim) {
    const char close = is_var ? '}' : '%';
    size_t p = *pos_io;
    int depth = 0;  // brackets, so "}}" inside a dict literal is not the end
    while (true) {
      while (p < src_.size() && IsSpace(src_[p])) ++p;
      if (p >= src_.size()) return Error(tag, is_var ? "unterminated '{{'" : "unterminated '{%'");
      const char c = src_[p];
      const auto at = [&](size_t k) { return k < src_.size() ? src_[k] : '\0'; };
      if (depth == 0 || close == '%') {
        size_t q = p;
        const bool minus = c == '-' || c == '+';
        if (minus) ++q;
        if (at(q) == close && at(q + 1) == '}' && (close == '%' || !minus || c == '-')) {
          Push(is_var ? Token::Kind::kVarEnd : Token::Kind::kBlockEnd, "", p);
          *strip = c == '-';
          *trim = !is_var && c != '+';
          *pos_io = q + 2;
          return Status::Ok();
        }
      }
      if (IsNameStart(c)) {
        size_t q = p;
        while (q < src_.size() && (IsNameStart(src_[q]) || IsDigit(src_[q]))) ++q;
        Push(Token::Kind::kName, src_.substr(p, q - p), p);
        p = q;
      } else if (IsDigit(c)) {
        size_t q = p;
        while (IsDigit(at(q)) || at(q) == '_') ++q;
        bool is_float = false;
        if (at(q) == '.' && IsDigit(at(q + 1))) {
          is_float = true;
          ++q;
          while (IsDigit(at(q)) || at(q) == '_') ++q;
        }
        if ((at(q) == 'e' || at(q) == 'E') &&
            (IsDigit(at(q + 1)) ||
             ((at(q + 1) == '+' || at(q + 1) == '-') && IsDigit(at(q + 2))))) {
          is_float = true;
          q += 2;
          while (IsDigit(at(q))) ++q;
        }
        std::string num;
        for (size_t k = p; k < q; ++k) {
          if (src_[k] != '_') num += src_[k];
        }
        Push(is_float ? Token::Kind::kFloat : Token::Kind::kInt, num, p);
        p = q;
      } else if (c == '\'' || c == '"') {
        std::string value;
        HEARTH_RETURN_IF_ERROR(LexString(&p, &value));
      } else {
        static constexpr std::string_view kTwo[] = {"**", "//", "==", "!=", "<=", ">="};
        std::string op(1, c);
        for (std::string_view two : kTwo) {
          if (src_.compare(p, 2, two) == 0) op = two;
        }
        if (std::string_view("+-*/%~<>=()[]{},.:|!").find(c) == std::string_view::npos) {
          return Error(p, StrFormat("unexpected character '%c'", c));
        }
        if (op == "!") return Error(p, "unexpected character '!'");
        if (c == '(' || c == '[' || c == '{') ++depth;
        if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
        Push(Token::Kind::kOp, op, p);
        p += op.size();
      }
    }
  }

  Status LexString(size_t* pos_io, std::string* unused) {
    (void)unused;
    const size_t start = *pos_io;
    const char q = src_[start];
    std::string out;
    size_t p = start + 1;
    const auto hex = [&](size_t k, int n, uint32_t* cp) {
      if (k + n > src_.size()) return false;
      std::string digits = src_.substr(k, n);
      for (char h : digits) {
        if (!std::isxdigit(static_cast<unsigned char>(h))) return false;
      }
      *cp = static_cast<uint32_t>(std::strtoul(digits.c_str(), nullptr, 16));
      return true;
    };
    while (true) {
      if (p >= src_.size()) return Error(start, "unterminated string literal");
      const char c = src_[p];
      if (c == q) break;
      if (c != '\\') {
        out += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) return Error(start, "unterminated string literal");
      const char e = src_[p + 1];
      p += 2;
      uint32_t cp = 0;
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
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (!hex(p, n, &cp) || cp > 0x10ffff) return Error(p - 2, "bad escape in string literal");
          AppendUtf8(cp, &out);
          p += n;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7';
                 ++k, ++p) {
              cp = cp * 8 + static_cast<uint32_t>(src_[p] - '0');
            }
            AppendUtf8(cp, &out);
          } else {  // Python keeps unknown escapes as written
            out += '\\';
            out += e;
          }
      }
    }
    Push(Token::Kind::kString, std::move(out), start);
    *pos_io = p + 1;
    return Status::Ok();
  }

  std::string src_;
  std::vector<Token> tokens_;
  size_t cursor_ = 0;
  int line_ = 1, col_ = 1;
};

}  // namespace

Result<std::vector<Token>> Lex(std::string_view source) {
  if (source.size() > kMaxTemplateBytes) {
    return InvalidArgumentError(
        StrFormat("template is too large (%zu bytes, limit %zu)", source.size(), kMaxTemplateBytes),
        "template.too_large");
  }
  std::string src;
  src.reserve(source.size());
  for (size_t k = 0; k < source.size(); ++k) {
    if (source[k] == '\r') {
      src += '\n';
      if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
    } else {
      src += source[k];
    }
  }
  if (!src.empty() && src.back() == '\n') src.pop_back();  // keep_trailing_newline=False
  return Lexer(std::move(src)).Run();
}

}  // namespace hearth::chat
