import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/**
 * The largest D-Bus message accepted from the bus. The Secret Service's answers
 * asked for here are a few hundred bytes; the D-Bus specification's own limit
 * (128 MiB) would still let a peer make this process buffer that much.
 */
export const MAX_DBUS_MESSAGE_BYTES = 1024 * 1024;
const MAX_AUTH_LINE_BYTES = 16 * 1024;
const HEADER_BYTES = 16;

/**
 * The socket to a D-Bus peer as dbus-wire.ts reads it, with the peer's
 * framing checked before a message is buffered: an authentication line or a
 * message larger than the cap — e.g. a header declaring a 2 GiB body, which
 * would otherwise be waited for and held — destroys the connection with an
 * error instead. Destroying this stream destroys the socket.
 * https://dbus.freedesktop.org/doc/dbus-specification.html#message-protocol-messages
 */
export class CappedDbusStream extends Duplex {
  readonly #socket: Socket;
  readonly #maxBytes: number;
  #authenticated = false;
  #line: number[] = [];
  #header = Buffer.alloc(0);
  #remaining = 0;

  constructor(socket: Socket, maxBytes = MAX_DBUS_MESSAGE_BYTES) {
    super();
    this.#socket = socket;
    this.#maxBytes = maxBytes;
    socket.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      try {
        this.#inspect(chunk);
      } catch (error) {
        this.destroy(error as Error);
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => {
      if (!this.readableEnded) this.destroy();
    });
  }

  /** Passed to the socket. */
  setNoDelay(noDelay = true): this {
    this.#socket.setNoDelay(noDelay);
    return this;
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }

  /** Follows the peer's framing: SASL lines until `OK <guid>`, then messages, each no larger than the cap. */
  #inspect(chunk: Buffer): void {
    let offset = 0;
    while (!this.#authenticated && offset < chunk.length) {
      const byte = chunk[offset++] as number;
      if (byte !== 0x0a) {
        this.#line.push(byte);
        if (this.#line.length > MAX_AUTH_LINE_BYTES) throw new Error(`D-Bus: the peer sent an authentication line over ${MAX_AUTH_LINE_BYTES} bytes`);
        continue;
      }
      this.#authenticated = Buffer.from(this.#line).toString('latin1').startsWith('OK ');
      this.#line = [];
    }
    while (offset < chunk.length) {
      if (this.#remaining > 0) {
        const skipped = Math.min(this.#remaining, chunk.length - offset);
        this.#remaining -= skipped;
        offset += skipped;
        continue;
      }
      const taken = Math.min(HEADER_BYTES - this.#header.length, chunk.length - offset);
      this.#header = Buffer.concat([this.#header, chunk.subarray(offset, offset + taken)]);
      offset += taken;
      if (this.#header.length < HEADER_BYTES) return;
      this.#remaining = messageLength(this.#header, this.#maxBytes) - HEADER_BYTES;
      this.#header = Buffer.alloc(0);
    }
  }
}

/** A message's whole length from its fixed header (endianness, type, flags, version, body length, serial, header fields length). */
function messageLength(header: Buffer, maxBytes: number): number {
  const littleEndian = header[0] === 0x6c;
  if (!littleEndian && header[0] !== 0x42) throw new Error('D-Bus: the peer sent something that is not a D-Bus message');
  const bodyLength = littleEndian ? header.readUInt32LE(4) : header.readUInt32BE(4);
  const fieldsLength = littleEndian ? header.readUInt32LE(12) : header.readUInt32BE(12);
  const length = HEADER_BYTES + Math.ceil(fieldsLength / 8) * 8 + bodyLength;
  if (length > maxBytes) throw new Error(`D-Bus: the peer announced a message of ${length} bytes, over the ${maxBytes}-byte cap`);
  return length;
}
