import type { UserProfile } from '../../shared/auth-state.ts';
import type { ProviderPreset } from '../presets/preset.ts';
import type { AccountList, AccountRecord } from './account-index.ts';

/** What an account is called: the user's email where the provider gives one, else the username (login), else `sub`. */
export function accountName(user: UserProfile): string {
  return user.email ?? user.username ?? user.sub;
}

/**
 * The account `given` names — by its name (case-insensitively: an email's case carries no meaning) or, exactly,
 * by its `sub`; undefined when none does.
 */
export function findAccount(list: AccountList, given: string): AccountRecord | undefined {
  return list.accounts.find((account) => account.sub === given) ?? list.accounts.find((account) => account.name.toLowerCase() === given.toLowerCase());
}

/** The default account, if there is one. */
export function defaultAccount(list: AccountList): AccountRecord | undefined {
  return list.accounts.find((account) => account.sub === list.defaultSub);
}

/**
 * What the authorization request carries to let the person pick another user (a sign-in that adds an account):
 * the preset's account chooser — `select_account` where the provider has one, else `login` (OpenID Connect Core
 * §3.1.2.1) — with the configured prompt values beside it where the provider takes several, in place of them where it takes one.
 */
export function promptForAdding(configured: string | undefined, preset: Pick<ProviderPreset, 'accountChooser' | 'promptValues'>): string {
  if (preset.promptValues === 'one') return preset.accountChooser;
  const words = (configured ?? '').split(' ').filter((word) => word !== '' && word !== preset.accountChooser);
  return [preset.accountChooser, ...words].join(' ');
}

/**
 * The authorization request's hint at the account being renewed (OpenID Connect Core §3.1.2.1 `login_hint`;
 * GitHub's `login`): its email or username, as the preset says the provider takes it, else its `sub`.
 */
export function loginHintFor(account: Pick<AccountRecord, 'sub' | 'user'>, preset: Pick<ProviderPreset, 'loginHint'>): Record<string, string> {
  const value = preset.loginHint.value === 'username' ? (account.user.username ?? account.user.email ?? account.sub) : (account.user.email ?? account.user.username ?? account.sub);
  return { [preset.loginHint.parameter]: value };
}
