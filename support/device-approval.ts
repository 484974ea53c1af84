// What a person does on another device for a sign-in with a code (RFC 8628 §3.3), on oidc-provider's
// stock device pages: open the verification address, type the user code, confirm (or abort), then sign
// in and consent on the provider's own interaction pages, ending on the stock "Sign-in Success" page.
import type { Browser, Page } from 'playwright-core';
import { DEMO_ALICE, type BrowserUser } from './browser.ts';

const STEP_TIMEOUT_MS = 15_000;

export interface DeviceApproval {
  /** 'approve' signs in and consents; 'abort' presses the confirmation page's [ Abort ]. Default 'approve'. */
  answer?: 'approve' | 'abort';
  user?: BrowserUser;
}

/** Resolves with the text of the page the flow ended on (the stock success or abort page); throws where it got stuck. */
export async function enterDeviceCode(browser: Browser, verificationUri: string, userCode: string, approval: DeviceApproval = {}): Promise<string> {
  const user = approval.user ?? DEMO_ALICE;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    await page.goto(verificationUri, { waitUntil: 'domcontentloaded' });
    await page.fill('input[name=user_code]', userCode);
    await submit(page, () => page.click('button[form="op.deviceInputForm"]'));
    if (approval.answer === 'abort') {
      await submit(page, () => page.click('button[name=abort]'));
      return await bodyText(page);
    }
    await submit(page, () => page.click('button[form="op.deviceConfirmForm"][autofocus]'));
    for (let step = 0; step < 4; step += 1) {
      if (await page.locator('input[name=password]').count()) {
        await page.fill('input[name=login]', user.login);
        await page.fill('input[name=password]', user.password);
        await submit(page, () => page.click('button[type=submit]'));
      } else if (await page.locator('button[name=consent]').count()) {
        await submit(page, () => page.click(`button[name=consent][value=${user.consent === 'deny' ? 'deny' : 'allow'}]`));
      } else {
        break;
      }
    }
    const text = await bodyText(page);
    if (!/success/i.test(text)) throw new Error(`The device sign-in did not succeed; the page says: ${text.slice(0, 300)}`);
    return text;
  } finally {
    await context.close();
  }
}

async function submit(page: Page, action: () => Promise<unknown>): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), action()]);
}

async function bodyText(page: Page): Promise<string> {
  return ((await page.locator('body').textContent()) ?? '').replace(/\s+/g, ' ').trim();
}
