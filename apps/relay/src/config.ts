/**
 * Relay configuration: every knob in one place, read from environment variables and validated at
 * start-up. `loadConfig` reports every problem at once, each naming its variable.
 * @module
 */
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DEFAULT_MAX_ATTACHMENT_BYTES } from '@parley/protocol';
import { basename, dirname, extname, join, resolve } from 'node:path';

/** `max` requests per `windowMs` for one key (IP address, account, …). */
export interface RateLimit {
  max: number;
  windowMs: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface RelayConfig {
  host: string;
  port: number;
  /** SQLite database file (used when `databaseUrl` is unset). */
  dbPath: string;
  /** `postgres://…`: store in PostgreSQL instead of SQLite (scale-out; see the README). */
  databaseUrl?: string;
  /** `redis://…`: share delivery notifications, presence and rate limits between relay nodes. */
  redisUrl?: string;
  /** Origins allowed by CORS; empty disables CORS (native and CLI clients do not need it). */
  corsOrigins: string[];
  /** How long an undelivered envelope is kept. */
  retentionMs: number;
  logLevel: LogLevel;
  /** Serve HTTPS/WSS directly; usually TLS ends at a reverse proxy instead. */
  tls?: { certPath: string; keyPath: string };
  /**
   * A built web app (a directory holding `index.html`, e.g. `apps/web/dist`) to serve from `/`
   * on the relay's own origin; unset, the relay serves only its API.
   */
  webRoot?: string;
  /** Trust `X-Forwarded-For` (only behind a proxy you control): rate limits key on client IPs. */
  trustProxy: boolean;
  /** Largest HTTP request body. */
  bodyLimitBytes: number;
  maxDevicesPerAccount: number;
  /** Most envelopes queued for one device; sends beyond it get 507. */
  queueCapPerDevice: number;
  /** Most content bytes queued for one device; sends beyond it get 507. */
  queueCapBytesPerDevice: number;
  /**
   * Share (percent) of either queue cap one sending account may fill; a send beyond its share
   * gets 429, so one sender cannot fill a device's queue and others still get through. Sends
   * to the sender's own account (its other devices) are exempt.
   */
  queueSenderSharePercent: number;
  /** Most envelopes pushed to one socket and not yet acked (backpressure). */
  maxInflightPerSocket: number;
  /**
   * How long a node may answer from its cached copy of an account's device list (authentication,
   * send planning). Changes invalidate it on every node at once (Redis); this bounds staleness
   * only if an invalidation is lost. 0 turns the cache off.
   */
  deviceCacheTtlMs: number;
  /** Interval of WebSocket pings; a socket that missed the previous pong is dropped. */
  keepaliveIntervalMs: number;
  /** Connection hygiene (see `plugins/connections.ts`). */
  connections: {
    /** A request must have sent all its headers by then (408 and closed otherwise). */
    headersTimeoutMs: number;
    /** A request must have been received completely, body included, by then. */
    requestTimeoutMs: number;
    /** An idle keep-alive connection is closed after this long. */
    keepAliveTimeoutMs: number;
    /** How often the server looks for timed-out requests. */
    checkingIntervalMs: number;
    /** Concurrent connections per client IP (WebSockets per IP behind a trusted proxy). */
    maxPerIp: number;
    /** WebSocket frames one socket may send per window; beyond it the socket closes (1008). */
    socketFrames: RateLimit;
  };
  linkingCodeTtlMs: number;
  provisioningTtlMs: number;
  /** How often expired envelopes, send records, codes and retired keys are deleted. */
  expirySweepIntervalMs: number;
  /**
   * How long a username freed by a deletion or a rename stays unclaimable by anyone else (0:
   * free at once). The account that renamed away may take its old name back meanwhile.
   */
  usernameHoldMs: number;
  /**
   * Tests only: the relay kills itself (SIGKILL) right after storing the send with this send id
   * and before answering it, to prove that a retry after a crash stores nothing twice.
   */
  testCrashAfterStoringSendId?: string;
  rateLimits: {
    /** Every request, per client IP. */
    global: RateLimit;
    /** Account registration, per client IP. */
    registration: RateLimit;
    /** Linking (code issue, link, provisioning sockets and messages), per IP or account. */
    linking: RateLimit;
    /** Bundle fetches by one requesting account for one target account. */
    bundlePerPair: RateLimit;
    /** Bundle fetches by one requesting account (so nobody drains others' prekeys). */
    bundlePerRequester: RateLimit;
    /**
     * Bundle fetches for one target account, from anyone: a ceiling against many colluding
     * accounts, set well above what one requester may fetch (checked at start-up), so one
     * abuser can never lock others out of starting a conversation with the target.
     */
    bundlePerTarget: RateLimit;
    /** Username lookups by one account (limits discovery by enumeration). */
    usernameLookup: RateLimit;
    /** Username changes by one account (a 409 reveals a taken name: enumeration too). */
    usernameChange: RateLimit;
    /**
     * Sends by one account to one other account (checked first). A send counts once per
     * recipient account, however many of its devices it addresses; sends to the sender's own
     * account (sync messages) are exempt. Keyed on the sender, so a flood of one recipient
     * stops the abuser and never the recipient's other contacts.
     */
    sendPerPair: RateLimit;
    /**
     * Sends by one account, all recipients: one 1:1 send or one multi-recipient (group) send
     * counts once, however many accounts and devices it reaches.
     */
    sendPerSender: RateLimit;
    /**
     * Sealed sends (single or multi-recipient) from one client IP: a sealed sender has no
     * account, so its address is what stops a flood (checked first).
     */
    sealedPerIp: RateLimit;
    /**
     * Sealed sends to one recipient account from everyone (only sends with a valid access key
     * that the per-IP limit allowed count). A ceiling against many addresses; when it binds,
     * clients fall back to sending with their login, which the per-sender limits govern, so the
     * recipient still gets its contacts' messages.
     */
    sealedPerRecipient: RateLimit;
  };
  /** How long a sender certificate the relay issues is valid. */
  senderCertificateTtlMs: number;
  /** Attachment blobs (see `attachments/` and the README's "Attachments"). */
  attachments: AttachmentsConfig;
}

/** An S3-compatible object store shared by every relay node (instead of the local folder). */
export interface S3Config {
  /** e.g. `https://s3.eu-central-1.amazonaws.com` or a MinIO/Ceph/Garage URL; unset: AWS. */
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `bucket` in the path instead of the host name (most self-hosted servers need it). */
  forcePathStyle: boolean;
}

export interface AttachmentsConfig {
  /**
   * Folder of the filesystem blob store (unused with `s3`); unset: `defaultAttachmentsDir`,
   * beside the SQLite file.
   */
  dir?: string;
  s3?: S3Config;
  /** Largest attachment (ciphertext bytes); bigger uploads are refused at creation (413). */
  maxBytes: number;
  /**
   * Bytes one account may have stored (complete and unfinished uploads, until they expire or are
   * removed); beyond it a new upload gets 429 `attachment_quota_exceeded`. Per account, so an
   * abuser filling theirs never affects anyone else.
   */
  quotaBytesPerAccount: number;
  /** An upload not finished this long after its creation is deleted. */
  incompleteTtlMs: number;
  /** Upload creations by one account (each attachment is one). */
  uploadRate: RateLimit;
}

/**
 * The default attachment folder: `<db name>-attachments` beside the SQLite file, or a fresh temp
 * folder for an in-memory database (nothing to keep beside).
 */
export function defaultAttachmentsDir(dbPath: string): string {
  if (dbPath === ':memory:' || dbPath === '')
    return join(tmpdir(), `parley-attachments-${process.pid}`);
  const file = resolve(dbPath);
  return join(dirname(file), `${basename(file, extname(file))}-attachments`);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function defaultConfig(): RelayConfig {
  return {
    host: '127.0.0.1',
    port: 8080,
    dbPath: './parley-relay.db',
    corsOrigins: [],
    retentionMs: 30 * DAY,
    logLevel: 'info',
    trustProxy: false,
    bodyLimitBytes: 2 * 1024 * 1024,
    maxDevicesPerAccount: 6,
    queueCapPerDevice: 10_000,
    queueCapBytesPerDevice: 256 * 1024 * 1024,
    queueSenderSharePercent: 25,
    maxInflightPerSocket: 100,
    deviceCacheTtlMs: 10_000,
    keepaliveIntervalMs: 30_000,
    connections: {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 10_000,
      checkingIntervalMs: 1000,
      maxPerIp: 256,
      // Generous for a device catching up on a backlog with one ack per frame (old clients).
      socketFrames: { max: 5000, windowMs: 10_000 },
    },
    linkingCodeTtlMs: 10 * MINUTE,
    provisioningTtlMs: 10 * MINUTE,
    expirySweepIntervalMs: HOUR,
    // Long enough for every contact to have seen the account deleted or renamed (its
    // conversation says so) before anyone can claim the name; see the README.
    usernameHoldMs: 30 * DAY,
    rateLimits: {
      global: { max: 600, windowMs: MINUTE },
      registration: { max: 10, windowMs: HOUR },
      linking: { max: 20, windowMs: HOUR },
      bundlePerPair: { max: 30, windowMs: HOUR },
      bundlePerRequester: { max: 200, windowMs: HOUR },
      bundlePerTarget: { max: 1000, windowMs: HOUR },
      usernameLookup: { max: 100, windowMs: HOUR },
      usernameChange: { max: 10, windowMs: HOUR },
      // A fast typist sends about one message a second, and a reconnecting client flushes its
      // outbox in a burst; an abuser is held to a few a second per victim.
      sendPerPair: { max: 300, windowMs: MINUTE },
      // Each message is also a sync send to the sender's own devices, and a group's first
      // message distributes its sender key 1:1 to every member; the global per-IP limit
      // (600/m) binds first from one address, this one across many.
      sendPerSender: { max: 1200, windowMs: MINUTE },
      // Like a sender's own limits: an address holding several busy clients (NAT) fits.
      sealedPerIp: { max: 600, windowMs: MINUTE },
      // Well above what one address may send, so a flood needs many addresses.
      sealedPerRecipient: { max: 1200, windowMs: MINUTE },
    },
    senderCertificateTtlMs: DAY,
    attachments: {
      maxBytes: DEFAULT_MAX_ATTACHMENT_BYTES,
      quotaBytesPerAccount: 1024 ** 3,
      incompleteTtlMs: DAY,
      // A chat attachment is one upload; 100 an hour is far above a person sharing files.
      uploadRate: { max: 100, windowMs: HOUR },
    },
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid relay configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The environment variables `loadConfig` reads (documented in the README). */
export const ENV = {
  host: 'PARLEY_RELAY_HOST',
  port: 'PARLEY_RELAY_PORT',
  dbPath: 'PARLEY_RELAY_DB_PATH',
  databaseUrl: 'DATABASE_URL',
  redisUrl: 'REDIS_URL',
  corsOrigins: 'PARLEY_RELAY_CORS_ORIGINS',
  retentionDays: 'PARLEY_RELAY_RETENTION_DAYS',
  logLevel: 'PARLEY_RELAY_LOG_LEVEL',
  tlsCert: 'PARLEY_RELAY_TLS_CERT',
  tlsKey: 'PARLEY_RELAY_TLS_KEY',
  trustProxy: 'PARLEY_RELAY_TRUST_PROXY',
  webRoot: 'PARLEY_RELAY_WEB_ROOT',
  bodyLimitBytes: 'PARLEY_RELAY_BODY_LIMIT_BYTES',
  maxDevices: 'PARLEY_RELAY_MAX_DEVICES',
  queueCap: 'PARLEY_RELAY_QUEUE_CAP',
  queueCapBytes: 'PARLEY_RELAY_QUEUE_CAP_BYTES',
  queueSenderShare: 'PARLEY_RELAY_QUEUE_SENDER_SHARE_PERCENT',
  maxInflight: 'PARLEY_RELAY_MAX_INFLIGHT',
  keepaliveSeconds: 'PARLEY_RELAY_KEEPALIVE_SECONDS',
  deviceCacheSeconds: 'PARLEY_RELAY_DEVICE_CACHE_SECONDS',
  headersTimeoutSeconds: 'PARLEY_RELAY_HEADERS_TIMEOUT_SECONDS',
  requestTimeoutSeconds: 'PARLEY_RELAY_REQUEST_TIMEOUT_SECONDS',
  keepAliveTimeoutSeconds: 'PARLEY_RELAY_KEEP_ALIVE_TIMEOUT_SECONDS',
  maxConnectionsPerIp: 'PARLEY_RELAY_MAX_CONNECTIONS_PER_IP',
  socketFrameLimit: 'PARLEY_RELAY_SOCKET_FRAME_LIMIT',
  rateLimitGlobal: 'PARLEY_RELAY_RATE_LIMIT_GLOBAL',
  rateLimitRegistration: 'PARLEY_RELAY_RATE_LIMIT_REGISTRATION',
  rateLimitLinking: 'PARLEY_RELAY_RATE_LIMIT_LINKING',
  rateLimitBundlePair: 'PARLEY_RELAY_RATE_LIMIT_BUNDLE_PAIR',
  rateLimitBundleRequester: 'PARLEY_RELAY_RATE_LIMIT_BUNDLE_REQUESTER',
  rateLimitBundleTarget: 'PARLEY_RELAY_RATE_LIMIT_BUNDLE_TARGET',
  rateLimitUsernameLookup: 'PARLEY_RELAY_RATE_LIMIT_USERNAME_LOOKUP',
  rateLimitUsernameChange: 'PARLEY_RELAY_RATE_LIMIT_USERNAME_CHANGE',
  rateLimitSendPair: 'PARLEY_RELAY_RATE_LIMIT_SEND_PAIR',
  rateLimitSendSender: 'PARLEY_RELAY_RATE_LIMIT_SEND_SENDER',
  rateLimitSealedIp: 'PARLEY_RELAY_RATE_LIMIT_SEALED_IP',
  rateLimitSealedRecipient: 'PARLEY_RELAY_RATE_LIMIT_SEALED_RECIPIENT',
  senderCertificateHours: 'PARLEY_RELAY_SENDER_CERTIFICATE_HOURS',
  testCrashAfterStoringSendId: 'PARLEY_RELAY_TEST_CRASH_AFTER_STORING_SEND_ID',
  usernameHoldSeconds: 'PARLEY_RELAY_USERNAME_HOLD_SECONDS',
  attachmentsDir: 'PARLEY_RELAY_ATTACHMENTS_DIR',
  attachmentMaxBytes: 'PARLEY_RELAY_ATTACHMENT_MAX_BYTES',
  attachmentQuotaBytes: 'PARLEY_RELAY_ATTACHMENT_QUOTA_BYTES',
  attachmentIncompleteHours: 'PARLEY_RELAY_ATTACHMENT_INCOMPLETE_HOURS',
  rateLimitAttachmentUpload: 'PARLEY_RELAY_RATE_LIMIT_ATTACHMENT_UPLOAD',
  s3Endpoint: 'PARLEY_RELAY_S3_ENDPOINT',
  s3Bucket: 'PARLEY_RELAY_S3_BUCKET',
  s3Region: 'PARLEY_RELAY_S3_REGION',
  s3AccessKeyId: 'PARLEY_RELAY_S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'PARLEY_RELAY_S3_SECRET_ACCESS_KEY',
  s3ForcePathStyle: 'PARLEY_RELAY_S3_FORCE_PATH_STYLE',
} as const;

/** Why `path` cannot be served as the web app, or undefined if it can. */
function checkWebRoot(path: string): string | undefined {
  // The path comes from the operator's configuration, checked once at start-up.
  /* eslint-disable security/detect-non-literal-fs-filename */
  const root = statSync(path, { throwIfNoEntry: false });
  if (!root?.isDirectory()) return 'must be an existing directory (a built web app)';
  const index = statSync(join(path, 'index.html'), { throwIfNoEntry: false });
  /* eslint-enable security/detect-non-literal-fs-filename */
  if (!index?.isFile()) return 'must contain index.html (build the web app first)';
  return undefined;
}

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];
const UNIT_MS = { s: 1000, m: MINUTE, h: HOUR, d: DAY } as const;

/**
 * The most requests `limit` lets one key make within any span of `windowMs` (fixed windows: a
 * span can touch one window more than it covers).
 */
export function mostPerWindow(limit: RateLimit, windowMs: number): number {
  return (Math.ceil(windowMs / limit.windowMs) + 1) * limit.max;
}

/** Reads and validates the configuration; throws `ConfigError` listing every problem. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): RelayConfig {
  const config = defaultConfig();
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const integer = (name: string, min: number, max: number): number | undefined => {
    const raw = get(name);
    if (raw === undefined) return undefined;
    const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return undefined;
    }
    return value;
  };
  const rate = (name: string): RateLimit | undefined => {
    const raw = get(name);
    if (raw === undefined) return undefined;
    const match = /^([0-9]{1,9})\/([0-9]{0,6})([smhd])$/.exec(raw);
    const max = Number(match?.[1]);
    const count = match?.[2] === '' ? 1 : Number(match?.[2]);
    const unit = match?.[3] as keyof typeof UNIT_MS | undefined;
    if (!match || unit === undefined || max < 1 || count < 1) {
      problems.push(
        `${name} must look like "<max>/<window>", e.g. "10/1h" or "600/m", got "${raw}"`,
      );
      return undefined;
    }
    return { max, windowMs: count * UNIT_MS[unit] };
  };

  config.host = get(ENV.host) ?? config.host;
  config.port = integer(ENV.port, 0, 65535) ?? config.port;
  config.dbPath = get(ENV.dbPath) ?? config.dbPath;
  const url = (name: string, protocols: readonly string[]): string | undefined => {
    const raw = get(name);
    if (raw === undefined) return undefined;
    let parsed: URL | undefined;
    try {
      parsed = new URL(raw);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !protocols.includes(parsed.protocol) || parsed.hostname === '') {
      // Never echo the value: it may hold a password.
      problems.push(`${name} must be a ${protocols.map((p) => `${p}//…`).join(' or ')} URL`);
      return undefined;
    }
    return raw;
  };
  const databaseUrl = url(ENV.databaseUrl, ['postgres:', 'postgresql:']);
  if (databaseUrl !== undefined) config.databaseUrl = databaseUrl;
  const redisUrl = url(ENV.redisUrl, ['redis:', 'rediss:']);
  if (redisUrl !== undefined) config.redisUrl = redisUrl;

  const origins = get(ENV.corsOrigins);
  if (origins !== undefined) {
    config.corsOrigins = origins
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
    for (const origin of config.corsOrigins) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(origin);
      } catch {
        parsed = undefined;
      }
      if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
        problems.push(
          `${ENV.corsOrigins} entries must be origins like https://chat.example.com, got "${origin}"`,
        );
      }
    }
  }

  const hold = integer(ENV.usernameHoldSeconds, 0, 10 * 365 * 86_400);
  if (hold !== undefined) config.usernameHoldMs = hold * 1000;

  const days = integer(ENV.retentionDays, 1, 3650);
  if (days !== undefined) config.retentionMs = days * DAY;
  const certHours = integer(ENV.senderCertificateHours, 1, 24 * 30);
  if (certHours !== undefined) config.senderCertificateTtlMs = certHours * HOUR;

  const level = get(ENV.logLevel);
  if (level !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(level)) config.logLevel = level as LogLevel;
    else problems.push(`${ENV.logLevel} must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }

  const cert = get(ENV.tlsCert);
  const key = get(ENV.tlsKey);
  if ((cert === undefined) !== (key === undefined)) {
    problems.push(`${ENV.tlsCert} and ${ENV.tlsKey} must be set together`);
  } else if (cert !== undefined && key !== undefined) {
    config.tls = { certPath: cert, keyPath: key };
  }

  const trustProxy = get(ENV.trustProxy);
  if (trustProxy !== undefined) {
    if (trustProxy === 'true' || trustProxy === 'false') config.trustProxy = trustProxy === 'true';
    else problems.push(`${ENV.trustProxy} must be "true" or "false", got "${trustProxy}"`);
  }

  const webRoot = get(ENV.webRoot);
  if (webRoot !== undefined) {
    const problem = checkWebRoot(webRoot);
    if (problem === undefined) config.webRoot = resolve(webRoot);
    else problems.push(`${ENV.webRoot} ${problem}, got "${webRoot}"`);
  }

  config.bodyLimitBytes =
    integer(ENV.bodyLimitBytes, 64 * 1024, 64 * 1024 * 1024) ?? config.bodyLimitBytes;
  config.maxDevicesPerAccount = integer(ENV.maxDevices, 1, 100) ?? config.maxDevicesPerAccount;
  config.queueCapPerDevice = integer(ENV.queueCap, 1, 10_000_000) ?? config.queueCapPerDevice;
  config.queueCapBytesPerDevice =
    integer(ENV.queueCapBytes, 1024 * 1024, 1024 ** 4) ?? config.queueCapBytesPerDevice;
  config.queueSenderSharePercent =
    integer(ENV.queueSenderShare, 1, 100) ?? config.queueSenderSharePercent;
  config.maxInflightPerSocket = integer(ENV.maxInflight, 1, 10_000) ?? config.maxInflightPerSocket;
  const deviceCache = integer(ENV.deviceCacheSeconds, 0, 300);
  if (deviceCache !== undefined) config.deviceCacheTtlMs = deviceCache * 1000;
  const keepalive = integer(ENV.keepaliveSeconds, 5, 3600);
  if (keepalive !== undefined) config.keepaliveIntervalMs = keepalive * 1000;
  const connections = config.connections;
  const seconds = (name: string, min: number, max: number) => {
    const value = integer(name, min, max);
    return value === undefined ? undefined : value * 1000;
  };
  connections.headersTimeoutMs =
    seconds(ENV.headersTimeoutSeconds, 1, 600) ?? connections.headersTimeoutMs;
  connections.requestTimeoutMs =
    seconds(ENV.requestTimeoutSeconds, 1, 3600) ?? connections.requestTimeoutMs;
  connections.keepAliveTimeoutMs =
    seconds(ENV.keepAliveTimeoutSeconds, 1, 600) ?? connections.keepAliveTimeoutMs;
  if (connections.headersTimeoutMs > connections.requestTimeoutMs) {
    problems.push(
      `${ENV.headersTimeoutSeconds} must not exceed ${ENV.requestTimeoutSeconds} (the request ` +
        `timeout covers the headers too)`,
    );
  }
  connections.maxPerIp = integer(ENV.maxConnectionsPerIp, 1, 1_000_000) ?? connections.maxPerIp;
  connections.socketFrames = rate(ENV.socketFrameLimit) ?? connections.socketFrames;

  const limits = config.rateLimits;
  limits.global = rate(ENV.rateLimitGlobal) ?? limits.global;
  limits.registration = rate(ENV.rateLimitRegistration) ?? limits.registration;
  limits.linking = rate(ENV.rateLimitLinking) ?? limits.linking;
  limits.bundlePerPair = rate(ENV.rateLimitBundlePair) ?? limits.bundlePerPair;
  limits.bundlePerRequester = rate(ENV.rateLimitBundleRequester) ?? limits.bundlePerRequester;
  limits.bundlePerTarget = rate(ENV.rateLimitBundleTarget) ?? limits.bundlePerTarget;
  const pairShare = mostPerWindow(limits.bundlePerPair, limits.bundlePerTarget.windowMs);
  if (limits.bundlePerTarget.max <= pairShare) {
    problems.push(
      `${ENV.rateLimitBundleTarget} must allow more than one requester can fetch for one target ` +
        `in its window (${pairShare} under ${ENV.rateLimitBundlePair}), or one abuser locks ` +
        `everyone else out`,
    );
  }
  limits.usernameLookup = rate(ENV.rateLimitUsernameLookup) ?? limits.usernameLookup;
  limits.usernameChange = rate(ENV.rateLimitUsernameChange) ?? limits.usernameChange;
  limits.sendPerPair = rate(ENV.rateLimitSendPair) ?? limits.sendPerPair;
  limits.sendPerSender = rate(ENV.rateLimitSendSender) ?? limits.sendPerSender;
  limits.sealedPerIp = rate(ENV.rateLimitSealedIp) ?? limits.sealedPerIp;
  limits.sealedPerRecipient = rate(ENV.rateLimitSealedRecipient) ?? limits.sealedPerRecipient;

  const attachments = config.attachments;
  const attachmentsDir = get(ENV.attachmentsDir);
  if (attachmentsDir !== undefined) attachments.dir = resolve(attachmentsDir);
  attachments.maxBytes =
    integer(ENV.attachmentMaxBytes, 1024, 5 * 1024 ** 4) ?? attachments.maxBytes;
  attachments.quotaBytesPerAccount =
    integer(ENV.attachmentQuotaBytes, 1024, 1024 ** 5) ?? attachments.quotaBytesPerAccount;
  if (attachments.quotaBytesPerAccount < attachments.maxBytes) {
    problems.push(
      `${ENV.attachmentQuotaBytes} must be at least ${ENV.attachmentMaxBytes} (or no account ` +
        `could upload its largest attachment)`,
    );
  }
  const incompleteHours = integer(ENV.attachmentIncompleteHours, 1, 24 * 30);
  if (incompleteHours !== undefined) attachments.incompleteTtlMs = incompleteHours * HOUR;
  attachments.uploadRate = rate(ENV.rateLimitAttachmentUpload) ?? attachments.uploadRate;
  const s3Bucket = get(ENV.s3Bucket);
  if (s3Bucket !== undefined) {
    const region = get(ENV.s3Region);
    const accessKeyId = get(ENV.s3AccessKeyId);
    const secretAccessKey = get(ENV.s3SecretAccessKey);
    const endpoint = url(ENV.s3Endpoint, ['https:', 'http:']);
    const pathStyle = get(ENV.s3ForcePathStyle) ?? (endpoint === undefined ? 'false' : 'true');
    if (pathStyle !== 'true' && pathStyle !== 'false')
      problems.push(`${ENV.s3ForcePathStyle} must be "true" or "false", got "${pathStyle}"`);
    if (region === undefined || accessKeyId === undefined || secretAccessKey === undefined) {
      problems.push(
        `${ENV.s3Bucket} needs ${ENV.s3Region}, ${ENV.s3AccessKeyId} and ${ENV.s3SecretAccessKey}`,
      );
    } else {
      attachments.s3 = {
        bucket: s3Bucket,
        region,
        accessKeyId,
        secretAccessKey,
        forcePathStyle: pathStyle === 'true',
        ...(endpoint === undefined ? {} : { endpoint }),
      };
    }
  } else if (get(ENV.s3Endpoint) !== undefined) {
    problems.push(`${ENV.s3Endpoint} needs ${ENV.s3Bucket}`);
  }

  const crashSendId = get(ENV.testCrashAfterStoringSendId);
  if (crashSendId !== undefined) config.testCrashAfterStoringSendId = crashSendId;

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
