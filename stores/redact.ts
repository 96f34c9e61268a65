/** Keeps secrets in store URLs out of logs and error messages. */

/** Hides passwords and tokens in a store URL before it is logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    else if (u.username && /^(redis|rediss|upstash|https?):$/.test(u.protocol)) {
      // redis://:secret@host and token-only forms put the secret where the user goes.
      u.username = "***";
    }
    for (const k of [...u.searchParams.keys()]) {
      if (/secret|token|password|key/i.test(k)) u.searchParams.set(k, "***");
    }
    return u.toString();
  } catch {
    return url;
  }
}
