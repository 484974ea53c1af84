import { describe, expect, it } from 'vitest';
import { parseStepUpChallenge } from '../../src/shared/step-up.ts';

describe('parseStepUpChallenge', () => {
  it('reads RFC 9470\'s challenge: acr_values, max_age and the reason, whatever the scheme', () => {
    expect(parseStepUpChallenge('Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR other"')).toEqual({
      acrValues: 'myACR other',
      reason: 'A different authentication level is required',
    });
    expect(parseStepUpChallenge('DPoP error="insufficient_user_authentication", error_description="More recent authentication is required", max_age=5, algs="ES256"')).toEqual({ maxAge: 5, reason: 'More recent authentication is required' });
  });

  it('reads an Entra claims challenge: the base64 claims request, as JSON', () => {
    const claims = { access_token: { acrs: { essential: true, value: 'c1' } } };
    const header = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${Buffer.from(JSON.stringify(claims)).toString('base64')}"`;
    expect(parseStepUpChallenge(header)).toEqual({ claims: JSON.stringify(claims) });
  });

  it('is undefined for a challenge that asks for no stronger sign-in', () => {
    expect(parseStepUpChallenge('Bearer error="invalid_token", error_description="The access token expired"')).toBeUndefined();
    expect(parseStepUpChallenge('DPoP error="use_dpop_nonce"')).toBeUndefined();
    expect(parseStepUpChallenge('Bearer error="insufficient_user_authentication"')).toBeUndefined();
    expect(parseStepUpChallenge('Bearer error="insufficient_claims", claims="not json"')).toBeUndefined();
    expect(parseStepUpChallenge(null)).toBeUndefined();
  });
});
