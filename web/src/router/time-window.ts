// The time window a page reads, kept still while its lists are paged.
// A window "the last N hours, ending now" moves with every reload: paging
// newest-first by OFFSET through a window that moved by the time the next
// page loads shifts rows from one page to the next (repeated or skipped
// ones). Turning to a page past the first pins the window's end in the
// URL (?until=, epoch ms); the first page of every list reads "now" again.
// No DOM here: tested in Node (test/dashboard-web-modules.test.ts).

/** Whether any paged list of the page (?offset=, ?scores_offset=, ...) is past its first page. */
export function paging(query: URLSearchParams): boolean {
  for (const [k, v] of query) if (k.endsWith('offset') && Number(v) > 0) return true;
  return false;
}

/** from/to for the API: the last `hours`, ending now, or at ?until= while paging. */
export function windowRange(query: URLSearchParams, hours: number, now: number): { from: string; to: string } {
  const until = Number(query.get('until'));
  const to = paging(query) && Number.isSafeInteger(until) && until > 0 && until <= now ? until : now;
  return { from: new Date(to - hours * 3_600_000).toISOString(), to: new Date(to).toISOString() };
}

/** The query change for turning list `name` to `offset`: the window's end pinned past the first page (kept if pinned already), let go on it. */
export function pagePatch(query: URLSearchParams, name: string, offset: number, now: number): Record<string, string | undefined> {
  const patch: Record<string, string | undefined> = { [name]: offset > 0 ? String(offset) : undefined };
  const next = new URLSearchParams(query);
  if (offset > 0) next.set(name, String(offset));
  else next.delete(name);
  if (!paging(next)) patch.until = undefined;
  else if (!paging(query) || !query.get('until')) patch.until = String(now);
  return patch;
}
