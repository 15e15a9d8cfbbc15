/**
 * Counters of one UDP channel.
 * @module
 */

/** Channel counters; monotonic. */
export interface UdpChannelStats {
  /** Data packets sent / their bytes (packet bytes, vnet header included when sent). */
  txPackets: number;
  txBytes: number;
  /** Data packets received and delivered / their bytes. */
  rxPackets: number;
  rxBytes: number;
  /** Keepalives sent and received. */
  keepalivesOut: number;
  keepalivesIn: number;
  /** Dropped: counter seen before. */
  dropReplay: number;
  /** Dropped: counter older than the replay window. */
  dropTooOld: number;
  /** Dropped: did not authenticate (forged, wrong key, corrupted, truncated). */
  dropAuth: number;
  /** Dropped: authenticated but malformed inside, or counter beyond the limit. */
  dropMalformed: number;
  /** `send()` refused: the packet does not fit the path MTU. */
  refusedTooLarge: number;
  /** `send()` refused: the channel is not usable (closed, silent, or needs a rekey). */
  refusedNotUsable: number;
  /** Datagrams the socket did not take (queue full, send error). */
  txErrors: number;
  /** Times the channel went from usable to not usable (the caller fell back to TLS). */
  fallbacks: number;
  /** Times the peer's address moved (after the new address answered a challenge). */
  addressChanges: number;
  /** Challenges sent to a new source address before moving there (see channel.ts). */
  addressChallenges: number;
}

/** Channel counters, all zero. */
export function newChannelStats(): UdpChannelStats {
  return {
    txPackets: 0,
    txBytes: 0,
    rxPackets: 0,
    rxBytes: 0,
    keepalivesOut: 0,
    keepalivesIn: 0,
    dropReplay: 0,
    dropTooOld: 0,
    dropAuth: 0,
    dropMalformed: 0,
    refusedTooLarge: 0,
    refusedNotUsable: 0,
    txErrors: 0,
    fallbacks: 0,
    addressChanges: 0,
    addressChallenges: 0,
  };
}
