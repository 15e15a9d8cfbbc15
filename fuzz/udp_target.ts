/**
 * Fuzz targets: the UDP channel (`src/udp`). `udp_setup` feeds the 32-byte setup messages to
 * both decoders (refusal: SyntaxError; success re-encodes to the same bytes). `udp_datagram`
 * feeds datagrams to the header checks and to `UdpChannel.receive`, which never throws. Half
 * of the datagrams are sealed with the sender's real key after mutating header and plaintext,
 * so mutations reach the checks behind authentication (types, short bodies, counters).
 * @module
 */
import { type UdpAddress, udpAddress } from "../src/udp/address.ts";
import { AeadKey, TAG_BYTES } from "../src/udp/aead.ts";
import { UdpChannel } from "../src/udp/channel.ts";
import {
  checkHeader,
  HEADER_BYTES,
  readCounter,
  readReceiver,
  TYPE_DATA,
  TYPE_KEEPALIVE,
  TYPE_VNET_DATA,
  writeHeader,
} from "../src/udp/datagram.ts";
import { type ChannelKeys, deriveChannelKeys } from "../src/udp/keys.ts";
import {
  decodeChannelRequest,
  decodeChannelResponse,
  encodeChannelRefusal,
  encodeChannelRequest,
  encodeChannelResponse,
  SetupStatus,
} from "../src/udp/setup_codec.ts";
import type { Rng, Seed } from "./mutator.ts";
import { ContractViolation, expectError, expectSameBytes, type FuzzTarget } from "./target.ts";

let setupSeeds: Seed[] = [];

/** The setup message target. */
export const udpSetupTarget: FuzzTarget = {
  name: "udp_setup",
  description: "UDP channel request/response decoders (src/udp/setup_codec.ts)",
  setup() {
    const random = new Uint8Array(16).fill(7);
    const req = { epoch: 5, receiverIndex: 0x01020304, udpPort: 5120, random };
    setupSeeds = [
      encodeChannelRequest(req),
      encodeChannelResponse({ ...req, status: SetupStatus.Accepted }),
      encodeChannelRefusal(9, SetupStatus.Collision),
      encodeChannelRefusal(0xffffffff, SetupStatus.Unavailable),
    ].map((bytes) => ({ bytes }));
    return Promise.resolve();
  },
  seeds: () => setupSeeds,
  run(input: Uint8Array) {
    try {
      expectSameBytes(encodeChannelRequest(decodeChannelRequest(input)), input, "request");
    } catch (e) {
      expectError(e, [SyntaxError]);
    }
    try {
      expectSameBytes(encodeChannelResponse(decodeChannelResponse(input)), input, "response");
    } catch (e) {
      expectError(e, [SyntaxError]);
    }
  },
};

const ID_A = "1".repeat(64);
const ID_B = "2".repeat(64);
const FROM: UdpAddress = udpAddress("2001:db8::2", 5000);
const OTHER: UdpAddress = udpAddress("192.0.2.1", 4000);

function keys(local: string, remote: string): ChannelKeys {
  return deriveChannelKeys({
    channelSecret: new Uint8Array(32).fill(9),
    epoch: 1,
    dialerRandom: new Uint8Array(16),
    listenerRandom: new Uint8Array(16).fill(1),
    localId: local,
    remoteId: remote,
  });
}

let senderKeys: ChannelKeys;
let receiverKeys: ChannelKeys;
let datagramSeeds: Seed[] = [];

/**
 * Datagram input layout: byte 0 bit 0 = seal (re-encrypt the rest with the real key, using
 * bytes 1.. as header + plaintext), bit 1 = from another address; the rest is the datagram.
 */
function seal(plain: Uint8Array): Uint8Array {
  if (plain.length < HEADER_BYTES) return plain;
  const out = new Uint8Array(plain.length + TAG_BYTES);
  out.set(plain.subarray(0, HEADER_BYTES));
  const counter = readCounter(out);
  if (counter < 0) return plain;
  const n = new AeadKey(senderKeys.send).sealInto(
    counter,
    out,
    HEADER_BYTES,
    plain.subarray(HEADER_BYTES),
  );
  return out.subarray(0, n);
}

/** The datagram target. */
export const udpDatagramTarget: FuzzTarget = {
  name: "udp_datagram",
  description: "UDP datagram header checks and UdpChannel.receive (src/udp)",
  setup() {
    senderKeys = keys(ID_A, ID_B);
    receiverKeys = keys(ID_B, ID_A);
    const plain = (type: number, counter: number, body: Uint8Array) => {
      const b = new Uint8Array(HEADER_BYTES + body.length);
      writeHeader(b, type, 22, counter);
      b.set(body, HEADER_BYTES);
      return b;
    };
    const pkt = new Uint8Array(100).fill(0x60);
    const vnet = new Uint8Array(60).fill(1);
    const plains = [
      plain(TYPE_DATA, 0, pkt),
      plain(TYPE_VNET_DATA, 1, vnet),
      plain(TYPE_KEEPALIVE, 2, Uint8Array.of(1)),
      plain(TYPE_KEEPALIVE, 3, Uint8Array.of(0)),
    ];
    datagramSeeds = [
      ...plains.map((p) => ({ bytes: Uint8Array.of(1, ...p) })),
      ...plains.map((p) => ({ bytes: Uint8Array.of(0, ...seal(p)) })),
    ];
    return Promise.resolve();
  },
  seeds: () => datagramSeeds,
  run(input: Uint8Array, rng: Rng) {
    if (input.length === 0) return;
    const d = input[0] & 1 ? seal(input.subarray(1)) : input.subarray(1);
    let delivered = 0;
    const ch = new UdpChannel({
      localIndex: 22,
      remoteIndex: 11,
      epoch: 1,
      keys: receiverKeys,
      peerAddress: FROM.slice(),
      peerName: "fuzz",
      transmit: () => true,
      onPackets: (batch) => {
        for (let i = 0; i < batch.count; i++) {
          if (batch.vnet[i] && batch.sizes[i] < 10) {
            throw new ContractViolation("vnet packet shorter than its header");
          }
        }
        delivered += batch.count;
      },
      now: () => 1000,
    });
    const type = checkHeader(d);
    if (type !== 0) {
      readReceiver(d);
      // Twice, the second as a replay; sometimes from a new address.
      ch.receive(d, type, input[0] & 2 ? OTHER : FROM);
      ch.receive(d, type, rng.oneIn(2) ? OTHER : FROM);
      ch.flush();
      if (delivered > 1) throw new ContractViolation("a replayed datagram was delivered twice");
    }
    ch.close();
  },
};
