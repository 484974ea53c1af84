import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import type { AuthConfig } from '../config/auth-config.ts';
import { keychainAccount } from '../entry/format.ts';
import { AuthError } from '../errors.ts';
import type { Keychain } from '../keychain/keychain.ts';
import type { Logger } from '../../shared/logger.ts';
import { toErrorInfo } from '../../shared/errors.ts';
import type { AuthSession } from '../session/auth-session.ts';
import { createAuthSession } from '../session/start.ts';
import { prepareSocketFolder } from './folder.ts';
import { encodeLine, errorFrom, lineReader, type AgentMessage, type AgentRequest, type AgentValue, type ClientMessage } from './wire.ts';

export interface AgentOptions {
  config: AuthConfig;
  /** Where the agent keeps its sessions: its memory (`createMemoryKeychain(…, 'agent')`) or the sealed file of `--keep`. */
  keychain: Keychain;
  socketPath: string;
  /** The file `keychain` keeps its sessions in (`--keep FILE`), for `doctor`; none when they live in memory only. */
  keptIn?: string;
  /** Forget everything and stop this long after starting. */
  lifetimeMs?: number;
  /** Forget everything and stop after this long without a request. */
  idleMs?: number;
  logger: Logger;
}

export interface RunningAgent {
  /** Resolves with why the agent stopped (asked, a signal, its lifetime or idle time), once its sessions are forgotten. */
  readonly stopped: Promise<string>;
  /** Stops taking requests, lets a refresh in flight store its rotation, forgets every session, removes the socket. */
  stop(why: string): Promise<string>;
}

/** What one connection is in the middle of: the sign-in whose browser the client opens. */
interface Relay {
  send(message: AgentMessage): void;
  replies: Map<number, (reply: ClientMessage) => void>;
}

/**
 * Starts a `latchkey agent` on `socketPath`: the only holder of its sessions' refresh tokens and DPoP keys, in
 * `keychain` (its memory, or the file it keeps). Each session is keyed by its keychain account, as the OS keychain's
 * entries are. The agent signs in itself (the loopback listener is here; a client opens the browser, or shows the
 * code), does every refresh (one process, so one at a time by construction), and hands out only access tokens,
 * request headers with its DPoP proofs, and state. A refresh token or private key never crosses the socket.
 *
 * Who may connect is decided by the socket's folder (0700, this user's): Node offers no SO_PEERCRED, and the only
 * processes the kernel lets through that folder are this user's and root's — and root can read the agent's memory
 * anyway. (Asking `ss -xp` would not help: a non-root agent cannot see a root process's sockets in /proc.)
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { config, logger, socketPath } = options;
  prepareSocketFolder(socketPath);
  await removeStaleSocket(socketPath);

  const account = keychainAccount(config);
  const relays = new Map<string, { relay: Relay; id: number }>();
  const sessions = new Map<string, Promise<AuthSession>>();
  const sessionFor = (wanted: string): Promise<AuthSession> => {
    if (wanted !== account) {
      throw new AuthError(
        'config_invalid',
        `This agent keeps sessions for ${account}, not ${wanted}: start the agent with the same settings (AUTH_ISSUER, AUTH_CLIENT_ID) as the command, or unset LATCHKEY_AGENT_SOCK.`,
      );
    }
    let session = sessions.get(wanted);
    if (!session) {
      const opener = async (url: string): Promise<void> => {
        const current = relays.get(wanted);
        if (!current) throw new AuthError('browser_unavailable', 'No command is waiting to open the browser.');
        const { relay, id } = current;
        const reply = await new Promise<ClientMessage>((resolve) => {
          relay.replies.set(id, resolve);
          relay.send({ id, event: 'open', url });
        });
        if ('reply' in reply && reply.reply === 'open-failed') throw errorFrom(reply.error);
      };
      session = createAuthSession({ config, keychain: options.keychain, opener, logger });
      sessions.set(wanted, session);
    }
    return session;
  };

  let inFlight = 0;
  let stopping: Promise<string> | undefined;
  let resolveStopped: (why: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (resolveStopped = resolve));
  let idleTimer: NodeJS.Timeout | undefined;
  const touch = () => {
    if (options.idleMs === undefined) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => (inFlight > 0 ? touch() : void stop(`it was idle for ${Math.round(options.idleMs! / 1000)} s`)), options.idleMs);
  };
  const lifetimeTimer = options.lifetimeMs === undefined ? undefined : setTimeout(() => void stop(`its lifetime of ${Math.round(options.lifetimeMs! / 1000)} s ended`), options.lifetimeMs);

  const answer = async (request: AgentRequest, relay: Relay): Promise<AgentMessage> => {
    if (request.op === 'about') return { id: request.id, ok: true, state: { status: 'signed-out' }, value: { keptIn: options.keptIn ?? null, pid: process.pid } };
    if (request.op === 'stop') {
      setImmediate(() => void stop('it was asked to stop'));
      return { id: request.id, ok: true, state: { status: 'signed-out' } };
    }
    const session = await sessionFor(request.account);
    let value: AgentValue | undefined;
    switch (request.op) {
      case 'state':
        break;
      case 'token':
        value = await session.getAccessToken(typeof request.api === 'string' ? request.api : undefined);
        break;
      case 'refresh':
        value = await session.refreshAccessToken(request.rejected);
        break;
      case 'headers':
        value = await session.requestHeaders({ method: request.method, url: request.url, ...(request.nonce ? { nonce: request.nonce } : {}) });
        break;
      case 'offers-device':
        value = await session.offersDeviceSignIn();
        break;
      case 'sign-out':
        value = await session.signOut();
        break;
      case 'sign-in': {
        relays.set(request.account, { relay, id: request.id });
        const unsubscribe = session.onStateChange((state) => relay.send({ id: request.id, event: 'state', state }));
        try {
          await session.signIn({ method: request.method, ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}) });
        } finally {
          unsubscribe();
          if (relays.get(request.account)?.relay === relay) relays.delete(request.account);
        }
        break;
      }
    }
    return { id: request.id, ok: true, state: session.getState(), ...(value === undefined ? {} : { value }) };
  };

  const serve = (socket: Socket) => {
    touch();
    const replies = new Map<number, (reply: ClientMessage) => void>();
    const relay: Relay = { send: (message) => void (socket.writable && socket.write(encodeLine(message))), replies };
    const onMessage = (message: unknown) => {
      const known = message as Partial<ClientMessage> | null;
      if (typeof known?.id !== 'number') return void socket.destroy();
      const id = known.id;
      if ('reply' in known) return void replies.get(id)?.(known as ClientMessage);
      inFlight++;
      touch();
      const answering: Promise<AgentMessage> = stopping
        ? Promise.resolve({ id, ok: false, error: { code: 'session_ended', message: 'The Latchkey agent is stopping; its sessions are forgotten.' } })
        : answer(known as AgentRequest, relay);
      void answering
        .catch((error: unknown): AgentMessage => ({ id, ok: false, error: toErrorInfo(error) }))
        .then((reply) => relay.send(reply))
        .finally(() => {
          inFlight--;
          touch();
        });
    };
    socket.on('data', lineReader(onMessage, () => socket.destroy()));
    socket.on('error', () => {});
    // A client that leaves (Ctrl-C) while its sign-in runs cancels that sign-in: nobody would see its code or open its page.
    socket.on('close', () => {
      for (const [wanted, current] of relays) {
        if (current.relay !== relay) continue;
        relays.delete(wanted);
        void sessions.get(wanted)?.then((session) => session.cancelSignIn());
      }
    });
  };

  const server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // The folder keeps others out; the socket itself is closed to them too, whatever the umask.
  chmodSync(socketPath, 0o600);
  touch();

  const stop = (why: string): Promise<string> => {
    stopping ??= (async () => {
      clearTimeout(idleTimer);
      clearTimeout(lifetimeTimer);
      server.close();
      // A refresh in flight stores its rotation first (in memory, or the kept file); then everything is forgotten.
      for (const session of sessions.values()) {
        const opened = await session.catch(() => undefined);
        opened?.cancelSignIn();
        await opened?.whenIdle().catch(() => {});
        await opened?.close();
      }
      sessions.clear();
      try {
        unlinkSync(socketPath);
      } catch {
        // Already gone.
      }
      logger.info('agent stopped', { why });
      resolveStopped(why);
      return why;
    })();
    return stopping;
  };

  return { stopped, stop };
}

/** A socket left by an agent that died is removed; one that answers belongs to a running agent and is refused. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const info = lstatSync(socketPath, { throwIfNoEntry: false });
  if (!info) return;
  if (!info.isSocket()) throw new AuthError('config_invalid', `${socketPath} exists and is not a socket; remove it or choose another path with --socket.`);
  const answers = await new Promise<boolean>((resolve) => {
    const probe = createConnection(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answers) throw new AuthError('config_invalid', `A Latchkey agent already runs at ${socketPath}. Use it (LATCHKEY_AGENT_SOCK=${socketPath}), or stop it first with \`latchkey agent --stop\`.`);
  unlinkSync(socketPath);
}
