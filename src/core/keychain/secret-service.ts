// The freedesktop.org Secret Service over D-Bus, asked directly for what
// libsecret (under keytar) does not say — whether an entry exists but is locked;
// keytar's read of a locked entry yields `null`, exactly like a missing one — and
// for an unlocked entry's secret, read without loading libsecret at all.
// https://specifications.freedesktop.org/secret-service-spec/latest/
import { createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyPairKeyObjectResult } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { CappedDbusStream } from './dbus-stream.ts';
import { connectDbus, type DbusCall } from './dbus-wire.ts';

const SECRETS = 'org.freedesktop.secrets';
const SERVICE_PATH = '/org/freedesktop/secrets';
const DEFAULT_COLLECTION = '/org/freedesktop/secrets/aliases/default';


export interface DbusConnection {
  /** The reply's arguments; rejects with the D-Bus error name and message, or after the timeout. */
  call(message: DbusCall): Promise<unknown[]>;
  close(): void;
  /** Whether an open connection keeps the process alive (it does at first). */
  keepAlive(alive: boolean): void;
}

/** How a keychain entry stands in the Secret Service. */
export type ItemState = 'unlocked' | 'locked' | 'absent';

/** An entry as one read finds it: its state, and its secret when it is unlocked. */
export type ItemRead = { state: 'unlocked'; secret: string } | { state: 'locked' | 'absent' };

/** The questions the keychain asks the Secret Service. Every answer is undefined when it cannot tell (no bus, no service, no answer in time). */
export interface SecretServiceProbe {
  /**
   * keytar's entry for `service`/`account`, read in one connection: the secret of an unlocked entry (the first, as
   * libsecret takes), or that it is locked or absent. Never unlocks anything, so never prompts.
   */
  read?(service: string, account: string): Promise<ItemRead | undefined>;
  /** Whether keytar's entry for `service`/`account` exists and is locked (libsecret's generic schema: `service` and `account` attributes). */
  itemState(service: string, account: string): Promise<ItemState | undefined>;
  /** Whether the default collection — where a new entry is stored — is locked; undefined also when there is none. */
  defaultCollectionLocked(): Promise<boolean | undefined>;
  /** Whether a Secret Service answers on the bus at all. */
  isRunning(): Promise<boolean>;
}

/**
 * Connects to the D-Bus bus at `address` (a D-Bus server address, e.g. the
 * session bus's `DBUS_SESSION_BUS_ADDRESS`): `unix:path=`, Linux's
 * `unix:abstract=` or `tcp:`, always over a socket of our own whose replies
 * are capped (`CappedDbusStream`) and which `close()` destroys. Other
 * transports are not used: the question then has no answer.
 */
export function openDbusConnection(address: string, options: { timeoutMs?: number } = {}): DbusConnection {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const socket = socketFor(address);
  if (!socket) throw new Error(`D-Bus: no usable transport in the bus address (${address.split(':')[0]})`);
  const stream = new CappedDbusStream(socket);
  const bus = connectDbus(stream);
  let failure: Error | undefined;
  const pending = new Set<(error: Error) => void>();
  bus.connection.on('error', (error) => {
    failure = error;
    for (const reject of pending) reject(error);
  });
  return {
    call(message) {
      if (failure) return Promise.reject(failure);
      return new Promise<unknown[]>((resolve, reject) => {
        const settle = () => {
          clearTimeout(timer);
          pending.delete(reject);
        };
        const timer = setTimeout(() => {
          settle();
          reject(new Error(`D-Bus: no answer to ${message.member} within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
        pending.add(reject);
        bus.invoke(message, (error, ...values) => {
          settle();
          if (error) reject(Object.assign(new Error(`${error.name ?? 'D-Bus error'}: ${String(error.message ?? '')}`), { dbusName: error.name }));
          else resolve(values);
        });
      });
    },
    close() {
      // Destroyed, not ended: a peer that never answers would keep a half-closed socket open.
      stream.destroy();
    },
    keepAlive(alive) {
      if (alive) socket.ref();
      else socket.unref();
    },
  };
}

/** How long a connection stays open after its last question, for the next (the keychain's opening, then its read). */
const LINGER_MS = 200;

/**
 * The Secret Service on the session bus, over one short-lived connection: questions asked close together (the
 * keychain's opening and its first read) share it, and it closes a moment after the last, or at once on any failure.
 * While it waits for the next question it does not keep the process alive.
 */
export function createSecretServiceProbe(options: { busAddress?: string | undefined; timeoutMs?: number } = {}): SecretServiceProbe {
  let open: { connection: DbusConnection; asking: number; linger?: NodeJS.Timeout } | undefined;
  const ask = async <T>(question: (connection: DbusConnection) => Promise<T>): Promise<T | undefined> => {
    const address = options.busAddress ?? process.env.DBUS_SESSION_BUS_ADDRESS;
    if (!address) return undefined;
    let current: typeof open;
    try {
      current = open ??= { connection: openDbusConnection(address, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), asking: 0 };
      clearTimeout(current.linger);
      current.asking += 1;
      current.connection.keepAlive(true);
      return await question(current.connection);
    } catch {
      if (current) {
        if (open === current) open = undefined;
        current.connection.close();
      }
      return undefined;
    } finally {
      if (current && (current.asking -= 1) === 0 && open === current) {
        const lingering = current;
        lingering.connection.keepAlive(false);
        lingering.linger = setTimeout(() => {
          if (open === lingering) open = undefined;
          lingering.connection.close();
        }, LINGER_MS);
        lingering.linger.unref();
      }
    }
  };
  return {
    read: (service, account) => ask((connection) => readItem(connection, service, account)),
    itemState: (service, account) =>
      ask(async (connection) => {
        const [unlocked, locked] = await connection.call({
          destination: SECRETS,
          path: SERVICE_PATH,
          interface: 'org.freedesktop.Secret.Service',
          member: 'SearchItems',
          signature: 'a{ss}',
          body: [[['service', service], ['account', account]]],
        });
        if (Array.isArray(unlocked) && unlocked.length > 0) return 'unlocked';
        return Array.isArray(locked) && locked.length > 0 ? 'locked' : 'absent';
      }),
    defaultCollectionLocked: () =>
      ask(async (connection) => {
        const [value] = await connection.call({
          destination: SECRETS,
          path: DEFAULT_COLLECTION,
          interface: 'org.freedesktop.DBus.Properties',
          member: 'Get',
          signature: 'ss',
          body: ['org.freedesktop.Secret.Collection', 'Locked'],
        });
        // dbus-wire.ts reads a variant as the value it holds.
        const locked = value;
        return typeof locked === 'boolean' ? locked : undefined;
      }),
    isRunning: async () =>
      (await ask(async (connection) => {
        const [owned] = await connection.call({
          destination: 'org.freedesktop.DBus',
          path: '/org/freedesktop/DBus',
          interface: 'org.freedesktop.DBus',
          member: 'NameHasOwner',
          signature: 's',
          body: [SECRETS],
        });
        return owned === true;
      })) === true,
  };
}

const SECRET_SERVICE = { destination: SECRETS, path: SERVICE_PATH, interface: 'org.freedesktop.Secret.Service' };
/** The schema keytar stores under (libsecret's generic one), which libsecret's own lookup matches too. */
const KEYTAR_SCHEMA = 'org.freedesktop.Secret.Generic';

/**
 * The Secret Service's read of one entry as libsecret makes it for keytar's `getPassword`, minus the unlock: a
 * transfer session with the spec's Diffie-Hellman algorithm (so the secret crosses the bus encrypted, as libsecret
 * sends it), the search, and the unlocked item's secret. The session and the search go out together.
 */
async function readItem(connection: DbusConnection, service: string, account: string): Promise<ItemRead> {
  const transfer = openTransfer();
  const [[output, session], [unlocked, locked]] = await Promise.all([
    connection.call({ ...SECRET_SERVICE, member: 'OpenSession', signature: 'sv', body: [TRANSFER_ALGORITHM, ['ay', transfer.publicKey]] }),
    connection.call({ ...SECRET_SERVICE, member: 'SearchItems', signature: 'a{ss}', body: [[['service', service], ['account', account], ['xdg:schema', KEYTAR_SCHEMA]]] }),
  ]);
  const item = Array.isArray(unlocked) ? unlocked[0] : undefined;
  if (typeof item !== 'string') return { state: Array.isArray(locked) && locked.length > 0 ? 'locked' : 'absent' };
  if (!Buffer.isBuffer(output) || typeof session !== 'string') throw new Error('Secret Service: an unexpected OpenSession answer');
  const key = transfer.key(output);
  const [secrets] = await connection.call({ ...SECRET_SERVICE, member: 'GetSecrets', signature: 'aoo', body: [[item], session] });
  const found = Array.isArray(secrets) ? (secrets as [string, unknown][]).find(([path]) => path === item)?.[1] : undefined;
  const [, parameters, value] = Array.isArray(found) ? found : [];
  if (!Buffer.isBuffer(parameters) || !Buffer.isBuffer(value)) throw new Error('Secret Service: an unexpected GetSecrets answer');
  connection.call({ destination: SECRETS, path: session, interface: 'org.freedesktop.Secret.Session', member: 'Close' }).catch(() => undefined);
  return { state: 'unlocked', secret: new TextDecoder('utf-8', { fatal: true }).decode(decryptSecret(key, parameters, value)) };
}

/**
 * The spec's "dh-ietf1024-sha256-aes128-cbc-pkcs7" transfer algorithm: Diffie-Hellman over the IETF 1024-bit MODP
 * group (RFC 2409 §6.2, `modp2`), the shared secret — big-endian, zero-padded to the prime's length — through
 * HKDF-SHA256 (no salt, no info) into a 128-bit AES key; each secret AES-128-CBC with PKCS#7 padding, its IV as the
 * secret's parameters. A secret that does not decrypt to UTF-8 text (a service that derives the key otherwise) is an
 * error, never a wrong secret: the read then goes through libsecret.
 */
const TRANSFER_ALGORITHM = 'dh-ietf1024-sha256-aes128-cbc-pkcs7';

function openTransfer(): { publicKey: Buffer; key(peerPublicKey: Buffer): Buffer } {
  // A key pair of the named group: Node's getDiffieHellman('modp2') checks the group's prime first, some 15 ms.
  const { publicKey, privateKey } = (generateKeyPairSync as unknown as (type: 'dh', options: { group: string }) => KeyPairKeyObjectResult)('dh', { group: 'modp2' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const [algorithm, subjectKey] = derChildren(spki);
  // The BIT STRING holds (after its unused-bits byte) the INTEGER of our public number.
  const ours = derContent(derContent(subjectKey!).subarray(1));
  return {
    publicKey: unsigned(ours),
    key(peerPublicKey) {
      // The peer's key in the same SubjectPublicKeyInfo as ours (RFC 5280 §4.1.2.7): our group, its number.
      const peer = createPublicKey({ key: der(0x30, [algorithm!, der(0x03, [Buffer.from([0]), derInteger(peerPublicKey)])]), format: 'der', type: 'spki' });
      // Zero-padded to the prime's 128 bytes, as gnome-keyring takes it (a secret with a leading zero byte is 1 in 256).
      const computed = diffieHellman({ privateKey, publicKey: peer });
      const shared = Buffer.concat([Buffer.alloc(Math.max(0, 128 - computed.length)), computed]);
      return Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), Buffer.alloc(0), 16));
    },
  };
}

/** A big-endian number without its leading zero bytes. */
function unsigned(bytes: Buffer): Buffer {
  let first = 0;
  while (first < bytes.length - 1 && bytes[first] === 0) first += 1;
  return bytes.subarray(first);
}

/** DER (X.690): one element, its content the concatenated `parts`. */
function der(tag: number, parts: Buffer[]): Buffer {
  const content = Buffer.concat(parts);
  const length = content.length < 0x80 ? Buffer.from([content.length]) : lengthBytes(content.length);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

function lengthBytes(length: number): Buffer {
  const bytes = unsigned(Buffer.from(length.toString(16).padStart(8, '0'), 'hex'));
  return Buffer.concat([Buffer.from([0x80 | bytes.length]), bytes]);
}

/** A DER INTEGER of an unsigned big-endian number (a leading zero byte where its top bit is set). */
function derInteger(value: Buffer): Buffer {
  const digits = unsigned(value);
  return der(0x02, [digits[0]! & 0x80 ? Buffer.from([0]) : Buffer.alloc(0), digits]);
}

/** The content of the DER element at the start of `bytes`, and where the element ends. */
function derElement(bytes: Buffer): { content: Buffer; end: number } {
  let at = 1;
  let length = bytes[at++]!;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + bytes[at++]!;
  }
  return { content: bytes.subarray(at, at + length), end: at + length };
}

function derContent(element: Buffer): Buffer {
  return derElement(element).content;
}

/** The elements inside the DER element at the start of `bytes`, each whole (tag, length, content). */
function derChildren(bytes: Buffer): Buffer[] {
  const { content } = derElement(bytes);
  const children: Buffer[] = [];
  for (let at = 0; at < content.length; ) {
    const { end } = derElement(content.subarray(at));
    children.push(content.subarray(at, at + end));
    at += end;
  }
  return children;
}

function decryptSecret(key: Buffer, iv: Buffer, value: Buffer): Buffer {
  const decipher = createDecipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([decipher.update(value), decipher.final()]);
}

function socketFor(address: string): Socket | undefined {
  for (const candidate of address.split(';')) {
    const [transport, rest = ''] = candidate.split(/:(.*)/s, 2);
    const params = new Map(rest.split(',').map((pair) => pair.split('=', 2) as [string, string]));
    if (transport === 'tcp' && params.get('port')) return createConnection(Number(params.get('port')), params.get('host') ?? '127.0.0.1');
    if (transport !== 'unix') continue;
    const path = params.get('path');
    if (path) return createConnection(decodeURIComponent(path));
    const abstract = params.get('abstract');
    // Node reaches Linux's abstract socket namespace through a leading NUL.
    if (abstract) return createConnection(`\0${decodeURIComponent(abstract)}`);
  }
  return undefined;
}
