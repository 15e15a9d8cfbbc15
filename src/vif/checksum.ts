/**
 * The Internet checksum (RFC 1071) and the IPv6 upper-layer pseudo-header (RFC 8200 §8.1).
 * @module
 */

/** Adds the 16-bit big-endian words of `buf[start..end)` to `sum` (an odd tail is padded). */
export function onesSum(buf: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  const even = end - ((end - start) & 1);
  for (; i < even; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  return sum;
}

/** Folds a running sum to 16 bits (not complemented). */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Sum of the IPv6 pseudo-header for an upper-layer packet of `length` bytes with next header
 * `proto`, taking the addresses from the IPv6 header at `buf[ip..ip+40]`.
 */
export function pseudoHeaderSum(
  buf: Uint8Array,
  ip: number,
  length: number,
  proto: number,
): number {
  let sum = onesSum(buf, ip + 8, ip + 40);
  sum += Math.floor(length / 0x10000) + (length & 0xffff);
  return sum + proto;
}

/**
 * Computes and stores the checksum of the upper-layer packet at `buf[l4..end)` carried in
 * the IPv6 packet whose header starts at `ip`, with the checksum field at `l4 + csumAt`
 * (TCP 16, UDP 6, ICMPv6 2). A result of 0 is stored as 0xffff (valid for all three).
 */
export function fillL4Checksum(
  buf: Uint8Array,
  ip: number,
  l4: number,
  end: number,
  proto: number,
  csumAt: number,
): void {
  buf[l4 + csumAt] = 0;
  buf[l4 + csumAt + 1] = 0;
  const sum = onesSum(buf, l4, end, pseudoHeaderSum(buf, ip, end - l4, proto));
  const c = ~foldSum(sum) & 0xffff;
  const v = c === 0 ? 0xffff : c;
  buf[l4 + csumAt] = v >> 8;
  buf[l4 + csumAt + 1] = v & 0xff;
}

/** True when the upper-layer checksum of `buf[l4..end)` inside the IPv6 packet at `ip` verifies. */
export function verifyL4Checksum(
  buf: Uint8Array,
  ip: number,
  l4: number,
  end: number,
  proto: number,
): boolean {
  return foldSum(onesSum(buf, l4, end, pseudoHeaderSum(buf, ip, end - l4, proto))) === 0xffff;
}
