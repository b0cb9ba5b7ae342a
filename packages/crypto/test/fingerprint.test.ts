import { describe, expect, test } from 'vitest';
import { fromHex, toHex, utf8 } from '../src/_bytes.ts';
import { KeyPair, PublicKey } from '../src/curve.ts';
import { isProtocolError } from '../src/errors.ts';
import { FINGERPRINT_ITERATIONS, Fingerprint, compareScanned } from '../src/fingerprint.ts';
import { bytesFor, ls072, ls090, ls0103, u8 } from './support/libsignal.ts';

// libsignal rust/protocol/src/fingerprint.rs tests (testVectorsVersion1/2 in Java).
const ALICE_IDENTITY = PublicKey.deserialize(
  fromHex('0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868'),
);
const BOB_IDENTITY = PublicKey.deserialize(
  fromHex('05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b'),
);
const ALICE_ID = utf8('+14152222222');
const BOB_ID = utf8('+14153333333');
const DISPLAYABLE = '300354477692869396892869876765458257569162576843440918079131';
const A = '0a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df';
const B = '0a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d';
const scannable = (v: number, first: string, second: string) => `080${v}1222${first}1a22${second}`;

const pair = (version: number, iterations = FINGERPRINT_ITERATIONS) => ({
  alice: Fingerprint.create({
    version,
    iterations,
    localId: ALICE_ID,
    localKey: ALICE_IDENTITY,
    remoteId: BOB_ID,
    remoteKey: BOB_IDENTITY,
  }),
  bob: Fingerprint.create({
    version,
    iterations,
    localId: BOB_ID,
    localKey: BOB_IDENTITY,
    remoteId: ALICE_ID,
    remoteKey: ALICE_IDENTITY,
  }),
});

const code = (c: string) => expect.objectContaining({ code: c });

describe('libsignal fingerprint.rs known answers', () => {
  test.each([1, 2])('version %i: display string and scannable bytes', (version) => {
    const { alice, bob } = pair(version);
    expect(alice.displayable).toBe(DISPLAYABLE);
    expect(bob.displayable).toBe(DISPLAYABLE);
    expect(toHex(alice.scannable)).toBe(scannable(version, A, B));
    expect(toHex(bob.scannable)).toBe(scannable(version, B, A));
    expect(alice.compareScanned(bob.scannable)).toBe(true);
    expect(bob.compareScanned(alice.scannable)).toBe(true);
    // Scanning your own code is not a match (libsignal's fingerprint_matching_identifiers).
    expect(alice.compareScanned(alice.scannable)).toBe(false);
  });

  test('fingerprint_encodings: the CombinedFingerprints layout', () => {
    const { alice } = pair(2);
    const bytes = alice.scannable;
    expect(toHex(bytes.subarray(0, 6))).toBe('080212220a20');
    expect(toHex(bytes.subarray(38, 42))).toBe('1a220a20');
    expect(bytes.length).toBe(74);
  });

  test('versions change the scannable form, not the display', () => {
    const v1 = pair(1).alice;
    const v2 = pair(2).alice;
    expect(v1.displayable).toBe(v2.displayable);
    expect(v1.scannable).not.toEqual(v2.scannable);
    expect(() => v1.compareScanned(pair(2).bob.scannable)).toThrow(
      code('FingerprintVersionMismatch'),
    );
  });
});

describe('comparison', () => {
  const keys = () => KeyPair.generate().publicKey;
  const make = (
    localId: Uint8Array,
    localKey: PublicKey,
    remoteId: Uint8Array,
    remoteKey: PublicKey,
  ) => Fingerprint.create({ version: 2, iterations: 1024, localId, localKey, remoteId, remoteKey });

  test('a man in the middle changes both the display and the scan', () => {
    const [a, b, m] = [keys(), keys(), keys()];
    const alice = make(ALICE_ID, a, BOB_ID, m);
    const bob = make(BOB_ID, b, ALICE_ID, a);
    expect(alice.displayable).not.toBe(bob.displayable);
    expect(alice.compareScanned(bob.scannable)).toBe(false);
    expect(bob.compareScanned(alice.scannable)).toBe(false);
  });

  test('a different identifier changes both the display and the scan', () => {
    const [a, b] = [keys(), keys()];
    const alice = make(utf8('+141512222222'), a, BOB_ID, b);
    const bob = make(BOB_ID, b, ALICE_ID, a);
    expect(alice.displayable).not.toBe(bob.displayable);
    expect(alice.compareScanned(bob.scannable)).toBe(false);
  });

  test.each([
    ['garbage', Uint8Array.of(0xff, 0xff, 0xff)],
    ['truncated', fromHex(scannable(2, A, B)).subarray(0, 40)],
    ['no remote', fromHex(`08021222${A}`)],
    ['no content', fromHex('080212001a00')],
  ])('a malformed scan (%s) is a FingerprintParsingError', (_name, bytes) => {
    expect(() => compareScanned(fromHex(scannable(2, A, B)), bytes)).toThrow(
      code('FingerprintParsingError'),
    );
  });

  test.each([
    ['no version field', fromHex(`1222${B}1a22${A}`)],
    ['empty input', new Uint8Array()],
  ])('a scan with %s has version 0, as in libsignal', (_name, bytes) => {
    expect(() => compareScanned(fromHex(scannable(2, A, B)), bytes)).toThrow(
      code('FingerprintVersionMismatch'),
    );
  });

  test.each([
    ['iterations 1', { iterations: 1 }],
    ['iterations 1e6+1', { iterations: 1_000_001 }],
    ['fractional iterations', { iterations: 2.5 }],
    ['negative version', { version: -1 }],
    ['string id', { localId: '+1415' }],
    ['raw key bytes', { remoteKey: BOB_IDENTITY.serialize() }],
  ])('rejects bad arguments (%s) with InvalidArgument', (_name, override) => {
    const params = {
      version: 2,
      iterations: 2,
      localId: ALICE_ID,
      localKey: ALICE_IDENTITY,
      remoteId: BOB_ID,
      remoteKey: BOB_IDENTITY,
      ...override,
    };
    expect(() => Fingerprint.create(params as never)).toThrow(code('InvalidArgument'));
  });

  test('toString and JSON show only the public safety number', () => {
    const { alice } = pair(2, 2);
    expect(String(alice)).toContain(alice.displayable);
    expect(JSON.parse(JSON.stringify(alice))).toEqual({
      version: 2,
      displayable: alice.displayable,
    });
  });
});

describe.each([
  ['0.72.1', ls072],
  ['0.90.0', ls090],
  // The typings differ only in native-handle brands; the calls are the same.
  ['0.103.0', ls0103 as unknown as typeof ls090],
] as const)('safety numbers equal libsignal %s', (_v, ls) => {
  const b = bytesFor(ls);
  const theirKey = (k: PublicKey) => ls.PublicKey.deserialize(b(k.serialize()));

  test('random keys and ServiceId-like identifiers, both sides, scans both ways', () => {
    for (let i = 0; i < 3; i++) {
      const [a, c] = [KeyPair.generate().publicKey, KeyPair.generate().publicKey];
      const [aId, cId] = [crypto.getRandomValues(new Uint8Array(17)), utf8(crypto.randomUUID())];
      const version = 1 + (i % 2);
      for (const [lId, lKey, rId, rKey] of [
        [aId, a, cId, c],
        [cId, c, aId, a],
      ] as const) {
        const ours = Fingerprint.create({
          version,
          iterations: FINGERPRINT_ITERATIONS,
          localId: lId,
          localKey: lKey,
          remoteId: rId,
          remoteKey: rKey,
        });
        const theirs = ls.Fingerprint.new(
          FINGERPRINT_ITERATIONS,
          version,
          b(lId),
          theirKey(lKey),
          b(rId),
          theirKey(rKey),
        );
        expect(ours.displayable).toBe(theirs.displayableFingerprint().toString());
        expect(ours.scannable).toEqual(u8(theirs.scannableFingerprint().toBuffer()));
      }
      // Alice (ours) scans Bob's (libsignal) code, and Bob scans Alice's.
      const alice = Fingerprint.create({
        version,
        iterations: FINGERPRINT_ITERATIONS,
        localId: aId,
        localKey: a,
        remoteId: cId,
        remoteKey: c,
      });
      const bob = ls.Fingerprint.new(
        FINGERPRINT_ITERATIONS,
        version,
        b(cId),
        theirKey(c),
        b(aId),
        theirKey(a),
      ).scannableFingerprint();
      expect(alice.compareScanned(u8(bob.toBuffer()))).toBe(true);
      const scannedAlice = ls.ScannableFingerprint._fromBuffer(b(alice.scannable));
      expect(bob.compare(scannedAlice)).toBe(true);
      expect(alice.compareScanned(alice.scannable)).toBe(false);
    }
  });

  test('libsignal rejects what we reject: version mismatch', () => {
    const { alice, bob } = pair(1, 2);
    const bobV2 = pair(2, 2).bob;
    expect(() => alice.compareScanned(bobV2.scannable)).toThrow(code('FingerprintVersionMismatch'));
    const theirAlice = ls.ScannableFingerprint._fromBuffer(b(alice.scannable));
    expect(() =>
      theirAlice.compare(ls.ScannableFingerprint._fromBuffer(b(bobV2.scannable))),
    ).toThrow();
    expect(theirAlice.compare(ls.ScannableFingerprint._fromBuffer(b(bob.scannable)))).toBe(true);
    expect(isProtocolError(new Error('x'))).toBe(false);
  });
});
