/**
 * Node names compared as DNS names: ASCII case does not matter and a trailing dot (the root
 * label) is the same name. Every place that compares or looks up node names (DC whitelist keys,
 * peer certificate names, this node's own name, `peers[].name`, pinned externals) goes through
 * {@link canonicalName}, so `B.Vnet.Example.Com.` and `b.vnet.example.com` are one node.
 * @module
 */

/**
 * The canonical form of a node name: ASCII lower case, one trailing dot removed.
 * Only ASCII letters are folded (RFC 4343); other characters are left as they are.
 * @example canonicalName("B.Vnet.Example.Com.") // "b.vnet.example.com"
 */
export function canonicalName(name: string): string {
  const n = name.endsWith(".") ? name.slice(0, -1) : name;
  return n.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** True when `a` and `b` are the same DNS name ({@link canonicalName}). */
export function sameName(a: string, b: string): boolean {
  return canonicalName(a) === canonicalName(b);
}
