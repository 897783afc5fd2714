// `lm export`: a run's checkpoint to a GGUF file of the "llama" architecture.
#include <filesystem>

#include "core/file_util.h"
#include "lm/gguf_export.h"
#include "lm/lm.h"
#include "lm/lm_checkpoint.h"

namespace mle::lm {

Result<LmExportResult> Export(const LmExportOptions& o) {
  if (o.out.empty()) return InvalidArgument("-o FILE.gguf is required");
  MLE_ASSIGN_OR_RETURN(LoadedRun run, LoadRun(o.run_dir, o.ckpt));
  ExportOptions eo;
  eo.type = o.type;
  eo.path = o.out;
  eo.model_name = o.model_name;
  if (eo.model_name.empty()) {
    eo.model_name = std::filesystem::path(o.run_dir).lexically_normal().filename().string();
    if (eo.model_name.empty()) eo.model_name = "ml-engine-lm";
  }
  const std::filesystem::path parent = std::filesystem::path(o.out).parent_path();
  if (!parent.empty()) MLE_RETURN_IF_ERROR(EnsureDir(parent.string()));
  std::vector<NamedTensor> tensors = run.model->ExportTensors();
  MLE_ASSIGN_OR_RETURN(ExportReport rep, WriteLlamaGguf(run.config, *run.tokenizer, tensors, eo));
  LmExportResult r;
  r.path = o.out;
  r.type = rep.type;
  r.file_bytes = rep.file_bytes;
  r.n_parameters = rep.n_parameters;
  r.tensor_types = rep.tensor_types;
  return r;
}

}  // namespace mle::lm
