"""Drives a running `grpo serve` with the official openai client and prints
what it got back as one JSON object; serve_e2e_test.cpp asserts on it.

usage: openai_client.py BASE_URL MODEL SCENARIO [ARGS...]
  all                    every endpoint, streaming, n>1, stop strings, errors
  complete PROMPT N SEED TEMPERATURE MAX_TOKENS   one /v1/completions call
  auth                   calls without and with the API key in $GRPO_TEST_KEY
"""
import json
import sys

import openai


def completion(client, model, **kw):
    r = client.completions.create(model=model, **kw)
    return {"texts": [c.text for c in r.choices], "indices": [c.index for c in r.choices],
            "finish": [c.finish_reason for c in r.choices], "usage": r.usage.model_dump(), "object": r.object}


def chat(client, model, **kw):
    r = client.chat.completions.create(model=model, **kw)
    return {"texts": [c.message.content for c in r.choices], "roles": [c.message.role for c in r.choices],
            "finish": [c.finish_reason for c in r.choices], "usage": r.usage.model_dump(), "object": r.object}


def streamed(create, chat_api, n):
    """Joins the streamed pieces per choice index; records finish reasons and usage."""
    texts, finish, usage, chunks = [""] * n, [None] * n, None, 0
    for chunk in create(stream=True, stream_options={"include_usage": True}):
        chunks += 1
        if chunk.usage is not None:
            usage = chunk.usage.model_dump()
        for c in chunk.choices:
            piece = (c.delta.content or "") if chat_api else c.text
            texts[c.index] += piece
            if c.finish_reason is not None:
                finish[c.index] = c.finish_reason
    return {"texts": texts, "finish": finish, "usage": usage, "chunks": chunks}


def error(call):
    try:
        call()
    except openai.APIStatusError as e:
        return {"status": e.status_code, "error": e.body}
    return {"status": 200}


def scenario_all(client, model):
    out = {"models": [m.id for m in client.models.list().data]}
    prompt = "What is 1 + 2?"
    out["greedy"] = completion(client, model, prompt=prompt, max_tokens=12, temperature=0)
    out["greedy_stream"] = streamed(lambda **kw: client.completions.create(
        model=model, prompt=prompt, max_tokens=12, temperature=0, **kw), False, 1)
    out["n3"] = completion(client, model, prompt=prompt, max_tokens=6, temperature=1.0, n=3, seed=5)
    out["n3_again"] = completion(client, model, prompt=prompt, max_tokens=6, temperature=1.0, n=3, seed=5)
    out["n3_stream"] = streamed(lambda **kw: client.completions.create(
        model=model, prompt=prompt, max_tokens=6, temperature=1.0, n=3, seed=5, **kw), False, 3)
    # A stop string from inside a seeded sample: its first new printable
    # character past the start; the same seed samples the same tokens up to it.
    sample = dict(prompt=prompt, max_tokens=16, temperature=1.0, seed=11)
    out["sampled"] = completion(client, model, **sample)
    text = out["sampled"]["texts"][0]
    stop = next((c for k, c in enumerate(text) if k >= 2 and c.isascii() and c.isprintable() and c not in text[:k]), "")
    out["stop_string"] = stop
    if stop:
        out["stop"] = completion(client, model, stop=[stop], **sample)
        out["stop_stream"] = streamed(lambda **kw: client.completions.create(model=model, stop=[stop], **sample, **kw), False, 1)
    messages = [{"role": "system", "content": "You add numbers."}, {"role": "user", "content": "What is 2 + 2?"}]
    out["chat"] = chat(client, model, messages=messages, max_tokens=10, temperature=0)
    out["chat_stream"] = streamed(lambda **kw: client.chat.completions.create(
        model=model, messages=messages, max_tokens=10, temperature=0, **kw), True, 1)
    out["bad_temperature"] = error(lambda: client.completions.create(model=model, prompt=prompt, temperature=5))
    out["unknown_model"] = error(lambda: client.chat.completions.create(model="gpt-9", messages=messages))
    out["oversize"] = error(lambda: client.completions.create(model=model, prompt=prompt * 400, max_tokens=4))
    out["unknown_field"] = error(lambda: client.completions.create(model=model, prompt=prompt, extra_body={"temprature": 1}))
    return out


def main():
    base_url, model, scenario = sys.argv[1:4]
    client = openai.OpenAI(base_url=base_url, api_key="none", max_retries=0, timeout=300)
    if scenario == "all":
        out = scenario_all(client, model)
    elif scenario == "complete":
        prompt, n, seed, temperature, max_tokens = sys.argv[4:9]
        out = completion(client, model, prompt=prompt, n=int(n), seed=int(seed), temperature=float(temperature),
                         max_tokens=int(max_tokens))
    elif scenario == "auth":
        import os
        keyed = openai.OpenAI(base_url=base_url, api_key=os.environ["GRPO_TEST_KEY"], max_retries=0)
        out = {"without": error(lambda: client.models.list()), "with": [m.id for m in keyed.models.list().data]}
    else:
        raise SystemExit("unknown scenario " + scenario)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
