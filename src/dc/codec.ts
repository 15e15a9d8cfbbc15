/**
 * The DistributedConfig protobuf, byte-compatible with the Go vmesh's `vnconfigsign`:
 * `message DistributedConfig { uint32 version = 1; bytes certificate = 2; bytes content = 3; }`.
 * @module
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { DcError, MAX_DC_BYTES } from "./errors.ts";

/** The three fields of a DistributedConfig message. */
export interface DcMessage {
  /** Format version; 1 is the only one defined. */
  readonly version: number;
  /** DER of the DC certificate. */
  readonly certificate: Uint8Array;
  /** The DC JSON bytes exactly as signed. */
  readonly content: Uint8Array;
}

/**
 * Encodes as proto3 does (fields in number order, zero/empty values omitted), which is what
 * Go's `proto.Marshal` writes.
 * @throws {RangeError} when the version is not a uint32 or the result exceeds 1 MiB.
 */
export function encodeDc(m: DcMessage): Uint8Array {
  if (!Number.isInteger(m.version) || m.version < 0 || m.version > 0xffffffff) {
    throw new RangeError(`DC version must be a uint32, got ${m.version}`);
  }
  const w = new BinaryWriter();
  if (m.version !== 0) w.tag(1, WireType.Varint).uint32(m.version);
  if (m.certificate.length) w.tag(2, WireType.LengthDelimited).bytes(m.certificate);
  if (m.content.length) w.tag(3, WireType.LengthDelimited).bytes(m.content);
  const out = w.finish();
  if (out.length > MAX_DC_BYTES) {
    throw new RangeError(`the encoded DC is ${out.length} bytes, over the 1 MiB limit`);
  }
  return out;
}

/**
 * Decodes a DistributedConfig. Hostile-input safe: refuses input over 1 MiB, truncated
 * fields, a known field with the wrong wire type, and a known field given twice (Go's
 * encoder never writes one twice; accepting "last wins" would let two readers disagree).
 * Unknown fields are skipped, as protobuf requires, and listed in `unknownFields`.
 * @throws {DcError} "oversize" or "malformed".
 */
export function decodeDc(bytes: Uint8Array): DcMessage & { unknownFields: number[] } {
  if (bytes.length > MAX_DC_BYTES) {
    throw new DcError("oversize", `the DC is ${bytes.length} bytes, over the 1 MiB limit`);
  }
  let version = 0;
  let certificate: Uint8Array = new Uint8Array(0);
  let content: Uint8Array = new Uint8Array(0);
  const seen = new Set<number>();
  const unknownFields: number[] = [];
  const r = new BinaryReader(bytes);
  try {
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      const expect = no === 1 ? WireType.Varint : no <= 3 ? WireType.LengthDelimited : undefined;
      if (expect === undefined) {
        r.skip(wt, no);
        unknownFields.push(no);
      } else {
        if (wt !== expect) throw new Error(`field ${no} has wire type ${wt}, expected ${expect}`);
        if (seen.has(no)) throw new Error(`field ${no} appears twice`);
        seen.add(no);
        if (no === 1) {
          const start = r.pos;
          version = r.uint32();
          if (r.pos - start > 10) throw new Error("varint too long");
        } else if (no === 2) certificate = r.bytes();
        else content = r.bytes();
      }
      if (r.pos > r.len) throw new Error("premature end of input");
    }
  } catch (e) {
    if (e instanceof DcError) throw e;
    throw new DcError("malformed", `not a DistributedConfig: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return { version, certificate, content, unknownFields };
}
