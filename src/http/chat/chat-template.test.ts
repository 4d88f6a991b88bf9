import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from '../errors.ts';
import { CHATML_TEMPLATE } from '../testing/test-app.ts';
import { toTemplateMessages } from './chat-messages.ts';
import { ChatTemplate, type ChatTemplateInput } from './chat-template.ts';

const specials = { bos_token: '<s>', eos_token: '</s>' };

function input(overrides: Partial<ChatTemplateInput>): ChatTemplateInput {
  return {
    messages: [],
    addGenerationPrompt: true,
    continueFinalMessage: false,
    tools: null,
    documents: null,
    kwargs: {},
    ...overrides,
  };
}

describe('ChatTemplate', () => {
  it('renders ChatML with the generation prompt', () => {
    const template = new ChatTemplate(CHATML_TEMPLATE, specials);
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    assert.equal(
      template.render(input({ messages })),
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
    assert.equal(
      template.render(input({ messages, addGenerationPrompt: false })),
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n',
    );
  });

  it('passes bos_token/eos_token, overridable by request kwargs', () => {
    const template = new ChatTemplate('{{ bos_token }}|{{ eos_token }}|{{ flavour }}', specials);
    assert.equal(template.render(input({ kwargs: { flavour: 'x' } })), '<s>|</s>|x');
    assert.equal(template.render(input({ kwargs: { flavour: 'x', bos_token: 'B' } })), 'B|</s>|x');
  });

  it('passes tools as null when there are none', () => {
    const source = '{% if tools is not none %}T{{ tools | length }}{% else %}none{% endif %}';
    const template = new ChatTemplate(source, specials);
    assert.equal(template.render(input({})), 'none');
    assert.equal(template.render(input({ tools: [{ type: 'function' }] })), 'T1');
  });

  it("answers template errors (raise_exception) with a 400 carrying the template's message", () => {
    const template = new ChatTemplate("{{ raise_exception('Roles must alternate') }}", specials);
    assert.throws(
      () => template.render(input({})),
      (error: unknown) =>
        error instanceof BadRequestError && error.message.includes('Roles must alternate'),
    );
  });

  it('continue_final_message cuts everything after the last message', () => {
    const template = new ChatTemplate(CHATML_TEMPLATE, specials);
    const messages = [
      { role: 'user', content: 'Count' },
      { role: 'assistant', content: 'One, two,' },
    ];
    assert.equal(
      template.render(input({ messages, addGenerationPrompt: false, continueFinalMessage: true })),
      '<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\nOne, two,',
    );
  });

  it('detects the content format like vLLM (loops over content -> openai)', () => {
    assert.equal(new ChatTemplate(CHATML_TEMPLATE, specials).contentFormat, 'string');
    const openai =
      "{% for m in messages %}{% for part in m['content'] %}{{ part.text }}{% endfor %}{% endfor %}";
    assert.equal(new ChatTemplate(openai, specials).contentFormat, 'openai');
    assert.equal(
      new ChatTemplate('{% for p in message.content %}{% endfor %}', specials).contentFormat,
      'openai',
    );
  });

  it('throws at construction for a template that does not parse', () => {
    assert.throws(() => new ChatTemplate('{% for %}', specials));
  });
});

describe('toTemplateMessages', () => {
  it('joins text parts with newlines for string templates and keeps parts for openai ones', () => {
    const messages = [
      {
        role: 'user',
        content: [{ type: 'text', text: 'a' }, 'b', { type: 'input_text', text: 'c' }],
      },
    ];
    assert.deepEqual(toTemplateMessages(messages, 'string'), [
      { role: 'user', content: 'a\nb\nc' },
    ]);
    assert.deepEqual(toTemplateMessages(messages, 'openai'), [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
          { type: 'text', text: 'c' },
        ],
      },
    ]);
  });

  it('treats null content as empty and flattens tool messages', () => {
    assert.deepEqual(toTemplateMessages([{ role: 'user', content: null }], 'string'), [
      { role: 'user', content: '' },
    ]);
    assert.deepEqual(
      toTemplateMessages(
        [{ role: 'tool', content: [{ type: 'text', text: 'r' }], tool_call_id: 'c1' }],
        'openai',
      ),
      [{ role: 'tool', content: 'r', tool_call_id: 'c1' }],
    );
  });

  it('decodes assistant tool-call arguments and keeps optional keys only when set', () => {
    const [message] = toTemplateMessages(
      [
        {
          role: 'assistant',
          content: null,
          name: 'bot',
          tool_calls: [
            { id: 't1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
          ],
          reasoning_content: 'hmm',
        },
      ],
      'string',
    );
    assert.deepEqual(message, {
      role: 'assistant',
      content: '',
      name: 'bot',
      tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: { x: 1 } } }],
      reasoning: 'hmm',
      reasoning_content: 'hmm',
    });
    assert.deepEqual(toTemplateMessages([{ role: 'user', content: 'x' }], 'string'), [
      { role: 'user', content: 'x' },
    ]);
  });

  it('refuses media and unknown part types', () => {
    assert.throws(
      () => toTemplateMessages([{ role: 'user', content: [{ type: 'image_url' }] }], 'string'),
      /not supported by this server/,
    );
    assert.throws(
      () => toTemplateMessages([{ role: 'user', content: [{ type: 'hologram' }] }], 'string'),
      /^BadRequestError: Unsupported chat content part type: 'hologram'/,
    );
  });
});
