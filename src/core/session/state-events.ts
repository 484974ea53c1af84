import type { AuthState } from '../../shared/auth-state.ts';
import type { Logger } from '../../shared/logger.ts';

/** The listeners of a session's state: each change is sent to all of them; one that throws is logged and does not stop the others. */
export class StateEvents {
  readonly #listeners = new Set<(state: AuthState) => void>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Returns the unsubscribe function. */
  on(listener: (state: AuthState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clear(): void {
    this.#listeners.clear();
  }

  send(state: AuthState): void {
    for (const listener of this.#listeners) {
      try {
        listener(state);
      } catch (listenerError) {
        this.#logger.error('a state listener threw', { error: String(listenerError) });
      }
    }
  }
}
