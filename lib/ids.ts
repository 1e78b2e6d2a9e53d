import { randomBytes } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Uniform base62 string from random bytes: rejection sampling keeps every character equally likely. */
function base62(length: number, nextByte: () => number): string {
  let out = "";
  while (out.length < length) {
    const byte = nextByte();
    if (byte < 248) out += BASE62[byte % 62];
  }
  return out;
}

/** For secrets: bytes drawn fresh from the CSPRNG for this string alone. */
export function randomBase62(length: number): string {
  let bytes = randomBytes(length * 2);
  let at = 0;
  return base62(length, () => {
    if (at === bytes.length) {
      bytes = randomBytes(length * 2);
      at = 0;
    }
    return bytes[at++]!;
  });
}

// Ids draw their random part from a block of CSPRNG bytes, each byte used once: one call per
// id was a measurable share of a busy server's CPU. (Secrets keep fresh bytes of their own.)
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolAt = 0;

function pooledByte(): number {
  if (poolAt === POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

let lastMs = 0;
let seq = 0;

/**
 * `prefix_` + 9 base62 chars of milliseconds + 2 of a per-millisecond sequence + 12 random.
 * Ids sort by creation time within a process (and roughly across processes), which keeps
 * cursor pagination and B-tree inserts cheap. The prefix makes a log line explain itself.
 */
export function newId(prefix: IdPrefix): string {
  const now = Date.now();
  if (now === lastMs) seq++;
  else {
    lastMs = now;
    seq = 0;
  }
  return `${prefix}_${encodeFixed(now, 9)}${encodeFixed(seq % 3844, 2)}${base62(12, pooledByte)}`;
}

function encodeFixed(n: number, width: number): string {
  let s = "";
  let v = n;
  for (let i = 0; i < width; i++) {
    s = BASE62[v % 62] + s;
    v = Math.floor(v / 62);
  }
  return s;
}

export type IdPrefix =
  | "org"
  | "usr"
  | "mem"
  | "cli"
  | "opp"
  | "wo"
  | "inv"
  | "bkg"
  | "aud"
  | "ntf"
  | "evt"
  | "dlv"
  | "att"
  | "we"
  | "req"
  | "key"
  | "src"
  | "inr"
  | "con"
  | "run"
  | "imp"
  | "wfr"
  | "ivt"
  | "lcp"
  | "mlf";
