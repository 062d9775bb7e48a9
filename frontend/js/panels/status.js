// The status line: what is loaded, and API errors in plain words.
import { h } from '../dom.js';

export function createStatusLine(el) {
  const info = h('span', { class: 'og-status-info' });
  const errors = h('ul', { class: 'og-status-errors' });
  el.append(info, errors);

  return {
    info(text) {
      info.textContent = text;
    },

    /** Adds an error line the user can dismiss. */
    error(text) {
      const item = dismissable(text, { role: 'alert' });
      errors.appendChild(item);
      while (errors.children.length > 4) errors.firstElementChild.remove();
    },

    /** A notice that replaces the previous one with the same key and fades after a while. */
    notice(key, text, { seconds = 20 } = {}) {
      errors.querySelector(`[data-key="${key}"]`)?.remove();
      const item = dismissable(text, { class: 'og-status-notice', dataset: { key } });
      errors.appendChild(item);
      setTimeout(() => item.remove(), seconds * 1000);
    },
  };
}

/** A status line with a close button. */
function dismissable(text, attrs) {
  const item = h('li', attrs, h('span', {}, text), h('button', {
    type: 'button',
    class: 'og-status-dismiss',
    'aria-label': '关闭提示',
    onclick: () => item.remove(),
  }, '×'));
  return item;
}
