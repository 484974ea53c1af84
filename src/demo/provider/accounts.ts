import { timingSafeEqual, createHash } from 'node:crypto';

export interface DemoUser {
  login: string;
  password: string;
  /** The demo's second sign-in step: the code a user's authenticator would show (the sign-in page shows it, as it shows the password). */
  oneTimeCode: string;
  name: string;
  email: string;
  picture: string;
}

/** The demo users; the sign-in page shows them with their passwords. */
export const DEMO_USERS: readonly DemoUser[] = [
  { login: 'alice', password: 'wonderland', oneTimeCode: '246810', name: 'Alice Liddell', email: 'alice@example.com', picture: avatar('A', '#7b4fd6') },
  { login: 'bob', password: 'builder', oneTimeCode: '135790', name: 'Bob Builder', email: 'bob@example.com', picture: avatar('B', '#d67b1f') },
];

export function findDemoUser(login: string): DemoUser | undefined {
  return DEMO_USERS.find((user) => user.login === login);
}

/** The user whose login and password both match, compared in constant time. */
export function authenticateDemoUser(login: string, password: string): DemoUser | undefined {
  const user = findDemoUser(login.trim().toLowerCase());
  if (!user) return undefined;
  return sameSecret(user.password, password) ? user : undefined;
}

/** True when `code` is `user`'s one-time code (the second step), compared in constant time. */
export function checkOneTimeCode(user: DemoUser, code: string): boolean {
  return sameSecret(user.oneTimeCode, code.trim());
}

/** The OpenID claims of a demo user; the provider filters them by granted scope. */
export function demoUserClaims(user: DemoUser): Record<string, unknown> {
  return { sub: user.login, name: user.name, email: user.email, email_verified: true, picture: user.picture };
}

function sameSecret(expected: string, given: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

function avatar(letter: string, color: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="32" fill="${color}"/>`
    + `<text x="32" y="42" font-family="sans-serif" font-size="28" fill="#fff" text-anchor="middle">${letter}</text></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}
