import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import type { AuthConfig } from '../config/auth-config.ts';
import { openAccountIndex } from '../accounts/account-index.ts';
import { defaultAccount, findAccount } from '../accounts/account-names.ts';
import { keychainAccount } from '../entry/format.ts';
import { defaultLockDir } from '../entry/lock-folder.ts';
import { AuthError } from '../errors.ts';
import type { Keychain } from '../keychain/keychain.ts';
import type { Logger } from '../../shared/logger.ts';
import { toErrorInfo } from '../../shared/errors.ts';
import type { AuthSession } from '../session/auth-session.ts';
import { createAuthSession } from '../session/start.ts';
import { prepareSocketFolder } from './folder.ts';
import { loadPeerCheck } from './peer.ts';
import { encodeLine, errorFrom, lineReader, type AgentMessage, type AgentRequest, type AgentValue, type ClientMessage } from './wire.ts';

export interface AgentOptions {
  config: AuthConfig;
  /** Where the agent keeps its sessions: its memory (`createMemoryKeychain(…, 'agent')`) or the sealed file of `--keep`. */
  keychain: Keychain;
  socketPath: string;
  /** Where the accounts' index and the entries' locks live (default `defaultLockDir()`, shared with the user's other processes). */
  lockDir?: string;
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
  /** Writes `message`; `written` is called once it left (or the client is gone). */
  send(message: AgentMessage, written?: () => void): void;
  replies: Map<number, (reply: ClientMessage) => void>;
}

/**
 * Starts a `latchkey agent` on `socketPath`: the only holder of its sessions' refresh tokens and DPoP keys, in
 * `keychain` (its memory, or the file it keeps). It keeps one session per account, as the OS keychain keeps one
 * entry per account, in the same accounts' index: a command names its account (`--account`) or gets the default. The agent signs in itself (the loopback listener is here; a client opens the browser, or shows the
 * code), does every refresh (one process, so one at a time by construction), and hands out only access tokens,
 * request headers with its DPoP proofs, and state. A refresh token or private key never crosses the socket.
 *
 * Who may connect: this user and root (who can read the agent's memory anyway). The socket's folder (0700, this
 * user's) lets only them through, and each connection's peer is asked of the kernel (`peer.ts`: SO_PEERCRED,
 * getpeereid) where the OS can tell; where it cannot, the folder alone decides and the agent says so.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { config, logger, socketPath } = options;
  prepareSocketFolder(socketPath);
  await removeStaleSocket(socketPath);
  const peers = await loadPeerCheck(logger);

  const served = keychainAccount(config);
  const accounts = openAccountIndex(config, options.lockDir ?? defaultLockDir(), logger);
  /** The sessions, one per account (by `sub`; '' before any account exists), each with the command that signs it in. */
  const sessions = new Map<string, Promise<AuthSession>>();
  const signingIn = new Map<Promise<AuthSession>, { relay: Relay; id: number }>();

  const openSession = (account: string | undefined): Promise<AuthSession> => {
    const self: { session?: Promise<AuthSession> } = {};
    // The loopback listener is here; the browser is the command's: the page to open goes to the command signing in.
    const opener = async (url: string): Promise<void> => {
      const current = self.session && signingIn.get(self.session);
      if (!current) throw new AuthError('browser_unavailable', 'No command is waiting to open the browser.');
      const { relay, id } = current;
      const reply = await new Promise<ClientMessage>((resolve) => {
        relay.replies.set(id, resolve);
        relay.send({ id, event: 'open', url });
      });
      if ('reply' in reply && reply.reply === 'open-failed') throw errorFrom(reply.error);
    };
    self.session = createAuthSession({ config, keychain: options.keychain, opener, logger, ...(options.lockDir ? { lockDir: options.lockDir } : {}), ...(account === undefined ? {} : { account }) });
    return self.session;
  };

  /** The session of the account a command names (by name or `sub`), else of the default account as it is now. */
  const sessionFor = async (request: AgentRequest): Promise<{ key: string; session: Promise<AuthSession> }> => {
    if (request.client !== served) {
      throw new AuthError(
        'config_invalid',
        `This agent keeps sessions for ${served}, not ${request.client}: start the agent with the same settings (AUTH_ISSUER, AUTH_CLIENT_ID) as the command, or unset LATCHKEY_AGENT_SOCK.`,
      );
    }
    const list = accounts.read();
    const record = request.account === undefined ? defaultAccount(list) : findAccount(list, request.account);
    // An account nobody signed in as: the session's start says so (account_unknown), naming those there are.
    if (request.account !== undefined && !record) return { key: '', session: openSession(request.account) };
    const key = record?.sub ?? '';
    let session = sessions.get(key);
    if (!session) {
      session = openSession(record?.sub);
      sessions.set(key, session);
      session.catch(() => sessions.delete(key));
    }
    return { key, session };
  };

  /** A session that now acts for another account (a sign-in that added one) replaces the one the agent kept for it. */
  const keep = async (key: string, session: Promise<AuthSession>): Promise<void> => {
    const previous = sessions.get(key);
    sessions.set(key, session);
    if (previous && previous !== session) await retire(previous);
  };

  const retire = async (session: Promise<AuthSession>): Promise<void> => {
    const opened = await session.catch(() => undefined);
    opened?.cancelSignIn();
    await opened?.whenIdle().catch(() => {});
    await opened?.close();
  };

  let inFlight = 0;
  /** Waiting for every request in flight to have its answer written (a stop, before the process exits). */
  const answered: (() => void)[] = [];
  const allAnswered = () => new Promise<void>((settle) => (inFlight === 0 ? settle() : answered.push(settle)));
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
    if (request.op === 'about') return { id: request.id, ok: true, state: { status: 'signed-out' }, value: { keptIn: options.keptIn ?? null, pid: process.pid, peers: peers.relies } };
    if (request.op === 'stop') {
      setImmediate(() => void stop('it was asked to stop'));
      return { id: request.id, ok: true, state: { status: 'signed-out' } };
    }
    const { key, session: opening } = await sessionFor(request);
    // Adding an account (a sign-in without one named): a session of its own, so the one kept for the default account is untouched.
    const adding = request.op === 'sign-in' && request.adding;
    const sessionPromise = adding ? openSession(undefined) : opening;
    const session = await sessionPromise;
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
        if (sessions.get(key) === sessionPromise) sessions.delete(key);
        setImmediate(() => void retire(sessionPromise));
        break;
      case 'sign-in': {
        signingIn.set(sessionPromise, { relay, id: request.id });
        const unsubscribe = session.onStateChange((state) => relay.send({ id: request.id, event: 'state', state }));
        try {
          const signedIn = await session.signIn({ adding: request.adding, method: request.method, ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}), ...(request.stepUp ? { stepUp: request.stepUp } : {}) });
          if (adding) await keep(signedIn.user?.sub ?? '', sessionPromise);
        } catch (error) {
          if (adding) void retire(sessionPromise);
          throw error;
        } finally {
          unsubscribe();
          signingIn.delete(sessionPromise);
        }
        break;
      }
    }
    return { id: request.id, ok: true, state: session.getState(), ...(value === undefined ? {} : { value }) };
  };

  const serve = (socket: Socket) => {
    if (!peers.admits(socket)) return;
    touch();
    const replies = new Map<number, (reply: ClientMessage) => void>();
    const relay: Relay = {
      send: (message, written = () => {}) => {
        if (!socket.writable) return written();
        socket.write(encodeLine(message), () => written());
      },
      replies,
    };
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
        .then((reply) => new Promise<void>((written) => relay.send(reply, written)))
        .finally(() => {
          inFlight--;
          touch();
          if (inFlight === 0) for (const settle of answered.splice(0)) settle();
        });
    };
    socket.on('data', lineReader(onMessage, () => socket.destroy()));
    socket.on('error', () => {});
    // A client that leaves (Ctrl-C) while its sign-in runs cancels that sign-in: nobody would see its code or open its page.
    socket.on('close', () => {
      for (const [session, current] of signingIn) {
        if (current.relay !== relay) continue;
        signingIn.delete(session);
        void session.then((opened) => opened.cancelSignIn(), () => {});
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
      // A refresh in flight stores its rotation first (in memory, or the kept file), and the command waiting for it
      // gets its token; a sign-in in flight is cancelled. Then everything is forgotten.
      await Promise.all([...new Set([...sessions.values(), ...signingIn.keys()])].map(retire));
      await allAnswered();
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
