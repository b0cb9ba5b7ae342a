/**
 * The `parley` executable: the built package runs this file bundled (dist/parley.js); inside the
 * workspace `bin/parley.js` runs it from the sources.
 * @module
 */
import { main } from './main.ts';

process.exitCode = await main(process.argv);
