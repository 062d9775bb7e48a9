// Who is signed in, in the page header, with the sign-out button.
import { ROLE_LABELS } from '../domain.js';

/** el: the #account element of index.html; onSignOut() runs when the button is pressed. */
export function createAccount(el, { onSignOut } = {}) {
  const name = el.querySelector('.og-account-name');
  const role = el.querySelector('.og-account-role');
  const button = el.querySelector('.og-sign-out');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await onSignOut?.();
    } finally {
      button.disabled = false;
    }
  });

  return {
    /** me: the answer of GET /api/auth/me. */
    show(me) {
      name.textContent = me.display_name || me.username;
      role.textContent = ROLE_LABELS[me.role] || me.role;
      role.dataset.role = me.role;
      const scope = [me.grid_code && `网格 ${me.grid_code}`, me.unit_code && `单位 ${me.unit_code}`].filter(Boolean);
      el.title = [`用户名：${me.username}`, ...scope].join('\n');
      el.hidden = false;
    },
  };
}
