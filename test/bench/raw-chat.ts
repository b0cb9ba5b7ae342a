/**
 * The raw crypto cost of one steady-chat message, for the catch-up bench's steady-chat line: what
 * the two clients' Signal work per text would be with no client around it. A text and its
 * delivery receipt, each encrypted on the established session (the direction alternates, so
 * every message turns the double ratchet), sealed (sealed sender v1) to the other side, opened,
 * its sender certificate validated, and decrypted — on @parley/crypto's in-memory stores.
 * @module
 */
import { ProtocolAddress } from '../../packages/crypto/src/address.ts';
import { KeyPair } from '../../packages/crypto/src/curve.ts';
import {
  SenderCertificate,
  ServerCertificate,
  UnidentifiedSenderMessageContent,
  sealedSenderDecryptToUsmc,
  sealedSenderEncryptFromUsmc,
} from '../../packages/crypto/src/sealed-sender.ts';
import { ParleyParty } from '../../packages/crypto/bench/cases.ts';

const TEXT = new TextEncoder().encode('chat 123 '.repeat(12));
const RECEIPT = new Uint8Array(60).fill(7);

/** CPU ms (process.cpuUsage) per chat message (text + receipt), over `messages` messages. */
export async function rawChatCrypto(messages: number): Promise<number> {
  const root = KeyPair.generate();
  const server = KeyPair.generate();
  const serverCert = ServerCertificate.create(1, server.publicKey, root.privateKey);
  const later = Date.now() + 24 * 3600 * 1000;
  const a = new ParleyParty(`raw-chat-a-${crypto.randomUUID()}`, 1);
  const b = new ParleyParty(`raw-chat-b-${crypto.randomUUID()}`, 1);
  const certify = (p: ParleyParty) =>
    SenderCertificate.create(
      {
        senderUuid: p.name,
        senderDeviceId: p.deviceId,
        expiration: later,
        identityKey: p.identityKey,
      },
      serverCert,
      server.privateKey,
    );
  const certs = new Map([
    [a, certify(a)],
    [b, certify(b)],
  ]);
  await a.processBundle(b, await b.makeBundle());
  const one = async (from: ParleyParty, to: ParleyParty, plaintext: Uint8Array) => {
    const toAddress = new ProtocolAddress(to.name, to.deviceId);
    const message = await from.encrypt(to, plaintext);
    const usmc = UnidentifiedSenderMessageContent.create({
      type: message.type,
      sender: certs.get(from)!,
      contents: message.body,
    });
    const sealed = await sealedSenderEncryptFromUsmc(toAddress, usmc, from.stores.identity);
    const opened = await sealedSenderDecryptToUsmc(sealed, to.stores.identity);
    await opened.sender.validate(root.publicKey, Date.now());
    await to.decrypt(from, { type: opened.type as 'prekey' | 'whisper', body: opened.contents() });
  };
  // Warm up: the session exists both ways (as in the chat after its warm-up).
  await one(a, b, TEXT);
  await one(b, a, TEXT);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < messages; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    await one(from, to, TEXT);
    await one(to, from, RECEIPT);
  }
  const used = process.cpuUsage(cpu0);
  return (used.user + used.system) / 1000 / messages;
}
