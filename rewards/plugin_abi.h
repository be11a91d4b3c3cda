/* plugin_abi.h: the C ABI of reward plug-ins, version 1. A plug-in is a
 * shared library exporting one function:
 *
 *   const grpo_reward_plugin_v1* grpo_reward_plugin_entry_v1(void);
 *
 * returning a pointer to a static table. grpo checks abi_version, calls
 * create() once per recipe entry with the entry's params as JSON text, score()
 * for each sample (CONCURRENTLY from several threads: make it thread-safe),
 * and destroy() when the reward is dropped. The library is never unloaded
 * (a timed-out score() may still be running). Plain C: any compiler, any
 * language with a C ABI. Recipe:
 *
 *   {"type": "plugin", "library": "build/libmy_reward.so", "params": {"bonus": 0.5}}
 *
 * A later, incompatible ABI gets a new entry point (..._v2); v1 stays. */
#ifndef GRPO_REWARDS_PLUGIN_ABI_H
#define GRPO_REWARDS_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRPO_REWARD_PLUGIN_ABI_VERSION 1

/* One sample. Strings are UTF-8, NUL-terminated, valid during the call only. */
typedef struct {
  const char* prompt;
  const char* completion;
  int64_t completion_tokens;
  const char* finish_reason; /* "stop", "length" or "" */
  const char* row_json;      /* the dataset row as a JSON object: gold answer, tests, ... */
} grpo_reward_sample_v1;

typedef struct {
  uint32_t abi_version; /* GRPO_REWARD_PLUGIN_ABI_VERSION */
  const char* name;     /* for messages */
  /* Builds an instance from the params JSON; NULL on failure with a message in error[0..error_size). */
  void* (*create)(const char* params_json, char* error, size_t error_size);
  /* Writes *score and returns 0; or returns non-zero with a message in error (the sample scores 0). */
  int (*score)(void* instance, const grpo_reward_sample_v1* sample, double* score, char* error, size_t error_size);
  void (*destroy)(void* instance);
} grpo_reward_plugin_v1;

typedef const grpo_reward_plugin_v1* (*grpo_reward_plugin_entry_v1_fn)(void);
#define GRPO_REWARD_PLUGIN_ENTRY_V1 "grpo_reward_plugin_entry_v1"

#ifdef __cplusplus
}
#endif

#endif /* GRPO_REWARDS_PLUGIN_ABI_H */
