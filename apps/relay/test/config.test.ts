import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, ENV, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('uses safe defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).toEqual(defaultConfig());
    expect(config.host).toBe('127.0.0.1');
    expect(config.retentionMs).toBe(30 * 86_400_000);
    expect(config.corsOrigins).toEqual([]);
    expect(config.tls).toBeUndefined();
  });

  it('reads every variable', () => {
    const config = loadConfig({
      [ENV.host]: '0.0.0.0',
      [ENV.port]: '9443',
      [ENV.dbPath]: '/var/lib/parley/relay.db',
      [ENV.corsOrigins]: 'https://a.example, https://b.example:8443',
      [ENV.retentionDays]: '7',
      [ENV.logLevel]: 'warn',
      [ENV.tlsCert]: '/etc/tls/cert.pem',
      [ENV.tlsKey]: '/etc/tls/key.pem',
      [ENV.trustProxy]: 'true',
      [ENV.bodyLimitBytes]: '1048576',
      [ENV.maxDevices]: '3',
      [ENV.queueCap]: '500',
      [ENV.queueCapBytes]: '10485760',
      [ENV.queueSenderShare]: '10',
      [ENV.maxInflight]: '10',
      [ENV.keepaliveSeconds]: '15',
      [ENV.headersTimeoutSeconds]: '5',
      [ENV.requestTimeoutSeconds]: '20',
      [ENV.keepAliveTimeoutSeconds]: '3',
      [ENV.maxConnectionsPerIp]: '64',
      [ENV.socketFrameLimit]: '100/1s',
      [ENV.rateLimitGlobal]: '100/m',
      [ENV.rateLimitRegistration]: '5/1h',
      [ENV.rateLimitLinking]: '3/10m',
      [ENV.rateLimitBundlePair]: '10/1h',
      [ENV.rateLimitBundleRequester]: '50/1h',
      [ENV.rateLimitBundleTarget]: '500/1h',
      [ENV.rateLimitUsernameLookup]: '30/1d',
      [ENV.rateLimitUsernameChange]: '4/1d',
      [ENV.rateLimitSendPair]: '60/m',
      [ENV.rateLimitSendSender]: '500/10m',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9443,
      dbPath: '/var/lib/parley/relay.db',
      corsOrigins: ['https://a.example', 'https://b.example:8443'],
      retentionMs: 7 * 86_400_000,
      logLevel: 'warn',
      tls: { certPath: '/etc/tls/cert.pem', keyPath: '/etc/tls/key.pem' },
      trustProxy: true,
      bodyLimitBytes: 1_048_576,
      maxDevicesPerAccount: 3,
      queueCapPerDevice: 500,
      queueCapBytesPerDevice: 10_485_760,
      queueSenderSharePercent: 10,
      maxInflightPerSocket: 10,
      keepaliveIntervalMs: 15_000,
      connections: {
        headersTimeoutMs: 5000,
        requestTimeoutMs: 20_000,
        keepAliveTimeoutMs: 3000,
        maxPerIp: 64,
        socketFrames: { max: 100, windowMs: 1000 },
      },
      rateLimits: {
        global: { max: 100, windowMs: 60_000 },
        registration: { max: 5, windowMs: 3_600_000 },
        linking: { max: 3, windowMs: 600_000 },
        bundlePerPair: { max: 10, windowMs: 3_600_000 },
        bundlePerRequester: { max: 50, windowMs: 3_600_000 },
        bundlePerTarget: { max: 500, windowMs: 3_600_000 },
        usernameLookup: { max: 30, windowMs: 86_400_000 },
        usernameChange: { max: 4, windowMs: 86_400_000 },
        sendPerPair: { max: 60, windowMs: 60_000 },
        sendPerSender: { max: 500, windowMs: 600_000 },
      },
    });
  });

  it('reports every problem at once, naming the variable', () => {
    let error: unknown;
    try {
      loadConfig({
        [ENV.port]: '70000',
        [ENV.retentionDays]: 'thirty',
        [ENV.logLevel]: 'loud',
        [ENV.corsOrigins]: 'https://ok.example,*,https://x.example/path',
        [ENV.tlsCert]: '/only/cert.pem',
        [ENV.trustProxy]: 'yes',
        [ENV.rateLimitRegistration]: 'lots',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(8);
    const text = problems.join('\n');
    for (const name of [
      ENV.port,
      ENV.retentionDays,
      ENV.logLevel,
      ENV.corsOrigins,
      ENV.tlsCert,
      ENV.trustProxy,
      ENV.rateLimitRegistration,
    ]) {
      expect(text).toContain(name);
    }
    expect((error as Error).message).toMatch(/^invalid relay configuration:/);
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() =>
      loadConfig({ [ENV.headersTimeoutSeconds]: '30', [ENV.requestTimeoutSeconds]: '20' }),
    ).toThrow(ENV.headersTimeoutSeconds);
  });

  it('refuses a per-target bundle ceiling that one requester could reach alone', () => {
    // 10 per 10 minutes for one pair: up to 70 within one hour's window.
    const env = { [ENV.rateLimitBundlePair]: '10/10m', [ENV.rateLimitBundleTarget]: '70/1h' };
    expect(() => loadConfig(env)).toThrow(ENV.rateLimitBundleTarget);
    expect(loadConfig({ ...env, [ENV.rateLimitBundleTarget]: '71/1h' }).rateLimits).toMatchObject({
      bundlePerTarget: { max: 71 },
    });
  });

  it('selects PostgreSQL and Redis by URL, and rejects other URLs without echoing them', () => {
    const config = loadConfig({
      [ENV.databaseUrl]: 'postgres://relay:secret@127.0.0.1:5432/parley',
      [ENV.redisUrl]: 'redis://127.0.0.1:6379/0',
    });
    expect(config.databaseUrl).toBe('postgres://relay:secret@127.0.0.1:5432/parley');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379/0');
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    let error: unknown;
    try {
      loadConfig({ [ENV.databaseUrl]: 'mysql://u:hunter2@h/db', [ENV.redisUrl]: 'nope' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toContain('DATABASE_URL');
    expect(problems.join('\n')).toContain('REDIS_URL');
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('reads the attachment settings, and S3 only with its region and credentials', () => {
    const config = loadConfig({
      [ENV.attachmentsDir]: '/var/lib/parley/blobs',
      [ENV.attachmentMaxBytes]: '1048576',
      [ENV.attachmentQuotaBytes]: '10485760',
      [ENV.attachmentIncompleteHours]: '2',
      [ENV.rateLimitAttachmentUpload]: '10/1h',
      [ENV.s3Endpoint]: 'http://127.0.0.1:9000',
      [ENV.s3Bucket]: 'blobs',
      [ENV.s3Region]: 'eu-central-1',
      [ENV.s3AccessKeyId]: 'key',
      [ENV.s3SecretAccessKey]: 'hunter2',
    });
    expect(config.attachments).toEqual({
      dir: '/var/lib/parley/blobs',
      maxBytes: 1_048_576,
      quotaBytesPerAccount: 10_485_760,
      incompleteTtlMs: 7_200_000,
      uploadRate: { max: 10, windowMs: 3_600_000 },
      s3: {
        endpoint: 'http://127.0.0.1:9000',
        bucket: 'blobs',
        region: 'eu-central-1',
        accessKeyId: 'key',
        secretAccessKey: 'hunter2',
        forcePathStyle: true,
      },
    });
    expect(loadConfig({}).attachments.maxBytes).toBe(100 * 1024 * 1024);

    let error: unknown;
    try {
      loadConfig({
        [ENV.s3Bucket]: 'blobs',
        [ENV.s3SecretAccessKey]: 'hunter2',
        [ENV.attachmentMaxBytes]: '2000000',
        [ENV.attachmentQuotaBytes]: '1000000',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).problems.join('\n');
    expect(text).toContain(ENV.s3Region);
    expect(text).toContain(ENV.attachmentQuotaBytes);
    expect(text).not.toContain('hunter2');
  });
});
