/**
 * The limiters' sliding window weighs the previous fixed window (windows start at multiples of
 * their length since the epoch) by how much of it still overlaps. A test that counts requests up
 * to a limit must therefore not straddle a window boundary, or it is allowed more than the limit.
 * Waits, when needed, until the current window has at least `needSeconds` left.
 */
export async function insideOneWindow(needSeconds: number, windowSeconds = 60): Promise<void> {
  const windowMs = windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < needSeconds * 1000) await new Promise((r) => setTimeout(r, left + 50));
}
