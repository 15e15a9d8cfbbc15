/**
 * Mutations of JSON documents (config files, control requests, DC content) that keep them
 * JSON often enough to reach the checks behind the parser: a value anywhere replaced with one
 * of another type or at a boundary, a key removed, added or made `__proto__`, an array entry
 * repeated, deep nesting. The text is then sometimes byte-mutated as well.
 * @module
 */
import { mutate, type Rng, type Seed } from "./mutator.ts";

const STRINGS = [
  "",
  "x",
  "::",
  "::1",
  "fd00::/8",
  "fd00::1/129",
  "fd00::/-1",
  "fe80::1%eth0",
  "1.2.3.4:5",
  "[::1]:0",
  "[::1]:65536",
  "a".repeat(300),
  "\u0000",
  "é\u{1f600}",
  "../../etc/passwd",
  "/dev/null",
  "vmesh0",
  "tun",
  "service",
  "dummy",
  "__proto__",
  "constructor",
];
const NUMBERS = [0, -1, 1, 1.5, 64, 128, 129, 65535, 65536, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308];

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.below(depth > 2 ? 5 : 7)) {
    case 0:
      return null;
    case 1:
      return rng.oneIn(2);
    case 2:
      return rng.pick(NUMBERS);
    case 3:
    case 4:
      return rng.pick(STRINGS);
    case 5:
      return Array.from({ length: rng.below(4) }, () => randomValue(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.below(3); i > 0; i--) o[rng.pick(STRINGS)] = randomValue(rng, depth + 1);
      return o;
    }
  }
}

/** Every container in `v` (objects and arrays), depth first. */
function containers(v: unknown, out: (Record<string, unknown> | unknown[])[] = []) {
  if (v !== null && typeof v === "object") {
    out.push(v as Record<string, unknown>);
    for (const c of Object.values(v)) containers(c, out);
  }
  return out;
}

/** One structural change to a parsed document, in place; may return a new root. */
function change(rng: Rng, root: unknown): unknown {
  const all = containers(root);
  if (all.length === 0 || rng.oneIn(20)) return randomValue(rng);
  const c = rng.pick(all);
  if (Array.isArray(c)) {
    const i = rng.below(c.length + 1);
    switch (rng.below(4)) {
      case 0:
        c.splice(i, 1);
        break;
      case 1:
        if (c.length > 0) c.splice(i, 0, ...Array(1 + rng.below(3)).fill(c[i % c.length]));
        break;
      default:
        c[i] = randomValue(rng);
    }
    return root;
  }
  const keys = Object.keys(c);
  const key = keys.length > 0 && !rng.oneIn(4) ? rng.pick(keys) : rng.pick(STRINGS);
  if (rng.oneIn(4)) delete c[key];
  else c[key] = randomValue(rng);
  return root;
}

/**
 * Makes one mutant of JSON seeds.
 * @param rng the run's generator
 * @param seeds valid documents as UTF-8 bytes
 */
export function mutateJson(rng: Rng, seeds: readonly Seed[]): Uint8Array {
  if (rng.oneIn(3)) return mutate(rng, seeds);
  const text = new TextDecoder().decode(rng.pick(seeds).bytes);
  let doc: unknown = JSON.parse(text);
  for (let k = 1 + rng.below(3); k > 0; k--) doc = change(rng, doc);
  let out = JSON.stringify(doc) ?? "null";
  if (rng.oneIn(30)) {
    const depth = 1 + rng.below(20000); // deep nesting: the parser's own limit, not ours
    out = "[".repeat(depth) + out + "]".repeat(depth);
  }
  const bytes = new TextEncoder().encode(out);
  return rng.oneIn(5) ? mutate(rng, [{ bytes }]) : bytes;
}
