#!/usr/bin/env node
// Runs the TypeScript sources directly (workspace packages expose .ts) through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
