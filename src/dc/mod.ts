/**
 * Distributed config (DC): the CA-signed JSON every node shares (today: the prefix whitelist).
 * @module
 */
export { type DcMessage, decodeDc, encodeDc } from "./codec.ts";
export { type DcContent, parseDcContent, parseWhitelistEntry } from "./content.ts";
export { DcError, type DcErrorReason, MAX_DC_BYTES } from "./errors.ts";
export { DC_URI_SCHEME, dcFileName, sha256Hex, signDc, type SignedDc } from "./sign.ts";
export { type VerifiedDc, verifyDc, type VerifyDcOptions } from "./verify.ts";
export { compareDc, type DcRank, isNewer } from "./order.ts";
export { DC_OFFER_LEN, type DcOffer, decodeDcOffer, encodeDcOffer, NO_DC_OFFER } from "./offer.ts";
export {
  DC_CHUNK_DATA_LEN,
  DC_CHUNK_HEADER_LEN,
  DC_MAX_CHUNKS,
  DC_TRANSFER_TIMEOUT_MS,
  DcReassembler,
  encodeDcChunks,
} from "./transfer.ts";
export { dcToJson } from "./view.ts";
export {
  isRevoked,
  MAX_REVOKED_KEYS,
  MAX_REVOKED_NAMES,
  NO_REVOCATION,
  type Revocation,
  revokedBecause,
} from "./revocation.ts";
