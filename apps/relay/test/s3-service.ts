/**
 * An S3-compatible server for the attachment tests, in its own process on loopback: `moto_server`
 * (moto's standalone S3 server, a test server, not for production) with a fresh bucket per call.
 * Operators can point the same tests at any S3-compatible endpoint instead (MinIO, Ceph RGW,
 * Garage, AWS) with PARLEY_TEST_S3_ENDPOINT, PARLEY_TEST_S3_REGION, PARLEY_TEST_S3_ACCESS_KEY_ID
 * and PARLEY_TEST_S3_SECRET_ACCESS_KEY (each test creates and empties its own bucket there).
 * A missing `moto_server` fails loudly (never a silent skip).
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { S3 } from '@aws-sdk/client-s3';
import type { S3Config } from '../src/config.ts';
import { s3ClientConfig } from '../src/attachments/s3-blob-store.ts';
import { freePort } from './services.ts';

export interface S3Server {
  endpoint: string;
  /** A new, empty bucket and the relay configuration for it. */
  bucket(): Promise<S3Config>;
  /** Every key in the bucket. */
  keys(bucket: string): Promise<string[]>;
  /** The object's bytes. */
  object(bucket: string, key: string): Promise<Uint8Array>;
  stop(): Promise<void>;
}

const START_LIMIT_MS = 120_000;
let bucketCounter = 0;

function findMoto(): string {
  const found = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error(
      'moto_server was not found (the S3-compatible test server; `pip install "moto[server]"`), ' +
        'or set PARLEY_TEST_S3_ENDPOINT to an S3-compatible server',
    );
  }
  return path;
}

export async function startS3(): Promise<S3Server> {
  const external = process.env.PARLEY_TEST_S3_ENDPOINT;
  let child: ChildProcess | undefined;
  let endpoint: string;
  const output: string[] = [];
  if (external !== undefined && external !== '') {
    endpoint = external;
  } else {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    child = spawn(findMoto(), ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
    await waitUntilUp(endpoint, child, output);
  }
  const base = {
    endpoint,
    region: process.env.PARLEY_TEST_S3_REGION ?? 'us-east-1',
    accessKeyId: process.env.PARLEY_TEST_S3_ACCESS_KEY_ID ?? 'parley-test',
    secretAccessKey: process.env.PARLEY_TEST_S3_SECRET_ACCESS_KEY ?? 'parley-test-secret',
    forcePathStyle: true,
  };
  const client = new S3(s3ClientConfig({ ...base, bucket: '' }));
  const created: string[] = [];
  return {
    endpoint,
    async bucket() {
      const bucket = `parley-test-${process.pid}-${++bucketCounter}-${Date.now()}`;
      await client.createBucket({ Bucket: bucket });
      created.push(bucket);
      return { ...base, bucket };
    },
    async keys(bucket) {
      const listed = await client.listObjectsV2({ Bucket: bucket });
      return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
    },
    async object(bucket, key) {
      const got = await client.getObject({ Bucket: bucket, Key: key });
      return (await got.Body?.transformToByteArray()) ?? new Uint8Array();
    },
    async stop() {
      // On an operator's server, leave nothing behind.
      if (!child) {
        for (const bucket of created) {
          const listed = await client.listObjectsV2({ Bucket: bucket });
          for (const object of listed.Contents ?? [])
            await client.deleteObject({ Bucket: bucket, Key: object.Key ?? '' });
          await client.deleteBucket({ Bucket: bucket });
        }
      }
      client.destroy();
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** Polls the server until it answers HTTP (any status), or fails with its output. */
async function waitUntilUp(endpoint: string, child: ChildProcess, output: string[]) {
  const deadline = Date.now() + START_LIMIT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited:\n${output.join('')}`);
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(5000) });
      return;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`moto_server not up within ${START_LIMIT_MS} ms:\n${output.join('')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
