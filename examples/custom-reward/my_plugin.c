/* my_plugin.c: a custom reward as a shared library (the "plugin" reward type).
 *
 *   cc -shared -fPIC -O2 -I/path/to/grpo-cpp examples/custom-reward/my_plugin.c -o libmy_reward.so
 *
 * and in the recipe: {"type": "plugin", "library": "./libmy_reward.so", "params": {"word": "therefore"}}
 *
 * Scores 1 when the completion contains params.word (default "therefore"),
 * else 0. score() is called from several threads at once: keep it free of
 * shared mutable state. See rewards/plugin_abi.h for the ABI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewards/plugin_abi.h"

typedef struct {
  char word[64];
} my_reward;

static void* my_create(const char* params_json, char* error, size_t error_size) {
  my_reward* r = (my_reward*)calloc(1, sizeof(my_reward));
  strcpy(r->word, "therefore");
  /* A real plug-in would use a JSON library; this finds "word":"..." by hand. */
  const char* w = strstr(params_json, "\"word\":\"");
  if (w) {
    w += 8;
    const char* end = strchr(w, '"');
    if (!end || (size_t)(end - w) >= sizeof r->word) {
      snprintf(error, error_size, "params.word must be a string shorter than 64 bytes");
      free(r);
      return NULL;
    }
    memcpy(r->word, w, (size_t)(end - w));
    r->word[end - w] = 0;
  }
  return r;
}

static int my_score(void* instance, const grpo_reward_sample_v1* sample, double* score, char* error, size_t error_size) {
  const my_reward* r = (const my_reward*)instance;
  (void)error;
  (void)error_size;
  *score = strstr(sample->completion, r->word) ? 1.0 : 0.0;
  return 0;
}

static void my_destroy(void* instance) { free(instance); }

static const grpo_reward_plugin_v1 kMyReward = {GRPO_REWARD_PLUGIN_ABI_VERSION, "my_plugin", my_create, my_score, my_destroy};

const grpo_reward_plugin_v1* grpo_reward_plugin_entry_v1(void) { return &kMyReward; }
