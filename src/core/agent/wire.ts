import type { ApiRequestHeaders, AuthState } from '../../shared/auth-state.ts';
import type { AuthErrorCode, ErrorInfo } from '../../shared/errors.ts';
import type { StepUpRequest } from '../../shared/step-up.ts';
import { AuthError } from '../errors.ts';
import type { SignOutResult } from '../session/sign-out.ts';

// What travels over the agent's socket: one JSON object per line, each way. A request names the account (the
// session's keychain account) and gets events, then one answer, under its id. Nothing here carries a refresh token
// or a private key: access tokens, proofs, state and the sign-in's prompts only.

/**
 * What a client asks: `client` is the provider and client it is configured for (`keychainAccount`, which the agent
 * must serve); `account` the account it names (`--account`, by name or `sub`), else the default account.
 */
export type AgentRequest = { id: number; client: string; account?: string } & (
  | { op: 'state' }
  | { op: 'token'; api?: string }
  | { op: 'refresh'; rejected: string }
  | { op: 'headers'; method: string; url: string; nonce?: string }
  | { op: 'sign-in'; method: 'browser' | 'device'; adding: boolean; timeoutMs?: number; stepUp?: StepUpRequest }
  | { op: 'offers-device' }
  | { op: 'sign-out' }
  | { op: 'stop' }
  | { op: 'about' }
);

/** What a client says during its sign-in: the browser it was asked to open opened, or could not. */
export type AgentReply = { id: number; reply: 'opened' } | { id: number; reply: 'open-failed'; error: ErrorInfo };

export type ClientMessage = AgentRequest | AgentReply;

/** What the agent says: events during a request (state changes, a page to open), then one answer with the state after it. */
export type AgentMessage =
  | { id: number; event: 'state'; state: AuthState }
  | { id: number; event: 'open'; url: string }
  | { id: number; ok: true; state: AuthState; value?: AgentValue }
  | { id: number; ok: false; state?: AuthState; error: ErrorInfo };

export type AgentValue = string | boolean | ApiRequestHeaders | SignOutResult | AgentAbout;

/** What `doctor` asks an agent: where it keeps its sessions besides its memory (`--keep FILE`), and its process. */
export interface AgentAbout {
  keptIn: string | null;
  pid: number;
  /** What decides who may connect (`PeerCheck.relies`). */
  peers?: string;
}

/** The longest line either side accepts: a request or an answer is a few kilobytes; more is not a Latchkey peer. */
export const MAX_LINE_BYTES = 256 * 1024;

/** Splits a stream's chunks into lines and parses each; a line over `MAX_LINE_BYTES` or not JSON calls `onBad`. */
export function lineReader(onMessage: (message: unknown) => void, onBad: (why: string) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.length === 0) continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        onBad('a line that is not JSON');
        return;
      }
      onMessage(message);
    }
    if (Buffer.byteLength(pending) > MAX_LINE_BYTES) onBad('a line that is too long');
  };
}

export function encodeLine(message: AgentMessage | ClientMessage): string {
  return JSON.stringify(message) + '\n';
}

const NOT_AUTH_CODES: ReadonlySet<string> = new Set(['api_unauthorized', 'api_unreachable', 'sender_refused', 'internal_error']);

/** An error the other side sent, thrown again here with its code and words (an `AuthError` where the code is the core's). */
export function errorFrom(info: ErrorInfo): Error {
  if (NOT_AUTH_CODES.has(info.code)) return Object.assign(new Error(info.message), { code: info.code });
  return new AuthError(info.code as AuthErrorCode, info.message);
}
