import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEST_CA_NAME = 'Latchkey Test Inspection CA';

export interface TestCertificates {
  /** The root's PEM file: what AUTH_CA_FILE / NODE_EXTRA_CA_CERTS point at. */
  caFile: string;
  /** The server certificate and key (PEM) for `hosts`, issued by the root. */
  key: string;
  cert: string;
  close(): Promise<void>;
}

/**
 * A throwaway root CA — standing in for a company's TLS-inspection root — and a
 * server certificate it issued for `hosts`, made with the openssl CLI in a temp
 * folder that `close()` removes. Nothing is added to any trust store.
 */
export async function createTestCertificates(hosts: string[]): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-ca-'));
  const path = (name: string) => join(dir, name);
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await run('openssl', ['req', '-x509', ...ecKey, '-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', '2',
      '-subj', `/CN=${TEST_CA_NAME}/O=Latchkey Tests`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await run('openssl', ['req', ...ecKey, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', `/CN=${hosts[0] ?? 'localhost'}`]);
    await writeFile(path('server.ext'), `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    await run('openssl', ['x509', '-req', '-in', path('server.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial',
      '-out', path('server.pem'), '-days', '2', '-extfile', path('server.ext')]);
    return {
      caFile: path('ca.pem'),
      key: await readFile(path('server.key'), 'utf8'),
      cert: await readFile(path('server.pem'), 'utf8'),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
