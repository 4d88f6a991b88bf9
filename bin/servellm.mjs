#!/usr/bin/env node
// The `servellm` command: runs the TypeScript sources through tsx's loader (no build step), so
// `npx servellm serve MODEL` works from a checkout after `npm ci`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
