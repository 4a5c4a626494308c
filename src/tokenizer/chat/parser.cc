#include "tokenizer/chat/parser.h"

#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

#include "base/strings.h"

namespace hearth::chat {
namespace {

using TK = Token::Kind;
using EK = Expr::Kind;

StmtPtr NewStmt(Stmt::Kind kind, const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  s->line = at.line;
  s->column = at.column;
  return s;
}

class Parser {
 public:
  explicit Parser(const std::vector<Token>& t) : t_(t) {}

  Result<Body> Run() {
    std::string end;
    HEARTH_ASSIGN_OR_RETURN(Body body, ParseBody({}, &end));
    return body;
  }

 private:
  const Token& Peek(size_t k = 0) const { return t_[std::min(pos_ + k, t_.size() - 1)]; }
  const Token& Next() { return t_[std::min(pos_++, t_.size() - 1)]; }
  bool IsOp(std::string_view op, size_t k = 0) const {
    return Peek(k).kind == TK::kOp && Peek(k).text == op;
  }
  bool IsName(std::string_view name, size_t k = 0) const {
    return Peek(k).kind == TK::kName && Peek(k).text == name;
  }
  Status ErrorAt(const Token& t, std::string_view what) const {
    return InvalidArgumentError(Where(t.line, t.column, what), "template.syntax");
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TK::kText:
        return "template data";
      case TK::kVarBegin:
        return "'{{'";
      case TK::kVarEnd:
        return "end of print statement '}}'";
      case TK::kBlockBegin:
        return "'{%'";
      case TK::kBlockEnd:
        return "end of statement block '%}'";
      case TK::kString:
        return "string literal";
      case TK::kEof:
        return "end of template";
      default:
        return "'" + t.text + "'";
    }
  }
  Status Unexpected(std::string_view wanted) const {
    return ErrorAt(Peek(), StrFormat("expected %.*s, got %s", static_cast<int>(wanted.size()),
                                     wanted.data(), Describe(Peek()).c_str()));
  }
  Status ExpectOp(std::string_view op) {
    if (!IsOp(op)) return Unexpected("'" + std::string(op) + "'");
    ++pos_;
    return Status::Ok();
  }
  Status ExpectBlockEnd() {
    if (Peek().kind != TK::kBlockEnd) return Unexpected("end of statement block '%}'");
    ++pos_;
    return Status::Ok();
  }
  Result<std::string> ExpectName() {
    if (Peek().kind != TK::kName) return Unexpected("a name");
    return Next().text;
  }

  struct DepthGuard {
    explicit DepthGuard(int* d) : d_(d) { ++*d_; }
    ~DepthGuard() { --*d_; }
    int* d_;
  };
  Status CheckDepth() const {
    if (depth_ > kMaxNesting) {
      return ErrorAt(Peek(), StrFormat("nesting deeper than %d levels", kMaxNesting));
    }
    return Status::Ok();
  }

  // Parses statements until a block whose first name is in `ends` (consumed
  // up to and including that name; *end receives it) or the end of input.
  Result<Body> ParseBody(std::initializer_list<std::string_view> ends, std::string* end) {
    DepthGuard guard(&depth_);
    HEARTH_RETURN_IF_ERROR(CheckDepth());
    Body body;
    while (true) {
      const Token& t = Peek();
      if (t.kind == TK::kEof) {
        if (ends.size() == 0) return body;
        return ErrorAt(t, StrFormat("unexpected end of template, expected '%.*s'",
                                    static_cast<int>(ends.begin()->size()), ends.begin()->data()));
      }
      if (t.kind == TK::kText) {
        auto s = NewStmt(Stmt::Kind::kText, t);
        s->text = t.text;
        body.push_back(std::move(s));
        ++pos_;
      } else if (t.kind == TK::kVarBegin) {
        ++pos_;
        auto s = NewStmt(Stmt::Kind::kOutput, t);
        HEARTH_ASSIGN_OR_RETURN(s->expr, ParseTuple());
        if (Peek().kind != TK::kVarEnd) return Unexpected("end of print statement '}}'");
        ++pos_;
        body.push_back(std::move(s));
      } else if (t.kind == TK::kBlockBegin) {
        const Token& kw = Peek(1);
        if (kw.kind != TK::kName) {
          pos_++;
          return Unexpected("a statement name");
        }
        for (std::string_view e : ends) {
          if (kw.text == e) {
            pos_ += 2;
            *end = kw.text;
            return body;
          }
        }
        pos_ += 2;
        HEARTH_ASSIGN_OR_RETURN(StmtPtr s, ParseStatement(kw));
        body.push_back(std::move(s));
      } else {
        return Unexpected("template data or a tag");
      }
    }
  }

  Result<StmtPtr> ParseStatement(const Token& kw) {
    auto s = NewStmt(Stmt::Kind::kText, kw);
    const std::string& name = kw.text;
    std::string end;
    if (name == "if") {
      s->kind = Stmt::Kind::kIf;
      HEARTH_ASSIGN_OR_RETURN(ExprPtr cond, ParseExpr());
      while (true) {
        HEARTH_RETURN_IF_ERROR(ExpectBlockEnd());
        HEARTH_ASSIGN_OR_RETURN(Body b, ParseBody({"elif", "else", "endif"}, &end));
        s->branches.emplace_back(std::move(cond), std::move(b));
        if (end == "endif") break;
        if (end == "else") {
          HEARTH_RETURN_IF_ERROR(ExpectBlockEnd());
          HEARTH_ASSIGN_OR_RETURN(Body eb, ParseBody({"endif"}, &end));
          s->branches.emplace_back(nullptr, std::move(eb));
          break;
        }
        HEARTH_ASSIGN_OR_RETURN(cond, ParseExpr());
      }
    } else if (name == "for") {
      s->kind = Stmt::Kind::kFor;
      HEARTH_RETURN_IF_ERROR(ParseTargets(&s->targets));
      if (!IsName("in")) return Unexpected("'in'");
      ++pos_;
      HEARTH_ASSIGN_OR_RETURN(s->expr, ParseTuple(/*with_condexpr=*/false));
      if (IsName("if")) {
        ++pos_;
        HEARTH_ASSIGN_OR_RETURN(s->cond, ParseExpr());
      }
      if (IsName("recursive")) return ErrorAt(Peek(), "recursive loops are not supported");
      HEARTH_RETURN_IF_ERROR(ExpectBlockEnd());
      ++loop_depth_;
      auto body = ParseBody({"else", "endfor"}, &end);
      --loop_depth_;
      if (!body.ok()) return body.status();
      s->body = std::move(body).value();
      if (end == "else") {
        HEARTH_RETURN_IF_ERROR(ExpectBlockEnd());
        HEARTH_ASSIGN_OR_RETURN(s->else_body, ParseBody({"endfor"}, &end));
      }
    } else if (name == "set") {
      HEARTH_RETURN_IF_ERROR(ParseTargets(&s->targets));
      if (s->targets.size() == 1 && IsOp(".")) {
        ++pos_;
        HEARTH_ASSIGN_OR_RETURN(s->attr, ExpectName());
      }
      if (IsOp("=")) {
        ++pos_;
        s->kind = Stmt::Kind::kSet;
        HEARTH_ASSIGN_OR_RETURN(s->expr, ParseTuple());
      } else {
        if (s->targets.size() != 1 || !s->attr.empty()) return Unexpected("'='");
        if (IsOp("|")) return ErrorAt(Peek(), "filters on block assignments are not supported");
        s->kind = Stmt::Kind::kSetBlock;
        HEARTH_RETURN_IF_ERROR(ExpectBlockEnd());
        HEARTH_ASSIGN_OR_RETURN(s->body, ParseBody({"endset"}, &end));
      }
    } else if (name == "macro") {
      s->kind = Stmt::Kind::kMacro;
      HEARTH_ASSIGN_OR_RETURN(s->text, ExpectName());
      HEARTH_RETURN_IF_ERROR(ExpectOp("("));
      while (!IsOp(")")) {
        if (!s->params.empty()) HEARTH_RETURN_IF_ERROR(ExpectOp(","));
        if (IsOp(")")) break;
        HEARTH_ASSIGN_OR_RETURN(std::string p, ExpectName());
        ExprPtr def;
        if (IsOp("=")) {
          ++pos_;
          HEARTH_ASSIGN_OR_RETURN(def, ParseExpr());
        }
        s->params.emplace_back(std::move(p), std::move(def));
      }
      ++pos_;
      HEARTH_RETURN_IF_ERROR(ExpectBlockEnd());
      const int saved_loops = loop_depth_;
      loop_depth_ = 0;  // a macro body cannot break out of the caller's loop
      auto body = ParseBody({"endmacro"}, &end);
      loop_depth_ = saved_loops;
      if (!body.ok()) return body.status();
      s->body = std::move(body).value();
    } else if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) return ErrorAt(kw, "break/continue outside a loop");
      s->kind = name == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
    } else if (name == "generation") {
      s->kind = Stmt::Kind::kPassthrough;
      HEARTH_RETURN_IF_ERROR(ExpectBlockEnd());
      HEARTH_ASSIGN_OR_RETURN(s->body, ParseBody({"endgeneration"}, &end));
    } else {
      return ErrorAt(kw, "unsupported statement '" + name + "'");
    }
    HEARTH_RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }

  Status ParseTargets(std::vector<std::string>* out) {
    const bool paren = IsOp("(");
    if (paren) ++pos_;
    while (true) {
      HEARTH_ASSIGN_OR_RETURN(std::string n, ExpectName());
      out->push_back(std::move(n));
      if (!IsOp(",")) break;
      ++pos_;
    }
    if (paren) HEARTH_RETURN_IF_ERROR(ExpectOp(")"));
    return Status::Ok();
  }

  ExprPtr Make(EK kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->column = at.column;
    return e;
  }

  // expr, expr, ... -> a list (Jinja's tuple); a single expr stays itself.
  Result<ExprPtr> ParseTuple(bool with_condexpr = true) {
    const Token& start = Peek();
    HEARTH_ASSIGN_OR_RETURN(ExprPtr first, with_condexpr ? ParseExpr() : ParseOr());
    if (!IsOp(",")) return first;
    ExprPtr list = Make(EK::kList, start);
    list->args.push_back(std::move(first));
    while (IsOp(",")) {
      ++pos_;
      if (Peek().kind == TK::kVarEnd || Peek().kind == TK::kBlockEnd) break;
      HEARTH_ASSIGN_OR_RETURN(ExprPtr e, with_condexpr ? ParseExpr() : ParseOr());
      list->args.push_back(std::move(e));
    }
    return list;
  }

  Result<ExprPtr> ParseExpr() {
    DepthGuard guard(&depth_);
    HEARTH_RETURN_IF_ERROR(CheckDepth());
    HEARTH_ASSIGN_OR_RETURN(ExprPtr e, ParseOr());
    while (IsName("if")) {
      const Token& at = Next();
      ExprPtr c = Make(EK::kCond, at);
      HEARTH_ASSIGN_OR_RETURN(ExprPtr cond, ParseOr());
      ExprPtr other;
      if (IsName("else")) {
        ++pos_;
        HEARTH_ASSIGN_OR_RETURN(other, ParseExpr());
      }
      c->args.push_back(std::move(cond));
      c->args.push_back(std::move(e));
      c->args.push_back(std::move(other));
      e = std::move(c);
    }
    return e;
  }

  Result<ExprPtr> Binary(ExprPtr left, const Token& at, std::string op, ExprPtr right) {
    ExprPtr b = Make(EK::kBinary, at);
    b->name = std::move(op);
    b->args.push_back(std::move(left));
    b->args.push_back(std::move(right));
    return b;
  }

  Result<ExprPtr> ParseOr() {
    HEARTH_ASSIGN_OR_RETURN(ExprPtr e, ParseAnd());
    while (IsName("or")) {
      const Token& at = Next();
      HEARTH_ASSIGN_OR_RETURN(ExprPtr r, ParseAnd());
      HEARTH_ASSIGN_OR_RETURN(e, Binary(std::move(e), at, "or", std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> ParseAnd() {
    HEARTH_ASSIGN_OR_RETURN(ExprPtr e, ParseNot());
    while (IsName("and")) {
      const Token& at = Next();
      HEARTH_ASSIGN_OR_RETURN(ExprPtr r, ParseNot());
      HEARTH_ASSIGN_OR_RETURN(e, Binary(std::move(e), at, "and", std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> ParseNot() {
    if (IsName("not")) {
      DepthGuard guard(&depth_);
      HEARTH_RETURN_IF_ERROR(CheckDepth());
      const Token& at = Next();
      ExprPtr u = Make(EK::kUnary, at);
      u->name = "not";
      HEARTH_ASSIGN_OR_RETURN(ExprPtr x, ParseNot());
      u->args.push_back(std::move(x));
      return u;
    }
    return ParseCompare();
  }
  Result<ExprPtr> ParseCompare() {
    HEARTH_ASSIGN_OR_RETURN(ExprPtr e, ParseMath1());
    while (true) {
      const Token& at = Peek();
      std::string op;
      if (at.kind == TK::kOp && (at.text == "==" || at.text == "!=" || at.text == "<" ||
                                 at.text == "<=" || at.text == ">" || at.text == ">=")) {
        op = at.text;
        ++pos_;
      } else if (IsName("in")) {
        op = "in";
        ++pos_;
      } else if (IsName("not") && IsName("in", 1)) {
        op = "not in";
        pos_ += 2;
      } else {
        return e;
      }
      HEARTH_ASSIGN_OR_RETURN(ExprPtr r, ParseMath1());
      HEARTH_ASSIGN_OR_RETURN(e, Binary(std::move(e), at, op, std::move(r)));
    }
  }
  Result<ExprPtr> ParseMath1() {
    HEARTH_ASSIGN_OR_RETURN(ExprPtr e, ParseConcat());
    while (IsOp("+") || IsOp("-")) {
      const Token& at = Next();
      HEARTH_ASSIGN_OR_RETURN(ExprPtr r, ParseConcat());
      HEARTH_ASSIGN_OR_RETURN(e, Binary(std::move(e), at, at.text, std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> ParseConcat() {
    HEARTH_ASSIGN_OR_RETURN(ExprPtr e, ParseMath2());
    while (IsOp("~")) {
      const Token& at = Next();
      HEARTH_ASSIGN_OR_RETURN(ExprPtr r, ParseMath2());
      HEARTH_ASSIGN_OR_RETURN(e, Binary(std::move(e), at, "~", std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> ParseMath2() {
    HEARTH_ASSIGN_OR_RETURN(ExprPtr e, ParsePow());
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      const Token& at = Next();
      HEARTH_ASSIGN_OR_RETURN(ExprPtr r, ParsePow());
      HEARTH_ASSIGN_OR_RETURN(e, Binary(std::move(e), at, at.text, std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> ParsePow() {
    HEARTH_ASSIGN_OR_RETURN(ExprPtr e, ParseUnary(true));
    while (IsOp("**")) {
      const Token& at = Next();
      HEARTH_ASSIGN_OR_RETURN(ExprPtr r, ParseUnary(true));
      HEARTH_ASSIGN_OR_RETURN(e, Binary(std::move(e), at, "**", std::move(r)));
    }
    return e;
  }
  Result<ExprPtr> ParseUnary(bool with_filter) {
    DepthGuard guard(&depth_);
    HEARTH_RETURN_IF_ERROR(CheckDepth());
    ExprPtr e;
    if (IsOp("-") || IsOp("+")) {
      const Token& at = Next();
      e = Make(EK::kUnary, at);
      e->name = at.text;
      HEARTH_ASSIGN_OR_RETURN(ExprPtr x, ParseUnary(false));
      e->args.push_back(std::move(x));
    } else {
      HEARTH_ASSIGN_OR_RETURN(e, ParsePrimary());
    }
    HEARTH_ASSIGN_OR_RETURN(e, ParsePostfix(std::move(e)));
    if (!with_filter) return e;
    return ParseFilterExpr(std::move(e));
  }

  Status ParseCallArgs(Expr* call) {
    HEARTH_RETURN_IF_ERROR(ExpectOp("("));
    bool first = true;
    while (!IsOp(")")) {
      if (!first) HEARTH_RETURN_IF_ERROR(ExpectOp(","));
      first = false;
      if (IsOp(")")) break;
      if (Peek().kind == TK::kName && IsOp("=", 1)) {
        std::string key = Next().text;
        ++pos_;
        HEARTH_ASSIGN_OR_RETURN(ExprPtr v, ParseExpr());
        call->kwargs.emplace_back(std::move(key), std::move(v));
      } else {
        if (!call->kwargs.empty()) return ErrorAt(Peek(), "positional argument after keyword");
        HEARTH_ASSIGN_OR_RETURN(ExprPtr v, ParseExpr());
        call->args.push_back(std::move(v));
      }
    }
    ++pos_;
    return Status::Ok();
  }

  Result<ExprPtr> ParsePostfix(ExprPtr e) {
    while (true) {
      const Token& at = Peek();
      if (IsOp(".")) {
        ++pos_;
        ExprPtr a = Make(EK::kAttr, at);
        if (Peek().kind == TK::kInt) {
          a->kind = EK::kItem;
          ExprPtr idx = Make(EK::kLiteral, Peek());
          idx->value = Value::Int(std::strtoll(Next().text.c_str(), nullptr, 10));
          a->args.push_back(std::move(e));
          a->args.push_back(std::move(idx));
        } else {
          HEARTH_ASSIGN_OR_RETURN(a->name, ExpectName());
          a->args.push_back(std::move(e));
        }
        e = std::move(a);
      } else if (IsOp("[")) {
        ++pos_;
        ExprPtr parts[3];
        bool is_slice = false;
        for (int k = 0; k < 3; ++k) {
          if (!IsOp(":") && !IsOp("]")) {
            HEARTH_ASSIGN_OR_RETURN(parts[k], ParseExpr());
          }
          if (!IsOp(":") || k == 2) break;
          is_slice = true;
          ++pos_;
        }
        HEARTH_RETURN_IF_ERROR(ExpectOp("]"));
        ExprPtr s = Make(is_slice ? EK::kSlice : EK::kItem, at);
        s->args.push_back(std::move(e));
        if (!is_slice && parts[0] == nullptr) return ErrorAt(at, "expected an index");
        for (int k = 0; k < (is_slice ? 3 : 1); ++k) s->args.push_back(std::move(parts[k]));
        e = std::move(s);
      } else if (IsOp("(")) {
        ExprPtr c = Make(EK::kCall, at);
        c->args.push_back(std::move(e));
        HEARTH_RETURN_IF_ERROR(ParseCallArgs(c.get()));
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  Result<ExprPtr> ParseFilterExpr(ExprPtr e) {
    while (true) {
      const Token& at = Peek();
      if (IsOp("|")) {
        ++pos_;
        ExprPtr f = Make(EK::kFilter, at);
        HEARTH_ASSIGN_OR_RETURN(f->name, ExpectName());
        f->args.push_back(std::move(e));
        if (IsOp("(")) HEARTH_RETURN_IF_ERROR(ParseCallArgs(f.get()));
        e = std::move(f);
      } else if (IsName("is")) {
        ++pos_;
        ExprPtr t = Make(EK::kTest, at);
        if (IsName("not")) {
          t->negated = true;
          ++pos_;
        }
        HEARTH_ASSIGN_OR_RETURN(t->name, ExpectName());
        t->args.push_back(std::move(e));
        if (IsOp("(")) {
          HEARTH_RETURN_IF_ERROR(ParseCallArgs(t.get()));
        } else if (Peek().kind == TK::kString || Peek().kind == TK::kInt ||
                   Peek().kind == TK::kFloat ||
                   (Peek().kind == TK::kName && !IsName("and") && !IsName("or") && !IsName("if") &&
                    !IsName("else") && !IsName("in") && !IsName("is") && !IsName("not"))) {
          HEARTH_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
          HEARTH_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
          t->args.push_back(std::move(arg));
        }
        e = std::move(t);
      } else {
        return e;
      }
    }
  }

  Result<ExprPtr> ParsePrimary() {
    const Token& t = Peek();
    if (t.kind == TK::kName) {
      ++pos_;
      ExprPtr e = Make(EK::kLiteral, t);
      if (t.text == "true" || t.text == "True") {
        e->value = Value::Bool(true);
      } else if (t.text == "false" || t.text == "False") {
        e->value = Value::Bool(false);
      } else if (t.text == "none" || t.text == "None") {
        e->value = Value::None();
      } else {
        e->kind = EK::kName;
        e->name = t.text;
      }
      return e;
    }
    if (t.kind == TK::kString) {
      ExprPtr e = Make(EK::kLiteral, t);
      std::string s;
      while (Peek().kind == TK::kString) s += Next().text;  // "a" "b" == "ab"
      e->value = Value::Str(std::move(s));
      return e;
    }
    if (t.kind == TK::kInt || t.kind == TK::kFloat) {
      ++pos_;
      ExprPtr e = Make(EK::kLiteral, t);
      errno = 0;
      if (t.kind == TK::kInt) {
        const long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) return ErrorAt(t, "integer literal too large");
        e->value = Value::Int(v);
      } else {
        e->value = Value::Float(std::strtod(t.text.c_str(), nullptr));
      }
      return e;
    }
    if (IsOp("(")) {
      ++pos_;
      if (IsOp(")")) {
        ++pos_;
        ExprPtr e = Make(EK::kList, t);
        return e;
      }
      HEARTH_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
      if (IsOp(",")) {
        ExprPtr list = Make(EK::kList, t);
        list->args.push_back(std::move(e));
        while (IsOp(",")) {
          ++pos_;
          if (IsOp(")")) break;
          HEARTH_ASSIGN_OR_RETURN(ExprPtr x, ParseExpr());
          list->args.push_back(std::move(x));
        }
        e = std::move(list);
      }
      HEARTH_RETURN_IF_ERROR(ExpectOp(")"));
      return e;
    }
    if (IsOp("[") || IsOp("{")) {
      const bool is_dict = IsOp("{");
      ++pos_;
      ExprPtr e = Make(is_dict ? EK::kDict : EK::kList, t);
      const char* close = is_dict ? "}" : "]";
      while (!IsOp(close)) {
        if (!e->args.empty()) HEARTH_RETURN_IF_ERROR(ExpectOp(","));
        if (IsOp(close)) break;
        HEARTH_ASSIGN_OR_RETURN(ExprPtr x, ParseExpr());
        e->args.push_back(std::move(x));
        if (is_dict) {
          HEARTH_RETURN_IF_ERROR(ExpectOp(":"));
          HEARTH_ASSIGN_OR_RETURN(ExprPtr v, ParseExpr());
          e->args.push_back(std::move(v));
        }
      }
      ++pos_;
      return e;
    }
    return Unexpected("an expression");
  }

  const std::vector<Token>& t_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Result<Body> ParseTokens(const std::vector<Token>& tokens) {
  return Parser(tokens).Run();
}

}  // namespace hearth::chat
