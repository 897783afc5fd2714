#include "server/ml/routes_ml.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "core/file_util.h"
#include "lm/lm_config.h"
#include "server/json_body.h"
#include "train/evaluate.h"
#include "train/image_input.h"
#include "train/models.h"

namespace mle::server {
namespace {

using nlohmann::json;

// ---- OpenAPI fragments ---------------------------------------------------------------------

constexpr const char* kTrainFields = R"(
  "epochs": {"type": "integer", "minimum": 1, "maximum": 1000},
  "batch_size": {"type": "integer", "minimum": 1, "maximum": 65536},
  "lr": {"type": "number", "exclusiveMinimum": 0, "maximum": 10},
  "optimizer": {"enum": ["sgd", "adam", "adamw"]},
  "momentum": {"type": "number", "minimum": 0, "maximum": 0.999999},
  "weight_decay": {"type": "number", "minimum": 0, "maximum": 1},
  "lr_schedule": {"enum": ["none", "step", "cosine"]},
  "seed": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
  "val_split": {"type": "number", "minimum": 0, "maximum": 0.5},
  "limit_train": {"type": "integer", "minimum": 0},
  "limit_val": {"type": "integer", "minimum": 0},
  "save": {"enum": ["best", "last", "all"]},
  "patience": {"type": "integer", "minimum": 0, "maximum": 1000},
  "ckpt_every_steps": {"type": "integer", "minimum": 0},
  "log_every_steps": {"type": "integer", "minimum": 1},
  "dataset_root": {"type": "string"},
  "ckpt_dir": {"type": "string"},
  "resume": {"type": "boolean"})";

// Fields of model "gpt" (own-LLM pretraining on token shards from `ml-engine lm data`).
constexpr const char* kLmTrainFields = R"(,
  "data": {"type": "string"},
  "size": {"type": "string"},
  "steps": {"type": "integer", "minimum": 1, "maximum": 10000000},
  "grad_accum": {"type": "integer", "minimum": 1, "maximum": 1024},
  "warmup": {"type": "integer", "minimum": -1},
  "eval_every": {"type": "integer", "minimum": -1},
  "precision": {"enum": ["auto", "fp32", "bf16"]},
  "run_dir": {"type": "string"})";

constexpr const char* kJobSchema = R"({
  "type": "object",
  "required": ["id", "model", "status", "progress", "metrics", "checkpoint", "created_at",
               "updated_at"],
  "properties": {
    "id": {"type": "string"}, "model": {"type": "string"},
    "status": {"enum": ["queued", "running", "completed", "failed", "cancelled"]},
    "progress": {"type": "object", "required": ["epochs", "epochs_done", "fraction"],
                 "properties": {"epochs": {"type": "integer"}, "epochs_done": {"type": "integer"},
                                "fraction": {"type": "number"}, "epoch": {"type": "integer"},
                                "step": {"type": "integer"},
                                "steps_per_epoch": {"type": "integer"},
                                "loss": {"type": "number"}}},
    "metrics": {"type": "object"},
    "checkpoint": {"type": "object", "properties": {"dir": {"type": "string"},
                   "best": {"type": "string"}, "last": {"type": "string"}}},
    "error": {"type": "string"}, "source": {"type": "string"},
    "cancel_requested": {"type": "boolean"},
    "created_at": {"type": "string"}, "updated_at": {"type": "string"}}})";

// `names`: the registered models as a JSON array (the schema's enum).
std::string TrainRequestSchema(bool with_model, const std::string& names) {
  std::string s = R"({"type": "object", "additionalProperties": false,)";
  if (with_model) s += R"("required": ["model"],)";
  s += R"("properties": {)";
  s += with_model
           ? R"("model": {"enum": )" + names + "},"
           : R"("models": {"type": "array", "minItems": 1, "items": {"enum": )" + names + "}},";
  s += kTrainFields;
  if (with_model) s += kLmTrainFields;
  s += "}}";
  return s;
}

std::string Schema(const std::string& properties, const std::string& required) {
  return R"({"type": "object", "required": [)" + required + R"(], "properties": {)" + properties +
         "}}";
}

// ---- requests ------------------------------------------------------------------------------

// The own-LLM decoder: trained through /ml/train like the registered models, on token shards.
constexpr const char* kLmModel = "gpt";

// An unknown model named in a body is a bad field (400), not a missing resource.
Status CheckModelField(const std::string& field, const std::string& name) {
  Status s = train::CheckModelName(name);
  return s.ok() ? s : InvalidArgument("'" + field + "': " + s.message());
}

Status CheckDataRoot(const std::string& path, const std::string& root) {
  if (IsDirectory(path)) return Status::Ok();
  if (FileExists(path) && path.size() > 4 && path.substr(path.size() - 4) == ".csv") {
    return Status::Ok();
  }
  return InvalidArgument("'dataset_root': '" + path +
                         "' is not a directory of MNIST-format IDX files " +
                         "or a .csv file (data lives under '" + root + "')");
}

class MlRoutes {
 public:
  MlRoutes(Server& server, JobManager& jobs, MlRoutesOptions o)
      : server_(server), jobs_(jobs), o_(std::move(o)) {
    if (o_.data_dir.empty()) o_.data_dir = train::DefaultDataRoot();
    models_ = train::ListModels();
  }
  // The handlers share ownership of this object.
  void Register(const std::shared_ptr<MlRoutes>& self);

 private:
  // Reads the training fields of a request over the defaults; `model` set by the caller.
  Status ReadTrainFields(JsonBody& body, train::TrainOptions* o, std::string* ckpt_dir) const;
  Status Finalize(train::TrainOptions* o, const std::string& ckpt_dir, bool per_model) const;
  Response Train(Request& req);
  Response TrainLm(Request& req, JsonBody& body);
  // 202 with the job, or with ?wait=true the original synchronous answer when it is done.
  Response Submitted(Request& req, const Result<train::RunRecord>& job);
  Response TrainAll(Request& req);
  Response ListJobs(Request& req);
  Response GetJob(Request& req);
  Response CancelJob(Request& req);
  Response JobEvents(Request& req);
  Response Predict(Request& req);
  Result<std::string> ResolveCheckpoint(const std::string& model, const std::string& ckpt,
                                        const std::string& job_id);
  json Job(const train::RunRecord& r) { return JobJson(r, jobs_.Progress(r.id)); }

  Server& server_;
  JobManager& jobs_;
  MlRoutesOptions o_;
  std::vector<train::ModelInfo> models_;
};

bool WantsWait(const Request& req) {
  const std::string w = req.QueryOr("wait", "false");
  return w == "true" || w == "1";
}

Status CheckWaitParam(const Request& req) {
  const std::string w = req.QueryOr("wait", "false");
  if (w == "true" || w == "false" || w == "1" || w == "0") return Status::Ok();
  return InvalidArgument("query parameter 'wait' must be true or false (got '" + w + "')");
}

Status MlRoutes::ReadTrainFields(JsonBody& b, train::TrainOptions* o, std::string* ckpt_dir) const {
  int64_t seed = static_cast<int64_t>(o->seed);
  MLE_RETURN_IF_ERROR(b.Int("epochs", &o->epochs, 1, o_.max_epochs));
  MLE_RETURN_IF_ERROR(b.Int("batch_size", &o->batch_size, 1, 65536));
  MLE_RETURN_IF_ERROR(b.Double("lr", &o->lr, 0, 10, /*min_exclusive=*/true));
  MLE_RETURN_IF_ERROR(b.Choice("optimizer", &o->optimizer, {"sgd", "adam", "adamw"}));
  MLE_RETURN_IF_ERROR(b.Double("momentum", &o->momentum, 0, 0.999999));
  MLE_RETURN_IF_ERROR(b.Double("weight_decay", &o->weight_decay, 0, 1));
  MLE_RETURN_IF_ERROR(b.Choice("lr_schedule", &o->lr_schedule, {"none", "step", "cosine"}));
  MLE_RETURN_IF_ERROR(b.Int("seed", &seed, 0, (int64_t{1} << 53) - 1));
  o->seed = static_cast<uint64_t>(seed);
  MLE_RETURN_IF_ERROR(b.Double("val_split", &o->val_split, 0, 0.5));
  MLE_RETURN_IF_ERROR(b.Int("limit_train", &o->limit_train, 0, int64_t{1} << 40));
  MLE_RETURN_IF_ERROR(b.Int("limit_val", &o->limit_val, 0, int64_t{1} << 40));
  MLE_RETURN_IF_ERROR(b.Choice("save", &o->save, {"best", "last", "all"}));
  MLE_RETURN_IF_ERROR(b.Int("patience", &o->patience, 0, 1000));
  MLE_RETURN_IF_ERROR(b.Int("ckpt_every_steps", &o->ckpt_every_steps, 0, int64_t{1} << 40));
  MLE_RETURN_IF_ERROR(b.Int("log_every_steps", &o->log_every_steps, 1, int64_t{1} << 40));
  MLE_RETURN_IF_ERROR(b.Bool("resume", &o->resume));
  std::string dataset_root;
  MLE_RETURN_IF_ERROR(b.String("dataset_root", &dataset_root));
  MLE_RETURN_IF_ERROR(b.String("ckpt_dir", ckpt_dir));
  MLE_ASSIGN_OR_RETURN(o->data_root, ConfinedPath(o_.data_dir, dataset_root, "dataset_root"));
  return CheckDataRoot(o->data_root, o_.data_dir);
}

// Confines the checkpoint directory (per model under it for train-all), checks resume, and
// records the effective request in the run's config.
Status MlRoutes::Finalize(train::TrainOptions* o, const std::string& ckpt_dir,
                          bool per_model) const {
  std::string dir =
      ckpt_dir.empty() ? o->model : (per_model ? ckpt_dir + "/" + o->model : ckpt_dir);
  MLE_ASSIGN_OR_RETURN(o->ckpt_dir, ConfinedPath(o_.checkpoints_dir, dir, "ckpt_dir"));
  if (o->resume && !FileExists(o->ckpt_dir + "/last.ckpt")) {
    return FailedPrecondition("'resume': there is no '" + o->ckpt_dir +
                              "/last.ckpt' to resume from (train without resume first)");
  }
  MLE_RETURN_IF_ERROR(train::ValidateTrainOptions(*o));
  o->resolved_config = {{"model", o->model},
                        {"epochs", o->epochs},
                        {"batch_size", o->batch_size},
                        {"lr", o->lr},
                        {"optimizer", o->optimizer},
                        {"momentum", o->momentum},
                        {"weight_decay", o->weight_decay},
                        {"lr_schedule", o->lr_schedule},
                        {"seed", o->seed},
                        {"val_split", o->val_split},
                        {"limit_train", o->limit_train},
                        {"limit_val", o->limit_val},
                        {"save", o->save},
                        {"patience", o->patience},
                        {"dataset_root", o->data_root},
                        {"ckpt_dir", o->ckpt_dir},
                        {"resume", o->resume},
                        {"threads", o->threads}};
  return Status::Ok();
}

json JobLinks(const std::string& id) {
  return {{"self", "/ml/jobs/" + id}, {"events", "/ml/jobs/" + id + "/events"}};
}

// The synchronous answer of ?wait=true, as the original API gave it.
Result<json> WaitedAnswer(const train::RunRecord& r) {
  if (r.status == "cancelled") {
    return FailedPrecondition("job '" + r.id + "' was cancelled: " + r.error);
  }
  if (r.status != "completed") {
    return Status(StatusCode::kFailedPrecondition,
                  "training job '" + r.id + "' failed: " + r.error);
  }
  json j = {{"model", r.model}, {"status", "ok"}, {"job_id", r.id}};
  for (const char* k : {"best_val_acc", "val_loss", "val_ppl"}) {
    if (r.metrics.contains(k)) j[k] = r.metrics[k];
  }
  j["checkpoint"] = r.best_ckpt.empty() ? r.last_ckpt : r.best_ckpt;
  return j;
}

Response MlRoutes::Train(Request& req) {
  if (Status w = CheckWaitParam(req); !w.ok()) return StatusResponse(w);
  auto body = JsonBody::Parse(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  train::TrainOptions o = o_.defaults;
  std::string ckpt_dir;
  Status s = body->String("model", &o.model, /*required=*/true, 128);
  if (s.ok() && o.model == kLmModel) return TrainLm(req, *body);
  if (s.ok()) s = CheckModelField("model", o.model);
  if (s.ok()) s = ReadTrainFields(*body, &o, &ckpt_dir);
  if (s.ok()) s = body->Finish();
  if (s.ok()) s = Finalize(&o, ckpt_dir, /*per_model=*/false);
  if (!s.ok()) return StatusResponse(s);
  return Submitted(req, jobs_.Submit(std::move(o)));
}

Response MlRoutes::Submitted(Request& req, const Result<train::RunRecord>& job) {
  if (!job.ok()) return StatusResponse(job.status());
  if (WantsWait(req)) {
    auto done = jobs_.Wait(job->id, req.cancelled.get());
    if (!done.ok()) return StatusResponse(done.status());
    auto answer = WaitedAnswer(*done);
    if (!answer.ok()) return StatusResponse(answer.status());
    return Response::Json(200, answer->dump());
  }
  json j = Job(*job);
  j["links"] = JobLinks(job->id);
  Response r = Response::Json(202, j.dump());
  r.headers["Location"] = "/ml/jobs/" + job->id;
  return r;
}

// Own-LLM pretraining ("model": "gpt"): token shards under the data directory, a run
// directory under the checkpoints directory (checkpoints/gpt/<job id> unless named).
Response MlRoutes::TrainLm(Request& req, JsonBody& b) {
  lm::PretrainOptions o;
  o.threads = o_.defaults.threads;
  std::string data, run_dir;
  int64_t steps = o.steps, batch = o.batch_size, accum = o.grad_accum, seed = 1234;
  int64_t warmup = -1, eval_every = -1;
  Status s = b.String("data", &data, /*required=*/true, 4096);
  if (s.ok()) s = b.String("size", &o.size, false, 4096);
  if (s.ok()) s = b.Int("steps", &steps, 1, 10000000);
  if (s.ok()) s = b.Int("batch_size", &batch, 1, 4096);
  if (s.ok()) s = b.Int("grad_accum", &accum, 1, 1024);
  if (s.ok()) s = b.Double("lr", &o.lr, 0, 10, /*min_exclusive=*/true);
  if (s.ok()) s = b.Double("weight_decay", &o.weight_decay, 0, 1);
  if (s.ok()) s = b.Int("seed", &seed, 0, (int64_t{1} << 53) - 1);
  if (s.ok()) s = b.Int("warmup", &warmup, -1, 10000000);
  if (s.ok()) s = b.Int("eval_every", &eval_every, -1, 10000000);
  if (s.ok()) s = b.Choice("precision", &o.precision, {"auto", "fp32", "bf16"});
  if (s.ok()) s = b.String("run_dir", &run_dir, false, 4096);
  if (s.ok()) s = b.Bool("resume", &o.resume);
  if (s.ok()) s = b.Finish();
  if (!s.ok()) return StatusResponse(s);
  o.steps = steps;
  o.batch_size = static_cast<int>(batch);
  o.grad_accum = static_cast<int>(accum);
  o.seed = static_cast<uint64_t>(seed);
  o.warmup_steps = warmup;
  o.eval_every = eval_every;
  auto data_dir = ConfinedPath(o_.data_dir, data, "data");
  if (!data_dir.ok()) return StatusResponse(data_dir.status());
  if (!FileExists(*data_dir + "/index.json")) {
    return StatusResponse(InvalidArgument(
        "'data': '" + data + "' is not a token shard directory under '" + o_.data_dir +
        "' (make one with `ml-engine lm data --input TEXT --tokenizer TOK -o DIR`)"));
  }
  o.data_dir = *data_dir;
  // A named size or an inline JSON object; never a path (the server does not read files a
  // request names outside its confined directories).
  if (o.size != "tiny" && o.size != "small" && o.size != "base" &&
      (o.size.empty() || o.size.front() != '{')) {
    return StatusResponse(
        InvalidArgument("'size' must be tiny, small, base or a JSON object of "
                        "model fields, got '" +
                        o.size.substr(0, 80) + "'"));
  }
  if (auto shape = lm::LmConfigFromSize(o.size, 256); !shape.ok()) {
    return StatusResponse(InvalidArgument("'size': " + shape.status().message()));
  }
  if (!run_dir.empty()) {
    auto dir = ConfinedPath(o_.checkpoints_dir, run_dir, "run_dir");
    if (!dir.ok()) return StatusResponse(dir.status());
    o.run_dir = *dir;
  }
  if (o.resume && (o.run_dir.empty() || !FileExists(o.run_dir + "/last.ckpt"))) {
    return StatusResponse(FailedPrecondition(
        "'resume': name the 'run_dir' of an earlier gpt job that has a last.ckpt"));
  }
  json config = {{"model", kLmModel},
                 {"data", o.data_dir},
                 {"size", o.size},
                 {"steps", o.steps},
                 {"batch_size", batch},
                 {"grad_accum", accum},
                 {"lr", o.lr},
                 {"seed", seed},
                 {"warmup", warmup},
                 {"eval_every", eval_every},
                 {"precision", o.precision},
                 {"resume", o.resume},
                 {"threads", o.threads}};
  return Submitted(
      req, jobs_.SubmitLm(std::move(o), std::move(config), o_.checkpoints_dir + "/" + kLmModel));
}

Response MlRoutes::TrainAll(Request& req) {
  if (Status w = CheckWaitParam(req); !w.ok()) return StatusResponse(w);
  auto body = JsonBody::Parse(req.body.empty() ? std::string_view("{}") : req.body);
  if (!body.ok()) return StatusResponse(body.status());
  std::vector<std::string> names;
  for (const auto& m : models_) names.push_back(m.name);
  Status s = body->StringList("models", &names, 64);
  for (size_t i = 0; s.ok() && i < names.size(); ++i) s = CheckModelField("models", names[i]);
  if (s.ok() && names.empty()) s = InvalidArgument("'models' must name at least one model");
  train::TrainOptions base = o_.defaults;
  std::string ckpt_dir;
  if (s.ok()) s = ReadTrainFields(*body, &base, &ckpt_dir);
  if (s.ok()) s = body->Finish();
  std::vector<train::TrainOptions> runs;
  for (size_t i = 0; s.ok() && i < names.size(); ++i) {
    train::TrainOptions o = base;
    o.model = names[i];
    s = Finalize(&o, ckpt_dir, /*per_model=*/true);
    runs.push_back(std::move(o));
  }
  if (!s.ok()) return StatusResponse(s);
  std::vector<train::RunRecord> submitted;
  for (auto& o : runs) {
    auto job = jobs_.Submit(std::move(o));
    if (!job.ok()) {
      for (const auto& j : submitted) (void)jobs_.Cancel(j.id);  // all or nothing
      return StatusResponse(job.status());
    }
    submitted.push_back(*job);
  }
  if (WantsWait(req)) {
    json results = json::array();
    std::string failed;
    for (const auto& job : submitted) {
      auto done = jobs_.Wait(job.id, req.cancelled.get());
      if (!done.ok()) return StatusResponse(done.status());
      auto answer = WaitedAnswer(*done);
      if (!answer.ok()) failed += (failed.empty() ? "" : "; ") + answer.status().message();
      results.push_back(answer.ok() ? *answer
                                    : json{{"model", done->model},
                                           {"status", done->status},
                                           {"job_id", done->id},
                                           {"error", done->error}});
    }
    if (!failed.empty()) return StatusResponse(FailedPrecondition(failed));
    return Response::Json(200, json{{"status", "ok"}, {"results", results}}.dump());
  }
  json list = json::array();
  for (const auto& job : submitted) {
    json j = Job(job);
    j["links"] = JobLinks(job.id);
    list.push_back(j);
  }
  return Response::Json(202, json{{"jobs", list}}.dump());
}

Result<int64_t> QueryInt(const Request& req, const std::string& name, int64_t def, int64_t min,
                         int64_t max) {
  const std::string v = req.QueryOr(name, "");
  if (v.empty()) return def;
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || x < min || x > max) {
    return InvalidArgument("query parameter '" + name + "' must be an integer from " +
                           std::to_string(min) + " to " + std::to_string(max) + " (got '" + v +
                           "')");
  }
  return static_cast<int64_t>(x);
}

Response MlRoutes::ListJobs(Request& req) {
  auto limit = QueryInt(req, "limit", 100, 1, 1000);
  if (!limit.ok()) return StatusResponse(limit.status());
  const std::string status = req.QueryOr("status", "");
  if (!status.empty() && !IsTerminal(status) && status != "queued" && status != "running") {
    return StatusResponse(InvalidArgument(
        "query parameter 'status' must be one of queued, running, completed, failed, cancelled"));
  }
  auto runs = jobs_.List(static_cast<int>(*limit), status, req.QueryOr("model", ""));
  if (!runs.ok()) return StatusResponse(runs.status());
  json list = json::array();
  for (const auto& r : *runs) list.push_back(Job(r));
  return Response::Json(200, json{{"jobs", list}}.dump());
}

// Job ids are run ids: letters, digits, '-', '_' and '.'.
bool PlausibleId(const std::string& id) {
  if (id.empty() || id.size() > 200) return false;
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

Status UnknownJob(const std::string& id) {
  return NotFound("no job '" + (PlausibleId(id) ? id : std::string("?")) +
                  "' (GET /ml/jobs lists them)");
}

Response MlRoutes::GetJob(Request& req) {
  const std::string& id = req.path_params["id"];
  if (!PlausibleId(id)) return StatusResponse(UnknownJob(id));
  auto rec = jobs_.Get(id);
  if (!rec.ok()) return StatusResponse(rec.status());
  if (!*rec) return StatusResponse(UnknownJob(id));
  return Response::Json(200, Job(**rec).dump());
}

Response MlRoutes::CancelJob(Request& req) {
  const std::string& id = req.path_params["id"];
  if (!PlausibleId(id)) return StatusResponse(UnknownJob(id));
  auto rec = jobs_.Cancel(id);
  if (!rec.ok()) return StatusResponse(rec.status());
  json j = Job(*rec);
  if (rec->status == "cancelled") return Response::Json(200, j.dump());
  j["cancel_requested"] = true;  // the running job stops at its next step
  return Response::Json(202, j.dump());
}

Response MlRoutes::JobEvents(Request& req) {
  const std::string& id = req.path_params["id"];
  if (!PlausibleId(id)) return StatusResponse(UnknownJob(id));
  auto stream = std::make_shared<ChunkStream>();
  if (Status s = jobs_.Watch(id, stream); !s.ok()) return StatusResponse(s);
  return Response::EventStream(stream);
}

// ---- prediction ----------------------------------------------------------------------------

constexpr int64_t kSide = 28;

Status ReadPixelArrays(const json& inputs, int64_t max_images, train::ImageBatch* batch) {
  const std::string want =
      "'inputs' must be an array of images, each 28 rows of 28 numbers from 0 to 255 (or 784 "
      "numbers)";
  if (!inputs.is_array() || inputs.empty()) return InvalidArgument(want);
  if (static_cast<int64_t>(inputs.size()) > max_images) {
    return InvalidArgument("'inputs' holds " + std::to_string(inputs.size()) + " images; at most " +
                           std::to_string(max_images) + " per request");
  }
  batch->pixels.reserve(inputs.size() * kSide * kSide);
  auto pixel = [&](const json& v, size_t i) -> Status {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 ||
        v.get<double>() > 255) {
      return InvalidArgument("'inputs[" + std::to_string(i) + "]': pixel values must be " +
                             "numbers from 0 to 255");
    }
    batch->pixels.push_back(v.get<float>());
    return Status::Ok();
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const json& img = inputs[i];
    const std::string at = "'inputs[" + std::to_string(i) + "]'";
    if (img.is_array() && img.size() == kSide * kSide) {
      for (const auto& v : img) MLE_RETURN_IF_ERROR(pixel(v, i));
      continue;
    }
    if (!img.is_array() || img.size() != kSide) {
      return InvalidArgument(at + " must be 28 rows of 28 numbers (or 784 numbers)");
    }
    for (const auto& row : img) {
      if (!row.is_array() || row.size() != kSide) {
        return InvalidArgument(at + " must be 28 rows of 28 numbers (or 784 numbers)");
      }
      for (const auto& v : row) MLE_RETURN_IF_ERROR(pixel(v, i));
    }
  }
  batch->n = static_cast<int64_t>(inputs.size());
  batch->format = "json";
  return Status::Ok();
}

Status ReadEncodedImages(const json& images, int64_t max_images, train::ImageBatch* batch) {
  if (!images.is_array() || images.empty()) {
    return InvalidArgument("'images' must be an array of base64-encoded PNG or PGM images");
  }
  if (static_cast<int64_t>(images.size()) > max_images) {
    return InvalidArgument("'images' holds " + std::to_string(images.size()) + " images; at most " +
                           std::to_string(max_images) + " per request");
  }
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string at = "images[" + std::to_string(i) + "]";
    if (!images[i].is_string()) return InvalidArgument("'" + at + "' must be a base64 string");
    MLE_ASSIGN_OR_RETURN(std::string bytes, DecodeBase64(images[i].get<std::string>(), at));
    Result<train::ImageBatch> one = InvalidArgument(
        "'" + at + "' is neither a PNG nor a PGM image (send base64 of the file's bytes)");
    if (bytes.size() >= 8 && bytes.compare(0, 4, "\x89PNG") == 0) {
      one = train::DecodePng(bytes, at);
    } else if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '5')) {
      one = train::DecodePgm(bytes, at);
    }
    if (!one.ok()) return one.status();
    if (one->n != 1 || one->height != kSide || one->width != kSide) {
      return InvalidArgument("'" + at + "' must be one 28x28 grayscale image");
    }
    batch->pixels.insert(batch->pixels.end(), one->pixels.begin(), one->pixels.end());
  }
  batch->n = static_cast<int64_t>(images.size());
  batch->format = "image";
  return Status::Ok();
}

Result<std::string> MlRoutes::ResolveCheckpoint(const std::string& model, const std::string& ckpt,
                                                const std::string& job_id) {
  if (!ckpt.empty()) {
    MLE_ASSIGN_OR_RETURN(std::string path, ConfinedPath(o_.checkpoints_dir, ckpt, "ckpt"));
    if (!FileExists(path) || IsDirectory(path)) {
      return NotFound("'ckpt': checkpoint '" + ckpt + "' does not exist under '" +
                      o_.checkpoints_dir + "'");
    }
    return path;
  }
  auto usable = [](const train::RunRecord& r) -> std::string {
    for (const auto* p : {&r.best_ckpt, &r.last_ckpt}) {
      if (!p->empty() && FileExists(*p)) return *p;
    }
    return "";
  };
  if (!job_id.empty()) {
    if (!PlausibleId(job_id)) return UnknownJob(job_id);
    MLE_ASSIGN_OR_RETURN(auto rec, jobs_.Get(job_id));
    if (!rec) return UnknownJob(job_id);
    if (rec->model != model) {
      return InvalidArgument("'job_id': job '" + job_id + "' trained " + rec->model + ", not " +
                             model);
    }
    std::string path = usable(*rec);
    if (path.empty()) {
      return FailedPrecondition("job '" + job_id + "' has no checkpoint yet (it is " + rec->status +
                                ")");
    }
    return path;
  }
  MLE_ASSIGN_OR_RETURN(auto runs, jobs_.List(100, "completed", model));
  for (const auto& r : runs) {
    std::string path = usable(r);
    if (!path.empty()) return path;
  }
  return NotFound("no trained checkpoint of " + model +
                  " yet: train it first (POST /ml/train) or pass 'ckpt'");
}

Response MlRoutes::Predict(Request& req) {
  auto body = JsonBody::Parse(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  std::string model, ckpt, job_id;
  Status s = body->String("model", &model, /*required=*/true, 128);
  if (s.ok()) s = CheckModelField("model", model);
  if (s.ok()) s = body->String("ckpt", &ckpt);
  if (s.ok()) s = body->String("job_id", &job_id, false, 200);
  const json* inputs = body->Raw("inputs");
  const json* images = body->Raw("images");
  if (s.ok()) s = body->Finish();
  if (s.ok() && (inputs == nullptr) == (images == nullptr)) {
    s = InvalidArgument(
        "send exactly one of 'inputs' (28x28 pixel arrays) and 'images' "
        "(base64 PNG/PGM)");
  }
  if (s.ok() && !ckpt.empty() && !job_id.empty()) {
    s = InvalidArgument("send at most one of 'ckpt' and 'job_id'");
  }
  train::ImageBatch batch;
  if (s.ok()) {
    s = inputs ? ReadPixelArrays(*inputs, o_.max_predict_images, &batch)
               : ReadEncodedImages(*images, o_.max_predict_images, &batch);
  }
  if (!s.ok()) return StatusResponse(s);
  auto path = ResolveCheckpoint(model, ckpt, job_id);
  if (!path.ok()) return StatusResponse(path.status());
  train::PredictOptions po{*path, model, o_.defaults.threads};
  Result<std::vector<train::Prediction>> preds = Internal("prediction did not run");
  try {
    preds = train::Predict(po, batch);
  } catch (const std::exception& e) {
    preds = Internal(std::string("prediction failed: ") + e.what());
  }
  if (!preds.ok()) return StatusResponse(preds.status());
  json out = json::array();
  for (const auto& p : *preds) out.push_back({{"class", p.label}, {"probabilities", p.probs}});
  return Response::Json(200,
                        json{{"model", model}, {"checkpoint", *path}, {"predictions", out}}.dump());
}

void MlRoutes::Register(const std::shared_ptr<MlRoutes>& self) {
  Router& router = server_.router();
  auto bind = [self](Response (MlRoutes::*fn)(Request&)) {
    return [self, fn](Request& req) { return ((*self).*fn)(req); };
  };
  json names = json::array(), details = json::array();
  for (const auto& m : models_) {
    names.push_back(m.name);
    details.push_back({{"name", m.name},
                       {"description", m.description},
                       {"task", m.task},
                       {"n_params", m.n_params}});
  }
  json all_names = names;
  all_names.push_back(kLmModel);
  details.push_back({{"name", kLmModel},
                     {"description",
                      "own LLM decoder (RMSNorm, RoPE, SwiGLU); needs token shards from `ml-engine "
                      "lm data` as 'data'"},
                     {"task", "text-generation"},
                     {"n_params", 0}});
  const std::string models_body = json{{"models", all_names}, {"details", details}}.dump();
  router.Add(
      "GET", "/ml/models", [models_body](Request&) { return Response::Json(200, models_body); },
      RouteOptions()
          .Feature("train")
          .Summary("trainable models")
          .Returns(Schema(
              R"("models": {"type": "array", "items": {"type": "string"}},
             "details": {"type": "array", "items": {"type": "object"}})",
              R"("models")")));
  const std::string job = kJobSchema;
  const std::string job_list =
      Schema(R"("jobs": {"type": "array", "items": )" + job + "}", R"("jobs")");
  const std::string waited = Schema(
      R"("model": {"type": "string"}, "status": {"const": "ok"}, "job_id": {"type": "string"},
         "best_val_acc": {"type": "number"}, "checkpoint": {"type": "string"},
         "val_loss": {"type": "number"}, "val_ppl": {"type": "number"})",
      R"("model", "status")");
  const std::string wait_param = R"({"type": "boolean"})";
  router.Add("POST", "/ml/train", bind(&MlRoutes::Train),
             RouteOptions()
                 .Feature("train")
                 .Offload()
                 .Summary("start a training job (202 + job; ?wait=true answers when done)")
                 .Query("wait", wait_param)
                 .Request(TrainRequestSchema(true, all_names.dump()))
                 .Returns(job, 202)
                 .AlsoReturns(200, waited));
  router.Add("POST", "/ml/train-all", bind(&MlRoutes::TrainAll),
             RouteOptions()
                 .Feature("train")
                 .Offload()
                 .Summary("a training job for every registered model")
                 .Query("wait", wait_param)
                 .Request(TrainRequestSchema(false, names.dump()))
                 .Returns(job_list, 202)
                 .AlsoReturns(200, Schema(R"("status": {"const": "ok"},
                                             "results": {"type": "array"})",
                                          R"("status", "results")")));
  router.Add(
      "GET", "/ml/jobs", bind(&MlRoutes::ListJobs),
      RouteOptions()
          .Feature("train")
          .Offload()
          .Summary("training jobs and runs, newest first")
          .Query("limit", R"({"type": "integer", "minimum": 1, "maximum": 1000})")
          .Query("status", R"({"enum": ["queued", "running", "completed", "failed", "cancelled"]})")
          .Query("model", R"({"type": "string"})")
          .Returns(job_list));
  router.Add("GET", "/ml/jobs/{id}", bind(&MlRoutes::GetJob),
             RouteOptions()
                 .Feature("train")
                 .Offload()
                 .Summary("one job: state, progress, metrics, checkpoints")
                 .Returns(job));
  router.Add("DELETE", "/ml/jobs/{id}", bind(&MlRoutes::CancelJob),
             RouteOptions()
                 .Feature("train")
                 .Offload()
                 .Summary("cancel a queued or running job")
                 .Returns(job)
                 .AlsoReturns(202, job));
  router.Add("GET", "/ml/jobs/{id}/events", bind(&MlRoutes::JobEvents),
             RouteOptions()
                 .Feature("train")
                 .Offload()
                 .Summary("job progress as server-sent events (status, progress, epoch)")
                 .Returns("sse"));
  router.Add(
      "POST", "/ml/predict", bind(&MlRoutes::Predict),
      RouteOptions()
          .Feature("predict")
          .Offload()
          .Summary("classify 28x28 images with a trained checkpoint")
          .Request(R"({"type": "object", "additionalProperties": false, "required": ["model"],
            "properties": {"model": {"enum": )" +
                   names.dump() + R"(}, "ckpt": {"type": "string"},
              "job_id": {"type": "string"},
              "inputs": {"type": "array", "minItems": 1, "maxItems": 1024,
                         "description": "images: 28 rows of 28 pixels (0..255) or 784 pixels",
                         "items": {"type": "array", "minItems": 28, "maxItems": 784}},
              "images": {"type": "array", "minItems": 1, "maxItems": 1024,
                         "items": {"type": "string"}}}})")
          .Returns(Schema(R"("model": {"type": "string"}, "checkpoint": {"type": "string"},
              "predictions": {"type": "array", "items": {"type": "object",
                "required": ["class", "probabilities"],
                "properties": {"class": {"type": "integer"},
                               "probabilities": {"type": "array",
                                                 "items": {"type": "number"}}}}})",
                          R"("model", "checkpoint", "predictions")")));
}

}  // namespace

void AddMlRoutes(Server& server, JobManager& jobs, MlRoutesOptions options) {
  MetricFamily* finished = server.metrics().Counter(
      "mle_jobs_finished_total", "training jobs that ended, by final status", {"status"});
  jobs.SetOnFinished([finished](const std::string& status) { finished->Add({status}, 1); });
  server.metrics().GaugeCallback("mle_jobs_queued", "training jobs waiting for the trainer",
                                 [&jobs] { return static_cast<double>(jobs.queued()); });
  server.metrics().GaugeCallback("mle_jobs_running", "training jobs running",
                                 [&jobs] { return static_cast<double>(jobs.running()); });
  auto routes = std::make_shared<MlRoutes>(server, jobs, std::move(options));
  routes->Register(routes);
}

}  // namespace mle::server
