/**
 * Resolves which chat template the server uses, in vLLM's order: --chat-template (a readable
 * file's contents, else the argument itself as an inline template), then the model's
 * `tokenizer.chat_template`, else none (chat requests then get vLLM's 400).
 *
 * Owns: that resolution and the label start-up prints for it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';

export interface ChatTemplateChoice {
  readonly template: string | null;
  /** Where it came from, for the start-up banner. */
  readonly source: string;
}

export function resolveChatTemplate(
  flag: string | null,
  modelTemplate: string | null,
): ChatTemplateChoice {
  if (flag !== null) {
    if (existsSync(flag) && statSync(flag).isFile()) {
      return { template: readFileSync(flag, 'utf8'), source: `file ${flag}` };
    }
    if (/[{}]/.test(flag)) return { template: flag, source: 'inline --chat-template' };
    throw new Error(
      `--chat-template ${JSON.stringify(flag)} is neither a readable file nor a Jinja template`,
    );
  }
  if (modelTemplate !== null)
    return { template: modelTemplate, source: "the model's tokenizer.chat_template" };
  return { template: null, source: 'none (chat requests will be refused)' };
}
