import type { InteractionDetails, InteractionResult, KoaContext, Middleware, Provider } from 'oidc-provider';
import type { Logger } from '../../shared/logger.ts';
import { DEMO_ACR_PASSWORD, DEMO_ACR_TWO_STEP } from '../../shared/constants.ts';
import { authenticateDemoUser, checkOneTimeCode, findDemoUser } from './accounts.ts';
import { readForm } from './form.ts';
import { renderConsentPage, renderErrorPage, renderSignInPage } from './pages.ts';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/;

/**
 * The provider's own sign-in and consent pages (oidc-provider's `interactions.url`
 * points here). Forms post back to `/interaction/:uid/...`; oidc-provider binds
 * each interaction to a SameSite cookie scoped to that path, so a form posted
 * from another site or another browser finds no interaction.
 */
export function interactionRoutes(provider: Provider, options: { clientName: (clientId: string | undefined) => string; logger?: Logger }): Middleware {
  const { clientName, logger } = options;

  return async function interactions(ctx, next) {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self' http://127.0.0.1:*; frame-ancestors 'none'; base-uri 'none'");

    let details: InteractionDetails;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== uid) throw new Error('interaction uid mismatch');
    } catch (error) {
      logger?.info('demo provider: unknown or expired sign-in attempt', { error: String(error) });
      html(ctx, 400, renderErrorPage('Sign-in expired', 'This sign-in attempt is no longer valid. Go back to the app and start signing in again.'));
      return;
    }

    const base = `/interaction/${uid}`;
    const client = clientName(details.params.client_id);
    // OpenID Connect Core §3.1.2.1 acr_values: the app asks for the two-step sign-in (an API's step-up challenge, RFC 9470).
    const twoStep = typeof details.params.acr_values === 'string' && details.params.acr_values.split(' ').includes(DEMO_ACR_TWO_STEP);

    if (ctx.method === 'GET' && !action) {
      if (details.prompt.name === 'login') {
        html(ctx, 200, renderSignInPage({ action: `${base}/login`, abortAction: `${base}/abort`, clientName: client, login: details.params.login_hint, twoStep }));
      } else {
        html(ctx, 200, consentPage(details, base, client));
      }
      return;
    }

    if (ctx.method !== 'POST' || !action) {
      html(ctx, 405, renderErrorPage('Not allowed', 'Use the sign-in form.'));
      return;
    }
    if (!sameOrigin(ctx)) {
      html(ctx, 403, renderErrorPage('Not allowed', 'This form must be sent from the sign-in page itself.'));
      return;
    }

    const form = await readForm(ctx.req, 16 * 1024);
    if (!form) {
      html(ctx, 413, renderErrorPage('Not allowed', 'The form was too large.'));
      return;
    }

    if (action === 'abort') {
      await finish(ctx, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, false);
      return;
    }

    if (action === 'login') {
      if (details.prompt.name !== 'login') {
        html(ctx, 400, renderErrorPage('Already signed in', 'Go back to the app and start signing in again.'));
        return;
      }
      const login = form.get('login') ?? '';
      const user = authenticateDemoUser(login, form.get('password') ?? '');
      const secondStepFailed = user !== undefined && twoStep && !checkOneTimeCode(user, form.get('one_time_code') ?? '');
      if (!user || secondStepFailed) {
        logger?.info(user ? 'demo provider: wrong one-time code' : 'demo provider: wrong username or password');
        const error = user ? 'Wrong one-time code. Try again.' : 'Wrong username or password. Try again.';
        html(ctx, 401, renderSignInPage({ action: `${base}/login`, abortAction: `${base}/abort`, clientName: client, login, error, twoStep }));
        return;
      }
      await finish(ctx, { login: { accountId: user.login, acr: twoStep ? DEMO_ACR_TWO_STEP : DEMO_ACR_PASSWORD, amr: twoStep ? ['pwd', 'otp'] : ['pwd'] } }, false);
      return;
    }

    if (details.prompt.name !== 'consent') {
      html(ctx, 400, renderErrorPage('Sign in first', 'Go back to the app and start signing in again.'));
      return;
    }
    if (form.get('consent') !== 'allow') {
      await finish(ctx, { error: 'access_denied', error_description: 'The user denied access.' }, false);
      return;
    }
    await finish(ctx, async () => ({ consent: await grantConsent(provider, details) }), true);
  };

  async function finish(ctx: KoaContext, result: InteractionResult | (() => Promise<InteractionResult>), mergeWithLastSubmission: boolean): Promise<void> {
    let returnTo: string;
    try {
      returnTo = await provider.interactionResult(ctx.req, ctx.res, typeof result === 'function' ? await result() : result, { mergeWithLastSubmission });
    } catch (error) {
      logger?.error('demo provider: could not finish the sign-in step', { error: String(error) });
      html(ctx, 500, renderErrorPage('Something went wrong', 'The sign-in could not be completed. Go back to the app and start signing in again.'));
      return;
    }
    ctx.status = 303;
    ctx.redirect(returnTo);
  }
}

function consentPage(details: InteractionDetails, base: string, clientName: string): string {
  const requested = (details.params.scope ?? '').split(' ').filter(Boolean);
  const resourceScopes = details.prompt.details.missingResourceScopes ?? {};
  const audiences = Object.keys(resourceScopes);
  const accountId = details.session?.accountId ?? '';
  const userName = findDemoUser(accountId)?.name ?? accountId;
  return renderConsentPage({ action: `${base}/confirm`, clientName, userName, scopes: requested, audiences });
}

/** Adds everything the consent prompt reported missing to the interaction's grant (or a new one). */
async function grantConsent(provider: Provider, details: InteractionDetails): Promise<{ grantId?: string }> {
  const accountId = details.session?.accountId;
  const clientId = details.params.client_id;
  if (!accountId || !clientId) throw new Error('consent without a signed-in user or client');
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  return existing ? {} : { grantId };
}

function html(ctx: KoaContext, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body;
}

function sameOrigin(ctx: KoaContext): boolean {
  const origin = ctx.get('origin');
  if (!origin) return true;
  return origin === `${ctx.protocol}://${ctx.get('host')}`;
}
