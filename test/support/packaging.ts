/**
 * Helpers for the packaging test: running tools outside the workspace, pulling the runnable
 * examples out of a README, and serving a bundle to Chromium.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * The environment of a user's shell: none of the npm_* settings pnpm exports to scripts (they
 * would point npm at the workspace), and no NODE_OPTIONS (no source condition, no loader).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'NODE_OPTIONS' || key.startsWith('PNPM_')) continue;
    env[key] = value;
  }
  return env;
}

/** Runs a command; a non-zero exit throws with the command's whole output in the message. */
export function run(
  cmd: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: options.cwd, env: options.env ?? cleanEnv(), maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `${cmd} ${args.join(' ')} failed (${String(error.code)}):\n${stdout}\n${stderr}`,
            ),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

export interface ReadmeExample {
  /** The `## ` heading the example sits under ('' before the first heading). */
  section: string;
  /** The section's ```ts blocks, in order, joined: one program. */
  code: string;
}

/** Every README section with TypeScript code blocks, as one program per section. */
export function readmeExamples(markdown: string): ReadmeExample[] {
  const examples: ReadmeExample[] = [];
  let section = '';
  let blocks: string[] = [];
  let inBlock: string[] | undefined;
  const flush = () => {
    if (blocks.length > 0) examples.push({ section, code: blocks.join('\n') });
    blocks = [];
  };
  for (const line of markdown.split('\n')) {
    if (inBlock) {
      if (line.trim() === '```') {
        blocks.push(inBlock.join('\n'));
        inBlock = undefined;
      } else {
        inBlock.push(line);
      }
    } else if (line.startsWith('## ')) {
      flush();
      section = line.slice(3).trim();
    } else if (/^```(ts|typescript)\s*$/.test(line.trim())) {
      inBlock = [];
    }
  }
  flush();
  return examples;
}

/** A file name for an example: package and section, lower-case, dashes. */
export function exampleName(pkg: string, section: string): string {
  const slug = `${pkg}-${section || 'intro'}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `readme-${slug}`;
}

/** Serves one script behind a page on 127.0.0.1 (a secure context, so WebCrypto is there). */
export async function serveScript(js: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/example.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><script type="module" src="/example.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, server };
}
