// The sign-in screen: shown before the map loads anything, and again when the session ends.
import { signIn, signOut, getMe } from '../api.js';

// The map is the staff's view: the server gives a resident's token nothing on it (403).
export const RESIDENT_NOTE =
  '居民账号不能使用网格工作地图。请通过街道公布的渠道上报问题，并凭上报时得到的跟踪码查看办理进度。';

/** Whether this account may use the map (GET /api/auth/me's answer). */
export function mayUseMap(me) {
  return Boolean(me) && me.role !== 'resident';
}

/**
 * el: the #sign-in section of index.html, holding the form.
 * ask(message) shows the screen (with message, if any) and resolves to the signed-in user
 * (GET /api/auth/me) once the server accepted a user name and password.
 */
export function createSignIn(el) {
  const form = el.querySelector('form');
  const message = el.querySelector('.og-signin-message');
  const submit = form.querySelector('button[type=submit]');
  let pending = null; // one sign-in at a time, however often the session is reported ended

  function say(text, { progress = false } = {}) {
    message.textContent = text || '';
    message.hidden = !text;
    message.classList.toggle('og-progress-note', progress);
  }

  function ask(text = '') {
    say(text);
    document.body.dataset.state = 'sign-in';
    el.hidden = false;
    if (pending) return pending.promise;
    let resolve;
    const promise = new Promise((r) => {
      resolve = r;
    });
    pending = { promise, resolve };
    (form.elements.username.value ? form.elements.password : form.elements.username).focus();
    return promise;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault(); // never the browser's own post: the password must not end up in a URL
    if (!pending) return;
    submit.disabled = true;
    say('正在登录…', { progress: true });
    try {
      await signIn(form.elements.username.value.trim(), form.elements.password.value);
      const me = await getMe();
      form.elements.password.value = '';
      if (!mayUseMap(me)) {
        await signOut(); // no session kept that the map cannot use
        say(RESIDENT_NOTE);
        return;
      }
      say('');
      el.hidden = true;
      const { resolve } = pending;
      pending = null;
      resolve(me);
    } catch (error) {
      say(error.message); // the server's own words (one message for every refusal)
      form.elements.password.select();
    } finally {
      submit.disabled = false;
    }
  });

  return { ask };
}
