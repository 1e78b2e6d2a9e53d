import { randomBytes } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Uniform base62 string: rejection sampling keeps every character equally likely. For secrets. */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

// Ids draw their random part from a block of CSPRNG bytes, each byte used once: one call per
// id was a measurable share of a busy server's CPU. (Secrets keep fresh bytes of their own.)
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolAt = 0;

function pooledBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    if (poolAt === POOL_SIZE) {
      pool = randomBytes(POOL_SIZE);
      poolAt = 0;
    }
    const byte = pool[poolAt++]!;
    if (byte < 248) out += BASE62[byte % 62];
  }
  return out;
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
  return `${prefix}_${encodeFixed(now, 9)}${encodeFixed(seq % 3844, 2)}${pooledBase62(12)}`;
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
  | "wfr";
