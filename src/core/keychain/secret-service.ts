// The freedesktop.org Secret Service over D-Bus, asked directly for what
// libsecret (under keytar) does not say: whether an entry exists but is locked.
// keytar's read of a locked entry yields `null`, exactly like a missing one.
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
}

/** How a keychain entry stands in the Secret Service. */
export type ItemState = 'unlocked' | 'locked' | 'absent';

/** The questions the keychain asks the Secret Service. Every answer is undefined when it cannot tell (no bus, no service, no answer in time). */
export interface SecretServiceProbe {
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
  };
}

/** The Secret Service on the session bus, one short-lived connection per question. */
export function createSecretServiceProbe(options: { busAddress?: string | undefined; timeoutMs?: number } = {}): SecretServiceProbe {
  const ask = async <T>(question: (connection: DbusConnection) => Promise<T>): Promise<T | undefined> => {
    const address = options.busAddress ?? process.env.DBUS_SESSION_BUS_ADDRESS;
    if (!address) return undefined;
    let connection: DbusConnection | undefined;
    try {
      connection = openDbusConnection(address, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
      return await question(connection);
    } catch {
      return undefined;
    } finally {
      connection?.close();
    }
  };
  return {
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
        const locked = variantValue(value);
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

/** dbus-native returns a variant as `[signature, [value]]`. */
function variantValue(variant: unknown): unknown {
  return Array.isArray(variant) && Array.isArray(variant[1]) ? variant[1][0] : undefined;
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
