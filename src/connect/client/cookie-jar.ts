// The affinity cookie jar of one client (CONNECT_API.md §6): Set-Cookie from a 307 is echoed
// on the re-POST. Never shared between integrations; attributes (Path, Expires…) are dropped.

export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Stores the name=value of each Set-Cookie header; a later value replaces an earlier one. */
  store(setCookie: string | readonly string[] | undefined): number {
    if (setCookie === undefined) return 0;
    let stored = 0;
    for (const header of typeof setCookie === 'string' ? [setCookie] : setCookie) {
      const pair = header.split(';', 1)[0]?.trim() ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      // Max-Age=0 or an empty value is a deletion.
      if (value === '' || /;\s*max-age=0\s*(;|$)/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
      stored++;
    }
    return stored;
  }

  /** The Cookie header value, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get size(): number {
    return this.cookies.size;
  }

  clear(): void {
    this.cookies.clear();
  }
}
