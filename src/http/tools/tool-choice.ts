/**
 * What a chat request's `tools` and `tool_choice` make of its output, as vLLM decides it.
 *
 * Owns: the server's tool settings (`--enable-auto-tool-choice`, `--tool-call-parser`,
 * `--exclude-tools-when-tool-choice-none`), the resolved mode of a request (none, auto with the
 * server's parser, a named function, or required), and the JSON schema that named and required
 * choices are decoded under (vLLM's: the named tool's parameters; for required, an array of at
 * least one `{"name", "parameters"}` object, one branch per tool, with the tools' `$defs` merged).
 * The request's tool rules themselves (with vLLM's 400s) are checked in params/chat-checks.ts.
 */
import { BadRequestError } from '../errors.ts';
import type { ChatRequest, ChatTool } from '../schemas/chat-request.ts';
import type { ToolCallParser } from './tool-call-parser.ts';

/** The server's tool-calling flags. */
export interface ToolServerSettings {
  /** `--enable-auto-tool-choice`. */
  readonly autoToolChoice: boolean;
  /** `--tool-call-parser`, or null. */
  readonly parser: ToolCallParser | null;
  /** `--exclude-tools-when-tool-choice-none`: a "none" request renders no tools. */
  readonly excludeToolsWhenNone: boolean;
}

export const NO_TOOL_SETTINGS: ToolServerSettings = {
  autoToolChoice: false,
  parser: null,
  excludeToolsWhenNone: false,
};

/** How a request's output becomes its message. */
export type ToolMode =
  /** Plain content; tools (if any) only rendered into the prompt. */
  | { readonly kind: 'none' }
  /** Free generation, the server's parser extracts calls. */
  | { readonly kind: 'auto'; readonly parser: ToolCallParser }
  /** The whole output is the arguments of one call to `name`. */
  | { readonly kind: 'named'; readonly name: string }
  /** The output is a JSON array of `{"name", "parameters"}` calls. */
  | { readonly kind: 'required' };

/** The request's mode; its tool rules were checked already (chat-checks.ts). */
export function resolveToolMode(request: ChatRequest, settings: ToolServerSettings): ToolMode {
  const tools = request.tools ?? null;
  const choice = request.tool_choice ?? (tools !== null ? 'auto' : 'none');
  if (tools === null || choice === 'none') return { kind: 'none' };
  if (choice === 'auto') {
    if (settings.parser === null) throw new Error('auto tool choice without a parser');
    return { kind: 'auto', parser: settings.parser };
  }
  if (choice === 'required') return { kind: 'required' };
  const named = (choice as { function?: { name?: unknown } }).function?.name;
  if (typeof named !== 'string') throw new Error('named tool choice without a name');
  return { kind: 'named', name: named };
}

/** The tools a template renders: none for "none" with --exclude-tools-when-tool-choice-none. */
export function templateTools(
  request: ChatRequest,
  settings: ToolServerSettings,
): ChatTool[] | null {
  const tools = request.tools ?? null;
  if (tools === null) return null;
  if (settings.excludeToolsWhenNone && (request.tool_choice ?? 'auto') === 'none') return null;
  return tools;
}

const EMPTY_PARAMETERS = { type: 'object', properties: {} };

function parametersOf(tool: ChatTool): Record<string, unknown> {
  return tool.function.parameters ?? EMPTY_PARAMETERS;
}

/** `$defs` of every tool, merged; the same name with different schemas is vLLM's 400. */
function mergedDefs(tools: readonly ChatTool[]): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const tool of tools) {
    const own = parametersOf(tool).$defs;
    if (own === null || typeof own !== 'object') continue;
    for (const [name, schema] of Object.entries(own as Record<string, unknown>)) {
      if (name in defs && JSON.stringify(defs[name]) !== JSON.stringify(schema)) {
        throw new BadRequestError(
          `Tool definition '${name}' has multiple schemas, which is not supported.`,
          'tools',
        );
      }
      defs[name] = schema;
    }
  }
  return defs;
}

/** Parameters without their own `$defs` (they move to the top level). */
function withoutDefs(parameters: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...parameters };
  delete rest.$defs;
  return rest;
}

/** The JSON schema a named or required choice decodes under; null for none and auto. */
export function toolChoiceSchema(
  request: ChatRequest,
  mode: ToolMode,
): Record<string, unknown> | null {
  const tools = request.tools ?? [];
  if (mode.kind === 'named') {
    const tool = tools.find((t) => t.function.name === mode.name);
    if (tool === undefined) {
      throw new BadRequestError(
        `Tool '${mode.name}' has not been passed in \`tools\`.`,
        'tool_choice',
      );
    }
    return parametersOf(tool);
  }
  if (mode.kind !== 'required') return null;
  const defs = mergedDefs(tools);
  const schema: Record<string, unknown> = {
    type: 'array',
    minItems: 1,
    items: {
      anyOf: tools.map((tool) => ({
        type: 'object',
        properties: {
          name: { type: 'string', enum: [tool.function.name] },
          parameters: withoutDefs(parametersOf(tool)),
        },
        required: ['name', 'parameters'],
      })),
    },
  };
  if (Object.keys(defs).length > 0) schema.$defs = defs;
  return schema;
}
