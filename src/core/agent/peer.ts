import { execFile } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import type { Socket } from 'node:net';

// Which user a process that connected to the agent runs as. Node offers no SO_PEERCRED; on Linux, `ss -xp`
// (iproute2, over the kernel's sock_diag) names the process at the other end of a Unix socket, and /proc says its user.

/** What the peer check can say: the peer's user id, or why it cannot tell (then the socket's 0700 folder is the guard). */
export type PeerUser = { uid: number; pid: number } | { unknown: string };

/** The user a connected peer runs as, where Linux lets us ask; otherwise why not. */
export async function peerUser(socket: Socket): Promise<PeerUser> {
  if (process.platform !== 'linux') return { unknown: `${process.platform} offers Node no way to ask` };
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return { unknown: 'the socket has no descriptor' };
  const own = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/self/fd/${fd}`).catch(() => ''))?.[1];
  if (!own) return { unknown: 'the socket has no inode in /proc' };
  let listing: string;
  try {
    listing = await new Promise<string>((resolve, reject) =>
      execFile('ss', ['-xpnH'], { timeout: 5_000, maxBuffer: 8 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
  } catch (error) {
    return { unknown: `ss (iproute2) could not list the sockets: ${(error as Error).message.split('\n')[0]}` };
  }
  // Each line: Netid State Recv-Q Send-Q <local path or *> <local inode> <peer path or *> <peer inode> [users:((…,pid=N,…))]
  const rows = listing.split('\n').map((line) => {
    const fields = line.trim().split(/\s+/);
    return { local: fields[5], peer: fields[7], pid: /pid=(\d+)/.exec(line)?.[1] };
  });
  const peerInode = rows.find((row) => row.local === own)?.peer;
  const pid = rows.find((row) => row.local === peerInode && peerInode !== undefined)?.pid;
  if (!pid) return { unknown: 'the process at the other end is not visible to this user' };
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  if (uid === undefined) return { unknown: `the process at the other end (pid ${pid}) has ended` };
  return { uid: Number(uid), pid: Number(pid) };
}

/** Why a peer of another user is refused, or undefined to serve it (the same user, or one the OS cannot name). */
export async function refusePeerOfAnotherUser(socket: Socket): Promise<string | undefined> {
  const peer = await peerUser(socket);
  const own = process.getuid?.();
  if ('unknown' in peer || own === undefined || peer.uid === own) return undefined;
  return `The Latchkey agent serves only its own user (uid ${own}); this process (pid ${peer.pid}) runs as uid ${peer.uid}.`;
}
