// Syntax tree of a parsed chat template. Nodes own their children; the tree
// is immutable after parsing and shared by every render.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/chat/value.h"

namespace hearth::chat {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind : unsigned char {
    kLiteral,  // value
    kName,     // name
    kList,     // args
    kDict,     // kwargs-like: keys in args[2k], values in args[2k+1]
    kAttr,     // args[0].name
    kItem,     // args[0][args[1]]
    kSlice,    // args[0][args[1]:args[2]:args[3]] (null children = omitted)
    kCall,     // args[0](args[1..], kwargs)
    kFilter,   // args[0] | name(args[1..], kwargs)
    kTest,     // args[0] is [not] name(args[1..])
    kUnary,    // name in {"-", "+", "not"}
    kBinary,   // args[0] name args[1]; name is an operator, "and", "or", "in", "not in"
    kCond,     // args[1] if args[0] else args[2] (args[2] may be null)
  };
  Kind kind;
  int line = 0, column = 0;
  std::string name;
  Value value;
  bool negated = false;  // `is not`
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind : unsigned char {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // branches (cond, body); a null cond is the else branch
    kFor,       // for targets in expr [if cond]: body [else: else_body]
    kSet,       // set targets = expr, or set targets[0].attr = expr
    kSetBlock,  // set targets[0] %} body {% endset
    kMacro,     // macro name(params) body
    kBreak,
    kContinue,
    kPassthrough,  // {% generation %}: renders body
  };
  Kind kind;
  int line = 0, column = 0;
  std::string text;  // text; macro name
  std::string attr;  // kSet on a namespace attribute
  ExprPtr expr;
  ExprPtr cond;
  std::vector<std::string> targets;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // macro parameters and defaults
};

}  // namespace hearth::chat
