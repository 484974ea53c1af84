import type { Page, Request } from 'playwright-core';

/**
 * What a browser meets on Glewlwyd 2.7's webapp (login.html, a React page):
 * - sign-in: `#username`, `#password`, submit `#loginbut` (form `#passwordForm`);
 * - consent ("Client access grant"): a checkbox `#grant-<scope>` per scope not
 *   yet granted (openid is pre-checked and disabled), then the button
 *   "Grant access";
 * - once the user is signed in and the scopes are granted ("Connection to
 *   <client>"): the button "Continue" (title "Continue to client application"),
 *   which goes back to /auth with `g_continue` and on to the redirect URI.
 * A wrong password leaves the form in place and shows a toast for a few
 * seconds (`.toast .toast-body`: "Authentication error").
 */
export const GLEWLWYD_SELECTORS = {
  username: '#passwordForm #username',
  password: '#passwordForm #password',
  submit: '#passwordForm #loginbut',
  consentBox: 'input.form-check-input[id^="grant-"]:not(:checked):not(:disabled)',
  grant: 'button.btn-primary:has-text("Grant access")',
  continue: 'button.btn-success[title="Continue to client application"]',
  message: '.toast[role=alert] .toast-body',
  /** The device verification page (login.html?prompt=device): the user code, then "OK". */
  deviceCode: 'input[placeholder="X1Y2-A3B4"]',
  deviceOk: 'button.btn-primary:has-text("OK")',
} as const;

export interface GlewlwydUser {
  username: string;
  password: string;
}

const STEP_TIMEOUT_MS = 15_000;
const MAX_STEPS = 8;

type Step = 'left' | 'login' | 'consent' | 'continue';

/**
 * Opens `authorizationUrl` and signs in on Glewlwyd's login page, grants every
 * requested scope and continues until the browser leaves Glewlwyd (the
 * client's redirect URI). Resolves with that URL; throws with what the page
 * showed when the sign-in is refused or the page is stuck.
 */
export async function signInThroughGlewlwyd(page: Page, authorizationUrl: string, user: GlewlwydUser): Promise<string> {
  const provider = new URL(authorizationUrl).origin;
  const left = () => {
    const url = page.url();
    return url.startsWith('http') && new URL(url).origin !== provider;
  };
  return walkWatchingGrants(page, () => page.goto(authorizationUrl, { waitUntil: 'commit', timeout: STEP_TIMEOUT_MS }), user, left);
}

/**
 * Sign-in with a code (RFC 8628) on Glewlwyd's pages, as on another device: opens
 * `verificationUri`, types `userCode`, then signs in, grants every requested
 * scope and continues until the page says "Authorization complete". Resolves
 * with that page's text.
 */
export async function approveDeviceCodeOnGlewlwyd(page: Page, verificationUri: string, userCode: string, user: GlewlwydUser): Promise<string> {
  const complete = () => new URL(page.url()).searchParams.get('prompt') === 'deviceComplete';
  await walkWatchingGrants(page, async () => {
    await page.goto(verificationUri, { waitUntil: 'commit', timeout: STEP_TIMEOUT_MS });
    await page.fill(GLEWLWYD_SELECTORS.deviceCode, userCode, { timeout: STEP_TIMEOUT_MS });
    await page.click(GLEWLWYD_SELECTORS.deviceOk);
  }, user, complete);
  await page.getByText('Authorization complete').first().waitFor({ timeout: STEP_TIMEOUT_MS });
  return ((await page.locator('.card-body').first().textContent()) ?? '').trim();
}

async function walkWatchingGrants(page: Page, start: () => Promise<unknown>, user: GlewlwydUser, left: () => boolean): Promise<string> {
  // The page shows "Continue" before it has asked which scopes are granted already (GET /api/auth/grant/…),
  // and swaps in the consent form when that answer says some are not: decide only after the answer.
  let grantsKnown = false;
  const onFinished = (request: Request) => {
    if (request.method() === 'GET' && new URL(request.url()).pathname.includes('/api/auth/grant/')) grantsKnown = true;
  };
  page.on('requestfinished', onFinished);
  try {
    return await walkPages(page, start, user, left, () => grantsKnown);
  } finally {
    page.off('requestfinished', onFinished);
  }
}

async function walkPages(page: Page, start: () => Promise<unknown>, user: GlewlwydUser, left: () => boolean, grantsKnown: () => boolean): Promise<string> {
  await start();

  let signedIn = false;
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const next = await nextStep(page, left, grantsKnown);
    if (next === 'left') return page.url();
    if (next === 'login') {
      if (signedIn) throw new Error(`Glewlwyd refused the sign-in of ${user.username}: ${await shownMessage(page)}`);
      signedIn = true;
      await page.fill(GLEWLWYD_SELECTORS.username, user.username);
      await page.fill(GLEWLWYD_SELECTORS.password, user.password);
      await page.click(GLEWLWYD_SELECTORS.submit);
      const outcome = await Promise.race([
        page.locator(GLEWLWYD_SELECTORS.submit).waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS }).then(() => 'accepted'),
        page.locator(GLEWLWYD_SELECTORS.message).first().waitFor({ state: 'attached', timeout: STEP_TIMEOUT_MS }).then(() => 'refused'),
      ]).catch(() => 'unanswered');
      if (outcome === 'refused') throw new Error(`Glewlwyd refused the sign-in of ${user.username}: ${await shownMessage(page)}`);
      if (outcome === 'unanswered') throw new Error(`Glewlwyd's login page did not answer the sign-in of ${user.username} within ${STEP_TIMEOUT_MS} ms`);
    } else if (next === 'consent') {
      const unchecked = page.locator(GLEWLWYD_SELECTORS.consentBox);
      while (await unchecked.count()) await unchecked.first().check();
      await page.click(GLEWLWYD_SELECTORS.grant);
      await page.locator(GLEWLWYD_SELECTORS.grant).waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
    } else {
      await Promise.all([
        page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame(), timeout: STEP_TIMEOUT_MS }),
        page.click(GLEWLWYD_SELECTORS.continue),
      ]);
    }
  }
  throw new Error(`Glewlwyd's pages did not lead to the redirect URI in ${MAX_STEPS} steps; the browser is at ${page.url()}`);
}

async function nextStep(page: Page, left: () => boolean, grantsKnown: () => boolean): Promise<Step> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (left()) return 'left';
    if (await visible(page, GLEWLWYD_SELECTORS.username)) return 'login';
    if (await visible(page, GLEWLWYD_SELECTORS.grant)) return 'consent';
    if (grantsKnown() && (await visible(page, GLEWLWYD_SELECTORS.continue))) {
      // Two frames: the page has handled that answer (and shown the consent form if it needs one).
      await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
      if (await visible(page, GLEWLWYD_SELECTORS.grant)) return 'consent';
      return 'continue';
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`Neither Glewlwyd's sign-in, consent nor continue page at ${page.url()}: ${await shownMessage(page)}`);
}

async function visible(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).first().isVisible().catch(() => false);
}

async function shownMessage(page: Page): Promise<string> {
  const texts = await page.locator(GLEWLWYD_SELECTORS.message).allTextContents().catch(() => []);
  return texts.map((text) => text.trim()).filter(Boolean).join(' / ') || `no message shown (title "${await page.title().catch(() => '')}")`;
}
