/**
 * The tool-call parsers servellm knows, by their `--tool-call-parser` names.
 *
 * Owns: the name → parser registry (vLLM's names; `llama4_json` is vLLM's second name for the
 * `llama3_json` format) and the message for an unknown name.
 */
import { hermesToolParser } from './parsers/hermes.ts';
import { llama3JsonToolParser } from './parsers/llama3-json.ts';
import { mistralToolParser } from './parsers/mistral.ts';
import { pythonicToolParser } from './parsers/pythonic.ts';
import type { ToolCallParser, ToolCallParserOptions } from './tool-call-parser.ts';

type ParserFactory = (options: ToolCallParserOptions) => ToolCallParser;

const PARSERS: Readonly<Record<string, ParserFactory>> = {
  hermes: hermesToolParser,
  llama3_json: (options) => llama3JsonToolParser(options, 'llama3_json'),
  llama4_json: (options) => llama3JsonToolParser(options, 'llama4_json'),
  mistral: mistralToolParser,
  pythonic: pythonicToolParser,
};

/** The names `--tool-call-parser` accepts. */
export const TOOL_CALL_PARSER_NAMES: readonly string[] = Object.keys(PARSERS);

/** The parser called `name`, or undefined when there is none. */
export function toolCallParser(
  name: string,
  options: ToolCallParserOptions = {},
): ToolCallParser | undefined {
  const factory = Object.hasOwn(PARSERS, name) ? PARSERS[name] : undefined;
  return factory?.(options);
}

/** vLLM's startup error for an unknown `--tool-call-parser` name. */
export function unknownToolCallParserMessage(name: string): string {
  return `invalid tool call parser: ${name} (chose from { ${TOOL_CALL_PARSER_NAMES.join(',')} })`;
}
