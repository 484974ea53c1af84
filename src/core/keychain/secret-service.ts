// The freedesktop.org Secret Service over D-Bus, asked directly for what
// libsecret (under keytar) does not say — whether an entry exists but is locked;
// keytar's read of a locked entry yields `null`, exactly like a missing one — and
// for an unlocked entry's secret, read without loading libsecret at all.
// https://specifications.freedesktop.org/secret-service-spec/latest/
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
 * keytar's `getPassword` as libsecret makes it, minus the unlock, in libsecret's order: the search, then a transfer
 * session, then the unlocked item's secret.
 *
 * The order is what keeps gnome-keyring alive. gnome-keyring-daemon records a caller in an idle callback after its
 * first message, and an `OpenSession` handled before that record exists aborts the whole daemon (`assertion 'client'
 * failed`, then a GLib error in `g_variant_new`; upstream work items 190, 196 and 199): the user's unlocked keyring
 * goes with it. Sent first, or together with the search, `OpenSession` did that here under concurrent reads
 * (Debian 12's gnome-keyring 42.1). libsecret's first message is a property read and its session comes after the
 * answer; ours is the search, and the session comes only after the search has been answered — and only when there
 * is an unlocked item to read. The race still meets a search now and then under many concurrent readers (about 1
 * read in 500 in keychain.test.ts's stress); gnome-keyring survives that and never answers the search, so that read
 * waits for its timeout and goes through libsecret instead.
 *
 * The transfer is the spec's `plain` algorithm, as the GitHub CLI's keyring library (zalando/go-keyring) reads it:
 * the secret crosses the session bus, which only this user's processes reach, and any of them may ask the Secret
 * Service for it anyway; encrypting it for the trip (libsecret's Diffie-Hellman) would load node:crypto for nothing
 * on every `latchkey token`. The session is not closed: it ends with the connection.
 */
async function readItem(connection: DbusConnection, service: string, account: string): Promise<ItemRead> {
  const [unlocked, locked] = await connection.call({ ...SECRET_SERVICE, member: 'SearchItems', signature: 'a{ss}', body: [[['service', service], ['account', account], ['xdg:schema', KEYTAR_SCHEMA]]] });
  const item = Array.isArray(unlocked) ? unlocked[0] : undefined;
  if (typeof item !== 'string') return { state: Array.isArray(locked) && locked.length > 0 ? 'locked' : 'absent' };
  const [, session] = await connection.call({ ...SECRET_SERVICE, member: 'OpenSession', signature: 'sv', body: ['plain', ['s', '']] });
  if (typeof session !== 'string') throw new Error('Secret Service: an unexpected OpenSession answer');
  const [secrets] = await connection.call({ ...SECRET_SERVICE, member: 'GetSecrets', signature: 'aoo', body: [[item], session] });
  const found = Array.isArray(secrets) ? (secrets as [string, unknown][]).find(([path]) => path === item)?.[1] : undefined;
  const [, , value] = Array.isArray(found) ? found : [];
  if (!Buffer.isBuffer(value)) throw new Error('Secret Service: an unexpected GetSecrets answer');
  // A secret that is not UTF-8 text is an error (the read then goes through libsecret), never a wrong secret.
  return { state: 'unlocked', secret: new TextDecoder('utf-8', { fatal: true }).decode(value) };
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
