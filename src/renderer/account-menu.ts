// The menu on the avatar: every account signed in here (picture or initials, name, email), the window's own
// checked; switch to another, add one (the system browser), sign out of this one or of all. Text goes in through
// textContent only, as everywhere in the page.
import type { AccountSummary, AuthState } from '../shared/auth-state.ts';
import { inertText } from '../shared/inert-text.ts';
import { initialsOf, safePictureUrl } from './view.ts';

export interface AccountMenuActions {
  switchTo(account: string): void;
  add(): void;
  signOutOne(): void;
  signOutAll(): void;
}

export interface AccountMenu {
  render(state: AuthState): void;
  close(): void;
}

export function createAccountMenu(doc: Document, actions: AccountMenuActions): AccountMenu {
  const get = <T extends HTMLElement>(id: string, type: { new (): T }): T => {
    const found = doc.getElementById(id);
    if (!(found instanceof type)) throw new Error(`The page is missing #${id}.`);
    return found;
  };
  const button = get('account-button', HTMLButtonElement);
  const menu = get('account-menu', HTMLElement);
  const list = get('account-list', HTMLElement);
  const add = get('add-account', HTMLButtonElement);
  const signOutOne = get('sign-out-one', HTMLButtonElement);
  const signOutAll = get('sign-out-all', HTMLButtonElement);

  const setOpen = (open: boolean) => {
    menu.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) menu.querySelector<HTMLButtonElement>('[role^="menuitem"]')?.focus();
  };
  const close = () => {
    if (!menu.hidden) setOpen(false);
  };
  const chosen = (action: () => void) => () => {
    setOpen(false);
    button.focus();
    action();
  };

  button.addEventListener('click', () => setOpen(menu.hidden !== false));
  add.addEventListener('click', chosen(() => actions.add()));
  signOutOne.addEventListener('click', chosen(() => actions.signOutOne()));
  signOutAll.addEventListener('click', chosen(() => actions.signOutAll()));
  doc.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || menu.hidden) return;
    setOpen(false);
    button.focus();
  });
  doc.addEventListener('click', (event) => {
    if (!menu.hidden && event.target instanceof Node && !menu.contains(event.target) && !button.contains(event.target)) setOpen(false);
  });

  return {
    close,
    render(state) {
      const accounts = state.accounts ?? [];
      list.replaceChildren(...accounts.map((account) => item(doc, account, account.name === state.account, chosen(() => actions.switchTo(account.name)))));
      signOutOne.textContent = state.account ? `Sign out of ${state.account}` : 'Sign out';
      signOutAll.hidden = accounts.length < 2;
    },
  };
}

function item(doc: Document, account: AccountSummary, current: boolean, onChoose: () => void): HTMLElement {
  const entry = doc.createElement('li');
  entry.setAttribute('role', 'none');
  const choose = doc.createElement('button');
  choose.type = 'button';
  choose.className = 'account-item';
  choose.setAttribute('role', 'menuitemradio');
  choose.setAttribute('aria-checked', String(current));
  choose.dataset.account = account.name;
  const picture = safePictureUrl(account.user.picture);
  let face: HTMLElement;
  if (picture) {
    const image = doc.createElement('img');
    image.className = 'avatar';
    image.alt = '';
    image.referrerPolicy = 'no-referrer';
    image.src = picture;
    face = image;
  } else {
    face = doc.createElement('span');
    face.className = 'avatar avatar-initials';
    face.setAttribute('aria-hidden', 'true');
    face.textContent = initialsOf(account.user);
  }
  const name = doc.createElement('span');
  name.className = 'account-item-name';
  // The provider's words, made inert like every name the page shows.
  name.textContent = inertText(account.user.name ?? account.name);
  const email = doc.createElement('span');
  email.className = 'account-item-email';
  email.textContent = inertText(account.user.email ?? account.name);
  choose.append(face, name, email);
  if (!current) choose.addEventListener('click', onChoose);
  entry.append(choose);
  return entry;
}
