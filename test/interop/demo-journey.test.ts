// The CLI's whole journey against the demo provider as a stock oidc-provider:
// it rewrites no request, so a refresh token comes only because Latchkey asks
// for consent with offline_access (OpenID Connect Core §11). Once with JWT
// access tokens for the demo API (`audience`), once with oidc-provider's
// default opaque access tokens, where name and email exist only in UserInfo.
import { it } from 'vitest';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../src/shared/constants.ts';
import { startTestDemo } from '../helpers/demo.ts';
import { statusWithToken } from '../helpers/api-call.ts';
import { FAKE_BROWSER } from '../helpers/cli.ts';
import { CHROMIUM, describeCliJourney, HAVE_CHROMIUM, type ProviderUnderTest } from './cli-journey.ts';

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const ALICE = { login: 'alice', password: 'wonderland', name: 'Alice Liddell', email: 'alice@example.com' };

async function startStockDemo(accessTokenFormat: 'jwt' | 'opaque'): Promise<ProviderUnderTest> {
  const demo = await startTestDemo({ accessTokenTtl: 30, accessTokenFormat });
  const opaque = accessTokenFormat === 'opaque';
  return {
    env: {
      AUTH_ISSUER: demo.issuer,
      AUTH_CLIENT_ID: DEMO_CLIENT_ID,
      // Opaque: no audience, so the access token is the provider's own, for UserInfo.
      AUTH_AUDIENCE: opaque ? '' : DEMO_AUDIENCE,
      // Opaque: UserInfo is the API the token is for.
      API_BASE_URL: opaque ? demo.issuer : demo.apiUrl,
    },
    browser: FAKE_BROWSER,
    user: ALICE,
    accessTokenWorks: async (token, entry) => {
      if (JWT.test(token) === opaque) return false;
      return (await statusWithToken(opaque ? `${demo.issuer}/me` : `${demo.apiUrl}/me`, token, entry)) === 200;
    },
    apiCallUrl: opaque ? `${demo.issuer}/me` : `${demo.apiUrl}/me`,
    // The demo is a stock oidc-provider with its DPoP feature on: under AUTH_DPOP=auto every token is bound.
    bindsTokens: true,
    reuseSeen: () => demo.stats.reuseDetected !== 0,
    doctorSays: [/^✓ Refresh token grant: supported$/m, /^✓ Public client: /m, /^✓ Revocation: /m],
    logoutSays: /^$/,
    stop: () => demo.close(),
  };
}

if (!HAVE_CHROMIUM) {
  it.skip(`demo CLI journeys: skipped, ${CHROMIUM} is not installed`, () => {});
} else {
  describeCliJourney('the CLI against the demo as a stock oidc-provider (JWT access tokens for the API)', () => startStockDemo('jwt'));
  describeCliJourney('the CLI against the demo as a stock oidc-provider with opaque access tokens (profile from UserInfo)', () => startStockDemo('opaque'));
}
