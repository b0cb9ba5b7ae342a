#!/usr/bin/env node
// The workspace's `parley`: runs the TypeScript sources directly through tsx (the published
// package runs the built bundle, dist/parley.js: publishConfig.bin in package.json). Workspace
// packages export their sources under the "@parley/source" condition (dist/ otherwise;
// docs/packaging.md), so a resolve hook adds it, as `node --conditions=@parley/source` would.
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
await import('../src/bin.ts');
