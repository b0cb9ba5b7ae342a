/**
 * Safety numbers: libsignal's `fingerprint.rs`, so that a Parley user and a Signal-protocol
 * peer compare the same 60 digits and can scan each other's codes.
 *
 * Per party (identifier id, identity key K = 0x05 ‖ u, 33 bytes), with n iterations:
 *
 *   h_0 = SHA-512(0x00 0x00 ‖ K ‖ id ‖ K)        (0x0000: the fingerprint format version)
 *   h_j = SHA-512(h_{j−1} ‖ K)                    for j = 1 … n − 1      (1 < n ≤ 10^6)
 *
 * Displayable: each party's h[0..30] as six 5-byte big-endian integers, each mod 100000,
 * zero-padded to 5 digits (30 digits); the lexicographically smaller string goes first, so
 * both parties see the same 60 digits.
 *
 * Scannable (a QR code's payload), `fingerprint.proto`:
 *   CombinedFingerprints { 1: version, 2: LogicalFingerprint local, 3: LogicalFingerprint remote }
 *   LogicalFingerprint   { 1: content = h[0..32] }
 * Comparing a scanned code: their version must equal ours (`FingerprintVersionMismatch`), and
 * their local must equal our remote and their remote our local (constant time). The format
 * carries no identifiers, so, as in libsignal, a code from another conversation compares
 * `false`, the same as a changed key.
 *
 * Signal uses 5200 iterations; version 1 for phone-number identifiers, 2 for ServiceIds.
 * @module
 */
import { abytes, constantTimeEqual } from './_bytes.ts';
import { sha512Digest } from './_primitives.ts';
import { ProtoFields, ProtoWriter } from './_protobuf.ts';
import { PublicKey } from './curve.ts';
import { ProtocolError } from './errors.ts';

/** Signal's iteration count. */
export const FINGERPRINT_ITERATIONS = 5200;
/** The bounds libsignal enforces: 1 < iterations ≤ 1,000,000. */
export const MAX_FINGERPRINT_ITERATIONS = 1_000_000;
/** Bytes of each party's hash in the scannable form. */
export const SCANNABLE_CONTENT_LENGTH = 32;

const FORMAT_VERSION = /* @__PURE__ */ Uint8Array.of(0x00, 0x00);

export interface FingerprintParams {
  /** Scannable format version (1: E.164 identifiers, 2: ServiceId). A u32. */
  version: number;
  /** Hash iterations, 1 < n ≤ 1e6; Signal uses `FINGERPRINT_ITERATIONS` (5200). */
  iterations: number;
  /** Our stable identifier bytes (e.g. UTF-8 of an account id, or a ServiceId's binary). */
  localId: Uint8Array;
  localKey: PublicKey;
  remoteId: Uint8Array;
  remoteKey: PublicKey;
}

/** One party's iterated hash (64 bytes). */
function partyHash(iterations: number, id: Uint8Array, key: PublicKey): Uint8Array {
  const k = key.serialize();
  let h = sha512Digest(concat4(FORMAT_VERSION, k, id, k));
  const buf = new Uint8Array(64 + k.length);
  buf.set(k, 64);
  for (let i = 1; i < iterations; i++) {
    buf.set(h, 0);
    h = sha512Digest(buf);
  }
  return h;
}

function concat4(a: Uint8Array, b: Uint8Array, c: Uint8Array, d: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length + c.length + d.length);
  out.set(a, 0);
  out.set(b, a.length);
  out.set(c, a.length + b.length);
  out.set(d, a.length + b.length + c.length);
  return out;
}

/** Six 5-byte big-endian chunks of h[0..30], each mod 100000, as 30 digits. */
function displayDigits(h: Uint8Array): string {
  let s = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let x = 0;
    for (let i = 0; i < 5; i++) x = x * 256 + h[chunk * 5 + i]!; // < 2^40: exact in a double
    s += String(x % 100_000).padStart(5, '0');
  }
  return s;
}

function encodeScannable(version: number, local: Uint8Array, remote: Uint8Array): Uint8Array {
  return new ProtoWriter()
    .uint(1, version)
    .bytes(2, new ProtoWriter().bytes(1, local).finish())
    .bytes(3, new ProtoWriter().bytes(1, remote).finish())
    .finish();
}

interface Scanned {
  version: number | undefined;
  local: Uint8Array | undefined;
  remote: Uint8Array | undefined;
}

function decodeScannable(bytes: Uint8Array): Scanned {
  const code = 'FingerprintParsingError';
  abytes(bytes, 'scanned fingerprint', undefined, code);
  const f = ProtoFields.decode(bytes, 'scanned fingerprint', code);
  const content = (field: number): Uint8Array | undefined => {
    const inner = f.bytes(field);
    if (inner === undefined) return undefined;
    return ProtoFields.decode(inner, 'scanned fingerprint', code).bytes(1);
  };
  return { version: f.uint32(1), local: content(2), remote: content(3) };
}

/**
 * Compares our scannable fingerprint with one scanned from the other party's screen.
 * `true` only if both identity keys match; `false` for a changed key (or a code belonging to
 * another conversation). Throws `FingerprintVersionMismatch` or `FingerprintParsingError`.
 */
export function compareScanned(ours: Uint8Array, theirs: Uint8Array): boolean {
  let mine: Scanned;
  try {
    mine = decodeScannable(ours);
  } catch (cause) {
    throw new ProtocolError('InvalidArgument', 'our scannable fingerprint is malformed', {
      cause,
    });
  }
  if (mine.version === undefined || !mine.local || !mine.remote) {
    throw new ProtocolError('InvalidArgument', 'our scannable fingerprint is incomplete');
  }
  const them = decodeScannable(theirs);
  const theirVersion = them.version ?? 0;
  if (theirVersion !== mine.version) {
    throw new ProtocolError(
      'FingerprintVersionMismatch',
      `scanned fingerprint has version ${theirVersion}, ours is ${mine.version}`,
    );
  }
  if (!them.local || !them.remote) {
    throw new ProtocolError('FingerprintParsingError', 'scanned fingerprint lacks a fingerprint');
  }
  // Both comparisons run whatever the first one gave.
  const same1 = constantTimeEqual(them.local, mine.remote);
  const same2 = constantTimeEqual(them.remote, mine.local);
  return same1 && same2;
}

export class Fingerprint {
  /** The 60-digit safety number, identical on both sides. */
  readonly displayable: string;
  readonly version: number;
  readonly #scannable: Uint8Array;

  private constructor(version: number, displayable: string, scannable: Uint8Array) {
    this.version = version;
    this.displayable = displayable;
    this.#scannable = scannable;
  }

  static create(params: FingerprintParams): Fingerprint {
    const { version, iterations, localId, localKey, remoteId, remoteKey } = params ?? {};
    if (!Number.isInteger(version) || version < 0 || version > 0xffff_ffff) {
      throw new ProtocolError('InvalidArgument', 'version must be a u32');
    }
    if (
      !Number.isInteger(iterations) ||
      iterations <= 1 ||
      iterations > MAX_FINGERPRINT_ITERATIONS
    ) {
      throw new ProtocolError(
        'InvalidArgument',
        `iterations must be an integer in (1, ${MAX_FINGERPRINT_ITERATIONS}]`,
      );
    }
    abytes(localId, 'localId');
    abytes(remoteId, 'remoteId');
    if (!(localKey instanceof PublicKey) || !(remoteKey instanceof PublicKey)) {
      throw new ProtocolError('InvalidArgument', 'localKey and remoteKey must be PublicKeys');
    }
    const local = partyHash(iterations, localId, localKey);
    const remote = partyHash(iterations, remoteId, remoteKey);
    const a = displayDigits(local);
    const b = displayDigits(remote);
    return new Fingerprint(
      version,
      a < b ? a + b : b + a,
      encodeScannable(
        version,
        local.subarray(0, SCANNABLE_CONTENT_LENGTH),
        remote.subarray(0, SCANNABLE_CONTENT_LENGTH),
      ),
    );
  }

  /** The scannable form (a copy): the `CombinedFingerprints` bytes to put in a QR code. */
  get scannable(): Uint8Array {
    return this.#scannable.slice();
  }

  /** `compareScanned(this.scannable, theirs)`. */
  compareScanned(theirs: Uint8Array): boolean {
    return compareScanned(this.#scannable, theirs);
  }

  toString(): string {
    return `Fingerprint(v${this.version}, ${this.displayable})`;
  }

  toJSON(): { version: number; displayable: string } {
    return { version: this.version, displayable: this.displayable };
  }
}
