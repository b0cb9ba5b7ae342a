#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx. Workspace packages export their sources under
// the "@parley/source" condition (dist/ otherwise; docs/packaging.md), so a resolve hook adds it,
// as `node --conditions=@parley/source` would.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
// Registered last, so it runs first and hands the condition on to tsx's resolver.
register(
  'data:text/javascript,' +
    encodeURIComponent(
      'export function resolve(specifier, context, next) {' +
        " return next(specifier, { ...context, conditions: [...context.conditions, '@parley/source'] }); }",
    ),
);
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
