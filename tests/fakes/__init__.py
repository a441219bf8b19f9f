"""Fake model providers that speak the real wire formats, for the Soul's tests, the executor's and
the local stack's.

- `fakes.anthropic.FakeAnthropic`: the Messages API on 127.0.0.1 (validates requests the way the
  real API does, simulates prompt caching, answers like the offline agent unless replies are queued).
- `fakes.openai.FakeOpenAI`: Chat Completions on 127.0.0.1, likewise (an OpenAI-compatible server).
- `fakes.bedrock`: real Converse response shapes and a Stubber-ready bedrock-runtime client.

Start a server in a test with `with FakeAnthropic(api_key="sk-ant-test") as fake:` and point the
provider's `base_url` at `fake.url`; or from a shell, `PYTHONPATH=tests python -m fakes anthropic
--port 8089` (prints the URL, runs until Ctrl-C).
"""
