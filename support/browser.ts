import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Opener } from '../src/core/index.ts';
import { withoutNssWrapper } from '../scripts/nss-wrapper.ts';

export type { Browser, Page } from 'playwright-core';

/** What the "system browser" does on the provider's pages. */
export interface BrowserUser {
  login: string;
  password: string;
  /** The second step the demo's sign-in page asks for when the app asks for the stronger sign-in (its acr_values). */
  oneTimeCode?: string;
  /** 'none' stops at the consent page. Default 'allow'. */
  consent?: 'allow' | 'deny' | 'none';
}

export interface BrowserOpener extends Opener {
  /** Settles (never rejects) when the page flow started by the latest call has finished. */
  readonly done: Promise<void>;
  /** The page of the latest call. */
  readonly lastPage?: Page;
  /** Why the latest call's page flow stopped short of the app's callback (wrong password, missing form, …). */
  readonly lastError?: Error;
  /** The URL the latest call's page ended on once it left the provider (the app's loopback callback). */
  readonly lastCallbackUrl?: string;
  /** Every page opened, oldest first. */
  readonly pages: Page[];
  /** Every URL the opener was asked to open. */
  readonly urls: string[];
  /** Closes the browser contexts this opener created. */
  close(): Promise<void>;
}

export const DEMO_ALICE: BrowserUser = { login: 'alice', password: 'wonderland', oneTimeCode: '246810' };
export const DEMO_BOB: BrowserUser = { login: 'bob', password: 'builder', oneTimeCode: '135790' };

export interface LaunchOptions {
  /** Send the browser's requests through this proxy (a user behind a company proxy). */
  proxy?: { server: string; username?: string; password?: string };
  /** Accept any certificate — for a provider whose test CA only the app is told to trust. */
  ignoreCertificateErrors?: boolean;
}

/** Debian Chromium through playwright-core (`CHROMIUM_PATH`, default /usr/bin/chromium). Share one per test file. */
export function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync',
      ...(options.ignoreCertificateErrors ? ['--ignore-certificate-errors'] : [])],
    // Not under with-keyring.ts's nss_wrapper: Chromium's crash handler never exits under it (nss-wrapper.ts).
    env: withoutNssWrapper(),
    ...(options.proxy ? { proxy: options.proxy } : {}),
  });
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  started: boolean;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => { resolve = done; });
  return { promise, resolve, started: false };
}

const NAVIGATION_TIMEOUT_MS = 15_000;

/**
 * An Opener that opens the URL in a fresh Chromium context and completes the
 * provider's real sign-in form (login, password, consent allow|deny) like a
 * person would, then follows the redirect to the app's loopback callback. It
 * resolves as soon as the page work has started; the flow runs in the
 * background and never throws — failures land in `lastError`.
 */
export function browserOpener(browser: Browser, user: BrowserUser = DEMO_ALICE): BrowserOpener {
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  const urls: string[] = [];
  let current = deferred();
  let lastPage: Page | undefined;
  let lastError: Error | undefined;
  let lastCallbackUrl: string | undefined;

  async function flow(url: string, page: Page): Promise<void> {
    const providerOrigin = new URL(url).origin;
    const leftProvider = () => {
      const at = page.url();
      return at.startsWith('http') && new URL(at).origin !== providerOrigin;
    };
    const navigate = async (action: () => Promise<unknown>) => {
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: NAVIGATION_TIMEOUT_MS }).catch(() => undefined),
        action(),
      ]);
    };

    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: NAVIGATION_TIMEOUT_MS }).catch(() => undefined);
    let signedIn = false;
    for (let step = 0; step < 4 && !leftProvider(); step += 1) {
      if (await page.locator('input[name=password]').count()) {
        if (signedIn) {
          const message = await page.locator('[role=alert]').first().textContent().catch(() => null);
          throw new Error(`The provider refused the sign-in: ${message?.trim() || 'no message shown'}`);
        }
        signedIn = true;
        await page.fill('input[name=login]', user.login);
        await page.fill('input[name=password]', user.password);
        if (await page.locator('input[name=one_time_code]').count()) {
          if (user.oneTimeCode === undefined) throw new Error('The provider asks for a one-time code (a second sign-in step), and this user has none.');
          await page.fill('input[name=one_time_code]', user.oneTimeCode);
        }
        await navigate(() => page.click('button[type=submit]'));
        continue;
      }
      const consent = user.consent ?? 'allow';
      if (await page.locator('button[name=consent]').count()) {
        if (consent === 'none') return;
        await navigate(() => page.click(`button[name=consent][value=${consent}]`));
        continue;
      }
      throw new Error(`Neither a sign-in nor a consent page at ${page.url()}: ${(await page.title().catch(() => '')) || 'untitled'}`);
    }
    if (!leftProvider()) throw new Error(`The browser did not reach the app's callback; it is at ${page.url()}`);
    lastCallbackUrl = page.url();
  }

  const opener = (async (url: string) => {
    urls.push(url);
    if (current.started) current = deferred();
    const call = current;
    call.started = true;
    lastError = undefined;
    lastCallbackUrl = undefined;
    let page: Page;
    try {
      const context = await browser.newContext();
      contexts.push(context);
      page = await context.newPage();
    } catch (error) {
      lastError = error instanceof Error ? error : new Error(String(error));
      call.resolve();
      return;
    }
    pages.push(page);
    lastPage = page;
    flow(url, page)
      .catch((error: unknown) => {
        if (call === current) lastError = error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => call.resolve());
  }) as BrowserOpener;

  Object.defineProperties(opener, {
    done: { get: () => current.promise },
    lastPage: { get: () => lastPage },
    lastError: { get: () => lastError },
    lastCallbackUrl: { get: () => lastCallbackUrl },
    pages: { value: pages },
    urls: { value: urls },
    close: { value: async () => { await Promise.all(contexts.splice(0).map((context) => context.close().catch(() => undefined))); } },
  });
  return opener;
}
