/**
 * The `servellm` command's entry point: parse the command line and run the chosen command.
 *
 * Owns: process-level concerns only (argv, exit codes, uncaught start-up errors).
 */
import { buildBenchCommand } from './bench-command.ts';
import { buildProgram } from './serve-options.ts';
import { serve } from './serve.ts';

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram(async (options) => {
    await serve(options);
  });
  program.addCommand(buildBenchCommand());
  await program.parseAsync([...argv]);
}

main(process.argv).catch((error: unknown) => {
  console.error(`servellm: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
