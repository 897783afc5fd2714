/* The C interface of libmle_spm.so (spm_shim.cpp), SentencePiece behind plain C calls so that
 * it can live in its own link-map namespace (see spm_shim.cpp for why). Outputs are handed to
 * caller-supplied sinks that copy them; no memory crosses the boundary. */
#ifndef MLE_LM_SPM_C_API_H_
#define MLE_LM_SPM_C_API_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLE_SPM_API_VERSION 1

/* Piece kinds (bits) of mle_spm_kind (0.1.97 cannot tell user-defined pieces apart). */
#define MLE_SPM_UNKNOWN 1
#define MLE_SPM_CONTROL 2
#define MLE_SPM_BYTE 8
#define MLE_SPM_UNUSED 16

/* Receives bytes (copied by the callee before returning). */
typedef void (*MleSpmSink)(void* ctx, const char* data, size_t len);
/* Receives token ids. */
typedef void (*MleSpmIdsSink)(void* ctx, const int* ids, size_t n);
/* Yields the next training sentence: returns 1 and sets data/len (valid until the next call),
 * or 0 at the end. */
typedef int (*MleSpmNext)(void* ctx, const char** data, size_t* len);

int mle_spm_api_version(void);
/* Trains a model; `kv_lines` holds "name=value" trainer flags, one per line. Returns 0 and
 * sends the serialized model to model_sink, or a SentencePiece status code and the message to
 * err_sink. */
int mle_spm_train(const char* kv_lines, MleSpmNext next, void* next_ctx, MleSpmSink model_sink,
                  void* model_ctx, MleSpmSink err_sink, void* err_ctx);
/* A processor for a serialized model, or NULL with the message sent to err_sink. */
void* mle_spm_load(const char* model, size_t len, MleSpmSink err_sink, void* err_ctx);
void mle_spm_unload(void* h);
int mle_spm_size(void* h);
void mle_spm_piece(void* h, int id, MleSpmSink sink, void* ctx);
float mle_spm_score(void* h, int id);
int mle_spm_kind(void* h, int id);
int mle_spm_piece_to_id(void* h, const char* piece, size_t len);
int mle_spm_encode(void* h, const char* text, size_t len, MleSpmIdsSink sink, void* ctx);
int mle_spm_decode(void* h, const int* ids, size_t n, MleSpmSink sink, void* ctx);

#ifdef __cplusplus
}
#endif

#endif /* MLE_LM_SPM_C_API_H_ */
