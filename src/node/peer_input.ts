/**
 * A peer's control payload that fails to decode is the peer's fault: these turn the decoder's
 * error into a {@link SessionError} "malformed-frame", which closes that peer's session only.
 * @module
 */
import { DcError } from "../dc/mod.ts";
import { NodeInfoWireError } from "../names/mod.ts";
import { SessionError } from "../session/mod.ts";

/**
 * Decodes a peer's payload: whatever the decoder throws is the peer's fault.
 * @throws {SessionError} "malformed-frame", closing that peer's session
 */
export function peerInput<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    throw malformed(what, e);
  }
}

/** Runs a DC handler whose `DcError` means a malformed offer or chunk (the peer's fault). */
export function peerDc(what: string, handle: () => void): void {
  try {
    handle();
  } catch (e) {
    throw e instanceof DcError ? malformed(what, e) : e;
  }
}

/** Runs a node-info handler whose `NodeInfoWireError` means a malformed payload. */
export function peerNodeInfo<T>(what: string, handle: () => T): T {
  try {
    return handle();
  } catch (e) {
    throw e instanceof NodeInfoWireError ? malformed(what, e) : e;
  }
}

/** Runs a handler whose `SyntaxError` means a malformed payload (the peer's fault). */
export function peerSyntax(what: string, handle: () => void): void {
  try {
    handle();
  } catch (e) {
    throw e instanceof SyntaxError ? malformed(what, e) : e;
  }
}

function malformed(what: string, e: unknown): SessionError {
  const why = e instanceof Error ? e.message : String(e);
  return new SessionError("malformed-frame", `malformed control frame (${what}): ${why}`, {
    cause: e,
  });
}
