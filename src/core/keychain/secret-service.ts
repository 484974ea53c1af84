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
    // No `read` here: reading the secret directly (a DH transfer session, then GetSecrets, as libsecret does) made
    // Debian 12's gnome-keyring-daemon abort (a GLib trap, the whole daemon and the user's unlocked keyring with it)
    // once in a CI run and after a few hundred to a thousand reads in a stress loop, with or without a padded public
    // key. Until that is understood, secrets are read through libsecret (keytar); only the questions that carry no
    // secret (is the item there, is it locked, does a Secret Service answer) go over D-Bus here.
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
