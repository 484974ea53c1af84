// A stand-in for the user's browser on Glewlwyd, for CLI interop tests:
// `BROWSER="node support/glewlwyd-browser-command.ts"`. Like browser-command.ts,
// it opens the sign-in URL (its last argument) in Chromium and signs in on
// Glewlwyd's own login and consent pages as LATCHKEY_TEST_LOGIN /
// LATCHKEY_TEST_PASSWORD, follows the redirect to the app's loopback callback,
// lets the app's result page load and exits.
import { launchBrowser } from './browser.ts';
import { signInThroughGlewlwyd } from './glewlwyd-signin.ts';

const url = process.argv.at(-1);
const username = process.env.LATCHKEY_TEST_LOGIN;
const password = process.env.LATCHKEY_TEST_PASSWORD;
if (!url?.startsWith('http') || !username || !password) {
  console.error('usage: LATCHKEY_TEST_LOGIN=… LATCHKEY_TEST_PASSWORD=… glewlwyd-browser-command.ts <url>');
  process.exit(2);
}
const browser = await launchBrowser();
try {
  const page = await (await browser.newContext()).newPage();
  await signInThroughGlewlwyd(page, url, { username, password });
  await page.waitForLoadState('domcontentloaded').catch(() => undefined);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
} finally {
  await browser.close();
}
