/**
 * Random prefixes and addresses with a realistic length mix, shared by the FIB benchmarks.
 * Lengths: 45 % /48, 35 % /32–/47, 5 % /16–/31, 10 % /56, /60 or /64, 5 % /128; addresses in
 * 2000::/3.
 * @module
 */
import { seededRandom } from "../tests/_harness/random.ts";
import { type Ipv6Prefix, maskAddress } from "../src/net/prefix.ts";

function randomLength(rand: () => number): number {
  const r = rand();
  if (r < 0.45) return 48;
  if (r < 0.80) return 32 + Math.floor(rand() * 16);
  if (r < 0.85) return 16 + Math.floor(rand() * 16);
  if (r < 0.95) return [56, 60, 64][Math.floor(rand() * 3)];
  return 128;
}

/** `n` random prefixes (duplicates possible but rare). */
export function randomPrefixes(n: number, seed = 1): Ipv6Prefix[] {
  const rand = seededRandom(seed);
  const out: Ipv6Prefix[] = [];
  for (let i = 0; i < n; i++) {
    const a = new Uint8Array(16);
    for (let j = 0; j < 16; j++) a[j] = Math.floor(rand() * 256);
    a[0] = 0x20 | (a[0] & 0x1f);
    const len = randomLength(rand);
    out.push({ addr: maskAddress(a, len), len });
  }
  return out;
}

/**
 * `n` destination addresses packed 16 bytes apart: half inside a random prefix of `prefixes`
 * (random host bits), half random in 2000::/3.
 */
export function randomDestinations(prefixes: Ipv6Prefix[], n: number, seed = 2): Uint8Array {
  const rand = seededRandom(seed);
  const buf = new Uint8Array(n * 16);
  for (let i = 0; i < n; i++) {
    const o = i * 16;
    for (let j = 0; j < 16; j++) buf[o + j] = Math.floor(rand() * 256);
    if (i % 2 === 0) {
      const p = prefixes[Math.floor(rand() * prefixes.length)];
      const full = p.len >> 3;
      buf.set(p.addr.subarray(0, full), o);
      if ((p.len & 7) !== 0) {
        const m = 0xff << (8 - (p.len & 7)) & 0xff;
        buf[o + full] = (p.addr[full] & m) | (buf[o + full] & ~m & 0xff);
      }
    } else {
      buf[o] = 0x20 | (buf[o] & 0x1f);
    }
  }
  return buf;
}
