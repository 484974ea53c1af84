import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Logger } from '../../shared/logger.ts';
import { writeFileAtomic } from '../atomic-file.ts';

interface Entry {
  payload: AdapterPayload;
  /** Epoch ms; absent = does not expire. */
  expiresAt?: number;
}

interface ModelState {
  entries: Map<string, Entry>;
  dirty: boolean;
  writing: Promise<void>;
}

/**
 * oidc-provider's storage (grants, sessions, refresh tokens, interactions, …)
 * kept in memory and written through to one JSON file per model under
 * `directory`, atomically, before each change is acknowledged. One process
 * owns a directory at a time.
 */
export class FileStore {
  readonly #directory: string;
  readonly #models = new Map<string, ModelState>();
  readonly #logger: Logger | undefined;
  readonly #now: () => number;

  private constructor(directory: string, logger: Logger | undefined, now: () => number) {
    this.#directory = directory;
    this.#logger = logger;
    this.#now = now;
  }

  /** Opens (creating if needed) the store in `directory` and loads what an earlier run saved. */
  static async open(directory: string, options: { logger?: Logger; now?: () => number } = {}): Promise<FileStore> {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const store = new FileStore(directory, options.logger, options.now ?? Date.now);
    for (const file of await readdir(directory)) {
      if (!file.endsWith('.json') || file.startsWith('.')) continue;
      await store.#load(file.slice(0, -'.json'.length));
    }
    return store;
  }

  /** The adapter oidc-provider constructs for model `name` (its `adapter` factory). */
  adapterFor(name: string): Adapter {
    const state = this.#state(name);
    const live = (id: string): Entry | undefined => {
      const entry = state.entries.get(id);
      if (entry && entry.expiresAt !== undefined && entry.expiresAt <= this.#now()) return undefined;
      return entry;
    };
    const findBy = (field: 'uid' | 'userCode', value: string): AdapterPayload | undefined => {
      for (const id of state.entries.keys()) {
        const entry = live(id);
        if (entry?.payload[field] === value) return entry.payload;
      }
      return undefined;
    };
    return {
      upsert: async (id, payload, expiresIn) => {
        const entry: Entry = { payload };
        if (typeof expiresIn === 'number') entry.expiresAt = this.#now() + expiresIn * 1000;
        state.entries.set(id, entry);
        await this.#persist(name);
      },
      find: async (id) => live(id)?.payload,
      findByUid: async (uid) => findBy('uid', uid),
      findByUserCode: async (userCode) => findBy('userCode', userCode),
      consume: async (id) => {
        const entry = live(id);
        if (!entry) return;
        entry.payload = { ...entry.payload, consumed: Math.floor(this.#now() / 1000) };
        await this.#persist(name);
      },
      destroy: async (id) => {
        if (state.entries.delete(id)) await this.#persist(name);
      },
      revokeByGrantId: async (grantId) => {
        let removed = false;
        for (const [id, entry] of state.entries) {
          if (entry.payload.grantId === grantId) {
            state.entries.delete(id);
            removed = true;
          }
        }
        if (removed) await this.#persist(name);
      },
    };
  }

  /** Resolves when every change made so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.#models.values()].map((state) => state.writing));
  }

  #state(name: string): ModelState {
    let state = this.#models.get(name);
    if (!state) {
      state = { entries: new Map(), dirty: false, writing: Promise.resolve() };
      this.#models.set(name, state);
    }
    return state;
  }

  async #load(name: string): Promise<void> {
    const file = this.#fileFor(name);
    try {
      const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, Entry>;
      const state = this.#state(name);
      const now = this.#now();
      for (const [id, entry] of Object.entries(saved)) {
        if (entry.expiresAt === undefined || entry.expiresAt > now) state.entries.set(id, entry);
      }
    } catch (error) {
      this.#logger?.warn('demo provider: ignoring unreadable store file', { file, error: String(error) });
    }
  }

  #persist(name: string): Promise<void> {
    const state = this.#state(name);
    state.dirty = true;
    const write = state.writing.then(async () => {
      if (!state.dirty) return;
      state.dirty = false;
      const now = this.#now();
      const snapshot: Record<string, Entry> = {};
      for (const [id, entry] of state.entries) {
        if (entry.expiresAt === undefined || entry.expiresAt > now) snapshot[id] = entry;
        else state.entries.delete(id);
      }
      await writeFileAtomic(this.#fileFor(name), JSON.stringify(snapshot));
    });
    state.writing = write.catch((error: unknown) => {
      this.#logger?.error('demo provider: could not save state', { model: name, error: String(error) });
    });
    return write;
  }

  #fileFor(name: string): string {
    return join(this.#directory, `${name}.json`);
  }
}
