// A D-Bus client connection with only what the Secret Service questions need: the SASL EXTERNAL handshake, a
// method call, and its reply or error — marshalled here, in the few lines the types they use take, rather than
// through a general D-Bus library (whose modules and WebAssembly 64-bit integers cost a `latchkey token` more to
// load than the questions take to answer). https://dbus.freedesktop.org/doc/dbus-specification.html
import type { Duplex } from 'node:stream';

/** One D-Bus method call. Body values: strings, numbers, booleans, Buffers (`ay`), arrays, `[key, value]` pairs (`{…}`), `[signature, value]` (`v`). */
export interface DbusCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
}

/** A reply's error as the bus reports it: the D-Bus error name and its message. */
export type DbusReplyError = { name?: string; message?: unknown };

/** The part of a bus used here: call a method, hear about a broken connection, hang up. */
export interface DbusBus {
  connection: { on(event: 'error', listener: (error: Error) => void): void; end(): void };
  /** The callback gets the reply's body values (a variant as the value it holds, `ay` as a Buffer, `a{…}` as `[key, value]` pairs). */
  invoke(message: DbusCall, callback: (error: DbusReplyError | undefined, ...values: unknown[]) => void): void;
}

const METHOD_CALL = 1;
const METHOD_RETURN = 2;
const ERROR = 3;
const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, signature: 8 } as const;

/** A client connection on `stream` (already connecting to the bus; see CappedDbusStream): authenticates, says Hello, then carries method calls. */
export function connectDbus(stream: Duplex): DbusBus {
  const replies = new Map<number, (error: DbusReplyError | undefined, ...values: unknown[]) => void>();
  let serial = 1;
  let authenticated = false;
  let pending: Buffer = Buffer.alloc(0);
  // SASL EXTERNAL: the bus knows our uid from the socket; the AUTH line names it, hex-encoded. BEGIN follows at once
  // (as sd-bus does): the bus reads it after its OK, and every message after BEGIN.
  const uid = process.getuid?.() ?? 0;
  stream.write(`\0AUTH EXTERNAL ${Buffer.from(String(uid), 'ascii').toString('hex')}\r\nBEGIN\r\n`);
  stream.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    try {
      if (!authenticated) {
        const end = pending.indexOf('\r\n');
        if (end < 0) return;
        const line = pending.subarray(0, end).toString('latin1');
        if (!line.startsWith('OK ')) throw new Error(`D-Bus: the bus refused the authentication (${line.slice(0, 40)})`);
        authenticated = true;
        pending = pending.subarray(end + 2);
      }
      while (pending.length >= 16) {
        const length = messageLength(pending);
        if (pending.length < length) return;
        const message = readMessage(pending.subarray(0, length));
        pending = pending.subarray(length);
        if (message.type !== METHOD_RETURN && message.type !== ERROR) continue;
        const reply = message.replySerial === undefined ? undefined : replies.get(message.replySerial);
        if (!reply) continue;
        replies.delete(message.replySerial!);
        const body = message.body();
        if (message.type === METHOD_RETURN) reply(undefined, ...body);
        else reply({ name: message.errorName, message: typeof body[0] === 'string' ? body[0] : '' });
      }
    } catch (error) {
      stream.destroy(error as Error);
    }
  });
  const invoke: DbusBus['invoke'] = (call, callback) => {
    const current = serial++;
    let bytes: Buffer;
    try {
      bytes = marshalCall(call, current);
    } catch (error) {
      return void callback({ name: 'latchkey.MarshalError', message: (error as Error).message });
    }
    replies.set(current, callback);
    stream.write(bytes);
  };
  // A bus admits a connection only after Hello; a refusal shows as the next call's error.
  invoke({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'Hello' }, () => undefined);
  return { connection: { on: (_event, listener) => void stream.on('error', listener), end: () => void stream.end() }, invoke };
}

/** A whole message's length from its fixed header (endianness, type, flags, version, body length, serial, header fields length). */
function messageLength(bytes: Buffer): number {
  const little = bytes[0] === 0x6c;
  if (!little && bytes[0] !== 0x42) throw new Error('D-Bus: the peer sent something that is not a D-Bus message');
  const bodyLength = little ? bytes.readUInt32LE(4) : bytes.readUInt32BE(4);
  const fieldsLength = little ? bytes.readUInt32LE(12) : bytes.readUInt32BE(12);
  return 16 + Math.ceil(fieldsLength / 8) * 8 + bodyLength;
}

// ---- signatures -------------------------------------------------------------------------------------------------

/** The complete types of a signature, e.g. `a{ss}o` → [`a{ss}`, `o`]. */
export function splitSignature(signature: string): string[] {
  const types: string[] = [];
  let at = 0;
  while (at < signature.length) {
    const end = completeTypeEnd(signature, at);
    types.push(signature.slice(at, end));
    at = end;
  }
  return types;
}

function completeTypeEnd(signature: string, at: number): number {
  const code = signature[at];
  if (code === 'a') return completeTypeEnd(signature, at + 1);
  if (code === '(' || code === '{') {
    const close = code === '(' ? ')' : '}';
    let next = at + 1;
    while (signature[next] !== close) {
      if (next >= signature.length) throw new Error(`D-Bus: unbalanced signature "${signature}"`);
      next = completeTypeEnd(signature, next);
    }
    return next + 1;
  }
  if (code === undefined || !'ybnqiuxtdsogvh'.includes(code)) throw new Error(`D-Bus: unknown type in signature "${signature}"`);
  return at + 1;
}

const ALIGNMENT: Record<string, number> = { y: 1, g: 1, v: 1, n: 2, q: 2, b: 4, i: 4, u: 4, h: 4, s: 4, o: 4, a: 4, x: 8, t: 8, d: 8, '(': 8, '{': 8 };

// ---- writing (little-endian) ------------------------------------------------------------------------------------

/** Writes into one growing buffer (a method call is a few hundred bytes). */
class Writer {
  #bytes = Buffer.alloc(512);
  length = 0;

  #room(count: number): void {
    if (this.length + count <= this.#bytes.length) return;
    const grown = Buffer.alloc(Math.max(this.#bytes.length * 2, this.length + count));
    this.#bytes.copy(grown, 0, 0, this.length);
    this.#bytes = grown;
  }

  /** Zero padding up to a multiple of `to` (the buffer is zero-filled). */
  align(to: number): void {
    const padding = (to - (this.length % to)) % to;
    this.#room(padding);
    this.length += padding;
  }

  uint32(value: number): void {
    this.align(4);
    this.#room(4);
    this.#bytes.writeUInt32LE(value, this.length);
    this.length += 4;
  }

  byte(value: number): void {
    this.#room(1);
    this.#bytes[this.length++] = value;
  }

  raw(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Everything written so far. */
  bytes(): Buffer {
    return this.#bytes.subarray(0, this.length);
  }

  value(type: string, value: unknown): void {
    const code = type[0]!;
    switch (code) {
      case 'y':
        return this.byte(Number(value));
      case 'b':
        return this.uint32(value ? 1 : 0);
      case 'u':
        return this.uint32(Number(value));
      case 'i':
        return this.uint32(Number(value) >>> 0);
      case 's':
      case 'o': {
        if (typeof value !== 'string') throw new Error(`D-Bus: ${code} needs a string`);
        const text = Buffer.from(value, 'utf8');
        this.uint32(text.length);
        this.raw(text);
        return this.byte(0);
      }
      case 'g': {
        const text = Buffer.from(String(value), 'ascii');
        this.byte(text.length);
        this.raw(text);
        return this.byte(0);
      }
      case 'v': {
        const [signature, inner] = value as [string, unknown];
        this.value('g', signature);
        return this.value(signature, inner);
      }
      case 'a': {
        const element = type.slice(1);
        this.uint32(0);
        const lengthAt = this.length - 4;
        this.align(ALIGNMENT[element[0]!]!);
        const start = this.length;
        if (element === 'y' && value instanceof Uint8Array) this.raw(value);
        else for (const item of value as unknown[]) this.value(element, item);
        this.#bytes.writeUInt32LE(this.length - start, lengthAt);
        return;
      }
      case '(':
      case '{': {
        this.align(8);
        const members = splitSignature(type.slice(1, -1));
        members.forEach((member, i) => this.value(member, (value as unknown[])[i]));
        return;
      }
      default:
        throw new Error(`D-Bus: writing type ${code} is not supported`);
    }
  }
}

/** A method call message: the fixed header, the header fields (path, interface, member, destination, signature), the body. */
export function marshalCall(call: DbusCall, serial: number): Buffer {
  const signature = call.signature ?? '';
  const body = new Writer();
  const types = splitSignature(signature);
  if (types.length !== (call.body ?? []).length) throw new Error(`D-Bus: the body of ${call.member} does not match its signature "${signature}"`);
  types.forEach((type, i) => body.value(type, call.body![i]));
  const bodyBytes = body.bytes();
  const fields: [number, [string, string]][] = [
    [FIELD.path, ['o', call.path]],
    [FIELD.interface, ['s', call.interface]],
    [FIELD.member, ['s', call.member]],
    [FIELD.destination, ['s', call.destination]],
  ];
  if (signature) fields.push([FIELD.signature, ['g', signature]]);
  const header = new Writer();
  header.raw(new Uint8Array([0x6c, METHOD_CALL, 0, 1]));
  header.uint32(bodyBytes.length);
  header.uint32(serial);
  header.value('a(yv)', fields);
  header.align(8);
  return Buffer.concat([header.bytes(), bodyBytes]);
}

// ---- reading ----------------------------------------------------------------------------------------------------

interface ReadMessage {
  type: number;
  replySerial: number | undefined;
  errorName: string | undefined;
  /** The body's values, read on demand (signals and unexpected replies are never read). */
  body(): unknown[];
}

/** Reads `bytes` (one whole message, either endianness); throws on anything malformed. */
export function readMessage(bytes: Buffer): ReadMessage {
  const reader = new Reader(bytes, bytes[0] === 0x6c);
  const type = bytes[1]!;
  const bodyLength = reader.uint32At(4);
  reader.at = 12;
  const fields = reader.value('a(yv)') as [number, unknown][];
  reader.align(8);
  const bodyStart = reader.at;
  if (bodyStart + bodyLength !== bytes.length) throw new Error('D-Bus: a message whose length does not add up');
  const field = (code: number) => fields.find(([at]) => at === code)?.[1];
  const signature = field(FIELD.signature);
  const replySerial = field(FIELD.replySerial);
  const errorName = field(FIELD.errorName);
  return {
    type,
    replySerial: typeof replySerial === 'number' ? replySerial : undefined,
    errorName: typeof errorName === 'string' ? errorName : undefined,
    body: () => {
      reader.at = bodyStart;
      return typeof signature === 'string' ? splitSignature(signature).map((member) => reader.value(member)) : [];
    },
  };
}

class Reader {
  at = 0;
  readonly #bytes: Buffer;
  readonly #little: boolean;

  constructor(bytes: Buffer, little: boolean) {
    this.#bytes = bytes;
    this.#little = little;
  }

  align(to: number): void {
    this.at = Math.ceil(this.at / to) * to;
  }

  #need(count: number): void {
    if (this.at + count > this.#bytes.length) throw new Error('D-Bus: a message ends inside a value');
  }

  uint32At(offset: number): number {
    return this.#little ? this.#bytes.readUInt32LE(offset) : this.#bytes.readUInt32BE(offset);
  }

  #fixed(size: number, read: (offset: number) => number | bigint): number | bigint {
    this.align(size);
    this.#need(size);
    const value = read(this.at);
    this.at += size;
    return value;
  }

  value(type: string): unknown {
    const bytes = this.#bytes;
    const little = this.#little;
    const code = type[0]!;
    switch (code) {
      case 'y':
        this.#need(1);
        return bytes[this.at++];
      case 'b':
        return this.#fixed(4, (at) => this.uint32At(at)) !== 0;
      case 'n':
        return this.#fixed(2, (at) => (little ? bytes.readInt16LE(at) : bytes.readInt16BE(at)));
      case 'q':
        return this.#fixed(2, (at) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at)));
      case 'i':
        return this.#fixed(4, (at) => (little ? bytes.readInt32LE(at) : bytes.readInt32BE(at)));
      case 'u':
      case 'h':
        return this.#fixed(4, (at) => this.uint32At(at));
      case 'x':
        return this.#fixed(8, (at) => (little ? bytes.readBigInt64LE(at) : bytes.readBigInt64BE(at)));
      case 't':
        return this.#fixed(8, (at) => (little ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at)));
      case 'd':
        return this.#fixed(8, (at) => (little ? bytes.readDoubleLE(at) : bytes.readDoubleBE(at)));
      case 's':
      case 'o': {
        const length = this.#fixed(4, (at) => this.uint32At(at)) as number;
        this.#need(length + 1);
        const text = bytes.toString('utf8', this.at, this.at + length);
        this.at += length + 1;
        return text;
      }
      case 'g': {
        this.#need(1);
        const length = bytes[this.at++]!;
        this.#need(length + 1);
        const text = bytes.toString('ascii', this.at, this.at + length);
        this.at += length + 1;
        return text;
      }
      case 'v': {
        const signature = this.value('g') as string;
        const [inner, ...rest] = splitSignature(signature);
        if (inner === undefined || rest.length > 0) throw new Error('D-Bus: a variant must hold one complete type');
        return this.value(inner);
      }
      case 'a': {
        const length = this.#fixed(4, (at) => this.uint32At(at)) as number;
        const element = type.slice(1);
        this.align(ALIGNMENT[element[0]!]!);
        this.#need(length);
        const end = this.at + length;
        if (element === 'y') {
          const value = Buffer.from(bytes.subarray(this.at, end));
          this.at = end;
          return value;
        }
        const items: unknown[] = [];
        while (this.at < end) items.push(this.value(element));
        if (this.at !== end) throw new Error('D-Bus: an array whose length does not add up');
        return items;
      }
      case '(':
      case '{':
        this.align(8);
        return splitSignature(type.slice(1, -1)).map((member) => this.value(member));
      default:
        throw new Error(`D-Bus: reading type ${code} is not supported`);
    }
  }
}
