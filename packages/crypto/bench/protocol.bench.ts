/**
 * Parley on its curve backends (noble, WebCrypto, node) vs libsignal 0.90.0 and 0.103.0
 * (Signal's Rust core through its Node binding), measured in one process, interleaved (see
 * `cases.ts`). Sessions run SPQR v1 everywhere (0.90 ↔ 0.90 negotiates it too), so the session
 * cases are SPQR cases.
 * Prints ops/s per implementation and each Parley backend's time per op as a multiple of
 * libsignal's (lower is better).
 *
 *   pnpm --filter @parley/crypto bench:node       (BENCH_ROUNDS=N to change the round count)
 *
 * No assertions on speed anywhere: this prints figures only.
 */
import { ls090, ls0103, u8 } from '../test/support/libsignal.ts';
import { LsParty } from '../test/support/parties.ts';
import type { CurveBackend } from '../src/backend.ts';
import { PLAINTEXT, formatTable, parley, runAll, type Group, type Impl } from './cases.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);

type Ls = typeof ls090;

function libsignalGroup(ls: Ls): Group {
  const distributionId = crypto.randomUUID();
  const address = ls.ProtocolAddress.new(crypto.randomUUID(), 1);
  type Addr = ReturnType<(typeof ls090)['ProtocolAddress']['new']>;
  type Rec = ReturnType<(typeof ls090)['SenderKeyRecord']['deserialize']>;
  const records = () => {
    const map = new Map<string, Uint8Array>();
    return new (class extends ls.SenderKeyStore {
      async saveSenderKey(a: Addr, id: string, r: Rec) {
        map.set(`${a.name()}.${a.deviceId()}:${id}`, u8(r.serialize()));
      }
      async getSenderKey(a: Addr, id: string) {
        const r = map.get(`${a.name()}.${a.deviceId()}:${id}`);
        return r ? ls.SenderKeyRecord.deserialize(r as Uint8Array<ArrayBuffer>) : null;
      }
    })();
  };
  const sender = records();
  const receiver = records();
  let ready = false;
  return {
    async ensure() {
      if (ready) return;
      const skdm = await ls.SenderKeyDistributionMessage.create(address, distributionId, sender);
      await ls.processSenderKeyDistributionMessage(address, skdm, receiver);
      ready = true;
    },
    encrypt: () =>
      ls
        .groupEncrypt(address, distributionId, sender, PLAINTEXT as Uint8Array<ArrayBuffer>)
        .then((m) => m.serialize()),
    decrypt: (m) => ls.groupDecrypt(address, receiver, m as Uint8Array<ArrayBuffer>),
  };
}

const libsignal = (label: string, ls: Ls): Impl => ({
  label,
  activate: () => {},
  // ServiceId-shaped names, as Signal's clients use (0.91+ then MACs both addresses)
  party: (deviceId = 1) => new LsParty(ls, crypto.randomUUID(), deviceId),
  group: () => libsignalGroup(ls),
});
const BASELINE = 'libsignal 0.103';

// @parley/crypto-node depends on this package, so it is loaded by path at run time rather
// than imported (a static import would make the two TypeScript projects circular).
const nodeBackendPath = '../../crypto-node/src/index.ts';
const { nodeCryptoBackend } = (await import(nodeBackendPath)) as {
  nodeCryptoBackend: CurveBackend;
};

const impls = [
  parley('noble', 'noble'),
  parley('webcrypto', 'webcrypto'),
  parley('node', nodeCryptoBackend),
  libsignal('libsignal 0.90', ls090),
  libsignal(BASELINE, ls0103 as unknown as Ls),
];
const rows = await runAll(impls, ROUNDS);
console.log(
  `\n@parley/crypto (noble | webcrypto | node backend) vs @signalapp/libsignal-client 0.90.0 and 0.103.0 — Node ${process.version}, ${ROUNDS} interleaved rounds; ops/s, then time per op ×${BASELINE} (lower is better)\n`,
);
console.log(
  formatTable(
    rows,
    impls.map((i) => i.label),
    BASELINE,
  ),
);
