#!/usr/bin/env python3
"""Contract test `openai_sdk`: the official `openai` Python package (a real client, from the
project venv) talks to the real `ml-engine serve` with a tiny model: a plain and a streamed
chat completion that say the same thing (greedy), usage with cached prompt tokens, a text
completion, the model list, and an error in OpenAI's shape that the SDK raises as such.

Usage: openai_sdk_test.py --engine PATH/ml-engine [--venv DIR]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from contract_common import check, log, main, serving  # noqa: E402

API_KEY = "contract-openai-key-0123456789"
MODEL = "tiny-qwen2-bpe-Q8_0"


def run(args, workdir):
    import openai  # from the venv that runs this script

    log(f"openai {openai.__version__}")
    shared = os.environ.get("MLE_SHARED_DIR",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "..", "..", "..", "shared"))
    tiny = os.path.abspath(os.path.join(shared, "testdata", "models", MODEL + ".gguf"))
    check(os.path.exists(tiny), f"test model {tiny} not found (set MLE_SHARED_DIR)")
    server_dir = os.path.join(workdir, "server")
    models = os.path.join(server_dir, "models")
    os.makedirs(models)
    os.symlink(tiny, os.path.join(models, MODEL + ".gguf"))
    engine = os.path.abspath(args.engine)

    def argv(port):
        return [engine, "serve", "--port", str(port), "--api-key", API_KEY,
                "--models-dir", models, "--parallel", "2"]

    with serving(argv, server_dir, name="ml-engine") as srv:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{srv.port}/v1", api_key=API_KEY,
                               max_retries=0, timeout=60)
        ids = [m.id for m in client.models.list()]
        check(ids == [MODEL], f"models.list() gave {ids}")

        messages = [{"role": "system", "content": "You are brief."},
                    {"role": "user", "content": "Name three colours."}]
        plain = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=12,
                                               temperature=0)
        choice = plain.choices[0]
        check(choice.message.role == "assistant", f"role {choice.message.role!r}")
        check(isinstance(choice.message.content, str) and choice.message.content,
              "empty content")
        check(choice.finish_reason == "length", f"finish_reason {choice.finish_reason!r}")
        check(plain.usage.completion_tokens == 12, f"usage {plain.usage}")
        log(f"plain: {choice.message.content!r}, usage {plain.usage}")

        stream = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=12,
                                                temperature=0, stream=True,
                                                stream_options={"include_usage": True})
        text, finish, usage = "", None, None
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for c in chunk.choices:
                if c.delta.content:
                    text += c.delta.content
                if c.finish_reason:
                    finish = c.finish_reason
        check(text == choice.message.content,
              f"streamed {text!r} but the plain answer was {choice.message.content!r}")
        check(finish == "length", f"stream finish_reason {finish!r}")
        check(usage is not None and usage.completion_tokens == 12, f"stream usage {usage}")
        cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
        check(cached and cached > 0, f"the repeated prompt was not served from the cache: {usage}")

        comp = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=6,
                                         temperature=0)
        check(comp.choices[0].text and comp.usage.completion_tokens == 6, f"completion {comp}")

        try:
            client.chat.completions.create(model="no-such-model", messages=messages)
            check(False, "an unknown model must be an error")
        except openai.NotFoundError as e:
            check("no-such-model" in str(e), f"error message: {e}")
        try:
            client.chat.completions.create(model=MODEL, messages=messages, temperature=5)
            check(False, "temperature 5 must be refused")
        except openai.BadRequestError as e:
            check("temperature" in str(e), f"error message: {e}")
        bad = openai.OpenAI(base_url=f"http://127.0.0.1:{srv.port}/v1", api_key="wrong-key-123",
                            max_retries=0)
        try:
            bad.models.list()
            check(False, "a wrong key must be refused")
        except openai.AuthenticationError:
            pass
        rc = srv.terminate()
        check(rc == 0, f"SIGTERM: exit code {rc}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--engine", required=True)
    p.add_argument("--venv", default="")
    args = p.parse_args()
    main(lambda workdir: run(args, workdir), "openai_sdk")
