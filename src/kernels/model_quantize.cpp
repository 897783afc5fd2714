// Whole-model quantization (see model_quantize.h). Tensors are converted one at a time inside
// the writer's streaming callback, so memory holds the mapped input plus one converted tensor;
// the rows of that tensor are split over a few threads.
#include "kernels/model_quantize.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>

#include "gguf/gguf_writer.h"
#include "kernels/quant_ref.h"

namespace mle::kernels {
namespace {

using gguf::TensorType;

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION

int64_t IntOrZero(const gguf::GgufFile& file, const std::string& key) {
  const Result<int64_t> v = file.GetIntOr(key, 0);
  return v.ok() ? v.value() : 0;  // e.g. per-layer head counts stored as arrays
}

// Bytes of `info`'s data stored as `type`.
uint64_t TensorBytes(TensorType type, const gguf::TensorInfo& info) {
  const uint64_t n_per_row = info.dims.empty() ? 1 : info.dims[0];
  if (n_per_row == 0) return 0;
  return gguf::RowSizeBytes(type, n_per_row).value_or(0) * (info.n_elements / n_per_row);
}

// Converts rows [row_begin, row_end) of one tensor; `row` is float scratch of n_per_row.
Status ConvertRowRange(TensorType src_type, const uint8_t* src, uint64_t src_row_bytes,
                       uint64_t n_per_row, TensorType dst_type, uint8_t* dst,
                       uint64_t dst_row_bytes, uint64_t row_begin, uint64_t row_end) {
  std::vector<float> row(n_per_row);
  const int64_t n = static_cast<int64_t>(n_per_row);
  for (uint64_t r = row_begin; r < row_end; ++r) {
    MLE_RETURN_IF_ERROR(DequantizeRow(src_type, src + r * src_row_bytes, row.data(), n));
    for (float v : row) {
      if (!std::isfinite(v)) {
        return InvalidArgument("row " + std::to_string(r) + " holds a NaN or infinite value");
      }
    }
    MLE_RETURN_IF_ERROR(QuantizeRow(dst_type, row.data(), dst + r * dst_row_bytes, n));
  }
  return Status::Ok();
}

// Why a planned conversion cannot run, or OK.
Status CheckConvertible(const TensorPlan& plan, bool allow_requantize) {
  const bool src_quantized = gguf::GetTensorTypeInfo(plan.src_type)->quantized;
  if (src_quantized && !allow_requantize) {
    return InvalidArgument("tensor '" + plan.name + "' is already " +
                           std::string(gguf::TensorTypeName(plan.src_type)) +
                           "; requantizing it to " +
                           std::string(gguf::TensorTypeName(plan.dst_type)) +
                           " adds error (start from an F32, F16 or BF16 model, or allow "
                           "requantizing: --allow-requantize)");
  }
  if (!CanDequantize(plan.src_type) || !CanQuantize(plan.dst_type)) {
    return InvalidArgument("tensor '" + plan.name + "': cannot convert " +
                           std::string(gguf::TensorTypeName(plan.src_type)) + " to " +
                           std::string(gguf::TensorTypeName(plan.dst_type)));
  }
  return Status::Ok();
}

void CopyMetadata(const gguf::GgufFile& in, QuantPreset preset, gguf::GgufWriter& writer) {
  for (const gguf::KeyValue& kv : in.metadata()) writer.Set(kv.key, kv.value);
  // As llama.cpp: the output is one file, and its two quantization keys are (re)set at the end.
  for (const char* key : {"split.no", "split.count", "split.tensors.count",
                          "general.quantization_version", "general.file_type"}) {
    writer.Remove(key);
  }
  writer.SetUint32("general.quantization_version", kQuantizationVersion);
  writer.SetUint32("general.file_type", LlamaFileType(preset));
}

// Adds one planned tensor to the writer as a producer that runs while the file is written
// (so progress is reported in order): it copies the bytes when the type is kept, else converts.
Status AddPlannedTensor(const gguf::GgufFile& in, const TensorPlan& plan, size_t index,
                        size_t count, const QuantizeOptions& options, gguf::GgufWriter& writer) {
  const gguf::TensorInfo& info = *in.FindTensor(plan.name);
  const uint8_t* data = in.TensorData(info);
  if (plan.src_type == plan.dst_type) {
    auto copy = [&info, &plan, &options, data, index, count](gguf::TensorSink& sink) {
      if (options.on_tensor) options.on_tensor(index, count, plan);
      return sink.Write(data, info.size_bytes);
    };
    return writer.AddTensorStreamed(info.name, info.dims, info.type, std::move(copy));
  }
  MLE_RETURN_IF_ERROR(CheckConvertible(plan, options.allow_requantize));
  const uint64_t n_per_row = info.dims.empty() ? 1 : info.dims[0];
  const uint64_t n_rows = n_per_row ? info.n_elements / n_per_row : 0;
  auto produce = [&info, &plan, &options, data, n_per_row, n_rows, index,
                  count](gguf::TensorSink& sink) -> Status {
    if (options.on_tensor) options.on_tensor(index, count, plan);
    Result<std::vector<uint8_t>> out =
        ConvertRows(info.type, data, n_per_row, n_rows, plan.dst_type, options.n_threads);
    if (!out.ok()) return out.status().WithContext("tensor '" + info.name + "'");
    return sink.Write(out->data(), out->size());
  };
  return writer.AddTensorStreamed(info.name, info.dims, plan.dst_type, std::move(produce));
}

}  // namespace

ModelFacts ReadModelFacts(const gguf::GgufFile& file) {
  ModelFacts facts;
  const Result<std::string> arch = file.GetStringOr("general.architecture", "");
  facts.arch = arch.ok() ? arch.value() : "";
  facts.n_layer = IntOrZero(file, facts.arch + ".block_count");
  facts.n_head = IntOrZero(file, facts.arch + ".attention.head_count");
  facts.n_head_kv = IntOrZero(file, facts.arch + ".attention.head_count_kv");
  if (facts.n_head_kv == 0) facts.n_head_kv = facts.n_head;  // llama.cpp's default
  facts.n_expert = IntOrZero(file, facts.arch + ".expert_count");
  return facts;
}

Result<std::vector<uint8_t>> ConvertRows(TensorType src_type, const uint8_t* src,
                                         uint64_t n_per_row, uint64_t n_rows, TensorType dst_type,
                                         int n_threads) {
  const auto src_row_bytes = gguf::RowSizeBytes(src_type, n_per_row);
  const auto dst_row_bytes = gguf::RowSizeBytes(dst_type, n_per_row);
  if (!src_row_bytes || !dst_row_bytes) {
    return InvalidArgument("rows of " + std::to_string(n_per_row) + " elements cannot be " +
                           std::string(gguf::TensorTypeName(src_row_bytes ? dst_type : src_type)) +
                           " (the length must be a multiple of its block size)");
  }
  std::vector<uint8_t> dst(*dst_row_bytes * n_rows);
  const uint64_t n_workers = std::max<uint64_t>(1, std::min<uint64_t>(n_threads, n_rows));
  std::vector<Status> statuses(n_workers);
  std::vector<std::thread> threads;
  for (uint64_t w = 0; w < n_workers; ++w) {
    const uint64_t begin = n_rows * w / n_workers, end = n_rows * (w + 1) / n_workers;
    auto work = [&, w, begin, end] {
      statuses[w] = ConvertRowRange(src_type, src, *src_row_bytes, n_per_row, dst_type, dst.data(),
                                    *dst_row_bytes, begin, end);
    };
    if (w + 1 == n_workers) {
      work();  // the calling thread takes the last share
    } else {
      threads.emplace_back(work);
    }
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : statuses) MLE_RETURN_IF_ERROR(s);
  return dst;
}

Result<QuantizeSummary> QuantizeModelFile(const std::string& in_path, const std::string& out_path,
                                          const QuantizeOptions& options) {
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> in, gguf::GgufFile::Open(in_path));
  std::vector<TensorDesc> descs;
  for (const gguf::TensorInfo& t : in->tensors()) descs.push_back({t.name, t.dims, t.type});
  QuantizeSummary summary;
  MLE_ASSIGN_OR_RETURN(summary.plans, PlanQuantization(ReadModelFacts(*in), descs, options.preset));

  gguf::GgufWriter writer;
  CopyMetadata(*in, options.preset, writer);
  for (size_t i = 0; i < summary.plans.size(); ++i) {
    const TensorPlan& plan = summary.plans[i];
    MLE_RETURN_IF_ERROR(AddPlannedTensor(*in, plan, i, summary.plans.size(), options, writer));
    const gguf::TensorInfo& info = *in->FindTensor(plan.name);
    summary.size_in_bytes += info.size_bytes;
    summary.size_out_bytes += TensorBytes(plan.dst_type, info);
    summary.n_converted += plan.src_type != plan.dst_type;
    summary.n_fallback += plan.fallback;
  }
  MLE_RETURN_IF_ERROR(writer.WriteFile(out_path));
  return summary;
}

}  // namespace mle::kernels
