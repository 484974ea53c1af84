// A D-Bus client connection with only what the Secret Service questions need — a
// method call and its reply — over @homebridge/dbus-native's own handshake and
// message (un)marshalling. Its full `sessionBus()` also loads an XML parser for
// introspection (xml2js) at require time, a third of a `latchkey token` start;
// nothing here introspects. https://dbus.freedesktop.org/doc/dbus-specification.html
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

/** One D-Bus method call, as @homebridge/dbus-native marshals it. */
export interface DbusCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
}

/** A reply's error as dbus-native's bus reports it: the D-Bus error name and its message. */
export type DbusReplyError = { name?: string; message?: unknown };

/** The part of a dbus-native bus used here: call a method, hear about a broken connection, hang up. */
export interface DbusBus {
  connection: { on(event: 'error', listener: (error: Error) => void): void; end(): void };
  invoke(message: DbusCall, callback: (error: DbusReplyError | undefined, ...values: unknown[]) => void): void;
}

interface WireMessage extends Partial<DbusCall> {
  type: number;
  serial: number;
  replySerial?: number;
  errorName?: string;
}
interface Wire {
  marshall(message: WireMessage): Buffer;
  unmarshalMessages(stream: Duplex, onMessage: (message: WireMessage) => void, options: object): void;
  handshake(stream: Duplex, options: object, done: (error: Error | null | undefined) => void): void;
}

const METHOD_CALL = 1;
const METHOD_RETURN = 2;
const ERROR = 3;

// CommonJS, loaded on the first question (most runs ask none); a plain require keeps connecting synchronous.
let wire: Wire | undefined;
function loadWire(): Wire {
  if (wire) return wire;
  const load = createRequire(import.meta.url);
  const message = load('@homebridge/dbus-native/lib/message.js') as Pick<Wire, 'marshall' | 'unmarshalMessages'>;
  const handshake = load('@homebridge/dbus-native/lib/handshake.js') as Wire['handshake'];
  return (wire = { marshall: message.marshall, unmarshalMessages: message.unmarshalMessages, handshake });
}

/** A client connection on `stream` (already connecting to the bus; see CappedDbusStream): authenticates, says Hello, then carries method calls. */
export function connectDbus(stream: Duplex): DbusBus {
  const { marshall, unmarshalMessages, handshake } = loadWire();
  const replies = new Map<number, (error: DbusReplyError | undefined, ...values: unknown[]) => void>();
  const queued: Buffer[] = [];
  let connected = false;
  let serial = 1;
  handshake(stream, {}, (error) => {
    if (error) return void stream.destroy(error);
    connected = true;
    unmarshalMessages(
      stream,
      (message) => {
        if (message.type !== METHOD_RETURN && message.type !== ERROR) return;
        const reply = message.replySerial === undefined ? undefined : replies.get(message.replySerial);
        if (!reply) return;
        replies.delete(message.replySerial!);
        const body = message.body ?? [];
        if (message.type === METHOD_RETURN) reply(undefined, ...body);
        else reply({ name: message.errorName, message: typeof body[0] === 'string' ? body[0] : '' });
      },
      {},
    );
    for (const bytes of queued.splice(0)) stream.write(bytes);
  });
  const invoke: DbusBus['invoke'] = (call, callback) => {
    const message = { ...call, type: METHOD_CALL, serial: serial++ };
    replies.set(message.serial, callback);
    const bytes = marshall(message);
    if (connected) stream.write(bytes);
    else queued.push(bytes);
  };
  // A bus admits a connection only after Hello; a refusal shows as the next call's error.
  invoke({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'Hello' }, () => undefined);
  return { connection: { on: (_event, listener) => void stream.on('error', listener), end: () => void stream.end() }, invoke };
}
