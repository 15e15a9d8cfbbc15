/**
 * Roaming by challenge, for the UDP channel (channel.ts). This holds the one pending
 * candidate address and its challenge, and rate-limits challenges.
 *
 * The peer's address moves only once the new address has proved it returns
 * traffic. An authenticated datagram from an unknown source address (the newest counter)
 * makes the channel send a keepalive carrying KEEPALIVE_CHALLENGE and 8 random bytes to that
 * address — at most one per `keepaliveMs`, one candidate at a time — while everything else
 * still goes to the old address. The peer answers every challenge it receives with a
 * keepalive carrying KEEPALIVE_RESPONSE and the same 8 bytes; only that answer, arriving
 * from the candidate address, moves the peer there. So an authenticated peer (or anyone who
 * re-sends its datagrams from a forged source) cannot aim our keepalives and traffic at a
 * third party: the third party never holds the keys to read the challenge. A peer that does
 * not answer challenges (an older vmesh) stays where it was; when it really moved, the
 * channel turns unusable and traffic takes TLS.
 * @module
 */
import { type UdpAddress, udpAddressEquals } from "./address.ts";
import { CHALLENGE_BYTES } from "./datagram.ts";

/** The candidate address of a peer and the challenge sent there. */
export class RoamingChallenge {
  /** The 8 random bytes sent to {@link candidate}, valid while one is pending. */
  readonly bytes: Uint8Array = new Uint8Array(CHALLENGE_BYTES);
  #candidate: Uint8Array | undefined;
  #last = -Infinity;

  /**
   * @param intervalMs least time between two challenges to the same address (the keepalive
   *   interval); a different address may be challenged after a quarter of it.
   */
  constructor(private readonly intervalMs: number) {}

  /** The address being challenged, if any. */
  get candidate(): UdpAddress | undefined {
    return this.#candidate;
  }

  /**
   * An authenticated datagram came from `from`, not the peer's address. Returns the
   * address to send a fresh challenge ({@link bytes}) to now, or undefined when one was sent
   * too recently.
   */
  challenge(from: UdpAddress, now: number): UdpAddress | undefined {
    const same = this.#candidate !== undefined && udpAddressEquals(from, this.#candidate);
    if (now - this.#last < (same ? this.intervalMs : this.intervalMs / 4)) return undefined;
    this.#candidate = from.slice(0, 18);
    this.#last = now;
    crypto.getRandomValues(this.bytes);
    return this.#candidate;
  }

  /**
   * A keepalive answering a challenge arrived from `from` with `answer` (8 bytes). Returns the
   * candidate address when it is the challenged one and the bytes match (compared in constant
   * time), and forgets the challenge; else undefined.
   */
  answered(answer: Uint8Array, from: UdpAddress): UdpAddress | undefined {
    const cand = this.#candidate;
    if (cand === undefined || !udpAddressEquals(from, cand)) return undefined;
    let diff = 0;
    for (let i = 0; i < CHALLENGE_BYTES; i++) diff |= answer[i] ^ this.bytes[i];
    if (diff !== 0) return undefined;
    this.#candidate = undefined;
    this.#last = -Infinity;
    return cand;
  }
}
