// What the agent's peer check relies on, and says it relies on: the kernel's word where the OS offers a call, else
// the socket folder alone. (Another user refused through a real agent: test/cli/agent/peer.test.ts.)
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPeerCheck } from '../../../src/core/agent/peer.ts';
import { createLogger } from '../../../src/core/log.ts';

function recordingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', sink: (line) => lines.push(line) }), lines };
}

describe('the agent peer check', () => {
  it('on an OS with no call it knows, admits every peer and says the 0700 folder alone decides', async () => {
    const { logger, lines } = recordingLogger();
    const check = await loadPeerCheck(logger, 'aix');
    expect(check.relies).toBe(
      'its socket folder alone (0700, yours), so only you and root can reach the socket; the agent cannot ask the OS who connects: aix offers no call Latchkey knows for it',
    );
    expect(check.admits({} as Socket)).toBe(true);
    expect(lines).toEqual([expect.stringMatching(/ warn agent peer check unavailable \{"relies":"its socket folder alone/)]);
  });

  it.runIf(process.platform === 'linux')('on Linux asks SO_PEERCRED and admits a process of the same user', async () => {
    const { logger, lines } = recordingLogger();
    const check = await loadPeerCheck(logger);
    expect(check.relies).toContain('(SO_PEERCRED)');
    expect(lines).toEqual([expect.stringMatching(/ info agent peer check /)]);
    const folder = await mkdtemp(join(tmpdir(), 'latchkey-peer-'));
    const path = join(folder, 'peer.sock');
    const admitted = new Promise<boolean>((resolve) => {
      const server = createServer((socket) => {
        resolve(check.admits(socket));
        socket.destroy();
        server.close();
      }).listen(path, () => createConnection(path).on('error', () => {}));
    });
    try {
      expect(await admitted).toBe(true);
      expect(lines).toHaveLength(1);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
