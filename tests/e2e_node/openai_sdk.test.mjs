// Black-box tests of `hearth serve` with the official OpenAI Node SDK.
// run.sh starts the server and sets HEARTH_URL, HEARTH_KEY and HEARTH_MODEL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.HEARTH_URL + '/v1';
const client = new OpenAI({ baseURL, apiKey: process.env.HEARTH_KEY, maxRetries: 0, timeout: 60000 });
const model = process.env.HEARTH_MODEL;
const greedy = { temperature: 0, seed: 7 };

async function expectApiError(promise, status, code, klass) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof OpenAI.APIError, `expected an APIError, got ${err}`);
    if (klass) assert.ok(err instanceof klass, `expected ${klass.name}, got ${err.constructor.name}`);
    assert.equal(err.status, status);
    if (code) assert.equal(err.code, code);
    return true;
  });
}

test('models.list names the served model', async () => {
  const list = await client.models.list();
  const ids = [];
  for await (const m of list) ids.push(m.id);
  assert.ok(ids.includes(model), `models: ${ids}`);
});

test('chat completion: max_tokens -> finish_reason length, usage adds up', async () => {
  const r = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Tell me about your dream.' }], max_tokens: 8, ...greedy,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 8);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.equal(r.model, model);
});

test('chat streaming gives the same text as non-streaming, then usage', async () => {
  const req = { model, messages: [{ role: 'user', content: 'I dreamed' }], max_tokens: 24, ...greedy };
  const whole = await client.chat.completions.create(req);
  const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  let sawRole = false;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) sawRole = true;
      if (c.delta.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.ok(sawRole);
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.deepEqual(usage, whole.usage);
});

test('completions, streaming and not', async () => {
  const req = { model, prompt: 'I dreamed', max_tokens: 16, ...greedy };
  const whole = await client.completions.create(req);
  assert.equal(whole.object, 'text_completion');
  assert.equal(whole.choices[0].finish_reason, 'length');
  assert.equal(whole.usage.completion_tokens, 16);
  assert.ok(whole.choices[0].text.length > 0);
  let text = '';
  for await (const chunk of await client.completions.create({ ...req, stream: true })) {
    for (const c of chunk.choices) text += c.text;
  }
  assert.equal(text, whole.choices[0].text);
});

test('stop sequences end the text before the stop string', async () => {
  const base = await client.completions.create({ model, prompt: 'I dreamed', max_tokens: 40, ...greedy });
  const full = base.choices[0].text;
  // A stop string taken from the middle of the greedy output.
  const at = Math.floor(full.length / 2);
  const stop = full.slice(at, at + 3);
  assert.ok(stop.length === 3, `output too short: ${JSON.stringify(full)}`);
  const r = await client.completions.create({ model, prompt: 'I dreamed', max_tokens: 40, stop: [stop], ...greedy });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].text, full.slice(0, full.indexOf(stop)));
  assert.ok(!r.choices[0].text.includes(stop));
});

test('errors surface as the SDK typed errors', async () => {
  const messages = [{ role: 'user', content: 'hi' }];
  await expectApiError(client.chat.completions.create({ model, messages, temperature: 3 }), 400, 'invalid_parameter', OpenAI.BadRequestError);
  await expectApiError(client.chat.completions.create({ model, messages: [] }), 400, 'empty_messages', OpenAI.BadRequestError);
  await expectApiError(client.chat.completions.create({ model, messages: [{ role: 'wizard', content: 'x' }] }), 400, 'invalid_role', OpenAI.BadRequestError);
  await expectApiError(client.chat.completions.create({ model, messages, max_tokens: 100000000 }), 400, 'max_tokens_too_large', OpenAI.BadRequestError);
  await expectApiError(client.chat.completions.create({ model: 'no-such-model', messages }), 404, 'model_not_found', OpenAI.NotFoundError);
  await expectApiError(client.completions.create({ model, prompt: 'x'.repeat(3 << 20) }), 413, 'payload_too_large');
  const wrongKey = new OpenAI({ baseURL, apiKey: 'hk_wrong', maxRetries: 0 });
  await expectApiError(wrongKey.chat.completions.create({ model, messages }), 401, 'unauthorized', OpenAI.AuthenticationError);
});
