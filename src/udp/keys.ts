/**
 * Per-direction keys for a UDP channel.
 *
 * Both peers hold the same 32-byte `channelSecret` from their mutually authenticated TLS
 * session. Each channel setup adds one 16-byte random value from each side, so two setups
 * never derive the same keys even within one session (a repeated key with restarted counters
 * would reuse AEAD nonces). Keys come from HKDF-SHA256:
 *
 *   salt = "vmesh udp v1"
 *   ikm  = channelSecret
 *   info = "vmesh udp v1 key" ‖ lowId (32 B) ‖ highId (32 B) ‖ epoch (u32 BE)
 *          ‖ dialerRandom (16 B) ‖ listenerRandom (16 B) ‖ direction (1 B: 0 = low→high, 1 = high→low)
 *
 * "low" and "high" order the two PeerIds bytewise, so both sides agree without knowing who
 * dialed. Keys are held as `KeyObject`s in memory only; nothing here logs or exports them.
 * @module
 */
import { createSecretKey, hkdfSync, type KeyObject } from "node:crypto";
import { isPeerId, type PeerId } from "../pki/mod.ts";

/** Length of the shared channel secret, in bytes. */
export const CHANNEL_SECRET_BYTES = 32;
/** Length of each side's setup random, in bytes. */
export const SETUP_RANDOM_BYTES = 16;

const LABEL = new TextEncoder().encode("vmesh udp v1");
const INFO_LABEL = new TextEncoder().encode("vmesh udp v1 key");

/** What both sides feed into the key derivation. */
export interface ChannelKeyInput {
  /** The 32-byte secret agreed inside the TLS session. */
  readonly channelSecret: Uint8Array;
  /** This node's PeerId. */
  readonly localId: PeerId;
  /** The peer's PeerId. */
  readonly remoteId: PeerId;
  /** The key epoch chosen by the dialer of the channel setup. */
  readonly epoch: number;
  /** The 16-byte random of the side that sent the channel request. */
  readonly dialerRandom: Uint8Array;
  /** The 16-byte random of the side that answered it. */
  readonly listenerRandom: Uint8Array;
}

/** The two keys of one channel, from this node's point of view. */
export interface ChannelKeys {
  /** Seals what this node sends. */
  readonly send: KeyObject;
  /** Opens what this node receives. */
  readonly recv: KeyObject;
}

/**
 * Derives this node's send and receive keys.
 * @throws {RangeError} on a secret or random of the wrong length, a malformed PeerId, equal
 *   PeerIds, or an epoch outside u32.
 */
export function deriveChannelKeys(input: ChannelKeyInput): ChannelKeys {
  const { channelSecret, localId, remoteId, epoch, dialerRandom, listenerRandom } = input;
  if (!(channelSecret instanceof Uint8Array) || channelSecret.length !== CHANNEL_SECRET_BYTES) {
    throw new RangeError(`UDP channel keys: channelSecret must be ${CHANNEL_SECRET_BYTES} bytes`);
  }
  if (!isPeerId(localId) || !isPeerId(remoteId)) {
    throw new RangeError("UDP channel keys: localId and remoteId must be 64-hex PeerIds");
  }
  if (localId === remoteId) {
    throw new RangeError("UDP channel keys: localId and remoteId are equal (a channel to self)");
  }
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) {
    throw new RangeError(`UDP channel keys: epoch must be a u32, got ${epoch}`);
  }
  for (const [name, r] of [["dialerRandom", dialerRandom], ["listenerRandom", listenerRandom]]) {
    if (!(r instanceof Uint8Array) || r.length !== SETUP_RANDOM_BYTES) {
      throw new RangeError(`UDP channel keys: ${name} must be ${SETUP_RANDOM_BYTES} bytes`);
    }
  }
  const localIsLow = localId < remoteId; // same-length lower-case hex: string order = byte order
  const low = Uint8Array.fromHex(localIsLow ? localId : remoteId);
  const high = Uint8Array.fromHex(localIsLow ? remoteId : localId);
  const info = new Uint8Array(INFO_LABEL.length + 32 + 32 + 4 + 16 + 16 + 1);
  let o = 0;
  info.set(INFO_LABEL, o);
  o += INFO_LABEL.length;
  info.set(low, o);
  o += 32;
  info.set(high, o);
  o += 32;
  new DataView(info.buffer).setUint32(o, epoch);
  o += 4;
  info.set(dialerRandom, o);
  o += 16;
  info.set(listenerRandom, o);
  o += 16;
  const derive = (direction: number): KeyObject => {
    info[o] = direction;
    const raw = new Uint8Array(hkdfSync("sha256", channelSecret, LABEL, info, 32));
    const key = createSecretKey(raw);
    raw.fill(0);
    return key;
  };
  const lowToHigh = derive(0);
  const highToLow = derive(1);
  return localIsLow ? { send: lowToHigh, recv: highToLow } : { send: highToLow, recv: lowToHigh };
}
