// The CLI's whole journey against stand-ins of Microsoft Entra ID (standins/entra.ts): a single tenant,
// and common (multi-tenant) with AUTH_ALLOWED_TENANTS, where a user of another tenant is refused.
// No secret (a public client), `scope` on every refresh, a new refresh token each time with the old
// one still valid, no revocation endpoint, and AADSTS50173 for a revoked grant.
import { expect, it } from 'vitest';
import { describeStandinJourney } from './journey.ts';
import { ENTRA_CLAIMS_REQUEST, startEntraStandin } from './standins/entra.ts';
import { ALICE } from './standins/standin.ts';

const CONTOSO = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const FABRIKAM = 'a1b2c3d4-0000-4000-8000-fabr1kam0000';
const CLIENT = '11111111-2222-3333-4444-555555555555';
const ADELE = { ...ALICE, login: 'adele', sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ', name: 'Adele Vance', email: 'adele@contoso.example', tenant: CONTOSO };
const ALEX = { ...ALICE, login: 'alex', password: 'wilber', sub: 'CCCCCCCCCCCCCCCCCCCCCJx9pQwErTyUiOpAsDfGhJk', name: 'Alex Wilber', email: 'alex@contoso.example', tenant: CONTOSO };
const NORTHWIND = 'c0ffee00-1111-4222-8333-n0rthw1nd000';
const NINA = { ...ALICE, login: 'nina', password: 'traders', sub: 'DDDDDDDDDDDDDDDDDDDDDNorthwindNina0000000000', name: 'Nina Northwind', email: 'nina@northwind.example', tenant: NORTHWIND };
const MALLORY = { ...ALICE, login: 'mallory', password: 'elsewhere', sub: 'BBBBBBBBBBBBBBBBBBBBBAAAAAA', name: 'Mallory Other', email: 'mallory@fabrikam.example', tenant: FABRIKAM };
const DEAD = 'Your session ended at the provider: it refused the refresh (invalid_grant — AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password; that is, your password was changed or the session was revoked). Sign in again.';
const NO_REVOCATION = /^Signed out on this computer only: the provider offers no token revocation\. It stays valid at the provider until it expires\.$/;

describeStandinJourney({
  title: 'the CLI against an Entra ID stand-in, single tenant (AUTH_PROVIDER=entra)',
  start: () => startEntraStandin({ clientId: CLIENT, tenant: CONTOSO, users: [ADELE, ALEX] }),
  env: (standin) => ({ AUTH_PROVIDER: 'entra', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: CLIENT }),
  user: ADELE,
  secondUser: ALEX,
  // Entra's prompt takes one value: the account chooser alone.
  chooserPrompt: 'select_account',
  loginHint: ['login_hint', 'adele@contoso.example'],
  doctorSays: [/^✓ Provider preset: Microsoft Entra ID/m],
  logoutSays: NO_REVOCATION,
  steps: (journey, standin) => {
    it('a claims challenge (Conditional Access) becomes a sign-in carrying the claims parameter; the new token passes', async () => {
      expect((await journey.cli(['login', '--timeout', '60'])).code).toBe(0);
      const resource = `${standin().origin}/v1.0/me`;
      const call = async () => fetch(resource, { headers: { authorization: `Bearer ${(await journey.cli(['token'])).stdout.trim()}` } });
      const refused = await call();
      expect(refused.status).toBe(401);
      const challenge = refused.headers.get('www-authenticate')!;
      expect(challenge).toMatch(/error="insufficient_claims", claims="/);
      const stepUp = await journey.cli(['step-up', challenge, '--timeout', '60']);
      expect(stepUp.code, stepUp.stderr).toBe(0);
      expect(JSON.parse(standin().authorizationRequests.at(-1)!.get('claims') ?? '{}')).toEqual(ENTRA_CLAIMS_REQUEST);
      expect((await call()).status).toBe(200);
    });
    it('sent the granted scope with every refresh, and never a secret', () => {
      const refreshes = standin().tokenRequests.filter((request) => request.body.get('grant_type') === 'refresh_token');
      expect(refreshes.length).toBeGreaterThan(3);
      for (const refresh of refreshes) {
        expect(refresh.body.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', 'offline_access']));
        expect(refresh.body.has('client_secret')).toBe(false);
        expect(refresh.authorization).toBeUndefined();
      }
    });
  },
  deadTokenSays: DEAD,
});

describeStandinJourney({
  title: 'the CLI against an Entra ID stand-in, multi-tenant (common) with AUTH_ALLOWED_TENANTS',
  start: () => startEntraStandin({ clientId: CLIENT, tenant: 'common', users: [ADELE, MALLORY, NINA] }),
  env: (standin) => ({ AUTH_PROVIDER: 'entra', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: CLIENT, AUTH_ALLOWED_TENANTS: CONTOSO }),
  user: ADELE,
  doctorSays: [/^✓ Provider preset: Microsoft Entra ID/m, new RegExp(`^✓ Tenants: .*${CONTOSO}`, 'm')],
  logoutSays: NO_REVOCATION,
  steps: (journey) => {
    it('refuses a user of a tenant outside AUTH_ALLOWED_TENANTS, naming the tenant; nothing is stored', async () => {
      const login = await journey.cli(['login', '--timeout', '60'], { LATCHKEY_TEST_LOGIN: MALLORY.login, LATCHKEY_TEST_PASSWORD: MALLORY.password });
      expect(login.code).toBe(1);
      expect(login.stderr.trim()).toBe(
        `The sign-in was refused: your account belongs to the Microsoft Entra tenant ${FABRIKAM}, which this app does not allow (AUTH_ALLOWED_TENANTS: ${CONTOSO}). Sign in with an account of an allowed organization, or ask whoever configured this app to add the tenant.`,
      );
      expect(await journey.storedRefreshToken()).toBeNull();
      expect((await journey.cli(['status'])).code).toBe(1);
    });
    it('two accounts of two allowed tenants: both signed in, listed, refreshed with their own tokens, one logged out', async () => {
      const tenants = { AUTH_ALLOWED_TENANTS: `${CONTOSO},${NORTHWIND}` };
      const as = (user: typeof ADELE) => ({ ...tenants, LATCHKEY_TEST_LOGIN: user.login, LATCHKEY_TEST_PASSWORD: user.password });
      expect((await journey.cli(['logout', '--all'], tenants)).code).toBe(0);
      for (const user of [ADELE, NINA]) {
        const login = await journey.cli(['login', '--timeout', '60'], as(user));
        expect(login.code, login.stderr).toBe(0);
      }
      const listed = JSON.parse((await journey.cli(['accounts', '--json'], tenants)).stdout) as Array<{ name: string; sub: string }>;
      expect(listed.map((account) => [account.name, account.sub])).toEqual([
        [ADELE.email, ADELE.sub],
        [NINA.email, NINA.sub],
      ]);
      for (const user of [ADELE, NINA]) {
        const token = await journey.cli(['token', '--refresh', '--account', user.email], tenants);
        expect(token.code, token.stderr).toBe(0);
        const status = JSON.parse((await journey.cli(['status', '--json', '--account', user.email], tenants)).stdout) as { user: { sub: string } };
        expect(status.user.sub).toBe(user.sub);
      }
      expect((await journey.cli(['logout', '--account', ADELE.email], tenants)).code).toBe(0);
      expect((await journey.cli(['token', '--refresh'], tenants)).code).toBe(0);
      expect((await journey.cli(['logout', '--all'], tenants)).code).toBe(0);
    }, 180_000);
    it('without AUTH_ALLOWED_TENANTS, a multi-tenant issuer is refused before any sign-in, saying how to allow tenants', async () => {
      const status = await journey.cli(['status'], { AUTH_ALLOWED_TENANTS: '' });
      expect(status.code).toBe(2);
      expect(status.stderr).toMatch(/AUTH_ALLOWED_TENANTS: .* lets a user of any Microsoft tenant sign in\. List the tenant ids allowed \(comma-separated\), or \* to allow any tenant on purpose\./);
    });
  },
  deadTokenSays: DEAD,
});
