import type { Socket } from 'node:net';
import type { Logger } from '../../shared/logger.ts';

// Who is at the other end of a connection to the agent's socket, asked of the kernel: Node has no SO_PEERCRED, so the
// call goes through koffi (an FFI with prebuilt binaries), loaded by the agent only — never on a command's path.

/** What the kernel says of a connecting process. */
export interface Peer {
  uid: number;
  /** Linux says which process connected; getpeereid (macOS, BSD) does not. */
  pid?: number;
}

export interface PeerCheck {
  /** What decides who may connect, in words for the agent's start-up log and `doctor`. */
  readonly relies: string;
  /**
   * Whether the process behind `socket` may use the agent: this user or root (who can read the agent's memory
   * anyway). One it refuses is closed unanswered and logged (its uid and pid: no secret). Costs one system call.
   */
  admits(socket: Socket): boolean;
}

/** Asks the kernel who holds the other end of the connected socket `fd`; undefined when the call fails. */
type AskPeer = (fd: number) => Peer | undefined;

const FOLDER_ONLY = 'its socket folder alone (0700, yours), so only you and root can reach the socket';

/**
 * The check this OS allows: SO_PEERCRED on Linux, getpeereid on macOS and the BSDs (written from their man pages,
 * untested here). Where koffi cannot load or the OS has no such call, every peer is admitted and `relies` says the
 * folder is all there is.
 */
export async function loadPeerCheck(logger: Logger, platform: NodeJS.Platform = process.platform): Promise<PeerCheck> {
  const ownUid = process.getuid?.();
  let ask: AskPeer | undefined;
  let why = '';
  if (ownUid === undefined) why = 'this OS has no user ids';
  else {
    try {
      ask = await loadAsker(platform);
      if (!ask) why = `${platform} offers no call Latchkey knows for it`;
    } catch (error) {
      why = `koffi could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
    }
  }
  if (!ask || ownUid === undefined) {
    const relies = `${FOLDER_ONLY}; the agent cannot ask the OS who connects: ${why}`;
    logger.warn('agent peer check unavailable', { relies });
    return { relies, admits: () => true };
  }
  const asker = ask;
  const relies = `the OS's word on who connects (${platform === 'linux' ? 'SO_PEERCRED' : 'getpeereid'}): only your uid and root's are served; and by its socket folder (0700, yours)`;
  logger.info('agent peer check', { relies });
  return {
    relies,
    admits(socket) {
      const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
      const peer = typeof fd === 'number' && fd >= 0 ? asker(fd) : undefined;
      if (peer && (peer.uid === ownUid || peer.uid === 0)) return true;
      // Unknown is refused too: the call exists, so a connection it cannot describe is not one to trust.
      logger.warn('agent refused a connection from another user', peer ? { uid: peer.uid, ...(peer.pid === undefined ? {} : { pid: peer.pid }) } : { uid: 'unknown' });
      socket.destroy();
      return false;
    },
  };
}

async function loadAsker(platform: NodeJS.Platform): Promise<AskPeer | undefined> {
  if (platform !== 'linux' && platform !== 'darwin' && platform !== 'freebsd' && platform !== 'openbsd') return undefined;
  const { default: koffi } = await import('koffi');
  // The process itself (dlopen(NULL)): libc is already there, whichever one it is (glibc, musl, libSystem).
  const libc = koffi.load(null);
  if (platform === 'linux') {
    // socket(7): getsockopt(fd, SOL_SOCKET = 1, SO_PEERCRED = 17, struct ucred { pid_t pid; uid_t uid; gid_t gid; }, &len).
    const ucred = koffi.struct({ pid: 'int32_t', uid: 'uint32_t', gid: 'uint32_t' });
    const getsockopt = libc.func('getsockopt', 'int', ['int', 'int', 'int', koffi.out(koffi.pointer(ucred)), koffi.inout(koffi.pointer('uint32_t'))]);
    const size = koffi.sizeof(ucred);
    return (fd) => {
      const cred: { pid?: number; uid?: number } = {};
      if (getsockopt(fd, 1, 17, cred, [size]) !== 0 || cred.uid === undefined) return undefined;
      return { uid: cred.uid, ...(cred.pid === undefined ? {} : { pid: cred.pid }) };
    };
  }
  // getpeereid(3): int getpeereid(int s, uid_t *euid, gid_t *egid); uid_t and gid_t are 32-bit there.
  const getpeereid = libc.func('getpeereid', 'int', ['int', koffi.out(koffi.pointer('uint32_t')), koffi.out(koffi.pointer('uint32_t'))]);
  return (fd) => {
    // One-element arrays: koffi writes a pointer's target into [0] (its docs' output parameters).
    const uid: [number | null] = [null];
    const gid: [number | null] = [null];
    if (getpeereid(fd, uid, gid) !== 0 || typeof uid[0] !== 'number') return undefined;
    return { uid: uid[0] };
  };
}
