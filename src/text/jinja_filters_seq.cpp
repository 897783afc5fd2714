// Jinja filters on sequences and mappings (see jinja_builtins.h), after jinja2/filters.py
// 3.1. Filters that return generators in Jinja2 (map, select, reverse, batch, ...) return
// lists here; templates only iterate, join or `|list` them.
#include <algorithm>

#include "text/jinja_builtins.h"
#include "text/jinja_strutil.h"

namespace mle::text::jinja {
namespace {

// Jinja2's ignore_case postprocessor: strings compare lower-cased.
Value IgnoreCase(const Value& v) {
  return v.is_string() ? Value::Str(PyLower(v.str())) : v;
}

Value FilterLength(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("length", args, {});
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return Value::Int(0);
    case Value::Kind::kString:
      return Value::Int(CodePointCount(v.str()));
    case Value::Kind::kList:
      return Value::Int(static_cast<int64_t>(v.list().items.size()));
    case Value::Kind::kDict:
      return Value::Int(static_cast<int64_t>(v.dict().size()));
    default:
      ThrowRuntime("object of type '" + TypeName(v) + "' has no len()");
  }
}

Value FilterList(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("list", args, {});
  return Value::MakeList(in.Iterate(v));
}

Value FilterFirst(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("first", args, {});
  std::vector<Value> items = in.Iterate(v);
  if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items.front();
}

Value FilterLast(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("last", args, {});
  std::vector<Value> items = in.Iterate(v);
  if (items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items.back();
}

Value FilterJoin(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("join", args, {"d", "attribute"});
  std::string sep = b.has(0) ? ToStr(b[0]) : "";
  std::string out;
  bool first = true;
  for (const Value& item : in.Iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += ToStr(b.has(1) ? GetAttributePath(in, item, b[1], nullptr) : item);
    in.CheckSize(out.size());
  }
  return Value::Str(std::move(out));
}

Value FilterItems(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("items", args, {});
  std::vector<Value> out;
  if (v.is_undefined()) return Value::MakeList();
  if (!v.is_dict()) ThrowRuntime("Can only get item pairs from a mapping.");
  for (const auto& [k, val] : v.dict().entries()) out.push_back(Value::MakeTuple({k, val}));
  return Value::MakeList(std::move(out));
}

Value FilterDictsort(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("dictsort", args, {"case_sensitive", "by", "reverse"});
  bool case_sensitive = b.flag(0, false), reverse = b.flag(2, false);
  std::string by = b.has(1) ? ToStr(b[1]) : "key";
  if (by != "key" && by != "value") {
    ThrowRuntime("You can only sort by either \"key\" or \"value\"");
  }
  if (v.is_undefined()) ThrowUndefined(v);
  if (!v.is_dict()) ThrowRuntime("'" + TypeName(v) + "' object has no attribute 'items'");
  std::vector<std::pair<Value, Value>> items = v.dict().entries();
  size_t pos = by == "key" ? 0 : 1;
  auto key = [&](const std::pair<Value, Value>& p) {
    const Value& k = pos == 0 ? p.first : p.second;
    return case_sensitive ? k : IgnoreCase(k);
  };
  std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
    return reverse ? Compare(key(y), key(x)) < 0 : Compare(key(x), key(y)) < 0;
  });
  std::vector<Value> out;
  for (auto& [k, val] : items) out.push_back(Value::MakeTuple({k, val}));
  return Value::MakeList(std::move(out));
}

// make_multi_attrgetter: the sort key is the list of the comma-separated attributes' values.
Value SortKey(Interpreter& in, const Value& item, const Value& attribute, bool case_sensitive) {
  std::vector<Value> key;
  if (attribute.is_string()) {
    for (const std::string& p : PySplit(attribute.str(), std::string(","), -1)) {
      key.push_back(GetAttributePath(in, item, Value::Str(p), nullptr));
    }
  } else {
    key.push_back(attribute.is_none() ? item : GetAttributePath(in, item, attribute, nullptr));
  }
  if (!case_sensitive) {
    for (Value& k : key) k = IgnoreCase(k);
  }
  return Value::MakeList(std::move(key));
}

Value FilterSort(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("sort", args, {"reverse", "case_sensitive", "attribute"});
  bool reverse = b.flag(0, false), case_sensitive = b.flag(1, false);
  Value attribute = b.get(2, Value::None());
  std::vector<std::pair<Value, Value>> keyed;
  for (Value& item : in.Iterate(v)) {
    Value k = SortKey(in, item, attribute, case_sensitive);
    keyed.emplace_back(std::move(k), std::move(item));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? Compare(y.first, x.first) < 0 : Compare(x.first, y.first) < 0;
  });
  std::vector<Value> out;
  for (auto& [k, item] : keyed) out.push_back(std::move(item));
  return Value::MakeList(std::move(out));
}

Value FilterUnique(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("unique", args, {"case_sensitive", "attribute"});
  bool case_sensitive = b.flag(0, false);
  std::vector<Value> seen, out;
  for (Value& item : in.Iterate(v)) {
    Value key = b.has(1) ? GetAttributePath(in, item, b[1], nullptr) : item;
    if (!case_sensitive) key = IgnoreCase(key);
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return Equals(s, key); })) {
      seen.push_back(std::move(key));
      out.push_back(std::move(item));
    }
  }
  return Value::MakeList(std::move(out));
}

Value MinOrMax(Interpreter& in, const Value& v, CallArgs& args, bool want_max) {
  ArgBinder b(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
  bool case_sensitive = b.flag(0, false);
  std::vector<Value> items = in.Iterate(v);
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  auto key = [&](const Value& item) {
    Value k = b.has(1) ? GetAttributePath(in, item, b[1], nullptr) : item;
    return case_sensitive ? k : IgnoreCase(k);
  };
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    int c = Compare(key(items[i]), key(items[best]));
    if (want_max ? c > 0 : c < 0) best = i;
  }
  return items[best];
}

Value FilterMax(Interpreter& in, const Value& v, CallArgs& args) {
  return MinOrMax(in, v, args, true);
}
Value FilterMin(Interpreter& in, const Value& v, CallArgs& args) {
  return MinOrMax(in, v, args, false);
}

Value FilterSum(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("sum", args, {"attribute", "start"});
  Value total = b.get(1, Value::Int(0));
  for (const Value& item : in.Iterate(v)) {
    Value x = b.has(0) && !b[0].is_none() ? GetAttributePath(in, item, b[0], nullptr) : item;
    total = ApplyBinary(in, BinOp::kAdd, total, x);
  }
  return total;
}

Value FilterReverse(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("reverse", args, {});
  if (v.is_string()) {
    std::u32string u = DecodeUtf8(v.str());
    std::reverse(u.begin(), u.end());
    return Value::Str(EncodeUtf8(u));
  }
  std::vector<Value> items = in.Iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::MakeList(std::move(items));
}

Value FilterMap(Interpreter& in, const Value& v, CallArgs& args) {
  if (!Truthy(v)) return Value::MakeList();
  std::vector<Value> out;
  if (args.args.empty()) {
    ArgBinder b("map", args, {"attribute", "default"}, 1);
    for (const Value& item : in.Iterate(v)) {
      out.push_back(GetAttributePath(in, item, b[0], b.has(1) ? &b[1] : nullptr));
    }
    return Value::MakeList(std::move(out));
  }
  if (!args.args[0].is_string()) ThrowRuntime("map requires a filter name");
  std::string name = args.args[0].str();
  CallArgs rest;
  rest.args.assign(args.args.begin() + 1, args.args.end());
  rest.kwargs = args.kwargs;
  for (const Value& item : in.Iterate(v)) {
    CallArgs call = rest;
    out.push_back(in.ApplyFilter(name, item, call));
  }
  return Value::MakeList(std::move(out));
}

// select / reject / selectattr / rejectattr (Jinja2's select_or_reject).
Value SelectOrReject(Interpreter& in, const Value& v, CallArgs& args, bool select,
                     bool lookup_attr) {
  if (!Truthy(v)) return Value::MakeList();
  size_t off = lookup_attr ? 1 : 0;
  if (lookup_attr && args.args.empty()) ThrowRuntime("Missing parameter for attribute name");
  std::optional<std::string> test;
  if (args.args.size() > off) test = ToStr(args.args[off]);
  CallArgs rest;
  if (args.args.size() > off + 1) rest.args.assign(args.args.begin() + off + 1, args.args.end());
  rest.kwargs = args.kwargs;
  std::vector<Value> out;
  for (const Value& item : in.Iterate(v)) {
    Value x = lookup_attr ? GetAttributePath(in, item, args.args[0], nullptr) : item;
    bool ok;
    if (test) {
      CallArgs call = rest;
      ok = in.ApplyTest(*test, x, call);
    } else {
      ok = Truthy(x);
    }
    if (ok == select) out.push_back(item);
  }
  return Value::MakeList(std::move(out));
}

Value FilterSelect(Interpreter& in, const Value& v, CallArgs& a) {
  return SelectOrReject(in, v, a, true, false);
}
Value FilterReject(Interpreter& in, const Value& v, CallArgs& a) {
  return SelectOrReject(in, v, a, false, false);
}
Value FilterSelectAttr(Interpreter& in, const Value& v, CallArgs& a) {
  return SelectOrReject(in, v, a, true, true);
}
Value FilterRejectAttr(Interpreter& in, const Value& v, CallArgs& a) {
  return SelectOrReject(in, v, a, false, true);
}

Value FilterBatch(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("batch", args, {"linecount", "fill_with"}, 1);
  int64_t n = b.integer(0, 1);
  if (n <= 0) ThrowRuntime("batch(): linecount must be positive");
  std::vector<Value> out, tmp;
  for (Value& item : in.Iterate(v)) {
    if (static_cast<int64_t>(tmp.size()) == n) {
      out.push_back(Value::MakeList(std::move(tmp)));
      tmp.clear();  // a moved-from vector is valid but unspecified
    }
    tmp.push_back(std::move(item));
  }
  if (!tmp.empty()) {
    if (b.has(1) && !b[1].is_none()) {
      while (static_cast<int64_t>(tmp.size()) < n) tmp.push_back(b[1]);
    }
    out.push_back(Value::MakeList(std::move(tmp)));
  }
  return Value::MakeList(std::move(out));
}

Value FilterSlice(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("slice", args, {"slices", "fill_with"}, 1);
  int64_t slices = b.integer(0, 1);
  if (slices <= 0) ThrowRuntime("slice(): slices must be positive");
  std::vector<Value> seq = in.Iterate(v), out;
  int64_t length = static_cast<int64_t>(seq.size());
  int64_t per = length / slices, extra = length % slices, offset = 0;
  for (int64_t i = 0; i < slices; ++i) {
    int64_t start = offset + i * per;
    if (i < extra) ++offset;
    int64_t end = offset + (i + 1) * per;
    std::vector<Value> tmp(seq.begin() + start, seq.begin() + end);
    if (b.has(1) && !b[1].is_none() && i >= extra) tmp.push_back(b[1]);
    out.push_back(Value::MakeList(std::move(tmp)));
  }
  return Value::MakeList(std::move(out));
}

}  // namespace

std::vector<std::pair<const char*, FilterFn>> SequenceFilters() {
  return {{"batch", FilterBatch},
          {"count", FilterLength},
          {"dictsort", FilterDictsort},
          {"first", FilterFirst},
          {"items", FilterItems},
          {"join", FilterJoin},
          {"last", FilterLast},
          {"length", FilterLength},
          {"list", FilterList},
          {"map", FilterMap},
          {"max", FilterMax},
          {"min", FilterMin},
          {"reject", FilterReject},
          {"rejectattr", FilterRejectAttr},
          {"reverse", FilterReverse},
          {"select", FilterSelect},
          {"selectattr", FilterSelectAttr},
          {"slice", FilterSlice},
          {"sort", FilterSort},
          {"sum", FilterSum},
          {"unique", FilterUnique}};
}

}  // namespace mle::text::jinja
