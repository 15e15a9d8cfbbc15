/**
 * Distributed config (DC): the CA-signed JSON every node shares (today: the prefix whitelist).
 * @module
 */
export { type DcMessage, decodeDc, encodeDc } from "./codec.ts";
export { type DcContent, parseDcContent, parseWhitelistEntry } from "./content.ts";
export { DcError, type DcErrorReason, MAX_DC_BYTES } from "./errors.ts";
export { DC_URI_SCHEME, dcFileName, sha256Hex, signDc, type SignedDc } from "./sign.ts";
export { compareDc, isNewer, type VerifiedDc, verifyDc } from "./verify.ts";
