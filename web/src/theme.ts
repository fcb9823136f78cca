// Dark/light theme: the user's choice is kept in localStorage and applied as
// data-theme on <html> (theme.css); without a choice the OS preference
// applies. Charts listen to ja4-theme-changed to redraw with the new colours.
export type Theme = 'dark' | 'light';

const KEY = 'ja4-theme';

export function currentTheme(): Theme {
  const set = document.documentElement.dataset.theme;
  if (set === 'dark' || set === 'light') return set;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(theme: Theme | undefined, persist = true): void {
  if (theme === undefined) delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  if (persist) {
    try {
      if (theme === undefined) localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, theme);
    } catch {
      // storage disabled (private mode): the choice lasts for this page only
    }
  }
  window.dispatchEvent(new Event('ja4-theme-changed'));
}

export function restoreTheme(): void {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(KEY);
  } catch {
    saved = null;
  }
  if (saved === 'dark' || saved === 'light') document.documentElement.dataset.theme = saved;
}
