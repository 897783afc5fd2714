// Prediction and evaluation (see evaluate.h).
#include "train/evaluate.h"

#include "train/checkpoint.h"
#include "train/dataset.h"
#include "train/torch_env.h"

namespace mle::train {

Result<std::vector<Prediction>> Predict(const PredictOptions& options, const ImageBatch& images) {
  SetTorchThreads(options.threads);
  MLE_ASSIGN_OR_RETURN(LoadedCheckpoint ckpt, LoadCheckpoint(options.ckpt, options.model));
  torch::NoGradGuard no_grad;
  auto raw = torch::from_blob(const_cast<float*>(images.pixels.data()),
                              {images.n, 1, images.height, images.width}, torch::kFloat32);
  auto x = raw.mul(1.0 / (255.0 * ckpt.std)).sub_(ckpt.mean / ckpt.std);  // [N,1,28,28]
  auto probs = torch::exp(ckpt.model->forward(x)).contiguous();           // [N,10]
  std::vector<Prediction> out(images.n);
  const int64_t n_classes = probs.size(1);
  const float* p = probs.data_ptr<float>();
  for (int64_t i = 0; i < images.n; ++i) {
    out[i].probs.assign(p + i * n_classes, p + (i + 1) * n_classes);
    out[i].label =
        std::max_element(out[i].probs.begin(), out[i].probs.end()) - out[i].probs.begin();
  }
  return out;
}

Result<EvalResult> Evaluate(const EvalOptions& options) {
  SetTorchThreads(options.threads);
  MLE_ASSIGN_OR_RETURN(LoadedCheckpoint ckpt, LoadCheckpoint(options.ckpt, options.model));
  std::string root = options.data_root.empty() ? DefaultDataRoot() : options.data_root;
  Dataset data;
  if (root.size() > 4 && root.substr(root.size() - 4) == ".csv") {
    MLE_ASSIGN_OR_RETURN(data, LoadCsvDataset(root));
  } else {
    MLE_ASSIGN_OR_RETURN(data, LoadMnistSplit(root, "t10k"));
  }
  if (options.limit > 0 && options.limit < data.size()) data = data.Slice(0, options.limit);
  torch::NoGradGuard no_grad;
  EvalResult r;
  r.model = ckpt.meta["model"];
  r.n = data.size();
  r.confusion.assign(10, std::vector<int64_t>(10, 0));
  double loss_sum = 0;
  for (int64_t i = 0; i < r.n; i += 1000) {
    int64_t end = std::min(r.n, i + 1000);
    auto out =
        ckpt.model->forward(NormalizeImages(data.images.slice(0, i, end), ckpt.mean, ckpt.std));
    auto y = data.labels.slice(0, i, end);
    loss_sum += torch::nll_loss(out, y, {}, at::Reduction::Sum).item<double>();
    auto pred = out.argmax(1);
    auto acc_y = y.accessor<int64_t, 1>();
    auto acc_p = pred.accessor<int64_t, 1>();
    for (int64_t k = 0; k < end - i; ++k) ++r.confusion[acc_y[k]][acc_p[k]];
  }
  int64_t correct = 0;
  for (int c = 0; c < 10; ++c) correct += r.confusion[c][c];
  r.accuracy = r.n ? static_cast<double>(correct) / r.n : 0;
  r.loss = r.n ? loss_sum / r.n : 0;
  return r;
}

}  // namespace mle::train
