/**
 * The test-file setup every relay-backed suite shares: one relay process for the file, started
 * in `beforeAll` (waiting for readiness, with generous limits for a busy machine), and in
 * `afterAll` every tracked client stopped before the relay is disposed.
 *
 *   const { relay, clients, track } = useRelay();
 *
 * `relay` is usable inside tests and hooks (it refers to the file's relay once started).
 * @module
 */
import { afterAll, beforeAll } from 'vitest';
import { RELAY_HOOK_LIMIT_MS, startRelay, type RelayProcess } from './relay.ts';

/** Anything with a `stop()`: clients of @parley/client, CLI processes, sockets. */
interface Stoppable {
  stop(): Promise<void> | void;
}

export interface RelaySetup<C extends Stoppable> {
  /** The file's relay (throws if used before `beforeAll` ran). */
  relay: RelayProcess;
  /** Stopped, in order, before the relay is disposed. */
  clients: C[];
  /** Adds `c` to `clients` and returns it. */
  track<T extends C>(c: T): T;
}

export function useRelay<C extends Stoppable = Stoppable>(
  env: Record<string, string> = {},
): RelaySetup<C> {
  let current: RelayProcess | undefined;
  const started = (): RelayProcess => {
    if (!current) throw new Error('useRelay(): the relay is used before beforeAll started it');
    return current;
  };
  // A stable object: tests and helpers may hold it; every member reads the started relay.
  const relay: RelayProcess = {
    get url() {
      return started().url;
    },
    get ws() {
      return started().ws;
    },
    get port() {
      return started().port;
    },
    get dbPath() {
      return started().dbPath;
    },
    get process() {
      return started().process;
    },
    get exited() {
      return started().exited;
    },
    output: () => started().output(),
    stop: (signal) => started().stop(signal),
    restart: () => started().restart(),
    dispose: () => started().dispose(),
  };
  const clients: C[] = [];

  beforeAll(async () => {
    current = await startRelay(env);
  }, RELAY_HOOK_LIMIT_MS);

  afterAll(async () => {
    for (const c of clients) await c.stop();
    await current?.dispose();
  }, RELAY_HOOK_LIMIT_MS);

  return {
    relay,
    clients,
    track<T extends C>(c: T): T {
      clients.push(c);
      return c;
    },
  };
}
