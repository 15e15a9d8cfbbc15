/**
 * Where the FIB sends a destination: the one next-hop type shared by the routing core (which
 * builds the FIB) and the forwarder (which follows it).
 * @module
 */

/** A local vif (by its config key) or a peer (by its PeerId). */
export type NextHop =
  | { readonly kind: "local"; readonly target: string }
  | { readonly kind: "peer"; readonly id: string };
