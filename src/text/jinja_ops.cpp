// Python's operators on Jinja values (see jinja_interp.h): int arithmetic is exact and checks
// for overflow (Python has bigints; we report an error instead), / is true division, // and %
// floor toward negative infinity, str and list concatenate and repeat, and `str % args`
// formats.
#include <cmath>
#include <cstdint>

#include "text/jinja_builtins.h"
#include "text/jinja_interp.h"
#include "text/jinja_strutil.h"

namespace mle::text::jinja {
namespace {

const char* OpSymbol(BinOp op) {
  switch (op) {
    case BinOp::kAdd:
      return "+";
    case BinOp::kSub:
      return "-";
    case BinOp::kMul:
      return "*";
    case BinOp::kDiv:
      return "/";
    case BinOp::kFloorDiv:
      return "//";
    case BinOp::kMod:
      return "%";
    case BinOp::kPow:
      return "**";
    default:
      return "?";
  }
}

[[noreturn]] void Unsupported(BinOp op, const Value& a, const Value& b) {
  if (op == BinOp::kAdd && (a.is_string() || a.is_list()) && !b.is_undefined()) {
    ThrowRuntime("can only concatenate " + TypeName(a) + " (not \"" + TypeName(b) + "\") to " +
                 TypeName(a));
  }
  ThrowRuntime(std::string("unsupported operand type(s) for ") + OpSymbol(op) + ": '" +
               TypeName(a) + "' and '" + TypeName(b) + "'");
}

void CheckOverflow(bool overflow) {
  if (overflow) ThrowRuntime("integer overflow (Jinja here uses 64-bit integers)");
}

Value IntArith(BinOp op, int64_t x, int64_t y) {
  int64_t r = 0;
  switch (op) {
    case BinOp::kAdd:
      CheckOverflow(__builtin_add_overflow(x, y, &r));
      return Value::Int(r);
    case BinOp::kSub:
      CheckOverflow(__builtin_sub_overflow(x, y, &r));
      return Value::Int(r);
    case BinOp::kMul:
      CheckOverflow(__builtin_mul_overflow(x, y, &r));
      return Value::Int(r);
    case BinOp::kDiv:
      if (y == 0) ThrowRuntime("division by zero");
      return Value::Float(static_cast<double>(x) / static_cast<double>(y));
    case BinOp::kFloorDiv:
    case BinOp::kMod: {
      if (y == 0) ThrowRuntime("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) CheckOverflow(true);
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        q -= 1;
        m += y;
      }
      return Value::Int(op == BinOp::kFloorDiv ? q : m);
    }
    case BinOp::kPow: {
      if (y < 0) return Value::Float(std::pow(static_cast<double>(x), static_cast<double>(y)));
      int64_t result = 1, base = x;
      while (y > 0) {
        if (y & 1) CheckOverflow(__builtin_mul_overflow(result, base, &result));
        y >>= 1;
        if (y > 0) CheckOverflow(__builtin_mul_overflow(base, base, &base));
      }
      return Value::Int(result);
    }
    default:
      return Value();
  }
}

Value FloatArith(BinOp op, double x, double y) {
  switch (op) {
    case BinOp::kAdd:
      return Value::Float(x + y);
    case BinOp::kSub:
      return Value::Float(x - y);
    case BinOp::kMul:
      return Value::Float(x * y);
    case BinOp::kDiv:
      if (y == 0) ThrowRuntime("float division by zero");
      return Value::Float(x / y);
    case BinOp::kFloorDiv:
      if (y == 0) ThrowRuntime("float floor division by zero");
      return Value::Float(std::floor(x / y));
    case BinOp::kMod: {
      if (y == 0) ThrowRuntime("float modulo");
      double m = std::fmod(x, y);
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value::Float(m);
    }
    case BinOp::kPow:
      if (x == 0 && y < 0) ThrowRuntime("0.0 cannot be raised to a negative power");
      return Value::Float(std::pow(x, y));
    default:
      return Value();
  }
}

// seq * n, refusing results past the size limit before building them.
Value Repeat(Interpreter& in, const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  size_t unit = seq.is_string() ? seq.str().size() : seq.list().items.size();
  if (n > 0 && unit > 0 && static_cast<uint64_t>(n) > in.config().max_output_bytes / unit) {
    in.CheckSize(SIZE_MAX);
  }
  if (seq.is_string()) {
    std::string out;
    out.reserve(unit * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::Str(std::move(out));
  }
  std::vector<Value> out;
  out.reserve(unit * static_cast<size_t>(n));
  const auto& items = seq.list().items;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::MakeTuple(std::move(out)) : Value::MakeList(std::move(out));
}

}  // namespace

Value ApplyBinary(Interpreter& in, BinOp op, const Value& a, const Value& b) {
  if (op == BinOp::kConcat) {
    std::string s = ToStr(a) + ToStr(b);
    in.CheckSize(s.size());
    return Value::Str(std::move(s));
  }
  if (a.is_undefined()) ThrowUndefined(a);
  if (b.is_undefined()) ThrowUndefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return FloatArith(op, a.AsDouble(), b.AsDouble());
    return IntArith(op, a.AsInt(), b.AsInt());
  }
  if (op == BinOp::kAdd && a.is_string() && b.is_string()) {
    in.CheckSize(a.str().size() + b.str().size());
    return Value::Str(a.str() + b.str());
  }
  if (op == BinOp::kAdd && a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    in.CheckSize(a.list().items.size() + b.list().items.size());
    std::vector<Value> items = a.list().items;
    items.insert(items.end(), b.list().items.begin(), b.list().items.end());
    return a.is_tuple() ? Value::MakeTuple(std::move(items)) : Value::MakeList(std::move(items));
  }
  if (op == BinOp::kMul) {
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) {
      return Repeat(in, a, b.AsInt());
    }
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) {
      return Repeat(in, b, a.AsInt());
    }
  }
  if (op == BinOp::kMod && a.is_string()) {
    std::string s = PercentFormat(a.str(), b);
    in.CheckSize(s.size());
    return Value::Str(std::move(s));
  }
  Unsupported(op, a, b);
}

Value ApplyUnary(char op, const Value& v) {
  if (v.is_undefined()) ThrowUndefined(v);
  if (v.is_float()) return Value::Float(op == '-' ? -v.float_value() : v.float_value());
  if (v.is_int() || v.is_bool()) {
    int64_t i = v.AsInt();
    if (op == '-' && i == INT64_MIN) ThrowRuntime("integer overflow");
    return Value::Int(op == '-' ? -i : i);
  }
  ThrowRuntime(std::string("bad operand type for unary ") + op + ": '" + TypeName(v) + "'");
}

bool Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kString:
      if (!item.is_string()) {
        ThrowRuntime("'in <string>' requires string as left operand, not " + TypeName(item));
      }
      return container.str().find(item.str()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : container.list().items) {
        if (Equals(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
      return container.dict().Find(item) != nullptr;
    default:
      ThrowRuntime("argument of type '" + TypeName(container) + "' is not iterable");
  }
}

Value SliceValue(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
  auto bound = [](const Value& v, std::optional<int64_t>* out) {
    if (v.is_none()) return true;
    if (v.is_undefined()) {
      ThrowRuntime("slice indices must be integers or None or have an __index__ method");
    }
    if (!v.is_int() && !v.is_bool()) return false;
    *out = v.AsInt();
    return true;
  };
  std::optional<int64_t> start, stop, step_opt;
  if (!bound(start_v, &start) || !bound(stop_v, &stop) || !bound(step_v, &step_opt) ||
      !(obj.is_list() || obj.is_string())) {
    return Value::Undefined("'" + TypeName(obj) + " object' cannot be sliced that way");
  }
  int64_t step = step_opt.value_or(1);
  if (step == 0) ThrowRuntime("slice step cannot be zero");
  std::u32string chars = obj.is_string() ? DecodeUtf8(obj.str()) : std::u32string();
  int64_t n = obj.is_string() ? static_cast<int64_t>(chars.size())
                              : static_cast<int64_t>(obj.list().items.size());
  auto adjust = [n, step](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t i = *v;
    if (i < 0) i = std::max<int64_t>(i + n, step < 0 ? -1 : 0);
    return step < 0 ? std::min(i, n - 1) : std::min(i, n);
  };
  int64_t b = adjust(start, step < 0 ? n - 1 : 0), e = adjust(stop, step < 0 ? -1 : n);
  std::vector<int64_t> idx;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step) idx.push_back(i);
  if (obj.is_string()) {
    std::u32string out;
    for (int64_t i : idx) out += chars[i];
    return Value::Str(EncodeUtf8(out));
  }
  std::vector<Value> out;
  for (int64_t i : idx) out.push_back(obj.list().items[i]);
  return obj.is_tuple() ? Value::MakeTuple(std::move(out)) : Value::MakeList(std::move(out));
}

}  // namespace mle::text::jinja
