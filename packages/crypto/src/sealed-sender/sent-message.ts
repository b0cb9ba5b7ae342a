/**
 * The relay's half of sealed sender v2: parse a multi-recipient SentMessage (see `v2.ts` for
 * the layout) and cut out each recipient's ReceivedMessage, as libsignal's
 * `SealedSenderV2SentMessage` does (and `SealedSenderMultiRecipientMessage` in its JS API).
 * No keys are involved: the relay learns the recipients and their devices, never the sender.
 *
 * Checks, as libsignal's parser: version 0x22 (16-byte ACI UUIDs) or 0x23 (17-byte service
 * ids); device ids 1..127; registration ids are the low 14 bits; a recipient listed twice has
 * its devices merged, unless either listing is an exclusion (`InvalidSealedSenderMessage`); at
 * least the 32-byte E.pub after the recipients. Beyond libsignal: at most
 * MAX_SEALED_SENDER_V2_RECIPIENTS entries, checked before any is read, so the work per message
 * is bounded by that and by its length.
 * @module
 */
import { MAX_DEVICE_ID } from '../address.ts';
import { abytes, concat } from '../_bytes.ts';
import { MAX_SEALED_SENDER_V2_RECIPIENTS } from '../consts.ts';
import { ProtocolError } from '../errors.ts';
import {
  SEALED_SENDER_V2_MAJOR_VERSION,
  SEALED_SENDER_V2_SERVICE_ID_FULL_VERSION,
  SEALED_SENDER_V2_UUID_FULL_VERSION,
  V2_AUTH_TAG_LENGTH,
  V2_HAS_MORE_DEVICES,
  V2_MESSAGE_KEY_LENGTH,
  V2_PUBLIC_KEY_LENGTH,
  V2_REGISTRATION_ID_MASK,
} from './consts.ts';
import {
  SERVICE_ID_FIXED_WIDTH_LENGTH,
  UUID_LENGTH,
  canonicalServiceId,
  serviceIdFromFixedWidth,
  uuidFromBytes,
} from './service-id.ts';

const inspect = Symbol.for('nodejs.util.inspect.custom');
const KEY_MATERIAL_LENGTH = V2_MESSAGE_KEY_LENGTH + V2_AUTH_TAG_LENGTH;

/** One device a SentMessage is addressed to. */
export interface SealedSenderV2Device {
  deviceId: number;
  /** The recipient device's registration id (14 bits), for the relay to check it is current. */
  registrationId: number;
}

interface Entry {
  devices: SealedSenderV2Device[];
  /** Offset of C ‖ AT in the message; -1 for an excluded recipient. */
  keyMaterial: number;
}

function invalid(why: string): ProtocolError {
  return new ProtocolError('InvalidSealedSenderMessage', `sealed sender v2 sent message: ${why}`);
}

/** A parsed multi-recipient SentMessage, ready to be fanned out. */
export class SealedSenderMultiRecipientMessage {
  /** The version byte (0x22 or 0x23). */
  readonly version: number;
  readonly #bytes: Uint8Array;
  readonly #entries: Map<string, Entry>;
  readonly #sharedOffset: number;

  private constructor(
    version: number,
    bytes: Uint8Array,
    entries: Map<string, Entry>,
    sharedOffset: number,
  ) {
    this.version = version;
    this.#bytes = bytes;
    this.#entries = entries;
    this.#sharedOffset = sharedOffset;
  }

  /** Parses a SentMessage; `UnknownSealedSenderVersion` / `InvalidSealedSenderMessage` if bad. */
  static parse(data: Uint8Array): SealedSenderMultiRecipientMessage {
    abytes(data, 'sent message', undefined, 'InvalidSealedSenderMessage');
    if (data.length === 0) throw invalid('empty');
    const version = data[0]!;
    if (
      version !== SEALED_SENDER_V2_UUID_FULL_VERSION &&
      version !== SEALED_SENDER_V2_SERVICE_ID_FULL_VERSION
    ) {
      throw new ProtocolError(
        'UnknownSealedSenderVersion',
        `sealed sender sent message version 0x${version.toString(16)} is not 0x22 or 0x23`,
      );
    }
    const bytes = data.slice();
    let pos = 1;
    const take = (n: number): number => {
      if (n > bytes.length - pos) throw invalid('truncated');
      const at = pos;
      pos += n;
      return at;
    };

    // The recipient count: a protobuf varint, at most 32 bits (prost's decode_length_delimiter).
    let count = 0;
    for (let shift = 0, done = false; !done; shift += 7) {
      if (shift > 28) throw invalid('recipient count is too long');
      const b = bytes[take(1)]!;
      count += (b & 0x7f) * 2 ** shift;
      done = (b & 0x80) === 0;
    }
    if (count > MAX_SEALED_SENDER_V2_RECIPIENTS) {
      throw invalid(`${count} recipients, more than ${MAX_SEALED_SENDER_V2_RECIPIENTS}`);
    }

    const entries = new Map<string, Entry>();
    for (let i = 0; i < count; i++) {
      let serviceId: string | undefined;
      if (version === SEALED_SENDER_V2_UUID_FULL_VERSION) {
        const at = take(UUID_LENGTH);
        serviceId = uuidFromBytes(bytes.subarray(at, at + UUID_LENGTH));
      } else {
        const at = take(SERVICE_ID_FIXED_WIDTH_LENGTH);
        serviceId = serviceIdFromFixedWidth(bytes.subarray(at, at + SERVICE_ID_FIXED_WIDTH_LENGTH));
        if (serviceId === undefined) throw invalid('unknown service id kind');
      }
      const devices: SealedSenderV2Device[] = [];
      for (;;) {
        const deviceId = bytes[take(1)]!;
        if (deviceId === 0) {
          if (devices.length > 0) throw invalid('device id 0 after other devices');
          break;
        }
        if (deviceId > MAX_DEVICE_ID) throw invalid(`device id ${deviceId} is out of range`);
        const at = take(2);
        const word = (bytes[at]! << 8) | bytes[at + 1]!;
        devices.push({ deviceId, registrationId: word & V2_REGISTRATION_ID_MASK });
        if ((word & V2_HAS_MORE_DEVICES) === 0) break;
      }
      const keyMaterial = devices.length === 0 ? -1 : take(KEY_MATERIAL_LENGTH);
      const existing = entries.get(serviceId);
      if (existing) {
        if (existing.devices.length === 0 || devices.length === 0) {
          throw invalid('recipient redundantly encoded as excluded');
        }
        // As libsignal: devices are appended; the relay checks them against the account.
        existing.devices.push(...devices);
      } else {
        entries.set(serviceId, { devices, keyMaterial });
      }
    }
    if (bytes.length - pos < V2_PUBLIC_KEY_LENGTH) throw invalid('no ephemeral key');
    return new SealedSenderMultiRecipientMessage(version, bytes, entries, pos);
  }

  /** Recipients with devices, by service id string, in the order they first appear. */
  recipients(): ReadonlyMap<string, readonly SealedSenderV2Device[]> {
    const out = new Map<string, readonly SealedSenderV2Device[]>();
    for (const [id, e] of this.#entries) {
      if (e.devices.length > 0)
        out.set(
          id,
          e.devices.map((d) => ({ ...d })),
        );
    }
    return out;
  }

  /** Service ids the sender marked as deliberately left out. */
  excludedRecipients(): readonly string[] {
    return [...this.#entries].filter(([, e]) => e.devices.length === 0).map(([id]) => id);
  }

  /**
   * The ReceivedMessage for `serviceId` (the same bytes for each of its devices):
   * 0x22 ‖ C ‖ AT ‖ E.pub ‖ ciphertext. `InvalidArgument` for a service id that is not a
   * recipient with devices.
   */
  messageForRecipient(serviceId: string): Uint8Array {
    const id = canonicalServiceId(serviceId);
    const entry = this.#entries.get(id);
    if (!entry || entry.keyMaterial < 0) {
      throw new ProtocolError('InvalidArgument', `${id} is not a recipient of this message`);
    }
    return concat(
      // The ReceivedMessage format has not changed since 0x22, whatever the SentMessage's was.
      Uint8Array.of(SEALED_SENDER_V2_UUID_FULL_VERSION),
      this.#bytes.subarray(entry.keyMaterial, entry.keyMaterial + KEY_MATERIAL_LENGTH),
      this.#bytes.subarray(this.#sharedOffset),
    );
  }

  toString(): string {
    return (
      `SealedSenderMultiRecipientMessage(v${SEALED_SENDER_V2_MAJOR_VERSION}, ` +
      `${this.#entries.size} recipients, ${this.#bytes.length} bytes)`
    );
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
