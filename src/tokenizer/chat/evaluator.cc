#include "tokenizer/chat/evaluator.h"

#include <cmath>
#include <ctime>
#include <unordered_map>

#include "base/strings.h"
#include "tokenizer/chat/builtins.h"
#include "tokenizer/chat/lexer.h"

namespace hearth::chat {
namespace {

using EK = Expr::Kind;
using SK = Stmt::Kind;

constexpr const char* kGlobals[] = {"range", "namespace", "raise_exception", "strftime_now",
                                    "dict"};

class Evaluator {
 public:
  explicit Evaluator(const RenderLimits& limits) : limits_(limits) {}

  Result<std::string> Run(const Body& body, const Value& context) {
    frames_.emplace_back();
    for (const char* g : kGlobals) frames_[0][g] = Value::Function(g);
    if (context.dict) {
      for (const auto& [k, v] : *context.dict) frames_[0][k] = v;
    }
    frames_.emplace_back();  // template-level assignments
    HEARTH_RETURN_IF_ERROR(Exec(body));
    return std::move(out_);
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  using Frame = std::unordered_map<std::string, Value>;

  // Positions errors from builtins; errors already positioned pass through.
  // Builtins report an unknown filter, test or method as NotFound and an
  // unsupported one as Unimplemented; to the caller all of these are the
  // template's fault, so they become InvalidArgument "template.render" (only
  // limits keep ResourceExhausted), as template.h promises.
  static Status At(int line, int col, const Status& s) {
    if (StartsWith(s.reason(), "template.")) return s;
    if (s.code() == StatusCode::kResourceExhausted) {
      return Status(s.code(), Where(line, col, s.message()), "template.limit");
    }
    return InvalidArgumentError(Where(line, col, s.message()), "template.render");
  }
  static Status ErrorAt(int line, int col, std::string_view what) {
    return InvalidArgumentError(Where(line, col, what), "template.render");
  }
  static Status UndefinedAt(const Expr& e, const Value& v) {
    return ErrorAt(e.line, e.column, v.text.empty() ? "value is undefined" : v.text);
  }
  Status Step(int line, int col) {
    if (++steps_ > limits_.max_steps) {
      return ResourceExhaustedError(
          Where(line, col,
                StrFormat("template exceeded %llu evaluation steps (runaway loop?)",
                          static_cast<unsigned long long>(limits_.max_steps))),
          "template.limit");
    }
    return Status::Ok();
  }
  Status CheckSize(int line, int col, size_t n) const {
    if (n > limits_.max_output_bytes) {
      return ResourceExhaustedError(
          Where(line, col,
                StrFormat("output or string larger than %zu bytes", limits_.max_output_bytes)),
          "template.limit");
    }
    return Status::Ok();
  }

  Value Lookup(const std::string& name) const {
    for (size_t k = frames_.size(); k-- > 0;) {
      if (k < base_ && k > 1) continue;  // inside a macro: its frames, then template globals
      auto it = frames_[k].find(name);
      if (it != frames_[k].end()) return it->second;
    }
    return Value::Undefined("'" + name + "' is undefined");
  }

  Status Exec(const Body& body) {
    for (const StmtPtr& s : body) {
      HEARTH_RETURN_IF_ERROR(ExecStmt(*s));
      if (flow_ != Flow::kNormal) break;
    }
    return Status::Ok();
  }

  Status Emit(int line, int col, std::string_view s) {
    HEARTH_RETURN_IF_ERROR(CheckSize(line, col, out_.size() + s.size()));
    out_ += s;
    return Status::Ok();
  }

  Status Assign(const Stmt& s, const std::vector<std::string>& targets, const Value& v) {
    if (targets.size() == 1) {
      frames_.back()[targets[0]] = v;
      return Status::Ok();
    }
    if (!v.is_list() || v.list->size() != targets.size()) {
      return ErrorAt(s.line, s.column,
                     StrFormat("cannot unpack %s into %zu names", TypeName(v), targets.size()));
    }
    for (size_t k = 0; k < targets.size(); ++k) frames_.back()[targets[k]] = (*v.list)[k];
    return Status::Ok();
  }

  Status ExecStmt(const Stmt& s) {
    HEARTH_RETURN_IF_ERROR(Step(s.line, s.column));
    switch (s.kind) {
      case SK::kText:
        return Emit(s.line, s.column, s.text);
      case SK::kOutput: {
        HEARTH_ASSIGN_OR_RETURN(Value v, Eval(*s.expr));
        return Emit(s.line, s.column, ToStr(v));
      }
      case SK::kIf:
        for (const auto& [cond, body] : s.branches) {
          bool take = cond == nullptr;
          if (!take) {
            HEARTH_ASSIGN_OR_RETURN(Value c, Eval(*cond));
            take = Truthy(c);
          }
          if (take) return Exec(body);
        }
        return Status::Ok();
      case SK::kFor:
        return ExecFor(s);
      case SK::kSet: {
        HEARTH_ASSIGN_OR_RETURN(Value v, Eval(*s.expr));
        if (s.attr.empty()) return Assign(s, s.targets, v);
        Value ns = Lookup(s.targets[0]);
        if (ns.kind != Value::Kind::kNamespace) {
          return ErrorAt(s.line, s.column,
                         "cannot assign attribute on non-namespace object '" + s.targets[0] + "'");
        }
        for (auto& [k, member] : *ns.dict) {
          if (k == s.attr) {
            member = std::move(v);
            return Status::Ok();
          }
        }
        ns.dict->emplace_back(s.attr, std::move(v));
        return Status::Ok();
      }
      case SK::kSetBlock: {
        std::string saved = std::move(out_);
        out_.clear();
        Status st = Exec(s.body);
        std::string captured = std::move(out_);
        out_ = std::move(saved);
        HEARTH_RETURN_IF_ERROR(st);
        return Assign(s, s.targets, Value::Str(std::move(captured)));
      }
      case SK::kMacro: {
        Value m;
        m.kind = Value::Kind::kMacro;
        m.macro = &s;
        m.text = s.text;
        frames_.back()[s.text] = m;
        return Status::Ok();
      }
      case SK::kBreak:
        flow_ = Flow::kBreak;
        return Status::Ok();
      case SK::kContinue:
        flow_ = Flow::kContinue;
        return Status::Ok();
      case SK::kPassthrough:
        return Exec(s.body);
    }
    return Status::Ok();
  }

  Status ExecFor(const Stmt& s) {
    HEARTH_ASSIGN_OR_RETURN(Value seq, Eval(*s.expr));
    auto items_or = IterItems(seq);
    if (!items_or.ok()) return At(s.expr->line, s.expr->column, items_or.status());
    Value::List items = std::move(items_or).value();
    if (s.cond != nullptr) {  // {% for x in xs if cond %}: filter before counting
      Value::List kept;
      for (const Value& item : items) {
        frames_.emplace_back();
        Status st = Assign(s, s.targets, item);
        auto c = st.ok() ? Eval(*s.cond) : Result<Value>(st);
        frames_.pop_back();
        if (!c.ok()) return c.status();
        if (Truthy(*c)) kept.push_back(item);
      }
      items = std::move(kept);
    }
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t k = 0; k < n; ++k) {
      HEARTH_RETURN_IF_ERROR(Step(s.line, s.column));
      frames_.emplace_back();
      Status st = Assign(s, s.targets, items[static_cast<size_t>(k)]);
      if (st.ok()) {
        Value::Dict loop = {
            {"index", Value::Int(k + 1)},
            {"index0", Value::Int(k)},
            {"revindex", Value::Int(n - k)},
            {"revindex0", Value::Int(n - k - 1)},
            {"first", Value::Bool(k == 0)},
            {"last", Value::Bool(k == n - 1)},
            {"length", Value::Int(n)},
            {"depth", Value::Int(1)},
            {"depth0", Value::Int(0)},
            {"previtem", k > 0 ? items[static_cast<size_t>(k - 1)] : Value::Undefined()},
            {"nextitem", k + 1 < n ? items[static_cast<size_t>(k + 1)] : Value::Undefined()},
        };
        frames_.back()["loop"] = Value::MakeDict(std::move(loop));
        st = Exec(s.body);
      }
      frames_.pop_back();
      HEARTH_RETURN_IF_ERROR(st);
      const Flow f = flow_;
      flow_ = Flow::kNormal;
      if (f == Flow::kBreak) break;
    }
    if (n == 0) return Exec(s.else_body);
    return Status::Ok();
  }

  Result<CallArgs> EvalArgs(const Expr& e, size_t first) {
    CallArgs a;
    for (size_t k = first; k < e.args.size(); ++k) {
      HEARTH_ASSIGN_OR_RETURN(Value v, Eval(*e.args[k]));
      a.pos.push_back(std::move(v));
    }
    for (const auto& [k, x] : e.kwargs) {
      HEARTH_ASSIGN_OR_RETURN(Value v, Eval(*x));
      a.kw.emplace_back(k, std::move(v));
    }
    return a;
  }

  static Value GetAttr(const Value& obj, const std::string& name) {
    if (obj.dict) {
      const Value* f = obj.Find(name);
      if (f != nullptr) return *f;
    }
    return Value::Undefined(
        StrFormat("'%s object' has no attribute '%s'", TypeName(obj), name.c_str()));
  }

  static Value GetItem(const Value& obj, const Value& key) {
    if (obj.is_list() && key.is_intlike()) {
      int64_t i = key.as_int();
      const int64_t n = static_cast<int64_t>(obj.list->size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return (*obj.list)[static_cast<size_t>(i)];
      return Value::Undefined(
          StrFormat("list object has no element %lld", static_cast<long long>(key.as_int())));
    }
    if (obj.is_string() && key.is_intlike()) {
      std::vector<std::string_view> cps = SplitCodepoints(obj.text);
      int64_t i = key.as_int();
      if (i < 0) i += static_cast<int64_t>(cps.size());
      if (i >= 0 && i < static_cast<int64_t>(cps.size())) {
        return Value::Str(std::string(cps[static_cast<size_t>(i)]));
      }
      return Value::Undefined("string index out of range");
    }
    if (key.is_string()) return GetAttr(obj, key.text);
    return Value::Undefined(
        StrFormat("'%s object' has no item %s", TypeName(obj), Repr(key).c_str()));
  }

  Result<Value> Eval(const Expr& e) {
    HEARTH_RETURN_IF_ERROR(Step(e.line, e.column));
    switch (e.kind) {
      case EK::kLiteral:
        return e.value;
      case EK::kName:
        return Lookup(e.name);
      case EK::kList: {
        Value::List items;
        for (const ExprPtr& x : e.args) {
          HEARTH_ASSIGN_OR_RETURN(Value v, Eval(*x));
          items.push_back(std::move(v));
        }
        return Value::MakeList(std::move(items));
      }
      case EK::kDict: {
        Value::Dict items;
        for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
          HEARTH_ASSIGN_OR_RETURN(Value key, Eval(*e.args[k]));
          HEARTH_ASSIGN_OR_RETURN(Value v, Eval(*e.args[k + 1]));
          if (!key.is_string()) {
            return ErrorAt(e.args[k]->line, e.args[k]->column, "dict keys must be strings");
          }
          bool replaced = false;
          for (auto& [k2, v2] : items) {
            if (k2 == key.text) {
              v2 = v;
              replaced = true;
            }
          }
          if (!replaced) items.emplace_back(key.text, std::move(v));
        }
        return Value::MakeDict(std::move(items));
      }
      case EK::kAttr: {
        HEARTH_ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
        if (obj.is_undefined()) return UndefinedAt(*e.args[0], obj);
        return GetAttr(obj, e.name);
      }
      case EK::kItem: {
        HEARTH_ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
        if (obj.is_undefined()) return UndefinedAt(*e.args[0], obj);
        HEARTH_ASSIGN_OR_RETURN(Value key, Eval(*e.args[1]));
        return GetItem(obj, key);
      }
      case EK::kSlice: {
        HEARTH_ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
        Value parts[3];
        for (int k = 0; k < 3; ++k) {
          if (e.args[k + 1] != nullptr) {
            HEARTH_ASSIGN_OR_RETURN(parts[k], Eval(*e.args[k + 1]));
          }
        }
        auto r = SliceValue(obj, e.args[1] ? &parts[0] : nullptr, e.args[2] ? &parts[1] : nullptr,
                            e.args[3] ? &parts[2] : nullptr);
        if (!r.ok()) return At(e.line, e.column, r.status());
        return r;
      }
      case EK::kCall:
        return EvalCall(e);
      case EK::kFilter: {
        HEARTH_ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
        HEARTH_ASSIGN_OR_RETURN(CallArgs a, EvalArgs(e, 1));
        auto r = ApplyFilter(e.name, v, a);
        if (!r.ok()) return At(e.line, e.column, r.status());
        if (r->is_string()) HEARTH_RETURN_IF_ERROR(CheckSize(e.line, e.column, r->text.size()));
        return r;
      }
      case EK::kTest: {
        HEARTH_ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
        HEARTH_ASSIGN_OR_RETURN(CallArgs a, EvalArgs(e, 1));
        auto r = ApplyTest(e.name, v, a);
        if (!r.ok()) return At(e.line, e.column, r.status());
        return Value::Bool(*r != e.negated);
      }
      case EK::kUnary: {
        HEARTH_ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
        if (e.name == "not") return Value::Bool(!Truthy(v));
        if (v.is_undefined()) return UndefinedAt(*e.args[0], v);
        if (!v.is_number() && v.kind != Value::Kind::kBool) {
          return ErrorAt(
              e.line, e.column,
              StrFormat("bad operand type for unary %s: '%s'", e.name.c_str(), TypeName(v)));
        }
        if (e.name == "+") return v;
        if (v.kind == Value::Kind::kFloat) return Value::Float(-v.f);
        if (v.as_int() == INT64_MIN) return ErrorAt(e.line, e.column, "integer overflow");
        return Value::Int(-v.as_int());
      }
      case EK::kBinary:
        return EvalBinary(e);
      case EK::kCond: {
        HEARTH_ASSIGN_OR_RETURN(Value c, Eval(*e.args[0]));
        if (Truthy(c)) return Eval(*e.args[1]);
        if (e.args[2] == nullptr) return Value::Undefined("conditional expression had no else");
        return Eval(*e.args[2]);
      }
    }
    return ErrorAt(e.line, e.column, "unsupported expression");
  }

  Result<Value> EvalBinary(const Expr& e) {
    HEARTH_ASSIGN_OR_RETURN(Value a, Eval(*e.args[0]));
    if (e.name == "and") return Truthy(a) ? Eval(*e.args[1]) : a;
    if (e.name == "or") return Truthy(a) ? a : Eval(*e.args[1]);
    HEARTH_ASSIGN_OR_RETURN(Value b, Eval(*e.args[1]));
    auto r = BinaryOp(e.name, a, b);
    if (!r.ok()) return At(e.line, e.column, r.status());
    if (r->is_string()) HEARTH_RETURN_IF_ERROR(CheckSize(e.line, e.column, r->text.size()));
    return r;
  }

  Result<Value> EvalCall(const Expr& e) {
    const Expr& callee = *e.args[0];
    HEARTH_ASSIGN_OR_RETURN(CallArgs a, EvalArgs(e, 1));
    Value fn;
    if (callee.kind == EK::kAttr) {  // obj.method(...)
      HEARTH_ASSIGN_OR_RETURN(Value obj, Eval(*callee.args[0]));
      if (obj.is_undefined()) return UndefinedAt(*callee.args[0], obj);
      auto r = CallMethod(obj, callee.name, a);
      if (r.ok()) {
        if (r->is_string()) HEARTH_RETURN_IF_ERROR(CheckSize(e.line, e.column, r->text.size()));
        return r;
      }
      if (r.status().code() != StatusCode::kNotFound) return At(e.line, e.column, r.status());
      fn = GetAttr(obj, callee.name);
      if (fn.is_undefined()) return At(callee.line, callee.column, r.status());
    } else {
      HEARTH_ASSIGN_OR_RETURN(fn, Eval(callee));
    }
    if (fn.kind == Value::Kind::kMacro) return CallMacro(e, *fn.macro, a);
    if (fn.kind != Value::Kind::kFunction) {
      if (fn.is_undefined()) return UndefinedAt(callee, fn);
      return ErrorAt(e.line, e.column, StrFormat("'%s' object is not callable", TypeName(fn)));
    }
    if (fn.text == "raise_exception") {
      const Value* msg = a.Get(0, "message");
      return InvalidArgumentError(msg != nullptr ? ToStr(*msg) : "raise_exception called",
                                  "template.raise");
    }
    auto r = CallGlobalFunction(fn.text, a, limits_.max_range);
    if (!r.ok()) return At(e.line, e.column, r.status());
    return r;
  }

  Result<Value> CallMacro(const Expr& e, const Stmt& m, const CallArgs& a) {
    if (call_depth_ >= limits_.max_call_depth) {
      return ResourceExhaustedError(
          Where(e.line, e.column,
                StrFormat("macro calls nested deeper than %d", limits_.max_call_depth)),
          "template.limit");
    }
    if (a.pos.size() > m.params.size()) {
      return ErrorAt(
          e.line, e.column,
          "macro '" + m.text + "' takes " + std::to_string(m.params.size()) + " arguments");
    }
    Frame params;
    for (size_t k = 0; k < m.params.size(); ++k) {
      const Value* v = a.Get(k, m.params[k].first);
      if (v != nullptr) {
        params[m.params[k].first] = *v;
      } else if (m.params[k].second != nullptr) {
        HEARTH_ASSIGN_OR_RETURN(params[m.params[k].first], Eval(*m.params[k].second));
      } else {
        params[m.params[k].first] = Value::Undefined("'" + m.params[k].first + "' is undefined");
      }
    }
    for (const auto& [k, v] : a.kw) {
      bool known = false;
      for (const auto& p : m.params) known |= p.first == k;
      if (!known)
        return ErrorAt(e.line, e.column, "macro '" + m.text + "' has no parameter '" + k + "'");
    }
    const size_t saved_base = base_;
    const Flow saved_flow = flow_;
    std::string saved_out = std::move(out_);
    out_.clear();
    base_ = frames_.size();
    frames_.push_back(std::move(params));
    ++call_depth_;
    Status st = Exec(m.body);
    --call_depth_;
    frames_.resize(base_);
    base_ = saved_base;
    flow_ = saved_flow;
    std::string result = std::move(out_);
    out_ = std::move(saved_out);
    HEARTH_RETURN_IF_ERROR(st);
    return Value::Str(std::move(result));
  }

  const RenderLimits& limits_;
  std::vector<Frame> frames_;
  size_t base_ = 0;  // first frame of the innermost macro call (0: none)
  std::string out_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  Flow flow_ = Flow::kNormal;
};

}  // namespace

Result<std::string> RenderBody(const Body& body, const Value& context, const RenderLimits& limits) {
  return Evaluator(limits).Run(body, context);
}

}  // namespace hearth::chat
