/**
 * The relay's 429 says how long to wait (`Retry-After`), and the client core hands it on
 * (`RelayHttpError.retryAfterSeconds`), so a UI can say "try again in 40 minutes" (issue 12).
 */
import { describe, expect, it } from 'vitest';
import { RelayHttpError, type ParleyClient } from '@parley/client';
import { registeredClient } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>({
  PARLEY_RELAY_RATE_LIMIT_USERNAME_LOOKUP: '2/1h',
});

describe('rate limits', () => {
  it('a 429 carries how long to wait', async () => {
    const alice = track(await registeredClient(relay.url, 'rl_alice'));
    const lookups = ['rl_x1', 'rl_x2', 'rl_x3'].map((name) =>
      alice.http.lookupUsername(name).then(
        () => undefined,
        (err: unknown) => err,
      ),
    );
    const errors = await Promise.all(lookups);
    const limited = errors.find((e) => e instanceof RelayHttpError && e.status === 429);
    expect(limited).toBeInstanceOf(RelayHttpError);
    const wait = (limited as RelayHttpError).retryAfterSeconds;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(3600);
    expect((limited as RelayHttpError).code).toBe('rate_limited');
  });
});
