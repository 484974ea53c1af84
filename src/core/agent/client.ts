import { createConnection, type Socket } from 'node:net';
import type { ApiRequest, ApiRequestHeaders, AuthState } from '../../shared/auth-state.ts';
import { toErrorInfo } from '../../shared/errors.ts';
import { AuthError } from '../errors.ts';
import type { Opener } from '../protocol/flow-context.ts';
import type { AuthSession, SignInOptions } from '../session/auth-session.ts';
import type { SignOutResult } from '../session/sign-out.ts';
import { encodeLine, errorFrom, lineReader, type AgentAbout, type AgentMessage, type AgentRequest, type AgentValue } from './wire.ts';

type Ask = AgentRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id' | 'client' | 'account'> : never) : never;

/**
 * The session of `account` (by name or `sub`; undefined: the default account) at the provider and client `client`
 * (`keychainAccount`), kept by the agent at `socketPath`, as an `AuthSession`: the CLI's commands call it as
 * they call one over the OS keychain, with the same words and exit codes. Resolves once the agent said the
 * session's state; an agent that is not there ends the session, saying how to start one.
 */
export async function connectAgent(socketPath: string, client: string, account: string | undefined, opener: Opener): Promise<AuthSession> {
  const socket = await openSocket(socketPath);
  const waiting = new Map<number, { settle: (message: AgentMessage) => void }>();
  const listeners = new Set<(state: AuthState) => void>();
  let state: AuthState = { status: 'starting' };
  let nextId = 1;
  let closedBy: AuthError | undefined;

  const setState = (next: AuthState) => {
    state = next;
    for (const listener of listeners) listener(state);
  };
  socket.on(
    'data',
    lineReader(
      (message) => {
        const known = message as AgentMessage;
        const pending = waiting.get(known.id);
        if (!pending) return;
        if ('event' in known) {
          if (known.event === 'state') setState(known.state);
          else void opener(known.url).then(
            () => socket.write(encodeLine({ id: known.id, reply: 'opened' })),
            (error: unknown) => socket.write(encodeLine({ id: known.id, reply: 'open-failed', error: toErrorInfo(error) })),
          );
          return;
        }
        waiting.delete(known.id);
        pending.settle(known);
      },
      () => socket.destroy(),
    ),
  );
  socket.on('error', () => {});
  socket.on('close', () => {
    closedBy ??= new AuthError('session_ended', `The Latchkey agent at ${socketPath} stopped, and the session it kept ended with it. Start an agent (eval "$(latchkey agent)") and run \`latchkey login\`.`);
    for (const pending of waiting.values()) pending.settle({ id: 0, ok: false, error: toErrorInfo(closedBy) });
    waiting.clear();
  });

  const ask = async (request: Ask): Promise<AgentValue | undefined> => {
    if (closedBy) throw closedBy;
    const id = nextId++;
    const answer = await new Promise<AgentMessage>((settle) => {
      waiting.set(id, { settle });
      socket.write(encodeLine({ ...request, id, client, ...(account === undefined ? {} : { account }) } as AgentRequest));
    });
    if ('event' in answer) throw errorFrom({ code: 'internal_error', message: 'The agent answered out of turn.' });
    if (answer.state) setState(answer.state);
    if (!answer.ok) throw errorFrom(answer.error);
    return answer.value;
  };
  const text = async (request: Ask): Promise<string> => {
    const value = await ask(request);
    if (typeof value !== 'string') throw errorFrom({ code: 'internal_error', message: 'The agent answered without a token.' });
    return value;
  };

  await ask({ op: 'state' });
  return {
    getState: () => state,
    onStateChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    signIn: async (options: SignInOptions = {}) => {
      await ask({ op: 'sign-in', method: options.method ?? 'browser', adding: options.adding === true, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}), ...(options.stepUp ? { stepUp: options.stepUp } : {}) });
      return state;
    },
    // The agent cancels a sign-in whose command went away.
    cancelSignIn: () => void socket.destroy(),
    offersDeviceSignIn: async () => (await ask({ op: 'offers-device' })) === true,
    signOut: async () => (await ask({ op: 'sign-out' })) as SignOutResult,
    getAccessToken: (api?: string) => text({ op: 'token', ...(api !== undefined ? { api } : {}) }),
    refreshAccessToken: (rejected: string) => text({ op: 'refresh', rejected }),
    requestHeaders: async (request: ApiRequest) => (await ask({ op: 'headers', ...request })) as ApiRequestHeaders,
    retryNow: async () => {},
    retryKeychain: async () => state,
    // The agent keeps every API's token in its own memory: its state shows them.
    lookUpSharedTokens: async () => state,
    // The agent lets its own refreshes finish; nothing of them is stored here.
    whenIdle: async () => {},
    close: async () => {
      closedBy ??= new AuthError('session_ended', 'The connection to the agent is closed.');
      socket.end();
    },
  };
}

/** What the agent at `socketPath` says of itself (for `doctor`): where it keeps its sessions, and its process. */
export async function askAgentAbout(socketPath: string): Promise<AgentAbout> {
  const socket = await openSocket(socketPath);
  try {
    return await new Promise<AgentAbout>((resolve, reject) => {
      socket.on('data', lineReader((message) => {
        const answer = message as AgentMessage;
        if ('ok' in answer && answer.ok && answer.value && typeof answer.value === 'object' && 'keptIn' in answer.value) resolve(answer.value);
        else reject(errorFrom({ code: 'internal_error', message: 'The agent did not say what it keeps.' }));
      }, () => socket.destroy()));
      socket.on('close', () => reject(errorFrom({ code: 'internal_error', message: 'The agent closed the connection.' })));
      socket.on('error', () => {});
      socket.write(encodeLine({ id: 1, client: '', op: 'about' }));
    });
  } finally {
    socket.end();
  }
}

/** Asks the agent at `socketPath` to forget everything and stop; resolves once it said it will. */
export async function stopAgent(socketPath: string): Promise<void> {
  const socket = await openSocket(socketPath);
  await new Promise<void>((resolve) => {
    socket.on('data', () => resolve());
    socket.on('close', () => resolve());
    socket.on('error', () => {});
    socket.write(encodeLine({ id: 1, client: '', op: 'stop' }));
  });
  socket.end();
}

function openSocket(socketPath: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const connection = createConnection(socketPath);
    connection.once('connect', () => resolve(connection));
    connection.once('error', (error: NodeJS.ErrnoException) => reject(agentGone(socketPath, error)));
  });
}

function agentGone(socketPath: string, error: NodeJS.ErrnoException): AuthError {
  const gone = error.code === 'ENOENT' || error.code === 'ECONNREFUSED';
  return new AuthError(
    'session_ended',
    gone
      ? `No Latchkey agent runs at ${socketPath} (LATCHKEY_AGENT_SOCK): it was stopped or its time ran out, and the session it kept ended with it. Start one (eval "$(latchkey agent)") and run \`latchkey login\`.`
      : `The Latchkey agent at ${socketPath} (LATCHKEY_AGENT_SOCK) cannot be reached: ${error.message}.`,
    { cause: error },
  );
}
