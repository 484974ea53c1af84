// The D-Bus client does not trust its peer: a fake D-Bus peer on a unix socket (a bus that is not what it
// claims, or a hung one) can make a probe answer "cannot tell", never crash the process or leave sockets open.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretServiceProbe } from '../../../src/core/keychain/secret-service.ts';

/** A peer that authenticates any client (SASL `OK`), then answers its first message with `reply`. */
function fakeBus(path: string, reply: Buffer): Promise<Server> {
  const server = createServer((socket: Socket) => {
    let text = '';
    let begun = false;
    socket.on('data', (chunk: Buffer) => {
      if (begun) return void socket.write(reply);
      text += chunk.toString('latin1');
      if (/AUTH [^\r]*\r\n/.test(text) && !text.includes('OK sent')) {
        text += 'OK sent';
        socket.write('OK 0123456789abcdef0123456789abcdef\r\n');
      }
      if (text.includes('BEGIN\r\n')) {
        begun = true;
        socket.write(reply);
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

/** A method return (type 2) whose header declares `bodyLength` bytes of body, and no header fields. */
function headerDeclaring(bodyLength: number): Buffer {
  const header = Buffer.alloc(16);
  header.write('l', 0, 'latin1');
  header.writeUInt8(2, 1);
  header.writeUInt8(1, 3);
  header.writeUInt32LE(bodyLength, 4);
  header.writeUInt32LE(1, 8);
  header.writeUInt32LE(0, 12);
  return header;
}

const openPipes = () => process.getActiveResourcesInfo().filter((resource) => resource === 'PipeWrap').length;

describe('the D-Bus client with a peer it cannot trust', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-dbus-peer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a reply declaring a ~2 GiB body does not crash the process: the probe cannot tell, and says so', async () => {
    const path = join(dir, 'huge.sock');
    const server = await fakeBus(path, headerDeclaring(0x7fff_0000));
    try {
      const probe = createSecretServiceProbe({ busAddress: `unix:path=${path}`, timeoutMs: 2_000 });
      expect(await probe.isRunning()).toBe(false);
      expect(await probe.itemState('latchkey-test', 'account')).toBeUndefined();
      expect(await probe.defaultCollectionLocked()).toBeUndefined();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a probe of a peer that never answers leaves no socket of this process open', async () => {
    const path = join(dir, 'silent.sock');
    // The silent peer lives in a process of its own, so every pipe counted here is the client's.
    const peer = spawn(process.execPath, ['-e', `require('node:net').createServer({ allowHalfOpen: true }, (s) => s.on('error', () => {})).listen(${JSON.stringify(path)}, () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => peer.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve()));
      const before = openPipes();
      const probe = createSecretServiceProbe({ busAddress: `unix:path=${path}`, timeoutMs: 200 });
      expect(await probe.isRunning()).toBe(false);
      expect(await probe.itemState('latchkey-test', 'account')).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(openPipes()).toBe(before);
    } finally {
      peer.kill();
    }
  });
});
