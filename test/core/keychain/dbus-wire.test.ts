// The D-Bus marshalling dbus-wire.ts does itself: what it writes reads back the same, in D-Bus's own alignment,
// and a message that does not add up is refused rather than read past its end.
// https://dbus.freedesktop.org/doc/dbus-specification.html#message-protocol-marshaling
import { describe, expect, it } from 'vitest';
import { marshalCall, readMessage, splitSignature } from '../../../src/core/keychain/dbus-wire.ts';

const CALL = { destination: 'org.freedesktop.secrets', path: '/org/freedesktop/secrets', interface: 'org.freedesktop.Secret.Service' };

describe('dbus-wire', () => {
  it('splits a signature into complete types', () => {
    expect(splitSignature('a{ss}aoo(oayays)vb')).toEqual(['a{ss}', 'ao', 'o', '(oayays)', 'v', 'b']);
    expect(() => splitSignature('a{ss')).toThrow(/unbalanced/);
    expect(() => splitSignature('z')).toThrow(/unknown type/);
  });

  it('reads back what it writes: strings, object paths, dictionaries, byte arrays, variants, structs, numbers', () => {
    const key = Buffer.from(Array.from({ length: 129 }, (_, i) => (i * 7) % 256));
    const body = ['dh-ietf1024-sha256-aes128-cbc-pkcs7', ['ay', key], [['service', 'latchkey'], ['account', 'sécret ✓']], ['/a/b', '/c'], [7, 'x', true], 4_000_000_000];
    const bytes = marshalCall({ ...CALL, member: 'Probe', signature: 'sva{ss}ao(ysb)u', body }, 42);
    // The body starts on an 8-byte boundary after the header fields, as the specification pads it.
    expect((bytes.length - bytes.readUInt32LE(4)) % 8).toBe(0);
    const message = readMessage(bytes);
    expect(message.type).toBe(1);
    // A variant reads as the value it holds; a byte array as a Buffer.
    expect(message.body()).toEqual(['dh-ietf1024-sha256-aes128-cbc-pkcs7', key, [['service', 'latchkey'], ['account', 'sécret ✓']], ['/a/b', '/c'], [7, 'x', true], 4_000_000_000]);
  });

  it('refuses a body that does not match its signature, and a message cut short', () => {
    expect(() => marshalCall({ ...CALL, member: 'SearchItems', signature: 'a{ss}', body: [] }, 1)).toThrow(/does not match its signature/);
    const bytes = marshalCall({ ...CALL, member: 'SearchItems', signature: 'a{ss}', body: [[['service', 'latchkey']]] }, 2);
    expect(() => readMessage(bytes.subarray(0, bytes.length - 3))).toThrow();
  });
});
