import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDataDir, loadConfig } from '../../../src/core/config/auth-config.ts';
import { isLoopbackHost } from '../../../src/core/config/values.ts';
import { readBuildConfig } from '../../../src/core/config/files.ts';
import { AuthError } from '../../../src/core/errors.ts';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'latchkey-config-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function load(env: Record<string, string>) {
  return loadConfig({ env, dataDir });
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('config_invalid');
    return (error as AuthError).message.split('\n');
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('uses the demo provider when no issuer is configured', () => {
    const config = load({});
    expect(config).toMatchObject({
      issuer: 'http://127.0.0.1:4400/',
      clientId: 'latchkey-desktop',
      audience: 'urn:latchkey:demo-api',
      apiBaseUrl: 'http://127.0.0.1:4401',
      scope: 'openid profile email offline_access',
      redirectPort: 0,
      keychainService: 'dev.latchkey.desktop',
      dataDir,
      usesDemoProvider: true,
    });
  });

  it('follows DEMO_IDP_PORT and DEMO_API_PORT for the demo provider', () => {
    const config = load({ DEMO_IDP_PORT: '5500', DEMO_API_PORT: '5501' });
    expect(config.issuer).toBe('http://127.0.0.1:5500/');
    expect(config.apiBaseUrl).toBe('http://127.0.0.1:5501');
    expect(config.demoPorts).toEqual({ idp: 5500, api: 5501 });
  });

  it('turns an Auth0 domain into its issuer URL', () => {
    const config = load({ AUTH0_DOMAIN: 'tenant.eu.auth0.com', AUTH_CLIENT_ID: 'abc', AUTH_AUDIENCE: 'https://api.example.com' });
    expect(config.issuer).toBe('https://tenant.eu.auth0.com/');
    expect(config.clientId).toBe('abc');
    expect(config.audience).toBe('https://api.example.com');
    expect(config.usesDemoProvider).toBe(false);
    expect(config.demoPorts).toBeUndefined();
    expect(config.apiBaseUrl).toBe('');
  });

  it('reads every environment setting', () => {
    const config = load({
      AUTH_ISSUER: 'https://idp.example.com/realms/x',
      AUTH_CLIENT_ID: 'desktop',
      AUTH_RESOURCE: 'https://api.example.com/',
      AUTH_SCOPE: 'profile read:things offline_access',
      AUTH_REDIRECT_PORT: '53682',
      API_BASE_URL: 'https://api.example.com',
      AUTH_KEYCHAIN_SERVICE: 'test.service',
    });
    expect(config).toMatchObject({
      issuer: 'https://idp.example.com/realms/x',
      resource: 'https://api.example.com/',
      scope: 'openid profile read:things offline_access',
      redirectPort: 53682,
      apiBaseUrl: 'https://api.example.com/',
      keychainService: 'test.service',
    });
    expect(config.audience).toBeUndefined();
  });

  it('always requests openid and offline_access, once each', () => {
    expect(load({ AUTH_SCOPE: 'email openid email' }).scope).toBe('openid email offline_access');
  });

  it('asks for consent with offline_access by default (OpenID Connect Core §11), but not of Auth0, which does not need it', () => {
    expect(load({}).prompt).toBe('consent');
    expect(load({ AUTH_ISSUER: 'https://idp.example.com/', AUTH_CLIENT_ID: 'c' }).prompt).toBe('consent');
    expect(load({ AUTH0_DOMAIN: 'tenant.eu.auth0.com', AUTH_CLIENT_ID: 'c' }).prompt).toBeUndefined();
    expect(load({ AUTH0_DOMAIN: 'login.example.com', AUTH_CLIENT_ID: 'c' }).prompt).toBeUndefined();
    expect(load({ AUTH_ISSUER: 'https://tenant.us.auth0.com/', AUTH_CLIENT_ID: 'c' }).prompt).toBeUndefined();
  });

  it('AUTH_PROMPT or "prompt" overrides the prompt; "omit" sends none; "none" is refused with the reason', () => {
    expect(load({ AUTH_PROMPT: 'login consent' }).prompt).toBe('login consent');
    expect(load({ AUTH_PROMPT: 'omit' }).prompt).toBeUndefined();
    expect(load({ AUTH0_DOMAIN: 'tenant.eu.auth0.com', AUTH_CLIENT_ID: 'c', AUTH_PROMPT: 'consent' }).prompt).toBe('consent');
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ prompt: 'select_account' }));
    expect(load({}).prompt).toBe('select_account');
    expect(problemsOf({ AUTH_PROMPT: 'none' })).toEqual([expect.stringMatching(/^AUTH_PROMPT: "none" is not a prompt Latchkey can send\. "none" asks for a sign-in without any page/)]);
  });

  it('AUTH_DPOP or "dpop" is auto by default, or required or off; anything else is refused with the choices', () => {
    expect(load({}).dpop).toBe('auto');
    expect(load({ AUTH_DPOP: 'required' }).dpop).toBe('required');
    expect(load({ AUTH_DPOP: 'OFF' }).dpop).toBe('off');
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ dpop: 'required' }));
    expect(load({}).dpop).toBe('required');
    expect(problemsOf({ AUTH_DPOP: 'yes' })).toEqual(['AUTH_DPOP: "yes" is not a DPoP mode. Use auto (the default: DPoP when the provider supports it), required (refuse to sign in without it) or off.']);
  });

  it('reads the config file in the data folder, and the environment wins over it', () => {
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ issuer: 'https://file.example.com', clientId: 'from-file', redirectPort: 8123, scope: 'profile' }));
    expect(load({})).toMatchObject({ issuer: 'https://file.example.com/', clientId: 'from-file', redirectPort: 8123, scope: 'openid profile offline_access' });
    expect(load({ AUTH_CLIENT_ID: 'from-env', AUTH0_DOMAIN: 'env.auth0.com' })).toMatchObject({ issuer: 'https://env.auth0.com/', clientId: 'from-env' });
  });

  it('reads the file named by AUTH_CONFIG', () => {
    const path = join(dataDir, 'elsewhere.json');
    writeFileSync(path, JSON.stringify({ auth0Domain: 'x.auth0.com', clientId: 'c' }));
    expect(load({ AUTH_CONFIG: path }).issuer).toBe('https://x.auth0.com/');
  });

  it('AUTH_DATA_DIR overrides the data folder', () => {
    expect(load({ AUTH_DATA_DIR: join(dataDir, 'sub') }).dataDir).toBe(join(dataDir, 'sub'));
  });

  it('accepts plain http only on loopback', () => {
    expect(load({ AUTH_ISSUER: 'http://localhost:8080', AUTH_CLIENT_ID: 'c' }).issuer).toBe('http://localhost:8080/');
    expect(load({ AUTH_ISSUER: 'http://[::1]:8080/', AUTH_CLIENT_ID: 'c' }).issuer).toBe('http://[::1]:8080/');
    const [problem] = problemsOf({ AUTH_ISSUER: 'http://idp.example.com', AUTH_CLIENT_ID: 'c' });
    expect(problem).toMatch(/^AUTH_ISSUER: plain http is only allowed on this machine.*https/);
    expect(problemsOf({ API_BASE_URL: 'http://api.example.com' })[0]).toMatch(/^API_BASE_URL: plain http/);
  });

  it('takes a client secret only as AUTH_CLIENT_SECRET / "clientSecret", and refuses it where the provider refuses one (Entra)', () => {
    expect(load({ AUTH_ISSUER: 'https://idp.example.com', AUTH_CLIENT_ID: 'c', AUTH_CLIENT_SECRET: 's3cret' }).clientSecret).toBe('s3cret');
    const [entra] = problemsOf({ AUTH_PROVIDER: 'entra', AUTH_TENANT: 'contoso.onmicrosoft.com', AUTH_CLIENT_ID: 'c', AUTH_CLIENT_SECRET: 's3cret' });
    expect(entra).toMatch(/^AUTH_CLIENT_SECRET: Microsoft Entra ID refuses a client secret from a desktop \(public\) client/);
    expect(entra).not.toContain('s3cret');
    const [legacy] = problemsOf({ AUTH_ISSUER: 'https://idp.example.com', AUTH_CLIENT_ID: 'c', AUTH0_CLIENT_SECRET: 's3cret' });
    expect(legacy).toMatch(/^AUTH0_CLIENT_SECRET: .*public client.*extracted.*RFC 8252 §8\.5/);
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ issuer: 'https://idp.example.com', clientId: 'c', client_secret: 'x' }));
    expect(problemsOf({})[0]).toMatch(/^"client_secret" in .*config\.json: .*public client/);
  });

  it('requires the secret where the provider insists on it (Google, GitHub), saying it is not a secret in a desktop app', () => {
    expect(problemsOf({ AUTH_PROVIDER: 'google', AUTH_CLIENT_ID: 'c' })).toEqual([expect.stringMatching(/^AUTH_CLIENT_SECRET: Google requires the client secret .*RFC 8252 §8\.5/)]);
    expect(load({ AUTH_PROVIDER: 'google', AUTH_CLIENT_ID: 'c', AUTH_CLIENT_SECRET: 'GOCSPX-x' })).toMatchObject({ issuer: 'https://accounts.google.com/', provider: 'google', scope: 'openid profile email', prompt: 'consent' });
  });

  it('requires a client id when an issuer is configured', () => {
    expect(problemsOf({ AUTH_ISSUER: 'https://idp.example.com' })[0]).toMatch(/^AUTH_CLIENT_ID: missing client id.*Set AUTH_CLIENT_ID/);
  });

  it('refuses a client id without an issuer instead of sending it to the demo provider', () => {
    expect(problemsOf({ AUTH_CLIENT_ID: 'c' })[0]).toMatch(/^AUTH_CLIENT_ID: is set but no issuer is configured/);
  });

  it.each(['0x10', '65536', '-1', '80.5', 'http'])('refuses redirect port %s', (port) => {
    expect(problemsOf({ AUTH_REDIRECT_PORT: port })[0]).toMatch(/^AUTH_REDIRECT_PORT: .* is not a port number/);
  });

  it('refuses a LATCHKEY_LOG_LEVEL that names no level instead of ignoring it', () => {
    expect(problemsOf({ LATCHKEY_LOG_LEVEL: 'verbose' })).toEqual([
      'LATCHKEY_LOG_LEVEL: "verbose" is not a log level. Use one of debug, info, warn, error, silent, or unset it (default warn).',
    ]);
    expect(problemsOf({ LATCHKEY_LOG_LEVEL: 'toString' })).toHaveLength(1);
    expect(load({ LATCHKEY_LOG_LEVEL: 'debug' }).usesDemoProvider).toBe(true);
  });

  it('accepts redirect port 0 and 65535', () => {
    expect(load({ AUTH_REDIRECT_PORT: '0' }).redirectPort).toBe(0);
    expect(load({ AUTH_REDIRECT_PORT: '65535' }).redirectPort).toBe(65535);
  });

  it('names the file when it is not valid JSON', () => {
    const path = join(dataDir, 'config.json');
    writeFileSync(path, '{ "issuer": ');
    const [problem] = problemsOf({});
    expect(problem).toContain(path);
    expect(problem).toMatch(/not valid JSON/);
  });

  it('reports a missing AUTH_CONFIG file', () => {
    expect(problemsOf({ AUTH_CONFIG: join(dataDir, 'nope.json') })[0]).toMatch(/^AUTH_CONFIG .*nope\.json.*does not exist/);
  });

  it('reports unknown keys and wrongly typed values in the file', () => {
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ issuer: 'https://idp.example.com', client_id: 'c', clientId: 7 }));
    const problems = problemsOf({});
    expect(problems.some((p) => /^"client_id" in .*not a known setting/.test(p))).toBe(true);
    expect(problems.some((p) => /^"clientId" in .*must be a non-empty string/.test(p))).toBe(true);
  });

  it('refuses an invalid scope, issuer and resource', () => {
    expect(problemsOf({ AUTH_SCOPE: 'openid "profile"' })[0]).toMatch(/^AUTH_SCOPE: .*not a valid scope/);
    expect(problemsOf({ AUTH_ISSUER: 'idp.example.com', AUTH_CLIENT_ID: 'c' })[0]).toMatch(/^AUTH_ISSUER: .*not an absolute URL/);
    expect(problemsOf({ AUTH_ISSUER: 'https://idp.example.com/?x=1', AUTH_CLIENT_ID: 'c' })[0]).toMatch(/^AUTH_ISSUER: .*query or fragment/);
    expect(problemsOf({ AUTH_ISSUER: 'https://idp.example.com', AUTH_CLIENT_ID: 'c', AUTH_RESOURCE: 'api' })[0]).toMatch(/^AUTH_RESOURCE: /);
    expect(problemsOf({ AUTH0_DOMAIN: 'tenant.auth0.com/path', AUTH_CLIENT_ID: 'c' })[0]).toMatch(/^AUTH0_DOMAIN: .*not a domain name/);
  });

  it('refuses an issuer and an Auth0 domain that disagree', () => {
    expect(problemsOf({ AUTH_ISSUER: 'https://a.example.com', AUTH0_DOMAIN: 'b.example.com', AUTH_CLIENT_ID: 'c' })[0]).toMatch(/^AUTH_ISSUER: conflicts with AUTH0_DOMAIN/);
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({ AUTH_ISSUER: 'http://idp.example.com', AUTH0_CLIENT_SECRET: 'x', AUTH_REDIRECT_PORT: 'abc', AUTH_SCOPE: 'a\\b' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['AUTH0_CLIENT_SECRET', 'AUTH_ISSUER', 'AUTH_CLIENT_ID', 'AUTH_REDIRECT_PORT', 'AUTH_SCOPE']),
    );
    expect(problems).toHaveLength(5);
  });
});

describe('loadConfig with the build’s latchkey.config.json', () => {
  const BUILD = { auth0Domain: 'built.eu.auth0.com', clientId: 'built-client', audience: 'https://api.built.example', redirectPort: 7777, apiBaseUrl: 'https://api.built.example' };
  const HOSTILE_ENV = {
    AUTH_ISSUER: 'https://evil.example.com',
    AUTH_CLIENT_ID: 'evil',
    API_BASE_URL: 'https://evil.example.com',
    AUTH_KEYCHAIN_SERVICE: 'evil.service',
    DEMO_IDP_PORT: '5500',
    // Turning DPoP off would make stolen tokens usable again.
    AUTH_DPOP: 'off',
  };

  function packagedProblems(build: unknown, env: Record<string, string> = {}): string[] {
    try {
      loadConfig({ env, dataDir, build, packaged: true });
    } catch (error) {
      expect((error as AuthError).code).toBe('config_invalid');
      return (error as AuthError).message.split('\n');
    }
    throw new Error('expected loadConfig to throw');
  }

  it('in development, is the base layer that config.json and the environment override', () => {
    expect(loadConfig({ env: {}, dataDir, build: BUILD })).toMatchObject({ issuer: 'https://built.eu.auth0.com/', clientId: 'built-client', redirectPort: 7777, usesDemoProvider: false });
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ clientId: 'from-file' }));
    expect(loadConfig({ env: {}, dataDir, build: BUILD }).clientId).toBe('from-file');
    expect(loadConfig({ env: { AUTH_ISSUER: 'https://dev.example.com', AUTH_CLIENT_ID: 'dev' }, dataDir, build: BUILD })).toMatchObject({ issuer: 'https://dev.example.com/', clientId: 'dev' });
  });

  it('when packaged, ignores the environment and the data folder’s config.json: a user-writable setting cannot re-point the tokens', () => {
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ apiBaseUrl: 'https://evil.example.com', issuer: 'https://evil.example.com', clientId: 'evil' }));
    const elsewhere = join(dataDir, 'elsewhere.json');
    writeFileSync(elsewhere, JSON.stringify({ apiBaseUrl: 'https://evil.example.com' }));
    const config = loadConfig({ env: { ...HOSTILE_ENV, AUTH_CONFIG: elsewhere, AUTH_DATA_DIR: join(dataDir, 'other') }, dataDir, build: BUILD, packaged: true });
    expect(config).toEqual({
      issuer: 'https://built.eu.auth0.com/',
      clientId: 'built-client',
      provider: 'auth0',
      audience: 'https://api.built.example',
      scope: 'openid profile email offline_access',
      redirectPort: 7777,
      dpop: 'auto',
      redirectHost: '127.0.0.1',
      apiBaseUrl: 'https://api.built.example/',
      apis: [{ name: 'api', baseUrl: 'https://api.built.example/', audience: 'https://api.built.example' }],
      externalLinks: [],
      keychainService: 'dev.latchkey.desktop',
      dataDir,
      usesDemoProvider: false,
      packaged: true,
    });
  });

  it('when packaged with no provider, fails with a message naming the file instead of using the demo provider', () => {
    const [problem] = packagedProblems({}, HOSTILE_ENV);
    expect(problem).toMatch(/^latchkey\.config\.json: no sign-in provider is configured for this build, and a packaged app never uses the demo provider\. Set "issuer" \(or "auth0Domain"\) and "clientId"/);
    expect(packagedProblems(undefined)[0]).toMatch(/^latchkey\.config\.json: no sign-in provider/);
    expect(packagedProblems({ issuer: 'https://idp.example.com' })[0]).toMatch(/^latchkey\.config\.json: missing client id.*Set "clientId" in latchkey\.config\.json/);
  });

  it('checks the build’s settings with the same rules as any other', () => {
    expect(packagedProblems({ ...BUILD, client_secret: 'x' })[0]).toMatch(/^"client_secret" in latchkey\.config\.json: .*public client/);
    expect(packagedProblems({ ...BUILD, apiBaseUrl: 'http://api.example.com' })[0]).toMatch(/^"apiBaseUrl" in latchkey\.config\.json: plain http/);
    expect(packagedProblems({ ...BUILD, clientld: 'typo' })[0]).toMatch(/^"clientld" in latchkey\.config\.json: not a known setting/);
    expect(packagedProblems([BUILD])[0]).toMatch(/^latchkey\.config\.json: must hold one JSON object/);
  });

  it('reads the external links and the post-logout redirect URI, https only', () => {
    const config = loadConfig({ env: {}, dataDir, build: { ...BUILD, externalLinks: ['https://account.example.com/', 'https://api.built.example/docs'], postLogoutRedirectUri: 'https://built.example/bye' }, packaged: true });
    expect(config.externalLinks).toEqual(['https://account.example.com/', 'https://api.built.example/docs']);
    expect(config.postLogoutRedirectUri).toBe('https://built.example/bye');
    expect(packagedProblems({ ...BUILD, externalLinks: ['http://example.com/', 'file:///etc/passwd'] })).toHaveLength(2);
    expect(packagedProblems({ ...BUILD, externalLinks: 'https://example.com/' })[0]).toMatch(/must be a list of https URLs/);
  });

  it('readBuildConfig returns the file’s object, or undefined when there is no file', () => {
    const path = join(dataDir, 'latchkey.config.json');
    expect(readBuildConfig(path)).toBeUndefined();
    writeFileSync(path, JSON.stringify(BUILD));
    expect(readBuildConfig(path)).toEqual(BUILD);
    writeFileSync(path, '{ nope');
    expect(() => readBuildConfig(path)).toThrow(/not valid JSON/);
  });
});

describe('"apis": every API the app calls', () => {
  const FILES = { name: 'files', baseUrl: 'https://files.example.com/', resource: 'https://files.example.com/' };
  const MAIN = { name: 'main', baseUrl: 'https://api.example.com/', resource: 'https://api.example.com/' };
  const withFile = (settings: Record<string, unknown>, env: Record<string, string> = {}) => {
    const path = join(dataDir, 'apis.json');
    writeFileSync(path, JSON.stringify({ issuer: 'https://idp.example.com/', clientId: 'desktop', ...settings }));
    return () => loadConfig({ env: { AUTH_CONFIG: path, ...env }, dataDir });
  };
  const problemsWith = (settings: Record<string, unknown>, env: Record<string, string> = {}): string[] => {
    try {
      withFile(settings, env)();
    } catch (error) {
      expect((error as AuthError).code).toBe('config_invalid');
      return (error as AuthError).message.split('\n');
    }
    throw new Error('expected loadConfig to throw');
  };

  it('lists every API; the first is the one the sign-in\'s token is for', () => {
    const config = withFile({ apis: [MAIN, { ...FILES, scope: 'files.read  files.write' }] })();
    expect(config.apis).toEqual([MAIN, { ...FILES, scope: 'files.read files.write' }]);
    expect(config).toMatchObject({ apiBaseUrl: 'https://api.example.com/', resource: 'https://api.example.com/' });
    expect(config.audience).toBeUndefined();
  });

  it('the one-API shorthand (API_BASE_URL, AUTH_AUDIENCE, AUTH_RESOURCE) still describes one API, unchanged', () => {
    const config = load({ AUTH_ISSUER: 'https://idp.example.com/', AUTH_CLIENT_ID: 'desktop', API_BASE_URL: 'https://api.example.com', AUTH_RESOURCE: 'https://api.example.com/' });
    expect(config.apis).toEqual([{ name: 'api', baseUrl: 'https://api.example.com/', resource: 'https://api.example.com/' }]);
    expect(config).toMatchObject({ apiBaseUrl: 'https://api.example.com/', resource: 'https://api.example.com/' });
    expect(load({}).apis).toEqual([{ name: 'api', baseUrl: 'http://127.0.0.1:4401', audience: 'urn:latchkey:demo-api' }]);
    expect(load({ AUTH_ISSUER: 'https://idp.example.com/', AUTH_CLIENT_ID: 'desktop' }).apis).toEqual([]);
  });

  it('refuses the shorthand beside "apis", bad entries and twice the same name or URL, naming each', () => {
    expect(problemsWith({ apis: [MAIN] }, { API_BASE_URL: 'https://api.example.com' })[0]).toMatch(/^API_BASE_URL: conflicts with "apis" in .*apis\.json/);
    const problems = problemsWith({ apis: [{ name: 'bad name', baseUrl: 'http://files.example.com/', resource: 'not a uri', color: 'red' }, MAIN, { ...MAIN, baseUrl: 'https://other.example.com/' }] });
    expect(problems.join('\n')).toMatch(/\[0\]: "color" is not a setting of an API/);
    expect(problems.join('\n')).toMatch(/\[0\]\.name: "bad name" is not an API name/);
    expect(problems.join('\n')).toMatch(/\[0\]\.baseUrl: plain http is only allowed on this machine/);
    expect(problems.join('\n')).toMatch(/\[0\]\.resource: "not a uri" is not an absolute URI/);
    expect(problems.join('\n')).toMatch(/two APIs have the name "main"/);
    expect(problemsWith({ apis: [] })[0]).toMatch(/must be a non-empty list of APIs/);
  });

  it('says, in the provider\'s words, where it cannot give a token per API from one sign-in', () => {
    const [google] = problemsWith({ provider: 'google', issuer: undefined, clientSecret: 'x', apis: [MAIN, FILES] });
    expect(google).toMatch(/Google cannot give a token per API from one sign-in\. Google gives one access token whose scopes cover every Google API/);
    expect(() => withFile({ provider: 'google', issuer: undefined, clientSecret: 'x', apis: [MAIN] })()).not.toThrow();
    const [entra] = problemsWith({ provider: 'entra', issuer: 'https://login.microsoftonline.com/t/v2.0', apis: [MAIN, FILES] });
    expect(entra).toMatch(/the API "files" has no "scope"\. Microsoft Entra ID gives a token per API by its scopes/);
    const [generic] = problemsWith({ apis: [MAIN, { name: 'files', baseUrl: 'https://files.example.com/' }] });
    expect(generic).toMatch(/the API "files" has no "resource"/);
  });

  it('a packaged app takes its APIs from its build only', () => {
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ apis: [{ name: 'evil', baseUrl: 'https://evil.example.com/', resource: 'https://evil.example.com/' }] }));
    const config = loadConfig({ env: {}, dataDir, build: { issuer: 'https://idp.example.com/', clientId: 'desktop', apis: [MAIN, FILES] }, packaged: true });
    expect(config.apis.map((api) => api.name)).toEqual(['main', 'files']);
  });
});

describe('defaultDataDir', () => {
  it('is the OS application-data folder plus Latchkey', () => {
    expect(defaultDataDir({ HOME: '/home/u' }, 'linux')).toBe('/home/u/.config/Latchkey');
    expect(defaultDataDir({ HOME: '/home/u', XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/Latchkey');
    expect(defaultDataDir({ HOME: '/Users/u' }, 'darwin')).toBe('/Users/u/Library/Application Support/Latchkey');
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback from the rest', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.1', 'localhost.example.com', '128.0.0.1', '[::2]'].some(isLoopbackHost)).toBe(false);
  });
});

describe('AUTH_CA_FILE', () => {
  it('takes a PEM file of extra roots, from the environment or the config file', () => {
    const pem = join(dataDir, 'corp-root.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(load({ AUTH_CA_FILE: pem }).caFile).toBe(pem);
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ caFile: pem }));
    expect(load({}).caFile).toBe(pem);
    expect(load({ AUTH_CA_FILE: '' }).caFile).toBe(pem);
  });

  it('refuses a missing file and a file without a certificate, saying what it must hold', () => {
    const notPem = join(dataDir, 'root.der');
    writeFileSync(notPem, 'not a certificate');
    expect(problemsOf({ AUTH_CA_FILE: join(dataDir, 'nope.pem') })).toEqual([expect.stringMatching(/^AUTH_CA_FILE: .*nope\.pem cannot be read .* Point it at a PEM file/)]);
    expect(problemsOf({ AUTH_CA_FILE: notPem })).toEqual([expect.stringMatching(/^AUTH_CA_FILE: .*root\.der holds no PEM certificate\. Point it at a PEM file/)]);
  });
});
