import { describe, expect, it } from 'vitest';
import {
  CONTENT_VERSION,
  ContentError,
  ContentSchema,
  GroupControl_AddMembersSchema,
  PADDING_BLOCK,
  ReceiptMessage_Type,
  create,
  decodeContent,
  encodeContent,
  makeContent,
  newMessageId,
  toBinary,
  timestampOf,
} from '../src/content/index.ts';

const rng = (n: number) => crypto.getRandomValues(new Uint8Array(n));

describe('content format', () => {
  it('round-trips every kind of body', () => {
    const bodies = [
      { case: 'data', value: { text: 'hello ✓', group: { groupId: 'g', revision: 3 } } },
      {
        case: 'receipt',
        value: { type: ReceiptMessage_Type.READ, messageIds: [newMessageId(rng)] },
      },
      { case: 'typing', value: { groupId: 'g' } },
      {
        case: 'groupControl',
        value: {
          state: { groupId: 'g', revision: 2, title: 't', members: [{ accountId: 'a' }] },
          action: {
            case: 'add',
            value: create(GroupControl_AddMembersSchema, { accountIds: ['b'] }),
          },
        },
      },
      {
        case: 'senderKeyDistribution',
        value: { groupId: 'g', distributionMessage: new Uint8Array([1, 2]) },
      },
      {
        case: 'sync',
        value: {
          body: {
            case: 'sent',
            value: {
              destinationAccountId: 'bob',
              content: makeContent(newMessageId(rng), 5, { case: 'data', value: { text: 'x' } }),
            },
          },
        },
      },
      {
        case: 'sync',
        value: { body: { case: 'contacts', value: { contacts: [{ accountId: 'a' }] } } },
      },
      { case: 'retryRequest', value: { timestamp: 12n } },
      { case: 'nullMessage', value: {} },
    ] as const;
    for (const body of bodies) {
      const id = newMessageId(rng);
      const c = makeContent(id, 1_700_000_000_000, body as never);
      const decoded = decodeContent(encodeContent(c));
      expect(decoded.messageId).toBe(id);
      expect(decoded.version).toBe(CONTENT_VERSION);
      expect(timestampOf(decoded)).toBe(1_700_000_000_000);
      expect(decoded.body.case).toBe(body.case);
    }
  });

  it('pads to a size class', () => {
    const sizes = new Set<number>();
    for (const text of ['a', 'ab', 'hello world', 'x'.repeat(100)]) {
      const bytes = encodeContent(
        makeContent(newMessageId(rng), 1, { case: 'data', value: { text } }),
      );
      expect(bytes.length % PADDING_BLOCK).toBe(0);
      sizes.add(bytes.length);
    }
    expect(sizes.size).toBe(1);
  });

  it('rejects garbage, unknown versions and bad ids', () => {
    expect(() => decodeContent(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(ContentError);
    const future = toBinary(
      ContentSchema,
      create(ContentSchema, { version: 99, messageId: newMessageId(rng) }),
    );
    expect(() => decodeContent(future)).toThrow(/version 99/);
    const badId = toBinary(ContentSchema, create(ContentSchema, { version: 1, messageId: 'x' }));
    expect(() => decodeContent(badId)).toThrow(/message id/);
  });

  it('keeps unknown future body cases decodable (body case undefined)', () => {
    // Field 50 (unknown to this version) with a length-delimited empty value.
    const base = toBinary(
      ContentSchema,
      create(ContentSchema, { version: 1, messageId: newMessageId(rng) }),
    );
    const withUnknown = new Uint8Array([...base, 0x92, 0x03, 0x00]); // tag varint of (50 << 3) | 2
    expect(decodeContent(withUnknown).body.case).toBeUndefined();
  });
});
